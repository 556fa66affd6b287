// weir-origin's process-level object: options, listening sockets, worker
// threads and the counters behind /stats.
//
// Lifecycle (main thread): bind() -> start() -> stop(). Workers read the
// immutable name strings and the counter totals concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "health_switch.h"
#include "worker.h"

namespace weir::origin {

struct ServerOptions {
  std::vector<std::string> listen;  // HOST:PORT or [V6HOST]:PORT
  unsigned threads = 1;
  std::string name = "origin";
  int health_status = 200;  // what /healthz answers at start (--health-status)
  uint32_t delay_ms = 0;    // every response waits this long unless ?delay= says otherwise (--delay)
};

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Opens one SO_REUSEPORT listening socket per thread and address. On
  // failure returns false with a message in `error`.
  bool bind(std::string& error);
  // HOST:PORT per --listen, with the port actually bound (useful for port 0).
  const std::vector<std::string>& boundAddresses() const { return bound_; }

  // Starts the worker threads; false with `error` if a loop cannot be set up.
  bool start(std::string& error);
  // Stops and joins the workers. Idempotent.
  void stop();

  uint64_t totalConnections() const;
  uint64_t totalRequests() const;
  const std::string& originHeader() const { return origin_header_; }  // "X-Origin: NAME\r\n"
  const std::string& helloBody() const { return hello_body_; }        // "hello from NAME\n"
  uint32_t delayMs() const { return options_.delay_ms; }
  // The /healthz status and what probes sent; thread-safe, so workers
  // holding a const Server may switch it.
  HealthSwitch& health() const { return health_; }

 private:
  bool bindAddress(const std::string& spec, std::string& error);

  ServerOptions options_;
  std::string origin_header_;
  std::string hello_body_;
  std::vector<std::string> bound_;
  std::vector<std::vector<int>> fds_per_thread_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
  mutable HealthSwitch health_;
};

}  // namespace weir::origin
