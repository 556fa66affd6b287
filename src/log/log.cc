#include "weir/log/log.h"

#include <fcntl.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>

namespace weir::log {
namespace {

const char* levelName(Level l) {
  switch (l) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "?";
}

}  // namespace

Writer& Writer::instance() {
  // Leaked on purpose: see the class comment.
  static Writer* w = new Writer();
  return *w;
}

Writer::Writer() {
  // Until open(), error lines go to a copy of stderr, written directly.
  int fd = ::fcntl(2, F_DUPFD_CLOEXEC, 3);
  if (fd >= 0) error_.adopt(fd);
  error_.setTick([this](bool final) { return dropReport(final); }, std::chrono::seconds(1));
  auto report = [this](std::string&& message) { submitError(errorLine(Level::kError, message)); };
  error_.setReport(report);
  access_.setReport(report);
}

Status Writer::open(const std::string& access_path, const std::string& error_path, Level level) {
  if (access_.running() || error_.running()) return Error{"log writer already running"};
  if (auto st = error_.open(error_path); !st) return st;
  if (!access_path.empty()) {
    if (auto st = access_.open(access_path); !st) return st;
  }
  access_enabled_.store(!access_path.empty());
  level_.store(level);
  error_.start();
  if (!access_path.empty()) access_.start();
  return Ok{};
}

void Writer::submitAccess(std::string&& chunk) {
  if (!accessEnabled()) return;
  access_.submit(std::move(chunk));
}

void Writer::submitError(std::string&& chunk) { error_.submit(std::move(chunk)); }

void Writer::requestReopen() {
  access_.requestReopen();
  error_.requestReopen();
}

// Both threads flush at the same time, so a stuck access log costs the
// error log none of its share of the deadline.
void Writer::stop() {
  const auto deadline = Sink::Clock::now() + kStopDeadline;
  access_.requestStop();
  error_.requestStop();
  const bool access_done = access_.waitStopped(deadline);
  error_.waitStopped(deadline);
  if (!access_done) {
    submitError(errorLine(Level::kWarn, "access log writer still blocked at exit; its queued lines are lost"));
  }
}

std::string Writer::dropReport(bool final) {
  const auto now = Sink::Clock::now();
  if (!final && last_report_ != Sink::Clock::time_point{} && now - last_report_ < kDropReportInterval) return {};
  const uint64_t access = access_.droppedLines(), error = error_.droppedLines();
  if (access == reported_access_ && error == reported_error_) return {};
  char message[256];
  std::snprintf(message, sizeof message,
                "log queue full (%zu MiB): dropped %llu access-log and %llu error-log lines since the last report",
                kMaxQueuedBytes >> 20, static_cast<unsigned long long>(access - reported_access_),
                static_cast<unsigned long long>(error - reported_error_));
  reported_access_ = access;
  reported_error_ = error;
  last_report_ = now;
  return errorLine(Level::kWarn, message);
}

std::string errorLine(Level level, std::string_view message) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string line = isoTime();
  line += " [";
  line += levelName(level);
  line += "] weir[";
  line += std::to_string(::getpid());
  line += "]: ";
  for (char ch : message) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) {
      const char esc[4] = {'\\', 'x', kHex[c >> 4], kHex[c & 15]};
      line.append(esc, 4);
    } else {
      line.push_back(ch);
    }
  }
  line += '\n';
  return line;
}

void logf(Level level, const char* fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  std::string_view message(buf, n > 0 ? std::min<size_t>(static_cast<size_t>(n), sizeof buf - 1) : 0);
  Writer::instance().submitError(errorLine(level, message));
}

void AccessLogBuffer::flush() {
  if (buf_.empty()) return;
  std::string out;
  out.reserve(kBatchBytes * 2);
  out.swap(buf_);
  Writer::instance().submitAccess(std::move(out));
}

std::string isoTime() {
  timeval tv{};
  gettimeofday(&tv, nullptr);
  tm t{};
  gmtime_r(&tv.tv_sec, &t);
  char buf[40];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &t);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(tv.tv_usec / 1000));
  return buf;
}

}  // namespace weir::log
