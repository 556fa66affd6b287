// The Cache-Status response field (RFC 9211): one list member per cache,
// an sf-item whose bare item names the cache and whose parameters say what
// the cache did. Pure, allocation only into the caller's string; safe from
// any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace weir::cache {

// Why the request went forward (RFC 9211 2.2). Stable spellings, as
// fwdName() gives them.
enum class Fwd : uint8_t {
  kNone = 0,   // not forwarded (with `hit`) or not said
  kBypass,     // "bypass": the cache was configured, or asked, not to handle it
  kMethod,     // "method": the request method's semantics need the origin
  kUriMiss,    // "uri-miss": nothing stored for the target URI
  kVaryMiss,   // "vary-miss": stored, but the request's Vary'd fields differ
  kMiss,       // "miss": no stored response, reason not said
  kRequest,    // "request": the request's directives forbade using what was stored
  kStale,      // "stale": stored, but stale (or no-cache) and not servable
  kPartial,    // "partial": only part of the response was stored
};

const char* fwdName(Fwd fwd);  // "bypass", "uri-miss", ...; "" for kNone

// One member. Parameters are written in this order, each only when set:
// hit | fwd, fwd-status, collapsed, stored, ttl, key, detail (the order of
// RFC 9211's examples: "fwd=uri-miss; collapsed; stored").
struct CacheStatus {
  // The cache's name: written as an sf-token when it is one (a letter or
  // '*' first, then token characters, ':' or '/'), else as an sf-string
  // (with '"' and '\' escaped, and characters outside printable ASCII
  // dropped: an sf-string cannot carry them).
  std::string_view cache = "weir";
  bool hit = false;                // served from the cache (RFC 9211 2.1); fwd is then ignored
  Fwd fwd = Fwd::kNone;
  int fwd_status = 0;              // 2.3: the status the next hop returned, 0 for none
  bool stored = false;             // 2.5
  // 2.6: true "collapsed" (the request waited for another's fetch and used
  // it), false "collapsed=?0" (it tried, and had to fetch for itself).
  std::optional<bool> collapsed;
  std::optional<int64_t> ttl;      // 2.4: remaining freshness, negative when stale
  std::string_view key;            // 2.7: an sf-string, "" for none
  // 2.8: written as an sf-token when it is one (e.g. the refusal names of
  // policy.h, "no_store"), else as an sf-string; "" for none.
  std::string_view detail;
};

// Appends `status` as one member of the Cache-Status list: when `out` is
// not empty (members of caches nearer the origin), ", " comes first. ttl is
// clamped to the sf-integer range (15 digits).
void appendCacheStatus(const CacheStatus& status, std::string& out);

}  // namespace weir::cache
