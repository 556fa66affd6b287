#include "weir/core/worker.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace weir::core {

Worker::Worker(unsigned index) : index_(index) {
  event_config* cfg = event_config_new();
  // Each base is used by exactly one thread: no locks.
  event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
  base_ = event_base_new_with_config(cfg);
  event_config_free(cfg);
  if (base_ == nullptr) std::abort();
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) std::abort();
  wake_ev_ = event_new(base_, wake_fd_, EV_READ | EV_PERSIST, &Worker::onWake, this);
  event_add(wake_ev_, nullptr);
  reap_ev_ = event_new(base_, -1, 0, &Worker::onReap, this);
  drain_timer_ = evtimer_new(base_, &Worker::onDrainTimeout, this);
}

Worker::~Worker() {
  join();
  graveyard_.clear();
  for (evconnlistener* l : listeners_) evconnlistener_free(l);
  event_free(wake_ev_);
  event_free(reap_ev_);
  event_free(drain_timer_);
  ::close(wake_fd_);
  event_base_free(base_);
}

void Worker::addListener(int fd) { listen_fds_.push_back(fd); }

void Worker::start(Hooks* hooks) {
  hooks_ = hooks;
  for (size_t i = 0; i < listen_fds_.size(); ++i) {
    int fd = listen_fds_[i];
    slots_.push_back(std::make_unique<ListenerSlot>(ListenerSlot{this, i}));
    evconnlistener* l = evconnlistener_new(base_, &Worker::onAcceptCb, slots_.back().get(),
                                           LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
    if (l == nullptr) std::abort();
    listeners_.push_back(l);
  }
  listen_fds_.clear();
  thread_ = std::thread([this] { event_base_loop(base_, EVLOOP_NO_EXIT_ON_EMPTY); });
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::requestDrain(std::chrono::milliseconds timeout) {
  drain_timeout_ms_.store(timeout.count());
  drain_requested_.store(true);
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

void Worker::requestStop() {
  stop_requested_.store(true);
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

void Worker::onWake(evutil_socket_t fd, short, void* arg) {
  Worker* w = static_cast<Worker*>(arg);
  uint64_t v;
  [[maybe_unused]] ssize_t n = ::read(fd, &v, sizeof v);
  if (w->stop_requested_.load()) {
    event_base_loopbreak(w->base_);
    return;
  }
  std::vector<Handoff> adopted;
  {
    std::lock_guard<std::mutex> lock(w->handoff_mu_);
    adopted.swap(w->handoffs_);
  }
  for (const Handoff& h : adopted) {
    if (w->draining_) {
      ::close(h.fd);
      w->load_.fetch_sub(1, std::memory_order_relaxed);
    } else {
      w->hooks_->onAccept(h.fd, reinterpret_cast<const sockaddr*>(&h.peer), h.len, h.listener);
    }
  }
  if (w->drain_requested_.load() && !w->draining_) w->beginDrain();
}

void Worker::beginDrain() {
  draining_ = true;
  for (evconnlistener* l : listeners_) evconnlistener_free(l);
  listeners_.clear();
  timeval tv{};
  int64_t ms = drain_timeout_ms_.load();
  tv.tv_sec = ms / 1000;
  tv.tv_usec = (ms % 1000) * 1000;
  evtimer_add(drain_timer_, &tv);
  hooks_->onDrain();
  checkDrained();
}

void Worker::checkDrained() {
  if (draining_ && hooks_->activeConnections() == 0) event_base_loopexit(base_, nullptr);
}

void Worker::onDrainTimeout(evutil_socket_t, short, void* arg) {
  event_base_loopbreak(static_cast<Worker*>(arg)->base_);
}

void Worker::onAcceptCb(evconnlistener*, evutil_socket_t fd, sockaddr* addr, int len, void* arg) {
  auto* slot = static_cast<ListenerSlot*>(arg);
  Handoff h{fd, {}, static_cast<socklen_t>(len), slot->index};
  std::memcpy(&h.peer, addr, std::min(sizeof h.peer, static_cast<size_t>(len)));
  slot->worker->place(h);
}

// SO_REUSEPORT spreads connections by a hash of their addresses, so with a
// few dozen connections one worker often holds many more than another and
// its clients wait longer. A worker busier than the least loaded one by
// more than one connection hands the new connection over (an fd through a
// queue and an eventfd); connections are placed, never moved later.
void Worker::place(const Handoff& h) {
  Worker* target = this;
  for (Worker* p : peers_) {
    if (p != this && !p->drain_requested_.load() && p->load() + 1 < target->load()) target = p;
  }
  if (target == this) {
    serve(h);
  } else {
    target->adopt(h);
  }
}

void Worker::serve(const Handoff& h) {
  load_.fetch_add(1, std::memory_order_relaxed);
  hooks_->onAccept(h.fd, reinterpret_cast<const sockaddr*>(&h.peer), h.len, h.listener);
}

void Worker::adopt(const Handoff& h) {
  load_.fetch_add(1, std::memory_order_relaxed);  // counted now, so the next placement sees it
  {
    std::lock_guard<std::mutex> lock(handoff_mu_);
    handoffs_.push_back(h);
  }
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

void Worker::deleteLater(std::unique_ptr<Deferred> obj) {
  graveyard_.push_back(std::move(obj));
  if (graveyard_.size() == 1) event_active(reap_ev_, EV_TIMEOUT, 0);
}

void Worker::onReap(evutil_socket_t, short, void* arg) {
  Worker* w = static_cast<Worker*>(arg);
  // Destructors may defer more deletions; swap first so those land in the
  // next round.
  std::vector<std::unique_ptr<Deferred>> dead;
  dead.swap(w->graveyard_);
  dead.clear();
  if (!w->graveyard_.empty()) event_active(w->reap_ev_, EV_TIMEOUT, 0);
}


}  // namespace weir::core
