// The process: listening sockets, worker threads, and the control loop on
// the main thread that owns signals.
//
// Signals: SIGTERM and SIGINT drain (stop accepting, finish in-flight
// requests within timeouts.drain) and exit; SIGHUP is logged and ignored
// until configuration reload lands; SIGUSR1 reopens the log files (for
// rotation); SIGPIPE is ignored.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "weir/common/net_address.h"
#include "weir/common/result.h"
#include "weir/core/worker.h"

namespace weir::core {

struct ServerOptions {
  unsigned workers = 1;
  std::vector<SocketAddress> listeners;
  std::vector<int> backlogs;
  std::chrono::milliseconds drain_timeout{30000};
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
  std::vector<std::unique_ptr<Worker>> workers_;
};

// Creates a bound, listening, non-blocking TCP socket with SO_REUSEPORT.
Result<int> listenOn(const SocketAddress& addr, int backlog);

}  // namespace weir::core
