// Access and error logs. Event loops never block on a log write: lines are
// formatted on the caller's thread and handed to one writer thread, which
// does the write() calls. The queue is bounded (kMaxQueuedBytes); past it,
// lines are dropped and counted rather than letting memory grow.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "weir/common/result.h"

namespace weir::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// Process-wide writer. open() before workers start; stop() after they end.
class Writer {
 public:
  static Writer& instance();
  // Paths: a file (appended, created 0644), "/dev/stdout" or "/dev/stderr".
  // An empty access path disables the access log.
  Status open(const std::string& access_path, const std::string& error_path, Level level);
  void stop();

  // Thread-safe: the writer thread reopens both files (log rotation).
  void requestReopen();

  bool accessEnabled() const { return access_enabled_; }
  Level level() const { return level_.load(std::memory_order_relaxed); }
  // Thread-safe; the chunk holds whole lines.
  void submitAccess(std::string&& chunk) { submit(kAccess, std::move(chunk)); }
  void submitError(std::string&& chunk) { submit(kError, std::move(chunk)); }
  uint64_t dropped() const { return dropped_.load(); }

  static constexpr size_t kMaxQueuedBytes = 64u << 20;

 private:
  enum Sink { kAccess = 0, kError = 1 };
  Writer() = default;
  void submit(Sink sink, std::string&& chunk);
  void run();
  void reopen();

  // fds_ and paths_ are the writer thread's once it runs.
  int fds_[2] = {-1, 2};
  std::string paths_[2];
  bool access_enabled_ = false;
  bool reopen_requested_ = false;  // guarded by mu_
  std::atomic<Level> level_{Level::kInfo};
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<Sink, std::string>> queue_;
  size_t queued_bytes_ = 0;
  bool stopping_ = false;
  std::thread thread_;
  std::atomic<uint64_t> dropped_{0};
};

inline bool enabled(Level l) { return l >= Writer::instance().level(); }

// An error-log line: "2026-11-23T04:41:06.123Z [warn] message".
void logf(Level level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

#define WEIR_LOG(level, ...)                                            \
  do {                                                                  \
    if (::weir::log::enabled(level)) ::weir::log::logf(level, __VA_ARGS__); \
  } while (0)
#define WEIR_DEBUG(...) WEIR_LOG(::weir::log::Level::kDebug, __VA_ARGS__)
#define WEIR_INFO(...) WEIR_LOG(::weir::log::Level::kInfo, __VA_ARGS__)
#define WEIR_WARN(...) WEIR_LOG(::weir::log::Level::kWarn, __VA_ARGS__)
#define WEIR_ERROR(...) WEIR_LOG(::weir::log::Level::kError, __VA_ARGS__)

// One per worker: collects access-log lines and hands them to the Writer in
// batches (when the batch is large, or when flush() is called by the
// worker's periodic timer). Loop thread only.
class AccessLogBuffer {
 public:
  std::string& line() { return buf_; }  // append one whole line, then commit()
  void commit() {
    if (buf_.size() >= kBatchBytes) flush();
  }
  void flush();

  static constexpr size_t kBatchBytes = 32 * 1024;

 private:
  std::string buf_;
};

// "[23/Nov/2026:04:41:06 +0000]"-style local time for the access log, cached
// per second per thread.
std::string_view commonLogTime();
// "2026-11-23T04:41:06.123Z" for the error log and JSON access log.
std::string isoTime();

}  // namespace weir::log
