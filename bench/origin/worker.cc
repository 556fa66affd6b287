#include "worker.h"

#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "connection.h"

namespace weir::origin {
namespace {

// Accepts per readiness event: enough to drain bursts, small enough to keep
// other connections served.
constexpr int kAcceptBatch = 64;

}  // namespace

Worker::Worker(const Server& server, std::vector<int> listen_fds)
    : server_(server), listen_fds_(std::move(listen_fds)) {}

Worker::~Worker() {
  while (connections_ != nullptr) release(connections_);
  for (event* ev : listen_events_) event_free(ev);
  for (int fd : listen_fds_) close(fd);
  if (wake_event_ != nullptr) event_free(wake_event_);
  for (int fd : wake_pipe_) {
    if (fd >= 0) close(fd);
  }
  if (base_ != nullptr) event_base_free(base_);
}

bool Worker::init() {
  event_config* cfg = event_config_new();
  if (cfg == nullptr) return false;
  // The loop is only touched by its own thread; cross-thread wakeups use a pipe.
  event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
  base_ = event_base_new_with_config(cfg);
  event_config_free(cfg);
  if (base_ == nullptr || pipe2(wake_pipe_, O_NONBLOCK | O_CLOEXEC) != 0) return false;
  wake_event_ = event_new(base_, wake_pipe_[0], EV_READ | EV_PERSIST, onWake, this);
  if (wake_event_ == nullptr || event_add(wake_event_, nullptr) != 0) return false;
  for (int fd : listen_fds_) {
    event* ev = event_new(base_, fd, EV_READ | EV_PERSIST, onAccept, this);
    if (ev == nullptr) return false;
    listen_events_.push_back(ev);
    if (event_add(ev, nullptr) != 0) return false;
  }
  return true;
}

void Worker::run() { event_base_dispatch(base_); }

void Worker::requestStop() {
  char b = 'S';
  ssize_t r = write(wake_pipe_[1], &b, 1);
  (void)r;
}

// The pipe carries 'S' (stop) or 'A' (connections were queued by a peer).
void Worker::onWake(int fd, short, void* arg) {
  auto* self = static_cast<Worker*>(arg);
  char buf[64];
  ssize_t n = read(fd, buf, sizeof buf);
  for (ssize_t i = 0; i < n; ++i) {
    if (buf[i] == 'S') {
      event_base_loopbreak(self->base_);
      return;
    }
  }
  std::vector<int> fds;
  {
    std::lock_guard<std::mutex> lock(self->adopt_mu_);
    fds.swap(self->adopted_);
  }
  for (int cfd : fds) self->serve(cfd);
}

void Worker::onAccept(int fd, short, void* arg) { static_cast<Worker*>(arg)->acceptBatch(fd); }

void Worker::acceptBatch(int listen_fd) {
  for (int i = 0; i < kAcceptBatch; ++i) {
    int fd = accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or a transient error such as EMFILE: retry on next event
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    counters_.connections.fetch_add(1, std::memory_order_relaxed);
    // SO_REUSEPORT spreads connections by hash, so a proxy's few dozen
    // long-lived connections can land unevenly and make one thread the
    // bottleneck for the whole run; place each on the least-loaded thread.
    Worker* target = this;
    for (Worker* p : peers_) {
      if (p->load() + 1 < target->load()) target = p;
    }
    target->load_.fetch_add(1, std::memory_order_relaxed);
    if (target == this) {
      serve(fd);
    } else {
      target->adopt(fd);
    }
  }
}

void Worker::adopt(int fd) {
  {
    std::lock_guard<std::mutex> lock(adopt_mu_);
    adopted_.push_back(fd);
  }
  char b = 'A';
  ssize_t r = write(wake_pipe_[1], &b, 1);
  (void)r;
}

void Worker::serve(int fd) {
  auto* conn = new Connection(*this, fd);
  conn->next_ = connections_;
  if (connections_ != nullptr) connections_->prev_ = conn;
  connections_ = conn;
  if (!conn->start()) release(conn);
}

void Worker::release(Connection* conn) {
  load_.fetch_sub(1, std::memory_order_relaxed);
  if (conn->prev_ != nullptr) conn->prev_->next_ = conn->next_;
  if (conn->next_ != nullptr) conn->next_->prev_ = conn->prev_;
  if (connections_ == conn) connections_ = conn->next_;
  delete conn;
}

}  // namespace weir::origin
