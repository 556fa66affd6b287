// Counter slots, series layouts and the fixed label sets of weir's metrics.
//
// A Slot is written by one thread only (the worker that owns it) with a
// relaxed load and a relaxed store: no locked read-modify-write on the
// request path. Any other thread (the admin thread) reads it with a relaxed
// load; being an atomic, that read is no data race, and a scrape that misses
// the latest increment sees it on the next one.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace weir::stats {

using Slot = std::atomic<uint64_t>;

// Single-writer increment. Only the slot's owning thread may call it.
inline void bump(Slot& s, uint64_t n = 1) {
  s.store(s.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}
inline uint64_t value(const Slot& s) { return s.load(std::memory_order_relaxed); }

// Latency histogram bucket upper bounds, in seconds (+Inf is implicit).
inline constexpr std::array<double, 14> kLatencyBounds{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                       0.1,    0.25,  0.5,    1,     2.5,   5,     10};
// Slots of one histogram: a count per bucket (not cumulative; the last is
// +Inf), then the sum in microseconds.
inline constexpr size_t kHistBuckets = kLatencyBounds.size() + 1;
inline constexpr size_t kHistSlots = kHistBuckets + 1;
inline constexpr size_t kHistSumUs = kHistBuckets;  // offset of the sum inside a histogram

// Which bucket a duration falls in (0 .. kHistBuckets-1).
size_t latencyBucket(double seconds);

// Status classes 1xx..5xx; a status outside 100..599 counts as 5xx.
inline constexpr size_t kClasses = 5;
inline size_t statusClass(int status) {
  if (status < 100 || status > 599) return 4;
  return static_cast<size_t>(status / 100 - 1);
}
inline constexpr std::array<std::string_view, kClasses> kClassNames{"1xx", "2xx", "3xx", "4xx", "5xx"};

// Why weir answered 502, 503 or 504 itself.
enum class ErrorCause : uint8_t {
  kConnectFailed,       // 502: the connection could not be made (refused, unreachable)
  kConnectTimeout,      // 502: upstream_connect expired
  kReset,               // 502: reset or closed before a whole response head
  kInvalidResponse,     // 502: the upstream's bytes were not a valid response
  kNoServerReachable,   // 502: every server tried failed at once
  kUpstream502,         // 502/503/504 answered by the upstream, retried and no other server left
  kUpstream503,
  kUpstream504,
  kNoServerUp,          // 503: no server of the pool is up
  kResponseTimeout,     // 504: upstream_response expired
  kSendTimeout,         // 504: the upstream stopped reading the request
  kCount,
};
struct CauseInfo {
  int code;
  std::string_view name;
};
inline constexpr std::array<CauseInfo, static_cast<size_t>(ErrorCause::kCount)> kCauses{{
    {502, "connect_failed"},
    {502, "connect_timeout"},
    {502, "reset"},
    {502, "invalid_response"},
    {502, "no_server_reachable"},
    {502, "upstream_status"},
    {503, "upstream_status"},
    {504, "upstream_status"},
    {503, "no_server_up"},
    {504, "response_timeout"},
    {504, "send_timeout"},
}};

// Slot layouts of each kind of series.
enum class Kind : uint8_t { kProcess, kRoute, kPool, kServer, kCache };

namespace process_slots {
inline constexpr size_t kAccepted = 0;  // client connections accepted
inline constexpr size_t kClosed = 1;    // client connections closed
inline constexpr size_t kSize = 2;
}  // namespace process_slots

namespace route_slots {  // labels: route, pool
inline constexpr size_t kRequests = 0;  // kClasses slots
inline constexpr size_t kBytesIn = kRequests + kClasses;
inline constexpr size_t kBytesOut = kBytesIn + 1;
inline constexpr size_t kDuration = kBytesOut + 1;  // kHistSlots: request latency
inline constexpr size_t kSize = kDuration + kHistSlots;
}  // namespace route_slots

namespace pool_slots {  // labels: pool
inline constexpr size_t kErrors = 0;  // one per ErrorCause
inline constexpr size_t kSize = static_cast<size_t>(ErrorCause::kCount);
}  // namespace pool_slots

namespace server_slots {  // labels: pool, server
inline constexpr size_t kRequests = 0;  // kClasses slots, by the status the client got
inline constexpr size_t kUpstreamDuration = kRequests + kClasses;  // kHistSlots: to the response head
inline constexpr size_t kConnOpened = kUpstreamDuration + kHistSlots;
inline constexpr size_t kConnReused = kConnOpened + 1;
inline constexpr size_t kConnClosed = kConnReused + 1;
inline constexpr size_t kSize = kConnClosed + 1;
}  // namespace server_slots

// The cache, per route that uses it.
// What the cache did with one request (one per exchange on a cached route).
enum class CacheResult : uint8_t {
  kHit,          // served fresh (or allowed-stale) from the store
  kMiss,         // nothing stored: fetched (and stored when allowed)
  kStale,        // stored but stale or no-cache: refetched
  kRequest,      // the request's directives sent it to the origin
  kCollapsed,    // waited for another request's fetch and was served from it
  kBypass,       // not a cacheable method, or the request said no-store
  kUnavailable,  // only-if-cached with nothing usable stored: 504
  kRevalidated,  // stale, and a 304 from the origin freshened it: served from the store
  kStaleServed,  // a stale object served: stale-while-revalidate, or the origin failed (stale-if-error)
  kCount,
};
inline constexpr std::array<std::string_view, static_cast<size_t>(CacheResult::kCount)> kCacheResultNames{
    "hit", "miss", "stale", "request", "collapsed", "bypass", "unavailable", "revalidated", "stale_served"};
// Why a response was not stored: the policy's reasons (cache::StoreRefusal
// 1..kCachePolicyRefusals, in that order, named by cache::refusalName), then
// the store's.
inline constexpr size_t kCachePolicyRefusals = 12;
inline constexpr size_t kCacheTooLarge = kCachePolicyRefusals;  // past max_object_size
inline constexpr size_t kCacheNoSpace = kCacheTooLarge + 1;     // could not fit in its shard
inline constexpr size_t kCacheCollision = kCacheNoSpace + 1;    // another key with the same hash was filling
inline constexpr size_t kCacheRefusals = kCacheCollision + 1;
// How a wait for another request's fetch ended.
enum class CacheWait : uint8_t {
  kStreamed,  // served from that fetch
  kReleased,  // the response was not storable, or the fetch failed: fetched itself
  kTimedOut,  // cache.lock_timeout passed without a response head: fetched itself
  kCount,
};
inline constexpr std::array<std::string_view, static_cast<size_t>(CacheWait::kCount)> kCacheWaitNames{
    "streamed", "released", "timed_out"};

namespace cache_slots {  // labels: route
inline constexpr size_t kResults = 0;  // one per CacheResult
inline constexpr size_t kRefusals = kResults + static_cast<size_t>(CacheResult::kCount);
inline constexpr size_t kWaits = kRefusals + kCacheRefusals;  // one per CacheWait
inline constexpr size_t kSize = kWaits + static_cast<size_t>(CacheWait::kCount);
}  // namespace cache_slots

}  // namespace weir::stats
