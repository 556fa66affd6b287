// A thread that runs one libevent loop of its own, for work that must stay
// off the workers' loops (active health checks). Unlike a Worker it has no
// listeners and no connections of its own: its owner puts timers and
// streams on base().
//
// Threading: constructed, started and stopped by one owning thread (main).
// base() and everything put on it belong to the loop thread once start()
// was called; the owner touches them only from the on_start and on_stop
// callbacks, which run on that thread.
#pragma once

#include <event2/event.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace weir::core {

class LoopThread {
 public:
  // `name` names the thread for top and gdb (at most 15 characters are kept).
  explicit LoopThread(std::string name);
  // Stops the thread if it runs.
  ~LoopThread();
  LoopThread(const LoopThread&) = delete;
  LoopThread& operator=(const LoopThread&) = delete;

  event_base* base() const { return base_; }

  // Starts the thread, which calls on_start, runs the loop until stop(), and
  // calls on_stop before it ends. Once only.
  void start(std::function<void()> on_start, std::function<void()> on_stop);
  // Ends the loop (pending callbacks are not run) and joins the thread.
  // Idempotent; from any thread but the loop thread itself.
  void stop();
  // Thread-safe: runs `task` on the loop thread, in the order posted. Tasks
  // still queued when the loop stops are dropped unrun.
  void post(std::function<void()> task);
  bool running() const { return thread_.joinable(); }

 private:
  static void onWake(evutil_socket_t fd, short what, void* arg);

  std::string name_;
  event_base* base_ = nullptr;
  int wake_fd_ = -1;
  event* wake_ev_ = nullptr;
  std::atomic<bool> stop_requested_{false};
  std::mutex tasks_mu_;
  std::vector<std::function<void()>> tasks_;  // guarded by tasks_mu_
  std::thread thread_;
};

}  // namespace weir::core
