// One weir-origin worker thread: an event_base, its own SO_REUSEPORT
// listening sockets (one per address), and the connections it accepted.
//
// Everything except requestStop() and counters() runs on the worker thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

struct event;
struct event_base;

namespace weir::origin {

class Connection;
class Server;

// Per-worker counters, summed by Server for /stats. Own cache line so that
// workers never contend on them.
struct alignas(64) Counters {
  std::atomic<uint64_t> connections{0};
  std::atomic<uint64_t> requests{0};
};

class Worker {
 public:
  // Takes ownership of `listen_fds` (listening, non-blocking).
  Worker(const Server& server, std::vector<int> listen_fds);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Creates the loop and registers listeners; false on failure. Call before run().
  bool init();
  // Runs the loop until requestStop(). Worker thread.
  void run();
  // Thread-safe: wakes the loop and makes run() return.
  void requestStop();

  Counters& counters() { return counters_; }
  const Counters& counters() const { return counters_; }
  const Server& server() const { return server_; }
  event_base* base() const { return base_; }

  // Unlinks and deletes a connection. Worker thread.
  void release(Connection* conn);

  // Before run(): the workers among which accepted connections are spread.
  void setPeers(std::vector<Worker*> peers) { peers_ = std::move(peers); }
  // Live connections; read by peers when they place a new one.
  size_t load() const { return load_.load(std::memory_order_relaxed); }

 private:
  static void onAccept(int fd, short what, void* arg);
  static void onWake(int fd, short what, void* arg);
  void acceptBatch(int listen_fd);
  void serve(int fd);
  // Thread-safe: queue a connection accepted by a peer.
  void adopt(int fd);

  Counters counters_;
  const Server& server_;
  std::vector<int> listen_fds_;
  std::vector<event*> listen_events_;
  event_base* base_ = nullptr;
  event* wake_event_ = nullptr;
  int wake_pipe_[2] = {-1, -1};
  std::vector<Worker*> peers_;
  std::atomic<size_t> load_{0};
  std::mutex adopt_mu_;
  std::vector<int> adopted_;  // guarded by adopt_mu_
  Connection* connections_ = nullptr;
};

}  // namespace weir::origin
