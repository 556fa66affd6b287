// One log destination (a file, a FIFO, stdout or stderr) with its own writer
// thread and its own bounded queue, so a destination that stops taking bytes
// (a pipe nobody reads, a hung disk) holds up nothing but itself: callers
// only append to the queue, and past the byte bound their lines are dropped
// and counted. Used by Writer (log.h), one Sink per log.
//
// Life: open(path), start(), submit()... from any thread, requestStop() and
// waitStopped(deadline) once. A thread still stuck in write() at the deadline
// is detached and the Sink abandoned: it must then never be destroyed (the
// Writer's Sinks never are), and later submits are dropped.
// Before start() and after a clean stop, submit() writes directly.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "weir/common/result.h"

namespace weir::log {

class Sink {
 public:
  using Clock = std::chrono::steady_clock;

  // `name` ("access", "error") is used in messages. max_bytes bounds the
  // memory the queue holds (counted by capacity, not only the text).
  Sink(std::string name, size_t max_bytes);
  ~Sink();
  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;

  // Before start(): a file (appended, created 0644), a FIFO that has a
  // reader, "/dev/stdout" or "/dev/stderr". Error: the message names the path.
  Status open(const std::string& path);
  // Uses an open descriptor instead (owned from now on; the Sink closes it).
  void adopt(int fd);
  // Called on the writer thread after each batch and at least every `every`;
  // a non-empty result is written to this sink, outside the byte bound.
  void setTick(std::function<std::string(bool final)> tick, std::chrono::milliseconds every);
  // Called on the writer thread with a one-line message when reopening fails.
  void setReport(std::function<void(std::string&&)> report) { report_ = std::move(report); }
  void start();

  // Any thread. The chunk holds whole lines. False when it was dropped
  // (queue full, or the Sink was abandoned).
  bool submit(std::string&& chunk);
  // Any thread: the writer thread opens the path again (log rotation).
  void requestReopen();

  void requestStop();
  // Waits until the thread has written everything queued, or until the
  // deadline; then joins it, or detaches it. True when it finished.
  bool waitStopped(Clock::time_point deadline);

  bool running() const;
  uint64_t droppedLines() const;
  size_t queuedBytes() const;
  const std::string& name() const { return name_; }

 private:
  enum class State { kIdle, kRunning, kStopped, kAbandoned };
  void run();
  void writeAll(int fd, const std::string& text);
  void reopen();

  const std::string name_;
  const size_t max_bytes_;
  std::string path_;  // set before start()
  std::function<std::string(bool)> tick_;
  std::chrono::milliseconds tick_every_{0};
  std::function<void(std::string&&)> report_;

  mutable std::mutex mu_;
  std::condition_variable cv_;       // work for the thread
  std::condition_variable done_cv_;  // the thread left run()
  int fd_ = -1;                      // the thread's once it runs; else guarded by mu_
  State state_ = State::kIdle;
  bool stopping_ = false;
  bool reopen_requested_ = false;
  std::deque<std::string> queue_;
  size_t queued_bytes_ = 0;  // includes the batch being written
  std::atomic<uint64_t> dropped_lines_{0};
  std::thread thread_;
};

}  // namespace weir::log
