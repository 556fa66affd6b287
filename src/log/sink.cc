#include "weir/log/sink.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace weir::log {
namespace {

// What a queued chunk costs in memory: its allocation plus the deque slot.
size_t costOf(const std::string& s) { return s.capacity() + sizeof(std::string); }

uint64_t countLines(const std::string& s) {
  uint64_t n = 0;
  for (const char* p = s.data(), *end = p + s.size();
       (p = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)))) != nullptr; ++p) {
    ++n;
  }
  return n > 0 ? n : 1;
}

Result<int> openPath(const std::string& path) {
  if (path == "/dev/stdout") return ::fcntl(1, F_DUPFD_CLOEXEC, 3);
  if (path == "/dev/stderr") return ::fcntl(2, F_DUPFD_CLOEXEC, 3);
  // O_NONBLOCK only for the open: a FIFO without a reader fails at once
  // (ENXIO) instead of hanging the start. Writes then block on the writer
  // thread, which is where a slow sink is allowed to wait.
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0644);
  if (fd < 0) {
    if (errno == ENXIO) return Error{path + ": cannot open: a FIFO with no process reading it"};
    return Error{path + ": cannot open: " + std::strerror(errno)};
  }
  int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  return fd;
}

}  // namespace

Sink::Sink(std::string name, size_t max_bytes) : name_(std::move(name)), max_bytes_(max_bytes) {}

Sink::~Sink() {
  if (running()) {
    requestStop();
    // A detached thread would use *this after it is gone: better a loud stop.
    if (!waitStopped(Clock::now() + std::chrono::seconds(2))) std::abort();
  }
  if (state_ != State::kAbandoned && thread_.joinable()) thread_.join();
  if (fd_ >= 0) ::close(fd_);
}

Status Sink::open(const std::string& path) {
  auto fd = openPath(path);
  if (!fd) return fd.error();
  std::lock_guard<std::mutex> lock(mu_);
  if (fd_ >= 0) ::close(fd_);
  fd_ = *fd;
  path_ = path;
  return Ok{};
}

void Sink::adopt(int fd) {
  std::lock_guard<std::mutex> lock(mu_);
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  path_.clear();
}

void Sink::setTick(std::function<std::string(bool)> tick, std::chrono::milliseconds every) {
  tick_ = std::move(tick);
  tick_every_ = every;
}

void Sink::start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (state_ == State::kRunning || state_ == State::kAbandoned) return;
  if (thread_.joinable()) thread_.join();
  state_ = State::kRunning;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

bool Sink::submit(std::string&& chunk) {
  if (chunk.empty()) return true;
  int direct_fd = -1;
  bool queued = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (state_ == State::kRunning) {
      const size_t cost = costOf(chunk);
      if (queued_bytes_ + cost <= max_bytes_) {
        queued_bytes_ += cost;
        queue_.push_back(std::move(chunk));
        queued = true;
      }
    } else if (state_ != State::kAbandoned) {
      direct_fd = fd_;  // no thread: write on the caller's
    }
  }
  if (queued) {
    cv_.notify_one();
    return true;
  }
  if (direct_fd >= 0) {
    writeAll(direct_fd, chunk);
    return true;
  }
  // Counted outside the lock: dropping happens under load.
  dropped_lines_.fetch_add(countLines(chunk), std::memory_order_relaxed);
  return false;
}

void Sink::requestReopen() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    reopen_requested_ = true;
  }
  cv_.notify_one();
}

void Sink::requestStop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
}

bool Sink::waitStopped(Clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  if (state_ == State::kIdle) return true;
  if (state_ == State::kAbandoned) return false;
  if (!done_cv_.wait_until(lock, deadline, [this] { return state_ != State::kRunning; })) {
    // Stuck in write(): the thread keeps this object, which must outlive it.
    state_ = State::kAbandoned;
    thread_.detach();
    return false;
  }
  lock.unlock();
  if (thread_.joinable()) thread_.join();
  return true;
}

bool Sink::running() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_ == State::kRunning;
}

uint64_t Sink::droppedLines() const { return dropped_lines_.load(std::memory_order_relaxed); }

size_t Sink::queuedBytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queued_bytes_;
}

// Writer thread. A sink that fails (EIO, EPIPE, a closed FIFO) loses the
// chunk: a broken log must not stop the proxy. One that is merely full
// blocks here, and only here.
void Sink::writeAll(int fd, const std::string& text) {
  size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n > 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // Inherited non-blocking stdout: wait for room rather than drop.
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, 1000) >= 0) continue;
    }
    return;
  }
}

// Writer thread: the path again, swapped in. A failure keeps the old
// descriptor and is reported (to the error log).
void Sink::reopen() {
  if (path_.empty() || path_ == "/dev/stdout" || path_ == "/dev/stderr") return;
  auto fd = openPath(path_);
  if (!fd) {
    if (report_) report_(name_ + " log reopen failed: " + fd.error().message);
    return;
  }
  int old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    old = fd_;
    fd_ = *fd;
  }
  if (old >= 0) ::close(old);
}

void Sink::run() {
  // Signals are for the control thread. And a log pipe whose reader went
  // away must give EPIPE here, not a SIGPIPE that ends the process.
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  std::deque<std::string> batch;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    auto ready = [this] { return stopping_ || reopen_requested_ || !queue_.empty(); };
    if (tick_) {
      cv_.wait_for(lock, tick_every_, ready);
    } else {
      cv_.wait(lock, ready);
    }
    const bool last = stopping_ && queue_.empty();
    const bool reopen_now = reopen_requested_;
    reopen_requested_ = false;
    batch.swap(queue_);
    const int fd = fd_;
    lock.unlock();

    for (std::string& chunk : batch) {
      writeAll(fd, chunk);
      const size_t cost = costOf(chunk);
      std::string().swap(chunk);  // free before the bytes count as free
      lock.lock();
      queued_bytes_ -= cost;
      lock.unlock();
    }
    batch.clear();
    if (reopen_now) reopen();
    if (tick_) {
      std::string extra = tick_(last);
      if (!extra.empty()) writeAll(fd_, extra);
    }

    lock.lock();
    if (last && queue_.empty()) {
      if (state_ == State::kRunning) state_ = State::kStopped;
      done_cv_.notify_all();
      return;
    }
  }
}

}  // namespace weir::log
