// A worker: one thread running one libevent loop, with its own SO_REUSEPORT
// listening sockets. Everything a connection touches lives on one worker.
//
// Threading: constructed and configured on the main thread before start();
// after that only requestDrain()/requestStop() may be called from other
// threads. Everything else runs on the worker's own thread.
#pragma once

#include <event2/event.h>
#include <event2/listener.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <memory>
#include <thread>
#include <vector>

namespace weir::core {

// Objects handed to deleteLater() are destroyed after the current callback
// unwinds, at the end of the loop iteration.
class Deferred {
 public:
  virtual ~Deferred() = default;
};

class Worker {
 public:
  // Implemented by the module that serves connections (the proxy).
  class Hooks {
   public:
    virtual ~Hooks() = default;
    // A connection was accepted on listener `listener`. The callee owns fd.
    virtual void onAccept(int fd, const sockaddr* peer, socklen_t len, size_t listener) = 0;
    // Graceful stop began: listeners are closed; finish in-flight work and
    // close idle connections. Call Worker::checkDrained() as connections end.
    virtual void onDrain() = 0;
    // Number of connections still open.
    virtual size_t activeConnections() const = 0;
  };

  explicit Worker(unsigned index);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  unsigned index() const { return index_; }
  event_base* base() const { return base_; }

  // Before start(): listening socket fds (already bound and listening), and
  // the other workers, among which accepted connections are balanced.
  void addListener(int fd);
  void setPeers(std::vector<Worker*> peers) { peers_ = std::move(peers); }
  void start(Hooks* hooks);
  void join();

  // Thread-safe. Drain stops accepting, lets hooks finish, and ends the loop
  // when no connection is left or after `timeout`.
  void requestDrain(std::chrono::milliseconds timeout);
  void requestStop();

  // Connections this worker serves; read by peers when they place a new one.
  size_t load() const { return load_.load(std::memory_order_relaxed); }
  // Loop thread only: a connection handed to Hooks::onAccept has closed.
  void connectionClosed() { load_.fetch_sub(1, std::memory_order_relaxed); }

  // Loop thread only.
  void deleteLater(std::unique_ptr<Deferred> obj);
  void checkDrained();
  bool draining() const { return draining_; }

 private:
  static void onAcceptCb(evconnlistener* l, evutil_socket_t fd, sockaddr* addr, int len, void* arg);
  static void onWake(evutil_socket_t fd, short what, void* arg);
  static void onReap(evutil_socket_t fd, short what, void* arg);
  static void onDrainTimeout(evutil_socket_t fd, short what, void* arg);
  void beginDrain();
  struct Handoff {
    int fd;
    sockaddr_storage peer;
    socklen_t len;
    size_t listener;
  };
  void place(const Handoff& h);
  void serve(const Handoff& h);
  // Thread-safe: queue a connection accepted by a peer.
  void adopt(const Handoff& h);

  unsigned index_;
  event_base* base_;
  Hooks* hooks_ = nullptr;
  std::vector<int> listen_fds_;
  struct ListenerSlot {
    Worker* worker;
    size_t index;
  };
  std::vector<evconnlistener*> listeners_;
  std::vector<std::unique_ptr<ListenerSlot>> slots_;
  std::thread thread_;
  int wake_fd_ = -1;
  event* wake_ev_ = nullptr;
  event* reap_ev_ = nullptr;
  event* drain_timer_ = nullptr;
  std::vector<std::unique_ptr<Deferred>> graveyard_;
  std::vector<Worker*> peers_;
  std::atomic<size_t> load_{0};
  std::mutex handoff_mu_;
  std::vector<Handoff> handoffs_;  // guarded by handoff_mu_
  std::atomic<bool> drain_requested_{false};
  std::atomic<bool> stop_requested_{false};
  std::atomic<int64_t> drain_timeout_ms_{0};
  bool draining_ = false;
};

}  // namespace weir::core
