#include "weir/cache/preconditions.h"

#include "weir/cache/http_date.h"
#include "weir/http/token.h"

namespace weir::cache {
namespace {

bool isSpace(char c) { return c == ' ' || c == '\t'; }

// etagc = "!" / %x23-7E / obs-text (RFC 9110 8.8.3): no DQUOTE, no space or control.
bool isEtagChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u == 0x21 || (u >= 0x23 && u != 0x7f);
}

// An entity-tag at the start of `s`: its length, 0 when there is none; sets
// `weak` and `opaque` (the quoted part, quotes included).
size_t parseEntityTag(std::string_view s, bool& weak, std::string_view& opaque) {
  size_t at = 0;
  weak = s.size() >= 2 && s[0] == 'W' && s[1] == '/';
  if (weak) at = 2;
  if (at >= s.size() || s[at] != '"') return 0;
  size_t end = at + 1;
  while (end < s.size() && s[end] != '"') {
    if (!isEtagChar(s[end])) return 0;
    ++end;
  }
  if (end >= s.size()) return 0;
  opaque = s.substr(at, end + 1 - at);
  return end + 1;
}

// A whole field value that is exactly one entity-tag.
bool oneEntityTag(std::string_view value, bool& weak, std::string_view& opaque) {
  value = http::trimOws(value);
  return !value.empty() && parseEntityTag(value, weak, opaque) == value.size();
}

// Whether an If-Match / If-None-Match value ("*" or a list of entity-tags)
// names the stored tag, with the given comparison. An empty stored tag
// matches only "*" (which needs a current representation: there is one).
bool listMatches(std::string_view list, std::string_view stored, bool strong) {
  list = http::trimOws(list);
  if (list == "*") return true;
  bool stored_weak = false;
  std::string_view stored_opaque;
  const bool have_stored = oneEntityTag(stored, stored_weak, stored_opaque);
  while (!list.empty()) {
    while (!list.empty() && (isSpace(list.front()) || list.front() == ',')) list.remove_prefix(1);
    if (list.empty()) break;
    bool weak = false;
    std::string_view opaque;
    const size_t n = parseEntityTag(list, weak, opaque);
    if (n == 0) return false;  // malformed: the condition cannot be evaluated as matching
    if (have_stored && opaque == stored_opaque && (!strong || (!weak && !stored_weak))) return true;
    list.remove_prefix(n);
  }
  return false;
}

// Every value of a field joined as one list: a field may be sent several times.
template <class F>
bool anyValue(const http::HeaderBlock& fields, http::Token token, F&& f) {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields.field(i).token == token && f(fields.value(i))) return true;
  }
  return false;
}

}  // namespace

bool strongMatch(std::string_view a, std::string_view b) {
  bool aw = false, bw = false;
  std::string_view ao, bo;
  return oneEntityTag(a, aw, ao) && oneEntityTag(b, bw, bo) && !aw && !bw && ao == bo;
}

bool weakMatch(std::string_view a, std::string_view b) {
  bool aw = false, bw = false;
  std::string_view ao, bo;
  return oneEntityTag(a, aw, ao) && oneEntityTag(b, bw, bo) && ao == bo;
}

StoredValidators validatorsOf(std::string_view head, int64_t received) {
  StoredValidators v;
  v.date = received;
  size_t line_end = head.find("\r\n");  // past the status line
  while (line_end != std::string_view::npos) {
    const size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    const std::string_view line = head.substr(start, line_end == std::string_view::npos ? head.size() - start
                                                                                         : line_end - start);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const http::Token t = http::lookupToken(line.substr(0, colon));
    const std::string_view value = http::trimOws(line.substr(colon + 1));
    if (t == http::Token::kETag) {
      v.etag = value;
    } else if (t == http::Token::kLastModified) {
      v.last_modified = parseHttpDate(value, received);
    } else if (t == http::Token::kDate) {
      if (auto d = parseHttpDate(value, received)) v.date = *d;
    }
  }
  return v;
}

bool hasPreconditions(const http::RequestHead& req) {
  for (size_t i = 0; i < req.fields.size(); ++i) {
    switch (req.fields.field(i).token) {
      case http::Token::kIfMatch:
      case http::Token::kIfNoneMatch:
      case http::Token::kIfModifiedSince:
      case http::Token::kIfUnmodifiedSince:
        return true;
      default:
        break;
    }
  }
  return false;
}

Precondition evaluatePreconditions(const http::RequestHead& req, const StoredValidators& stored) {
  const http::HeaderBlock& f = req.fields;
  const int64_t modified = stored.last_modified.value_or(stored.date);
  // 1. If-Match (strong comparison), else 2. If-Unmodified-Since.
  if (f.find(http::Token::kIfMatch) >= 0) {
    if (!anyValue(f, http::Token::kIfMatch, [&](std::string_view v) { return listMatches(v, stored.etag, true); })) {
      return Precondition::kFailed;
    }
  } else if (int i = f.find(http::Token::kIfUnmodifiedSince); i >= 0) {
    const auto since = parseHttpDate(http::trimOws(f.value(static_cast<size_t>(i))), stored.date);
    if (since && stored.last_modified && *stored.last_modified > *since) return Precondition::kFailed;
  }
  // 3. If-None-Match (weak comparison), else 4. If-Modified-Since.
  if (f.find(http::Token::kIfNoneMatch) >= 0) {
    const bool matches =
        anyValue(f, http::Token::kIfNoneMatch, [&](std::string_view v) { return listMatches(v, stored.etag, false); });
    return matches ? Precondition::kNotModified : Precondition::kNone;
  }
  int ims = -1;
  for (size_t i = 0; i < f.size(); ++i) {
    if (f.field(i).token != http::Token::kIfModifiedSince) continue;
    if (ims >= 0) return Precondition::kNone;  // sent twice: not one date, ignored (13.1.3)
    ims = static_cast<int>(i);
  }
  if (int i = ims; i >= 0) {
    const auto since = parseHttpDate(http::trimOws(f.value(static_cast<size_t>(i))), stored.date);
    if (since && modified <= *since) return Precondition::kNotModified;
  }
  return Precondition::kNone;
}

}  // namespace weir::cache
