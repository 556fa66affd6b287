// Access-log line formats: nginx/Apache `combined` and one JSON object per
// line. Both are safe whatever a client sends: every variable field is
// escaped, so no request can end a line early, add a line or forge a field.
//
//   combined: $remote_addr - $remote_user [$time_local] "$request" $status
//             $body_bytes_sent "$http_referer" "$http_user_agent" "$request_id"
//             "$cache_status"
//     nginx's combined with two quoted fields more at the end, where
//     extended combined formats put their extra fields: the request ID (`-`
//     when request IDs are off) and the Cache-Status value weir sent (`-` on
//     routes without the cache).
//     `"`, `\`, bytes below 0x20 and bytes 0x7f and above become \xHH (as
//     nginx's default escaping does), so a combined line is printable ASCII.
//     An empty field is `-`. $request is `METHOD TARGET HTTP/x.y` (without
//     the version when the client sent none, without the target when none
//     arrived) or `-` when no method arrived. $remote_user is the user name
//     of `Authorization: Basic`, or `-` (absent, another scheme, not valid
//     base64, no `:` or an empty name).
//
//   json: every line has the same keys in the same order; a value that does
//     not apply is null (see appendJson). Strings escape `"`, `\` and all
//     control bytes; a byte that is not part of valid UTF-8 is written as
//     \u00XX (XX = the byte), so every line is valid UTF-8 and valid JSON.
//
// Thread-safe: the formatted second is cached per thread (one cache per time
// zone), so formatting allocates nothing once `out` has room.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace weir::log {

enum class LogTime { kLocal, kUtc };

// What one exchange leaves in the access log. Views are borrowed for the
// duration of the append call only.
struct AccessRecord {
  std::string_view client;         // peer IP as text
  std::string_view method;         // "" when nothing usable of the request line arrived
  std::string_view target;         // as the client sent it; "" when unknown
  bool has_version = false;        // the request line had an HTTP version
  uint8_t version_major = 1, version_minor = 1;
  std::string_view host;           // effective host (Host field or absolute-form authority), "" if none
  std::string_view referer, user_agent, authorization;  // request fields as sent, "" if absent
  int status = 0;
  uint64_t body_bytes = 0;         // response body bytes sent (a 101 tunnel: bytes sent to the client through it)
  uint64_t request_bytes = 0;      // request body bytes received (a tunnel: bytes the client sent through it)
  std::string_view upstream;       // "127.0.0.1:9001", "" when none was used
  double upstream_connect_time = -1, upstream_header_time = -1;  // seconds, -1 = none
  double request_time = 0;         // seconds, first request byte to end (tunnel: whole duration)
  std::string_view error;          // short cause when the exchange did not end normally, else ""
  std::string_view request_id;     // the request's ID, "" when request IDs are off
  std::string_view cache_status;   // the Cache-Status value sent, "" when the route has no cache
  int64_t time_ms = -1;            // when the line is stamped, ms since the Unix epoch; -1 = now
};

// Appends one combined line ending in '\n'. $time_local is local time with
// its real UTC offset ("[01/Dec/2026:14:36:43 -0500]"), or UTC with +0000
// for kUtc.
void appendCombined(const AccessRecord& r, LogTime tz, std::string& out);

// Appends one JSON object and '\n', keys in this order:
//   time           string, ISO 8601 with ms and offset: "2026-12-01T14:36:43.123-05:00"
//   client         string
//   user           string (Basic auth user name) or null
//   host           string or null
//   method         string or null (nothing usable arrived)
//   target         string or null
//   protocol       "HTTP/1.1"-style string or null (no version sent)
//   status         number
//   body_bytes     number
//   request_bytes  number
//   referer        string or null
//   user_agent     string or null
//   upstream       string or null (no upstream used)
//   upstream_connect_time, upstream_header_time   seconds (ms resolution) or null
//   request_time   seconds (ms resolution)
//   error          string or null (the exchange ended normally)
//   request_id     string or null (request IDs are off)
//   cache_status   string (the Cache-Status value sent) or null (no cache on the route)
void appendJson(const AccessRecord& r, LogTime tz, std::string& out);

// The user name of an `Authorization: Basic` value, decoded into `scratch`
// (reused). False when there is none to log (see the combined notes above).
bool basicAuthUser(std::string_view authorization, std::string& scratch, std::string_view& user);

// Re-reads the TZ environment variable (tzset) and drops every thread's
// cached formatted second. Call after changing TZ; formatting never needs it
// otherwise (DST changes are picked up at the next second).
void timeZoneChanged();

}  // namespace weir::log
