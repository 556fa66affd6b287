// Typed, validated configuration. Produced by config::loadFile from YAML;
// immutable once loaded and shared between threads as shared_ptr<const Config>.
//
// Every error is reported as "FILE:LINE:COL: key.path: message", for example
//   conf/bad.yaml:12:7: pools.api.servers[1].address: expected host:port
// Unknown keys are errors. See conf/README.md for the schema.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "weir/common/net_address.h"
#include "weir/common/result.h"

namespace weir::config {

using Duration = std::chrono::milliseconds;

struct ListenerConfig {
  std::string address;   // as written, e.g. "0.0.0.0:8080"
  SocketAddress addr;    // resolved at load
  int backlog = 4096;
};

struct ServerConfig {
  std::string address;   // as written, e.g. "127.0.0.1:9001" or "app1:80"
  SocketAddress addr;    // resolved at load (host names resolved once, here)
  uint32_t weight = 1;   // 1..1000
  bool backup = false;   // takes traffic only while no primary server of the pool is up
};

// pools.NAME.health_check: active probes, off unless the key is present.
struct HealthCheckConfig {
  enum class Type : uint8_t { kHttp, kTcp };
  bool enabled = false;
  Type type = Type::kHttp;
  std::string path = "/";           // http only
  std::string host;                 // Host of the probe; "" means the server's address
  Duration interval{std::chrono::seconds(2)};
  Duration timeout{std::chrono::seconds(1)};
  uint32_t rise = 2;                // consecutive successes to mark a down server up
  uint32_t fall = 3;                // consecutive failures to mark an up server down
  struct StatusRange {
    int first;
    int last;
  };
  std::vector<StatusRange> expect{{200, 399}};  // accepted statuses
};

// pools.NAME.passive: outlier ejection from live traffic, on by default.
struct PassiveHealthConfig {
  bool enabled = true;
  uint32_t consecutive_failures = 5;
  std::vector<int> on_status{502, 503, 504};  // responses that count as failures
  Duration ejection{std::chrono::seconds(10)};   // first ejection; doubles on each repeat
  Duration max_ejection{std::chrono::minutes(5)};
  uint32_t max_ejected_percent = 50;
};

// pools.NAME.hash: the key consistent_hash balances by.
struct HashConfig {
  enum class Source : uint8_t { kNone, kHeader, kCookie, kQuery, kPath, kUri, kClientIp };
  Source source = Source::kNone;  // kNone: only with other balancers
  std::string name;               // header, cookie or query parameter name
  double bounded_load = 1.25;     // 0: no bound
};

// What a failed attempt may be retried for (bits).
enum RetryOn : uint32_t {
  kRetryConnectFailure = 1u << 0,
  kRetryReset = 1u << 1,
  kRetryTimeout = 1u << 2,
  kRetry502 = 1u << 3,
  kRetry503 = 1u << 4,
  kRetry504 = 1u << 5,
};

struct RetryBudgetConfig {
  uint32_t percent = 20;        // retries in flight, as a share of the pool's other requests in flight
  uint32_t min_concurrent = 3;  // retries always allowed up to this many at once
};

// Per-pool overrides of the global upstream timeouts (timeouts.upstream_*);
// unset means "use the global value".
struct PoolTimeouts {
  std::optional<std::chrono::milliseconds> upstream_connect;
  std::optional<std::chrono::milliseconds> upstream_response;
  std::optional<std::chrono::milliseconds> upstream_send;
  std::optional<std::chrono::milliseconds> upstream_idle;
};

struct PoolConfig {
  std::string name;
  std::vector<ServerConfig> servers;  // at least one
  uint32_t keepalive = 64;            // idle upstream connections kept per worker
  uint32_t retries = 1;               // other servers tried when connecting fails
  std::string balancer = "round_robin";
  PoolTimeouts timeouts;              // pools.NAME.timeouts
  HealthCheckConfig health_check;
  PassiveHealthConfig passive;
  HashConfig hash;
  Duration slow_start{0};             // 0: a server that comes up takes its full weight at once
  uint32_t retry_on = kRetryConnectFailure | kRetryReset | kRetryTimeout;
  RetryBudgetConfig retry_budget;
};

// routes[].cache.key: what of a request the cache key holds besides its
// host and path.
struct CacheKeyConfig {
  std::vector<std::string> ignore_query;  // parameter names, or prefixes ending in '*'
  bool ignore_all_query = false;          // ignore_query: true
  bool sort_query = false;
  std::vector<std::string> headers;       // request fields added to the key
  std::vector<std::string> cookies;       // cookie names added to the key
  bool changesTarget() const { return ignore_all_query || sort_query || !ignore_query.empty(); }
  bool addsParts() const { return !headers.empty() || !cookies.empty(); }
};

struct RouteConfig {
  // Its label in metrics and the status page; "" means a description of the
  // match (stats::routeLabel).
  std::string name;
  // "" matches any host. "*.example.com" matches any subdomain of
  // example.com (not example.com itself); otherwise an exact, case-insensitive
  // host name. The port in the request's Host is ignored.
  std::string host;
  std::string path_prefix;  // "" matches any path; otherwise must start with '/'
  std::string pool;         // name of a pool that exists
  size_t pool_index = 0;    // index into Config::pools, resolved at load
  // routes[].cache: true, or a map { enabled, store_set_cookie }. Off by
  // default. A response with Set-Cookie is stored only with
  // store_set_cookie (the cookie would go to every client served the hit).
  bool cache = false;
  bool cache_store_set_cookie = false;
  // Serving stale (RFC 5861) when a response gives no window of its own:
  // stale_if_error serves a stale object while the origin fails (0: only
  // when the response says stale-if-error); stale_while_revalidate serves
  // it at once and revalidates in the background (0: only when the
  // response says so).
  Duration cache_stale_if_error{0};
  Duration cache_stale_while_revalidate{0};
  CacheKeyConfig cache_key;
};

struct Timeouts {
  Duration client_header{std::chrono::seconds(10)};     // first byte to end of request head
  Duration client_idle{std::chrono::seconds(60)};       // keep-alive wait for the next request
  Duration client_body{std::chrono::seconds(60)};       // between two reads of a request body
  Duration upstream_connect{std::chrono::seconds(2)};
  Duration upstream_response{std::chrono::seconds(30)}; // waiting for upstream bytes weir is ready to read
  Duration upstream_send{std::chrono::seconds(30)};     // a write to an upstream making no progress
  Duration upstream_idle{std::chrono::seconds(60)};     // an idle keep-alive upstream connection
  Duration send{std::chrono::seconds(30)};              // a write to a client making no progress
  Duration tunnel{std::chrono::hours(1)};               // an Upgrade tunnel with no traffic either way
  Duration drain{std::chrono::seconds(30)};             // SIGTERM/SIGQUIT: longest wait for in-flight requests
};

struct Limits {
  uint64_t header_bytes = 32 * 1024;  // request line + headers
  uint32_t headers = 100;             // number of header fields
  uint64_t uri_bytes = 8 * 1024;      // request target
  uint64_t body_bytes = 1ull << 30;   // request body
  // Open client connections per process; past it new connections wait in
  // the kernel's accept queue. 0: derived from RLIMIT_NOFILE at start.
  uint32_t connections = 0;
};

enum class UnderscoreHeaders { kDrop, kAllow, kReject };

struct ProxyHeaders {
  bool x_forwarded_for = true;    // append the client address
  bool x_forwarded_proto = true;  // set to the listener's scheme
  bool x_forwarded_host = true;   // set to the client's Host
  bool via = true;                // append "1.1 weir" to Via on both sides
  // Clients whose X-Forwarded-For, Forwarded, X-Real-IP, X-Forwarded-Proto
  // and X-Forwarded-Host are passed on (XFF appended to). From any other
  // client these fields are removed and weir's own replace them.
  std::vector<Cidr> trusted_clients;
  // Request fields whose name contains "_" (other than look-alikes of
  // framing, Host and hop-by-hop fields, which are always refused or dropped).
  UnderscoreHeaders underscore_headers = UnderscoreHeaders::kDrop;
};

// request_id: every request carries an ID (the client's when well-formed,
// else a new one), sent upstream, returned to the client and logged.
struct RequestIdConfig {
  bool enabled = true;
  std::string header = "X-Request-Id";  // a token; never a field weir manages
};

enum class LogLevel { kDebug, kInfo, kWarn, kError };

struct AccessLogConfig {
  bool enabled = true;
  std::string path = "/dev/stdout";
  std::string format = "combined";  // "combined" or "json"
  bool local_time = true;           // access_log.time: local (default) or utc
};

struct ErrorLogConfig {
  std::string path = "/dev/stderr";
  LogLevel level = LogLevel::kInfo;
};

// cache: the shared memory cache. It holds at most max_size bytes in all,
// bodies, heads, keys, metadata and index counted; it is used only by the
// routes that say cache: true. Without the section those routes get these
// defaults.
enum class Eviction { kS3Fifo, kLru };

struct CacheConfig {
  bool configured = false;                 // the section is present
  uint64_t max_size = 256ull << 20;        // hard cap, bytes
  uint64_t max_object_size = 8ull << 20;   // larger responses stream through, not stored
  Eviction eviction = Eviction::kS3Fifo;
  unsigned shards = 0;                     // a power of two; 0: auto (the store picks, from workers and sizes)
  // A request that finds the same object being fetched waits for that
  // fetch (and streams it as it arrives) at most this long before it goes
  // to the origin itself.
  Duration lock_timeout{std::chrono::seconds(5)};
  // Heuristic freshness (no explicit lifetime, Last-Modified present, a
  // status that allows it): this fraction of the time since Last-Modified,
  // at most heuristic_max.
  double heuristic_fraction = 0.1;
  Duration heuristic_max{std::chrono::hours(24)};
  // PURGE requests on data listeners (Varnish's habit) from these networks
  // remove what is stored for their URL; empty: off (PURGE is forwarded
  // like any other method).
  std::vector<Cidr> purge_method_allow;
  // Variants stored per URL (Vary); past it the least used goes.
  unsigned max_variants = 16;
  // Response fields whose values tag an object for purge by tag.
  std::vector<std::string> tag_headers{"Surrogate-Key", "Cache-Tag"};
};

// admin: the admin listener (metrics, status, health), off unless present.
struct AdminConfig {
  bool enabled = false;
  std::string address;       // as written
  SocketAddress addr;        // resolved at load; never a data listener's address
  std::vector<Cidr> allow;   // clients allowed; others get 403. Default: 127.0.0.0/8 and ::1
};

struct Config {
  std::string source;  // the file it was loaded from
  uint64_t hash = 0;   // XXH3-64 of the file's bytes
  unsigned workers = 0;  // resolved: "auto" becomes the number of usable CPUs
  std::vector<ListenerConfig> listeners;  // at least one
  std::vector<PoolConfig> pools;          // in file order
  std::vector<RouteConfig> routes;        // first match wins
  Timeouts timeouts;
  Limits limits;
  ProxyHeaders proxy_headers;
  RequestIdConfig request_id;
  AccessLogConfig access_log;
  ErrorLogConfig error_log;
  AdminConfig admin;
  CacheConfig cache;
  std::string user;   // after binding listeners, run as this user ("" = stay)
  std::string group;  // and this group ("" = the user's primary group)
  uint32_t uid = 0;   // resolved at load when `user` is set
  uint32_t gid = 0;   // `group`'s id, or the user's primary group
  // Where weir writes its process id, for weir -s; "" for none. Unset, it
  // is /run/weir.pid when weir runs as root (resolvedPidFile).
  std::string pid_file;
  bool pid_file_set = false;

  // Index of the pool with this name, or -1.
  int poolIndex(std::string_view name) const;
};

using ConfigPtr = std::shared_ptr<const Config>;

// Loads and validates a YAML file. Never throws. The error message is the
// complete line to show an operator.
Result<ConfigPtr> loadFile(const std::string& path);

// Same, from text; `name` stands for the file name in error messages.
Result<ConfigPtr> loadString(const std::string& yaml, const std::string& name);

// The pid_file: setting of a file that need not load as a whole, so that
// weir -s finds the running process while the file on disk is broken: the
// path ("" for off), or nullopt when the file sets none, or cannot be read
// as YAML, or its pid_file: is not valid.
std::optional<std::string> peekPidFile(const std::string& path);

}  // namespace weir::config
