// The process: listening sockets, worker threads, the connection gate, and
// the control loop on the main thread that owns signals.
//
// Signals (core/signals.h): SIGTERM, SIGINT and SIGQUIT drain (stop
// accepting, finish in-flight requests within timeouts.drain) and exit 0;
// SIGUSR1 reopens the log files (for rotation); SIGHUP (reload) and SIGUSR2
// (binary upgrade) are logged and ignored until those land; other signals
// that would terminate are logged and ignored; SIGPIPE is ignored.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <functional>
#include <memory>
#include <vector>

#include "weir/common/net_address.h"
#include "weir/common/result.h"
#include "weir/core/connection_gate.h"
#include "weir/core/worker.h"

namespace weir::core {

struct ServerOptions {
  unsigned workers = 1;
  std::vector<SocketAddress> listeners;
  std::vector<int> backlogs;
  std::chrono::milliseconds drain_timeout{30000};
  size_t max_connections = SIZE_MAX;  // open client connections, all workers together
};

class Server {
 public:
  using HooksFactory = std::function<std::unique_ptr<Worker::Hooks>(Worker&)>;

  explicit Server(ServerOptions opts);
  ~Server();

  // Binds every listener once per worker (SO_REUSEPORT). Errors name the
  // address and the reason, e.g. "0.0.0.0:80: bind: Permission denied".
  Status open();
  // Starts the workers and runs the control loop until a stop signal; then
  // drains and joins. Returns the process exit code.
  int run(const HooksFactory& factory);

 private:
  ServerOptions opts_;
  std::unique_ptr<ConnectionGate> gate_;
  std::vector<std::unique_ptr<Worker>> workers_;
};

// "listening on 127.0.0.1:8080, [::]:8080; 2 workers", for the start line.
std::string describeListeners(const std::vector<SocketAddress>& listeners, unsigned workers);

// Creates a bound, listening, non-blocking TCP socket with SO_REUSEPORT.
Result<int> listenOn(const SocketAddress& addr, int backlog);

}  // namespace weir::core
