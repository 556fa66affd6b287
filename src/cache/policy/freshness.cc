// Freshness lifetime (RFC 9111 4.2.1, 4.2.2, 5.3).
#include <algorithm>
#include <cstdint>
#include <optional>

#include "weir/cache/policy.h"
#include "weir/http/token.h"

namespace weir::cache {
namespace {

// The first field with token `t`, parsed as an HTTP-date.
std::optional<int64_t> dateField(const http::ResponseHead& res, http::Token t, int64_t reference_time) {
  const int i = res.fields.find(t);
  if (i < 0) return std::nullopt;
  return parseHttpDate(res.fields.value(static_cast<size_t>(i)), reference_time);
}

// 4.2.2: a fraction of the time since Last-Modified, when that is earlier
// than Date; 0 otherwise.
int64_t heuristicLifetime(const http::ResponseHead& res, int64_t date_value, const FreshnessOptions& opts) {
  if (opts.heuristic_percent <= 0) return 0;
  const std::optional<int64_t> last_modified = dateField(res, http::Token::kLastModified, opts.response_time);
  if (!last_modified || *last_modified >= date_value) return 0;
  // Both dates are within a few thousand years of 1970: no overflow.
  const int64_t lifetime = (date_value - *last_modified) * opts.heuristic_percent / 100;
  return std::min(lifetime, std::max<int64_t>(opts.heuristic_max, 0));
}

}  // namespace

const char* freshnessSourceName(FreshnessSource source) {
  switch (source) {
    case FreshnessSource::kNone: return "none";
    case FreshnessSource::kSMaxAge: return "s_maxage";
    case FreshnessSource::kMaxAge: return "max_age";
    case FreshnessSource::kExpires: return "expires";
    case FreshnessSource::kHeuristic: return "heuristic";
    case FreshnessSource::kConflict: return "conflict";
  }
  return "none";
}

FreshnessLifetime freshnessLifetime(const http::ResponseHead& res, const CacheControl& cc,
                                    const FreshnessOptions& opts) {
  if (cc.conflicting) return {0, FreshnessSource::kConflict};
  if (cc.s_maxage.present) return {cc.s_maxage.seconds, FreshnessSource::kSMaxAge};
  if (cc.max_age.present) return {cc.max_age.seconds, FreshnessSource::kMaxAge};
  const int64_t date_value = dateField(res, http::Token::kDate, opts.response_time).value_or(opts.response_time);
  if (res.fields.find(http::Token::kExpires) >= 0) {
    // 5.3: an Expires that is not a valid date ("0", "-1") is in the past.
    const std::optional<int64_t> expires = dateField(res, http::Token::kExpires, opts.response_time);
    if (!expires) return {0, FreshnessSource::kExpires};
    return {std::max<int64_t>(*expires - date_value, 0), FreshnessSource::kExpires};
  }
  if (!cc.public_ && !heuristicallyCacheable(res.status)) return {0, FreshnessSource::kNone};
  const int64_t heuristic = heuristicLifetime(res, date_value, opts);
  if (heuristic <= 0) return {0, FreshnessSource::kNone};
  return {heuristic, FreshnessSource::kHeuristic};
}

}  // namespace weir::cache
