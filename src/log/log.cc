#include "weir/log/log.h"

#include <fcntl.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace weir::log {
namespace {

Result<int> openSink(const std::string& path) {
  if (path == "/dev/stdout") return ::fcntl(1, F_DUPFD_CLOEXEC, 3);
  if (path == "/dev/stderr") return ::fcntl(2, F_DUPFD_CLOEXEC, 3);
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Error{path + ": cannot open: " + std::strerror(errno)};
  return fd;
}

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
  static Writer w;
  return w;
}

Status Writer::open(const std::string& access_path, const std::string& error_path, Level level) {
  auto err = openSink(error_path);
  if (!err) return err.error();
  auto acc = access_path.empty() ? Result<int>(-1) : openSink(access_path);
  if (!acc) {
    ::close(*err);
    return acc.error();
  }
  fds_[kError] = *err;
  fds_[kAccess] = *acc;
  paths_[kError] = error_path;
  paths_[kAccess] = access_path;
  access_enabled_ = *acc >= 0;
  level_.store(level);
  thread_ = std::thread([this] { run(); });
  return Ok{};
}

void Writer::submit(Sink sink, std::string&& chunk) {
  // fds_ belongs to the writer thread once it runs; decide on flags only.
  if ((sink == kAccess && !access_enabled_) || chunk.empty()) return;
  if (!thread_.joinable()) {  // before open() or after stop(): write directly
    [[maybe_unused]] ssize_t n = ::write(fds_[sink], chunk.data(), chunk.size());
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queued_bytes_ + chunk.size() > kMaxQueuedBytes) {
      dropped_.fetch_add(1);
      return;
    }
    queued_bytes_ += chunk.size();
    queue_.emplace_back(sink, std::move(chunk));
  }
  cv_.notify_one();
}

void Writer::requestReopen() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    reopen_requested_ = true;
  }
  cv_.notify_one();
}

// Writer thread: open the paths again and swap. A path that fails keeps the
// old descriptor, and the failure is logged to the error log.
void Writer::reopen() {
  for (Sink sink : {kAccess, kError}) {
    const std::string& path = paths_[sink];
    if (path.empty() || path == "/dev/stdout" || path == "/dev/stderr") continue;
    auto fd = openSink(path);
    if (!fd) {
      std::string line = isoTime() + " [error] log reopen: " + fd.error().message + "\n";
      [[maybe_unused]] ssize_t n = ::write(fds_[kError], line.data(), line.size());
      continue;
    }
    ::close(fds_[sink]);
    fds_[sink] = *fd;
  }
}

void Writer::run() {
  std::deque<std::pair<Sink, std::string>> batch;
  for (;;) {
    bool reopen_now = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || reopen_requested_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) return;
      batch.swap(queue_);
      queued_bytes_ = 0;
      reopen_now = reopen_requested_;
      reopen_requested_ = false;
    }
    for (auto& [sink, text] : batch) {
      int fd = fds_[sink];
      size_t off = 0;
      while (off < text.size()) {
        ssize_t n = ::write(fd, text.data() + off, text.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;  // a broken log sink must not stop the proxy
        off += static_cast<size_t>(n);
      }
    }
    batch.clear();
    if (reopen_now) reopen();
  }
}

void Writer::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
  stopping_ = false;
}

void logf(Level level, const char* fmt, ...) {
  std::string line = isoTime();
  line += " [";
  line += levelName(level);
  line += "] ";
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n > 0) line.append(buf, std::min<size_t>(static_cast<size_t>(n), sizeof buf - 1));
  line += '\n';
  Writer::instance().submitError(std::move(line));
}

void AccessLogBuffer::flush() {
  if (buf_.empty()) return;
  std::string out;
  out.reserve(kBatchBytes * 2);
  out.swap(buf_);
  Writer::instance().submitAccess(std::move(out));
}

std::string_view commonLogTime() {
  thread_local time_t cached_sec = 0;
  thread_local char cached[40];
  thread_local size_t cached_len = 0;
  time_t now = ::time(nullptr);
  if (now != cached_sec) {
    tm t{};
    gmtime_r(&now, &t);
    cached_len = std::strftime(cached, sizeof cached, "[%d/%b/%Y:%H:%M:%S +0000]", &t);
    cached_sec = now;
  }
  return {cached, cached_len};
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
