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
};

struct PoolConfig {
  std::string name;
  std::vector<ServerConfig> servers;  // at least one
  uint32_t keepalive = 64;            // idle upstream connections kept per worker
  uint32_t retries = 1;               // other servers tried when connecting fails
  std::string balancer = "round_robin";
};

struct RouteConfig {
  // "" matches any host. "*.example.com" matches any subdomain of
  // example.com (not example.com itself); otherwise an exact, case-insensitive
  // host name. The port in the request's Host is ignored.
  std::string host;
  std::string path_prefix;  // "" matches any path; otherwise must start with '/'
  std::string pool;         // name of a pool that exists
  size_t pool_index = 0;    // index into Config::pools, resolved at load
};

struct Timeouts {
  Duration client_header{std::chrono::seconds(10)};     // first byte to end of request head
  Duration client_idle{std::chrono::seconds(60)};       // keep-alive wait for the next request
  Duration upstream_connect{std::chrono::seconds(2)};
  Duration upstream_response{std::chrono::seconds(30)}; // between reads from the upstream
  Duration send{std::chrono::seconds(30)};              // a write making no progress
  Duration drain{std::chrono::seconds(30)};             // SIGTERM: longest wait for in-flight requests
};

struct Limits {
  uint64_t header_bytes = 32 * 1024;  // request line + headers
  uint32_t headers = 100;             // number of header fields
  uint64_t uri_bytes = 8 * 1024;      // request target
  uint64_t body_bytes = 1ull << 30;   // request body
};

struct ProxyHeaders {
  bool x_forwarded_for = true;    // append the client address
  bool x_forwarded_proto = true;  // set to the listener's scheme
  bool x_forwarded_host = true;   // set to the client's Host
  bool via = true;                // append "1.1 weir" to Via on both sides
};

enum class LogLevel { kDebug, kInfo, kWarn, kError };

struct AccessLogConfig {
  bool enabled = true;
  std::string path = "/dev/stdout";
  std::string format = "combined";  // "combined" or "json"
};

struct ErrorLogConfig {
  std::string path = "/dev/stderr";
  LogLevel level = LogLevel::kInfo;
};

struct Config {
  std::string source;  // the file it was loaded from
  unsigned workers = 0;  // resolved: "auto" becomes the number of usable CPUs
  std::vector<ListenerConfig> listeners;  // at least one
  std::vector<PoolConfig> pools;          // in file order
  std::vector<RouteConfig> routes;        // first match wins
  Timeouts timeouts;
  Limits limits;
  ProxyHeaders proxy_headers;
  AccessLogConfig access_log;
  ErrorLogConfig error_log;

  // Index of the pool with this name, or -1.
  int poolIndex(std::string_view name) const;
};

using ConfigPtr = std::shared_ptr<const Config>;

// Loads and validates a YAML file. Never throws. The error message is the
// complete line to show an operator.
Result<ConfigPtr> loadFile(const std::string& path);

// Same, from text; `name` stands for the file name in error messages.
Result<ConfigPtr> loadString(const std::string& yaml, const std::string& name);

}  // namespace weir::config
