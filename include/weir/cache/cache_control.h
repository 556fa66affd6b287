// Cache-Control (RFC 9111 5.2) parsed into the directives a shared cache
// acts on. Part of the pure cache policy (policy.h): no allocation except
// the field-name lists, no clock, no state; safe from any thread. Parsing
// never fails: what cannot be read is ignored or marked, as below.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "weir/http/message.h"

namespace weir::cache {

// 2^31: what a delta-seconds too large to represent, or one that overflows,
// is taken as (RFC 9111 1.2.2).
inline constexpr int64_t kDeltaSecondsMax = int64_t{1} << 31;

// A directive that takes delta-seconds. `present` with a valid value only:
// an argument that is missing, empty or not digits ("max-age=-1",
// "max-age=1.5", "max-age") makes the directive invalid, and an invalid
// directive is as if absent (RFC 9111 1.2.2). The first valid occurrence
// counts; a later one with a different value sets CacheControl::conflicting.
struct DeltaSeconds {
  bool present = false;
  int64_t seconds = 0;  // 0 to kDeltaSecondsMax
};

// Both request and response directives (5.2.1, 5.2.2, and the extensions
// immutable (RFC 8246), stale-while-revalidate and stale-if-error
// (RFC 5861)); which ones apply depends on which message they came from.
// Names are case-insensitive; arguments may be tokens or quoted strings
// ("max-age=\"60\"" is read as 60, "no-cache=\"a, b\"" lists two names).
// Unknown directives are ignored.
struct CacheControl {
  // Response directives.
  bool no_store = false;
  bool no_cache = false;               // either form
  std::vector<std::string> no_cache_fields;  // no-cache="a, b": the names, lower-cased
  bool private_ = false;               // either form
  std::vector<std::string> private_fields;   // private="Set-Cookie": the names, lower-cased
  bool public_ = false;
  DeltaSeconds max_age;                // also a request directive
  DeltaSeconds s_maxage;
  bool must_revalidate = false;
  bool proxy_revalidate = false;
  bool no_transform = false;           // also a request directive
  bool must_understand = false;
  bool immutable = false;
  DeltaSeconds stale_while_revalidate;
  DeltaSeconds stale_if_error;

  // Request directives (no-cache, no-store, max-age and no-transform above
  // are shared).
  bool max_stale = false;              // present, with or without a value
  DeltaSeconds max_stale_value;        // absent with max_stale: any staleness is accepted
  DeltaSeconds min_fresh;
  bool only_if_cached = false;

  // max-age or s-maxage appeared twice with different values (max-age=60,
  // max-age=120). RFC 9111 4.2.1 allows using the first or treating the
  // response as stale: weir treats it as stale (freshnessLifetime gives 0).
  // Other repeated directives simply keep their first value.
  bool conflicting = false;
};

// Parses the joined field value (all Cache-Control lines, as
// HeaderBlock::joined gives them). An empty value gives all defaults.
CacheControl parseCacheControl(std::string_view joined);

// The request's Cache-Control. Pragma: no-cache in a request that has no
// Cache-Control field counts as Cache-Control: no-cache (RFC 9111 5.4);
// Pragma is ignored when Cache-Control is present.
CacheControl requestCacheControl(const http::RequestHead& req);

// True if the request carries Pragma: no-cache (any case, in any element).
bool pragmaNoCache(const http::RequestHead& req);

// The response's Cache-Control (Pragma is never read in responses).
CacheControl responseCacheControl(const http::ResponseHead& res);

}  // namespace weir::cache
