// Cache-Control parsing (RFC 9111 5.2). A small scanner rather than
// http::forEachListElement: a quoted argument may hold commas
// (no-cache="Set-Cookie, Authorization").
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "weir/cache/cache_control.h"
#include "weir/http/token.h"

namespace weir::cache {
namespace {

bool isOws(char c) { return c == ' ' || c == '\t'; }

// One directive as read: its name, and its argument unquoted.
struct Directive {
  std::string_view name;
  bool has_argument = false;
  std::string argument;  // unescaped when quoted
  bool valid = true;     // false: junk after it, or an unterminated quote
};

class Scanner {
 public:
  explicit Scanner(std::string_view text) : s_(text) {}

  // Reads the next directive; false at the end.
  bool next(Directive& d) {
    while (i_ < s_.size() && (isOws(s_[i_]) || s_[i_] == ',')) ++i_;
    if (i_ >= s_.size()) return false;
    d = Directive{};
    const size_t start = i_;
    while (i_ < s_.size() && http::isTokenChar(s_[i_])) ++i_;
    d.name = s_.substr(start, i_ - start);
    skipOws();
    if (i_ < s_.size() && s_[i_] == '=') {
      ++i_;
      skipOws();
      d.has_argument = true;
      d.valid = readArgument(d.argument);
      skipOws();
    }
    if (d.name.empty() || (i_ < s_.size() && s_[i_] != ',')) {
      d.valid = false;
      skipToComma();
    }
    return true;
  }

 private:
  void skipOws() {
    while (i_ < s_.size() && isOws(s_[i_])) ++i_;
  }

  bool readArgument(std::string& out) {
    if (i_ < s_.size() && s_[i_] == '"') return readQuoted(out);
    const size_t start = i_;
    while (i_ < s_.size() && http::isTokenChar(s_[i_])) ++i_;
    out.assign(s_.substr(start, i_ - start));
    return true;
  }

  // quoted-string (RFC 9110 5.6.4): '\' escapes the next character.
  bool readQuoted(std::string& out) {
    ++i_;
    while (i_ < s_.size()) {
      const char c = s_[i_++];
      if (c == '"') return true;
      if (c == '\\') {
        if (i_ >= s_.size()) break;
        out.push_back(s_[i_++]);
      } else {
        out.push_back(c);
      }
    }
    return false;  // unterminated: it ran to the end of the field
  }

  // Past the rest of a malformed element, honouring quotes so that a comma
  // inside one does not start a new directive.
  void skipToComma() {
    bool quoted = false;
    while (i_ < s_.size()) {
      const char c = s_[i_];
      if (!quoted && c == ',') return;
      if (c == '"') quoted = !quoted;
      if (quoted && c == '\\') ++i_;
      ++i_;
    }
  }

  std::string_view s_;
  size_t i_ = 0;
};

// delta-seconds (RFC 9111 1.2.2): 1*DIGIT, saturating at 2^31.
bool parseDeltaSeconds(std::string_view text, int64_t& out) {
  if (text.empty()) return false;
  int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    if (v < kDeltaSecondsMax) v = v * 10 + (c - '0');
  }
  out = v < kDeltaSecondsMax ? v : kDeltaSecondsMax;
  return true;
}

// The first valid occurrence counts; `conflict`, if given, is set when a
// later valid one disagrees.
void setDelta(const Directive& d, DeltaSeconds& slot, bool* conflict) {
  int64_t v = 0;
  if (!d.valid || !d.has_argument || !parseDeltaSeconds(d.argument, v)) return;
  if (!slot.present) {
    slot.present = true;
    slot.seconds = v;
  } else if (slot.seconds != v && conflict != nullptr) {
    *conflict = true;
  }
}

// The field names of no-cache="..." or private="...", lower-cased.
void addFieldNames(const Directive& d, std::vector<std::string>& names) {
  if (!d.has_argument) return;
  http::forEachListElement(d.argument, [&](std::string_view name) {
    std::string lower(name);
    for (char& c : lower) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    }
    names.push_back(std::move(lower));
  });
}

bool is(const Directive& d, std::string_view name) { return http::equalsIgnoreCase(d.name, name); }

// Directives without an argument in their definition: an argument given
// anyway does not make them less binding.
bool applyFlag(const Directive& d, CacheControl& cc) {
  struct Flag {
    std::string_view name;
    bool CacheControl::*member;
  };
  static constexpr Flag kFlags[] = {
      {"no-store", &CacheControl::no_store},
      {"public", &CacheControl::public_},
      {"must-revalidate", &CacheControl::must_revalidate},
      {"proxy-revalidate", &CacheControl::proxy_revalidate},
      {"no-transform", &CacheControl::no_transform},
      {"must-understand", &CacheControl::must_understand},
      {"immutable", &CacheControl::immutable},
      {"only-if-cached", &CacheControl::only_if_cached},
  };
  for (const Flag& f : kFlags) {
    if (is(d, f.name)) {
      cc.*f.member = true;
      return true;
    }
  }
  return false;
}

// Bare max-stale accepts any staleness; max-stale=junk is invalid, hence
// absent; of several, the first counts.
void applyMaxStale(const Directive& d, CacheControl& cc) {
  int64_t v = 0;
  if (d.has_argument && (!d.valid || !parseDeltaSeconds(d.argument, v))) return;
  if (cc.max_stale) return;
  cc.max_stale = true;
  if (d.has_argument) cc.max_stale_value = {true, v};
}

void apply(const Directive& d, CacheControl& cc) {
  if (applyFlag(d, cc)) return;
  if (is(d, "no-cache")) {
    cc.no_cache = true;
    addFieldNames(d, cc.no_cache_fields);
  } else if (is(d, "private")) {
    cc.private_ = true;
    addFieldNames(d, cc.private_fields);
  } else if (is(d, "max-age")) {
    setDelta(d, cc.max_age, &cc.conflicting);
  } else if (is(d, "s-maxage")) {
    setDelta(d, cc.s_maxage, &cc.conflicting);
  } else if (is(d, "min-fresh")) {
    setDelta(d, cc.min_fresh, nullptr);
  } else if (is(d, "stale-while-revalidate")) {
    setDelta(d, cc.stale_while_revalidate, nullptr);
  } else if (is(d, "stale-if-error")) {
    setDelta(d, cc.stale_if_error, nullptr);
  } else if (is(d, "max-stale")) {
    applyMaxStale(d, cc);
  }
}

}  // namespace

CacheControl parseCacheControl(std::string_view joined) {
  CacheControl cc;
  Scanner scanner(joined);
  Directive d;
  while (scanner.next(d)) {
    // A boolean directive followed by junk still counts (no-store is never
    // weakened by a typo after it); a valued one needs its value whole.
    if (d.name.empty()) continue;
    apply(d, cc);
  }
  return cc;
}

bool pragmaNoCache(const http::RequestHead& req) {
  bool found = false;
  for (size_t i = 0; i < req.fields.size(); ++i) {
    if (req.fields.field(i).token != http::Token::kPragma) continue;
    http::forEachListElement(req.fields.value(i), [&](std::string_view e) {
      found |= http::equalsIgnoreCase(e, "no-cache");
    });
  }
  return found;
}

CacheControl requestCacheControl(const http::RequestHead& req) {
  if (req.fields.find(http::Token::kCacheControl) < 0) {
    CacheControl cc;
    cc.no_cache = pragmaNoCache(req);
    return cc;
  }
  return parseCacheControl(req.fields.joined(http::Token::kCacheControl));
}

CacheControl responseCacheControl(const http::ResponseHead& res) {
  return parseCacheControl(res.fields.joined(http::Token::kCacheControl));
}

}  // namespace weir::cache
