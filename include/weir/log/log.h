// Access and error logs. Event loops never block on a log write: lines are
// formatted on the caller's thread and handed to the log's own writer thread
// (one Sink per log, sink.h), which does the write() calls. Each queue is
// bounded (kMaxQueuedBytes of memory per log); past it, lines are dropped and
// counted rather than letting memory grow, and the error log says so once
// per kDropReportInterval. The error log never waits on the access log.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "weir/common/result.h"
#include "weir/log/sink.h"

namespace weir::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// Process-wide writer. open() before workers start; stop() after they end.
// The instance is never destroyed, so a writer thread that stop() had to
// leave stuck in write() never touches freed memory while the process exits.
class Writer {
 public:
  static Writer& instance();
  // Paths: a file (appended, created 0644), a FIFO that has a reader,
  // "/dev/stdout" or "/dev/stderr". An empty access path disables the access
  // log. Error: a message naming the path; nothing is started then.
  Status open(const std::string& access_path, const std::string& error_path, Level level);
  // Writes what is queued, waiting at most kStopDeadline in all whatever the
  // sinks do; a writer still blocked then is abandoned (its lines are lost).
  // Later lines are written directly by the caller (or dropped for an
  // abandoned log).
  void stop();

  // Thread-safe: each writer thread reopens its file (log rotation, SIGUSR1).
  void requestReopen();

  bool accessEnabled() const { return access_enabled_.load(std::memory_order_relaxed); }
  Level level() const { return level_.load(std::memory_order_relaxed); }
  // Thread-safe (a reload's error_log.level).
  void setLevel(Level level) { level_.store(level, std::memory_order_relaxed); }
  // Thread-safe; the chunk holds whole lines.
  void submitAccess(std::string&& chunk);
  void submitError(std::string&& chunk);
  // Lines dropped so far because a queue was full.
  uint64_t droppedAccess() const { return access_.droppedLines(); }
  uint64_t droppedError() const { return error_.droppedLines(); }
  uint64_t dropped() const { return droppedAccess() + droppedError(); }

  static constexpr size_t kMaxQueuedBytes = 64u << 20;  // per log
  static constexpr std::chrono::milliseconds kStopDeadline{2000};
  static constexpr std::chrono::seconds kDropReportInterval{10};

 private:
  Writer();
  ~Writer() = delete;
  // Error writer thread: the line that reports drops, when one is due.
  std::string dropReport(bool final);

  Sink access_{"access", kMaxQueuedBytes};
  Sink error_{"error", kMaxQueuedBytes};
  std::atomic<bool> access_enabled_{false};
  std::atomic<Level> level_{Level::kInfo};
  // The error writer thread's, for dropReport().
  Sink::Clock::time_point last_report_{};
  uint64_t reported_access_ = 0;
  uint64_t reported_error_ = 0;
};

inline bool enabled(Level l) { return l >= Writer::instance().level(); }

// An error-log line: "2026-11-23T04:41:06.123Z [warn] weir[1234]: message".
// Control bytes in the message (from client input such as a target) are
// written as \xHH, so a message is always one line. Long messages are cut at
// about 1 KiB.
void logf(Level level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
// The same line, formatted but not written (logf and the writer use it).
std::string errorLine(Level level, std::string_view message);

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

// "2026-11-23T04:41:06.123Z" (UTC) for the error log.
std::string isoTime();

}  // namespace weir::log
