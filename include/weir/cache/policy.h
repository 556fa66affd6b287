// The HTTP caching rules of a shared cache (RFC 9111) as pure functions:
// whether a response may be stored, how long it stays fresh, how old it
// is, whether a stored response may answer a request, and what an unsafe
// request invalidates. No sockets, no storage, no clock: every time is a
// parameter, in whole seconds since the Unix epoch. Every function here is
// safe from any thread, keeps nothing, and never fails: bad input gives the
// conservative answer the RFC prescribes (stale, not stored, ignored).
//
// The pieces: cache_control.h (directives), http_date.h (dates),
// cache_status.h (the Cache-Status field), and this header.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "weir/cache/cache_control.h"
#include "weir/cache/cache_status.h"
#include "weir/cache/http_date.h"
#include "weir/http/message.h"

namespace weir::cache {

// ---------------------------------------------------------------------------
// Storing (RFC 9111 3)

// Why a response is not stored. Checked in this order; the first that
// applies is reported.
enum class StoreRefusal : uint8_t {
  kNone = 0,
  kMethod,          // "method": only GET is stored (HEAD is answered from a stored GET)
  kStatus,          // "status": not final (1xx), or 304 (a 304 only updates a stored object: CacheFlow)
  kPartial,         // "partial": 206, or a Content-Range field (ranges are not stored yet)
  kRequestNoStore,  // "request_no_store": the request said no-store (5.2.1.5)
  kMustUnderstand,  // "must_understand": must-understand with a status weir does not know (5.2.2.3)
  kNoStore,         // "no_store": no-store without an applicable must-understand (5.2.2.5)
  kPrivate,         // "private": either form, see below (5.2.2.7)
  kAuthorization,   // "authorization": the request had Authorization and the response
                    //   none of must-revalidate, public, s-maxage (3.5)
  kSetCookie,       // "set_cookie": Set-Cookie, unless StorableOptions::allow_set_cookie
  kVaryStar,        // "vary_star": Vary: * never matches a later request (4.1)
  kVary,            // "vary": any other Vary, unless StorableOptions::allow_vary (the proxy sets it)
  kNoFreshness,     // "no_freshness": no explicit expiry, not public, and a status that
                    //   allows no heuristic freshness (4.2.2)
};

// Stable snake_case names for metrics and logs ("" for kNone).
const char* refusalName(StoreRefusal refusal);

struct StoreDecision {
  StoreRefusal refusal = StoreRefusal::kNone;
  bool ok() const { return refusal == StoreRefusal::kNone; }
};

struct StorableOptions {
  // Responses with Set-Cookie are not stored by default: a cookie is
  // usually meant for one client, and a shared cache would hand it to all.
  // A route that knows better sets this (the cookie is then stored too).
  bool allow_set_cookie = false;
  // A caller whose keys ignore Vary would serve a response that varies to
  // clients it was not chosen for; the proxy stores variants (vary.h) and
  // sets this. Vary: * is refused either way.
  bool allow_vary = false;
};

// Whether a shared cache may store `res`, the answer to `req`.
//
// Choices where RFC 9111 leaves room:
//  - private="Set-Cookie" (the qualified form) is treated as private: the
//    RFC lets a shared cache store the rest of the response without the
//    named fields, but weir stores objects whole. The names are kept in
//    CacheControl::private_fields for a later part.
//  - no-cache (either form) does not prevent storing; a stored no-cache
//    response is never used without going to the origin (decideLookup).
//  - must-understand: with a status weir understands (every final status
//    of RFC 9110 but 206 and 304) no-store is ignored, as 5.2.2.3 says;
//    with any other status the response is refused.
//  - a response may be stored with a zero freshness lifetime (heuristically
//    cacheable, no Last-Modified): it is stale at once, and the caller may
//    prefer not to store it (freshnessLifetime says so).
StoreDecision storable(const http::RequestHead& req, const http::ResponseHead& res, const StorableOptions& opts);
// The same with the directives already parsed (requestCacheControl and
// responseCacheControl).
StoreDecision storable(const http::RequestHead& req, const CacheControl& request_cc, const http::ResponseHead& res,
                       const CacheControl& response_cc, const StorableOptions& opts);

// Status codes cacheable by default, which allow a heuristic freshness
// lifetime (RFC 9110 15.1): 200, 203, 204, 206, 300, 301, 308, 404, 405,
// 410, 414, 501.
bool heuristicallyCacheable(int status);

// A final status code whose caching rules weir implements: those of
// RFC 9110 15 but 206 and 304.
bool understoodStatus(int status);

// ---------------------------------------------------------------------------
// Freshness (RFC 9111 4.2.1, 4.2.2)

enum class FreshnessSource : uint8_t {
  kNone = 0,   // no explicit lifetime and no heuristic applies: 0 s
  kSMaxAge,    // s-maxage (a shared cache reads it first)
  kMaxAge,
  kExpires,    // Expires - Date; an invalid Expires ("0") is in the past: 0 s
  kHeuristic,  // a fraction of Date - Last-Modified, capped
  kConflict,   // max-age or s-maxage given twice, differently: stale, 0 s (4.2.1)
};

const char* freshnessSourceName(FreshnessSource source);  // "s_maxage", "max_age", ...

struct FreshnessLifetime {
  int64_t seconds = 0;  // never negative
  FreshnessSource source = FreshnessSource::kNone;
};

struct FreshnessOptions {
  // When the response was received: it stands for a missing or invalid
  // Date (RFC 9110 6.6.1), and places two-digit years.
  int64_t response_time = 0;
  // Heuristic lifetime: this percentage of (Date - Last-Modified), at most
  // heuristic_max seconds. 0 turns heuristics off.
  int heuristic_percent = 10;
  int64_t heuristic_max = 86400;
};

// The freshness lifetime for a shared cache, from the first source that
// applies: s-maxage, max-age, Expires - Date, else (for a heuristically
// cacheable status, or a response marked public) the heuristic, which
// needs a Last-Modified earlier than Date. Only the first Date, Expires and
// Last-Modified fields are read. `cc` is responseCacheControl(res).
FreshnessLifetime freshnessLifetime(const http::ResponseHead& res, const CacheControl& cc,
                                    const FreshnessOptions& opts);

// ---------------------------------------------------------------------------
// Age (RFC 9111 4.2.3, 5.1)

// The Age field: its first value (a list-valued Age keeps the first
// member), a non-negative integer saturating at 2^31. nullopt when absent
// or invalid ("-1", "1.5", ""): an invalid Age is ignored.
std::optional<int64_t> parseAge(const http::ResponseHead& res);

struct AgeInputs {
  int64_t age_value = 0;      // the Age field, 0 if absent or invalid
  int64_t date_value = 0;     // the Date field
  int64_t request_time = 0;   // when the request was sent (the clock before it went out)
  int64_t response_time = 0;  // when the response was received
};

// Reads Age and Date from `res`; a missing or invalid Date is taken as the
// response time, so the apparent age is 0.
AgeInputs ageInputs(const http::ResponseHead& res, int64_t request_time, int64_t response_time);

// corrected_initial_age = max(apparent_age, corrected_age_value), where
// apparent_age = max(0, response_time - date_value) and corrected_age_value
// = age_value + (response_time - request_time), exactly as 4.2.3.
int64_t correctedInitialAge(const AgeInputs& in);

// current_age = corrected_initial_age + (now - response_time) (4.2.3).
int64_t currentAge(int64_t corrected_initial_age, int64_t response_time, int64_t now);

// A response is fresh while its lifetime exceeds its current age (4.2).
inline bool isFresh(int64_t lifetime, int64_t current_age) { return lifetime > current_age; }

// The value an Age field should carry: current_age, clamped to 0..2^31.
int64_t ageFieldValue(int64_t current_age);

// ---------------------------------------------------------------------------
// Using a stored response (RFC 9111 4, 5.2.1)

// What of a stored response's own directives matters when it is reused;
// small enough to keep beside every stored object.
struct ReuseLimits {
  bool no_cache = false;     // no-cache (either form): never reused without the origin
  bool never_stale = false;  // must-revalidate, proxy-revalidate or s-maxage: never served stale
};

ReuseLimits reuseLimits(const CacheControl& response_cc);

enum class LookupDecision : uint8_t {
  kServeFresh,      // a hit
  kServeStale,      // a hit the request's max-stale accepts although stale
  kOriginStale,     // stored, but stale (or no-cache) and not acceptable: refetch
  kOriginRequest,   // the request's no-cache, max-age or min-fresh refuses what is stored
  kOriginMiss,      // nothing stored (decideMiss)
  kBypass,          // request no-store: not served from the cache, and not stored
  kGatewayTimeout,  // only-if-cached and nothing usable: answer 504 (5.2.1.7)
};

const char* lookupDecisionName(LookupDecision decision);  // "serve_fresh", ...

// Whether a stored response of `current_age` and `lifetime` may answer a
// request with `request_cc`, in this order:
//  1. request no-store: kBypass. (RFC 9111 5.2.1.5 would allow answering
//     it from what is stored; weir neither reads nor writes the cache for
//     it, the simpler promise.)
//  2. request no-cache (or `request_pragma_no_cache`, 5.4; redundant when
//     request_cc came from requestCacheControl, which folds it in):
//     kOriginRequest.
//  3. the response's no-cache: kOriginStale.
//  4. request max-age=N with current_age > N: kOriginRequest (max-age=0
//     still accepts a response of age 0).
//  5. fresh: kServeFresh, unless min-fresh=N and lifetime - age < N
//     (kOriginRequest).
//  6. stale: kServeStale if the request has max-stale (bare, or with a
//     value at least current_age - lifetime), no min-fresh, and the
//     response allows it (never_stale unset); otherwise kOriginStale.
// With only-if-cached, every answer that would go to the origin (or
// bypass) is kGatewayTimeout instead.
LookupDecision decideLookup(const CacheControl& request_cc, bool request_pragma_no_cache, int64_t current_age,
                            int64_t lifetime, ReuseLimits limits);

// When nothing is stored for the request: kGatewayTimeout (only-if-cached,
// with or without no-store), kBypass (no-store), else kOriginMiss.
LookupDecision decideMiss(const CacheControl& request_cc);

// The Cache-Status fwd value for a decision: kNone for the two serve
// decisions (a hit) and for kGatewayTimeout (nothing went forward).
Fwd fwdFor(LookupDecision decision);

// ---------------------------------------------------------------------------
// Invalidation (RFC 9111 4.4)

// GET, HEAD, OPTIONS and TRACE (RFC 9110 9.2.1). Any other method, known or
// not, is unsafe here. Case-sensitive, as method names are.
bool isSafeMethod(std::string_view method);

// What a response to an unsafe request invalidates: nothing for a safe
// method or a status outside 2xx and 3xx; otherwise the request's path (its
// normal-form target, query included) and the targets of Location and
// Content-Location when they are relative references, or absolute http(s)
// URIs whose authority is the request's (host compared case-insensitively,
// a default port, or an empty one, dropped: 80 for http, 443 for https).
// Each comes back as a normal-form origin-form target (http/target.h) for
// the request's host, without duplicates; fragments are dropped, and a
// value that cannot be normalised is skipped. `scheme` is the request's
// ("http" or "https").
std::vector<std::string> invalidationTargets(const http::RequestHead& req, const http::ResponseHead& res,
                                             std::string_view scheme = "http");

}  // namespace weir::cache
