#include "weir/cache/ranges.h"

#include <llhttp.h>

#include <string_view>

#include "weir/cache/http_date.h"
#include "weir/http/token.h"

namespace weir::cache {
namespace {

// 1*DIGIT, saturating: false when empty or not all digits.
bool parseNumber(std::string_view s, uint64_t& out) {
  if (s.empty()) return false;
  out = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    out = out > (UINT64_MAX - d) / 10 ? UINT64_MAX : out * 10 + d;
  }
  return true;
}

// If-Range (RFC 9110 13.1.5): an entity-tag compared strongly, or a date
// equal to the stored Last-Modified. True when the range may be used.
bool ifRangeHolds(const http::RequestHead& req, const StoredValidators& stored) {
  const int i = req.fields.find(http::Token::kIfRange);
  if (i < 0) return true;
  const std::string_view value = http::trimOws(req.fields.value(static_cast<size_t>(i)));
  if (!value.empty() && (value.front() == '"' || value.starts_with("W/"))) return strongMatch(value, stored.etag);
  const auto date = parseHttpDate(value, stored.date);
  return date && stored.last_modified && *date == *stored.last_modified;
}

}  // namespace

RangeDecision decideRange(const http::RequestHead& req, int status, uint64_t length, const StoredValidators& stored) {
  RangeDecision whole;
  // An empty body has no byte to range over: the whole (empty) 200, as
  // clients that resume expect.
  if (req.method != HTTP_GET || status != 200 || length == 0) return whole;
  int found = -1;
  for (size_t i = 0; i < req.fields.size(); ++i) {
    if (req.fields.field(i).token != http::Token::kRange) continue;
    if (found >= 0) return whole;  // more than one Range field: ignored
    found = static_cast<int>(i);
  }
  if (found < 0) return whole;
  std::string_view spec = http::trimOws(req.fields.value(static_cast<size_t>(found)));
  const size_t eq = spec.find('=');
  if (eq == std::string_view::npos || !http::equalsIgnoreCase(http::trimOws(spec.substr(0, eq)), "bytes")) return whole;
  spec.remove_prefix(eq + 1);
  // ranges-specifier: 1#range-spec. Count them; keep the one satisfiable.
  size_t specs = 0, satisfiable = 0;
  RangeDecision partial{RangeAnswer::kPartial, 0, 0};
  while (!spec.empty()) {
    const size_t comma = spec.find(',');
    const std::string_view one = http::trimOws(spec.substr(0, comma));
    spec = comma == std::string_view::npos ? std::string_view() : spec.substr(comma + 1);
    if (one.empty()) continue;  // list syntax allows empty elements
    ++specs;
    const size_t dash = one.find('-');
    if (dash == std::string_view::npos) return whole;
    const std::string_view a = http::trimOws(one.substr(0, dash)), b = http::trimOws(one.substr(dash + 1));
    uint64_t first = 0, last = 0;
    if (a.empty()) {  // suffix-range: the last b bytes
      if (!parseNumber(b, last)) return whole;
      if (last == 0 || length == 0) continue;
      partial.first = last >= length ? 0 : length - last;
      partial.last = length - 1;
      ++satisfiable;
      continue;
    }
    if (!parseNumber(a, first)) return whole;
    if (!b.empty()) {
      if (!parseNumber(b, last) || last < first) return whole;  // an invalid range-spec: the field is ignored
    } else {
      last = UINT64_MAX;
    }
    if (first >= length) continue;
    partial.first = first;
    partial.last = last >= length ? length - 1 : last;
    ++satisfiable;
  }
  if (specs == 0) return whole;
  if (!ifRangeHolds(req, stored)) return whole;
  if (satisfiable == 0) return {RangeAnswer::kUnsatisfiable, 0, 0};
  if (specs > 1) return whole;  // several ranges: the whole object (documented)
  return partial;
}

}  // namespace weir::cache
