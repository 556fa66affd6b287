// Whether a stored response may answer a request (RFC 9111 4, 4.2.4, 5.2.1).
#include <cstdint>

#include "weir/cache/policy.h"

namespace weir::cache {
namespace {

// The decision before only-if-cached is considered.
LookupDecision decideStored(const CacheControl& req, bool pragma_no_cache, int64_t current_age, int64_t lifetime,
                            ReuseLimits limits) {
  if (req.no_store) return LookupDecision::kBypass;
  if (req.no_cache || pragma_no_cache) return LookupDecision::kOriginRequest;
  if (limits.no_cache) return LookupDecision::kOriginStale;  // 5.2.2.4: validate every time
  if (req.max_age.present && current_age > req.max_age.seconds) return LookupDecision::kOriginRequest;
  if (isFresh(lifetime, current_age)) {
    if (req.min_fresh.present && lifetime - current_age < req.min_fresh.seconds) {
      return LookupDecision::kOriginRequest;
    }
    return LookupDecision::kServeFresh;
  }
  // Stale (4.2.4): served only when the request accepts this much staleness
  // and the response does not forbid it (5.2.2.2, 5.2.2.8, 5.2.2.10).
  if (limits.never_stale || !req.max_stale || req.min_fresh.present) return LookupDecision::kOriginStale;
  const int64_t staleness = current_age - lifetime;
  if (req.max_stale_value.present && staleness > req.max_stale_value.seconds) return LookupDecision::kOriginStale;
  return LookupDecision::kServeStale;
}

bool goesForward(LookupDecision d) {
  return d != LookupDecision::kServeFresh && d != LookupDecision::kServeStale;
}

}  // namespace

ReuseLimits reuseLimits(const CacheControl& response_cc) {
  ReuseLimits limits;
  limits.no_cache = response_cc.no_cache;
  // s-maxage carries proxy-revalidate's meaning for a shared cache (5.2.2.10).
  limits.never_stale = response_cc.must_revalidate || response_cc.proxy_revalidate || response_cc.s_maxage.present;
  return limits;
}

LookupDecision decideLookup(const CacheControl& request_cc, bool request_pragma_no_cache, int64_t current_age,
                            int64_t lifetime, ReuseLimits limits) {
  const LookupDecision d = decideStored(request_cc, request_pragma_no_cache, current_age, lifetime, limits);
  // 5.2.1.7: only-if-cached answers from what is stored or with a 504.
  if (request_cc.only_if_cached && goesForward(d)) return LookupDecision::kGatewayTimeout;
  return d;
}

LookupDecision decideMiss(const CacheControl& request_cc) {
  if (request_cc.only_if_cached) return LookupDecision::kGatewayTimeout;
  if (request_cc.no_store) return LookupDecision::kBypass;
  return LookupDecision::kOriginMiss;
}

const char* lookupDecisionName(LookupDecision decision) {
  switch (decision) {
    case LookupDecision::kServeFresh: return "serve_fresh";
    case LookupDecision::kServeStale: return "serve_stale";
    case LookupDecision::kOriginStale: return "origin_stale";
    case LookupDecision::kOriginRequest: return "origin_request";
    case LookupDecision::kOriginMiss: return "origin_miss";
    case LookupDecision::kBypass: return "bypass";
    case LookupDecision::kGatewayTimeout: return "gateway_timeout";
  }
  return "";
}

Fwd fwdFor(LookupDecision decision) {
  switch (decision) {
    case LookupDecision::kServeFresh:
    case LookupDecision::kServeStale:
    case LookupDecision::kGatewayTimeout: return Fwd::kNone;
    case LookupDecision::kOriginStale: return Fwd::kStale;
    case LookupDecision::kOriginRequest: return Fwd::kRequest;
    case LookupDecision::kOriginMiss: return Fwd::kUriMiss;
    case LookupDecision::kBypass: return Fwd::kBypass;
  }
  return Fwd::kNone;
}

}  // namespace weir::cache
