// The process: listening sockets, worker threads, the connection gate, and
// the control loop on the main thread that owns signals.
//
// Signals (core/signals.h): SIGTERM, SIGINT and SIGQUIT drain (stop
// accepting, finish in-flight requests within timeouts.drain) and exit 0;
// SIGUSR1 reopens the log files (for rotation); SIGHUP and SIGUSR2 go to
// the Control hooks (reload and binary upgrade); other signals that would
// terminate are logged and ignored; SIGPIPE is ignored.
//
// Listeners are identified by address. A reload (updateListeners) keeps the
// sockets of an address that stays, opens the new ones and closes the
// removed ones, whose connections drain. A binary upgrade hands every
// listening socket to the new process (listeningSockets); the new process
// finds them with inheritedSockets() and takes them over for the listeners
// of its configuration with the same address.
//
// Threading: everything here runs on the main thread (the control loop and
// its hooks); workers are reached only through Worker::post.
#pragma once

#include <event2/event.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "weir/common/net_address.h"
#include "weir/common/result.h"
#include "weir/core/connection_gate.h"
#include "weir/core/worker.h"

namespace weir::core {

struct ListenerSpec {
  SocketAddress addr;
  int backlog = 4096;
};

// Listening sockets handed over by the process weir replaces, by address.
struct InheritedSocket {
  int fd;
  std::string address;  // SocketAddress::toString() of getsockname()
};

struct ServerOptions {
  unsigned workers = 1;
  std::vector<ListenerSpec> listeners;
  std::chrono::milliseconds drain_timeout{30000};
  size_t max_connections = SIZE_MAX;  // open client connections, all workers together
  std::vector<InheritedSocket> inherited;  // taken over instead of binding anew
};

class Server;

// What the control loop does besides stopping: called on the main thread.
class ControlHooks {
 public:
  virtual ~ControlHooks() = default;
  // The workers serve: every listener accepts.
  virtual void onStarted(Server&) {}
  virtual void onReload(Server&) {}   // SIGHUP
  virtual void onUpgrade(Server&) {}  // SIGUSR2
};

class Server {
 public:
  using HooksFactory = std::function<std::unique_ptr<Worker::Hooks>(Worker&)>;

  explicit Server(ServerOptions opts);
  ~Server();

  // Binds every listener once per worker (SO_REUSEPORT), or takes over the
  // inherited sockets of its address. Errors name the address and the
  // reason, e.g. "0.0.0.0:80: bind: Permission denied".
  Status open();
  // Starts the workers and runs the control loop until a stop signal or
  // requestStop(); then drains and joins. Returns the process exit code.
  int run(const HooksFactory& factory, ControlHooks* control = nullptr);

  // --- control loop (main thread), while run() runs ---
  // Makes the listeners `specs`: keeps the sockets of addresses that stay
  // (a new backlog applies to them), opens the new ones, closes the others.
  // All or nothing: on a bind failure nothing changes.
  Status updateListeners(const std::vector<ListenerSpec>& specs);
  void setMaxConnections(size_t cap) { gate_->setCap(cap); }
  void setDrainTimeout(std::chrono::milliseconds t) { opts_.drain_timeout = t; }
  // Stops as a stop signal does; `why` starts the drain line.
  void requestStop(const std::string& why);
  // Thread-safe: a stop was asked for (listeners close, readiness ends).
  bool stopping() const { return stopping_.load(); }
  // Every listening socket, for a binary upgrade.
  std::vector<int> listeningSockets() const;
  event_base* controlBase() const { return control_base_; }
  const std::vector<std::unique_ptr<Worker>>& workers() const { return workers_; }
  std::vector<SocketAddress> listenerAddresses() const;

 private:
  struct Listener {
    uint64_t id;
    SocketAddress addr;
    std::string key;  // addr.toString()
    int backlog;
    std::vector<std::vector<int>> fds;  // per worker; owned by the worker once running
  };
  Result<Listener> openListener(const ListenerSpec& spec, std::vector<InheritedSocket>* inherited);
  static void onSignal(evutil_socket_t fd, short, void* arg);

  ServerOptions opts_;
  std::unique_ptr<ConnectionGate> gate_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<Listener> listeners_;
  uint64_t next_listener_id_ = 1;
  bool running_ = false;
  event_base* control_base_ = nullptr;
  ControlHooks* control_ = nullptr;
  std::string stop_reason_;
  std::atomic<bool> stopping_{false};
};

// "listening on 127.0.0.1:8080, [::]:8080; 2 workers", for the start line.
std::string describeListeners(const std::vector<SocketAddress>& listeners, unsigned workers);

// Whether anyone listens on `addr` already (a plain bind, without
// SO_REUSEPORT): an error naming the address if so.
Status probeFree(const SocketAddress& addr);

// Creates a bound, listening, non-blocking TCP socket with SO_REUSEPORT.
Result<int> listenOn(const SocketAddress& addr, int backlog);

// The listening sockets named by the environment variable `var` (a comma
// list of descriptor numbers, set by the process being replaced), each
// checked to be a listening TCP socket; the variable is then unset and the
// sockets marked close-on-exec. Descriptors that fail the check are closed
// and reported in `errors`.
std::vector<InheritedSocket> inheritedSockets(const char* var, std::vector<std::string>& errors);

}  // namespace weir::core
