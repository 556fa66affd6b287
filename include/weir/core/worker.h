// A worker: one thread running one libevent loop, with its own SO_REUSEPORT
// listening sockets. Everything a connection touches lives on one worker.
//
// Accepting stops for a while, and new connections wait in the kernel's
// listen queue, when the process is out of descriptors (EMFILE/ENFILE: a
// short back-off, one error-log line per second at most) and when the
// ConnectionGate is full (limits.connections: until a connection of any
// worker closes).
//
// Threading: constructed and configured on the main thread before start();
// after that only requestDrain()/requestStop() may be called from other
// threads. Everything else runs on the worker's own thread.
#pragma once

#include <event2/event.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <memory>
#include <thread>
#include <vector>

#include "weir/core/connection_gate.h"

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
    // A connection was accepted on the listener with id `listener` (see
    // addListener). The callee owns fd.
    virtual void onAccept(int fd, const sockaddr* peer, socklen_t len, uint64_t listener) = 0;
    // A reload removed that listener: its socket is closed; the connections
    // it accepted should drain.
    virtual void onListenerClosed(uint64_t /*listener*/) {}
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

  // Before start(), or on the loop thread after: a listening socket
  // (already bound and listening; the worker owns and closes it) and the
  // id its connections are reported with. A worker may hold several
  // sockets with one id (after a binary upgrade handed over more sockets
  // than there are workers).
  void addListener(uint64_t id, int fd);
  // Loop thread: accepts what waits in the queues of listener `id`, then
  // closes its sockets and tells the hooks (onListenerClosed).
  void closeListener(uint64_t id);
  // Before start(): the other workers, among which accepted connections
  // are balanced, and the process's connection gate (not owned; outlives
  // the worker).
  void setPeers(std::vector<Worker*> peers) { peers_ = std::move(peers); }
  void setGate(ConnectionGate* gate) { gate_ = gate; }
  void start(Hooks* hooks);
  void join();

  // Thread-safe. Drain stops accepting, lets hooks finish, and ends the loop
  // when no connection is left or after `timeout`.
  void requestDrain(std::chrono::milliseconds timeout);
  void requestStop();
  // Thread-safe: runs `task` on the loop thread, soon, in the order posted.
  // Tasks posted after the loop ended are dropped with the worker.
  void post(std::function<void()> task);

  // Connections this worker serves; read by peers when they place a new one.
  size_t load() const { return load_.load(std::memory_order_relaxed); }
  // Loop thread only: a connection handed to Hooks::onAccept has closed.
  // Frees its slot in the gate, waking a worker that waits for room.
  void connectionClosed();

  // Loop thread only.
  void deleteLater(std::unique_ptr<Deferred> obj);
  void checkDrained();
  bool draining() const { return draining_; }

 private:
  struct ListenerSlot {
    Worker* worker;
    uint64_t id;
    int fd;
    event* ev;
  };
  struct Handoff {
    int fd;
    sockaddr_storage peer;
    socklen_t len;
    uint64_t listener;
  };
  static void onListenReadable(evutil_socket_t fd, short what, void* arg);
  static void onWake(evutil_socket_t fd, short what, void* arg);
  static void onReap(evutil_socket_t fd, short what, void* arg);
  static void onDrainTimeout(evutil_socket_t fd, short what, void* arg);
  static void onResumeTimer(evutil_socket_t fd, short what, void* arg);
  void acceptFrom(const ListenerSlot& slot);
  Handoff acceptOne(const ListenerSlot& slot);
  // A listener that closes: everything still in its queue.
  void acceptRest(const ListenerSlot& slot);
  void pauseAccepting(std::chrono::milliseconds for_at_least);
  void waitForRoom();
  void resumeAccepting();
  void closeListeners();
  void armListener(uint64_t id, int fd);
  void releaseSlot();
  void wake();
  void beginDrain();
  void place(const Handoff& h);
  void serve(const Handoff& h);
  // Thread-safe: queue a connection accepted by a peer.
  void adopt(const Handoff& h);

  unsigned index_;
  event_base* base_;
  Hooks* hooks_ = nullptr;
  ConnectionGate* gate_ = nullptr;
  std::unique_ptr<ConnectionGate> own_gate_;
  std::vector<std::pair<uint64_t, int>> listen_fds_;  // before start()
  std::vector<std::unique_ptr<ListenerSlot>> slots_;
  event* resume_timer_ = nullptr;
  bool accept_paused_ = false;
  // Set while this worker waits for room in the gate; read by the worker
  // that frees a slot, to know whom to wake.
  std::atomic<bool> waiting_for_room_{false};
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
  std::vector<std::function<void()>> tasks_;  // guarded by handoff_mu_
  std::atomic<bool> drain_requested_{false};
  std::atomic<bool> stop_requested_{false};
  std::atomic<int64_t> drain_timeout_ms_{0};
  bool draining_ = false;
  bool started_ = false;  // set by start() before the thread exists
};

}  // namespace weir::core
