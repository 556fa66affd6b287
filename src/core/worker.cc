#include "weir/core/worker.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/loop_base.h"
#include "weir/core/signals.h"
#include "weir/log/log.h"

namespace weir::core {
namespace {

// Accepts per readiness callback on one listener: the loop's other events
// get their turn during a connection burst.
constexpr int kAcceptBatch = 64;
// More than any listen queue holds (net.core.somaxconn is at most 65535).
constexpr int kMaxQueued = 65536;
// Out of descriptors: how long to leave new connections in the listen
// queue before trying again. Each retry costs one failed accept().
constexpr std::chrono::milliseconds kAcceptBackoff{100};
// At the connection cap a wake-up arrives when a slot frees; this re-check
// is only a safety net should a wake-up ever be lost.
constexpr std::chrono::milliseconds kRoomRecheck{1000};

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// One error-log line per interval for the whole process, however many
// workers and accepts fail: the line counts what it stands for.
class RateLimitedLine {
 public:
  explicit RateLimitedLine(int64_t interval_ms) : interval_ms_(interval_ms) {}
  // Counts one event; returns the count to log (> 0) when a line is due.
  uint64_t note() {
    pending_.fetch_add(1);
    int64_t now = nowMs();
    int64_t last = last_ms_.load();
    if (last != 0 && now - last < interval_ms_) return 0;
    if (!last_ms_.compare_exchange_strong(last, now)) return 0;
    return pending_.exchange(0);
  }

 private:
  const int64_t interval_ms_;
  std::atomic<int64_t> last_ms_{0};
  std::atomic<uint64_t> pending_{0};
};

// " (12 failed accepts since the last such line)", or "" for one.
std::string sinceLastLine(uint64_t count, const char* what) {
  if (count <= 1) return "";
  return " (" + std::to_string(count) + " " + what + " since the last such line)";
}

RateLimitedLine g_accept_failures(1000);
RateLimitedLine g_at_cap(10000);

// Errors that concern one connection (it was reset while queued, or a
// firewall refused it), not the listener: try the next one.
bool connectionOnlyError(int err) {
  return err == EINTR || err == ECONNABORTED || err == EPROTO || err == EPERM || err == ENETDOWN ||
         err == ENOPROTOOPT || err == EHOSTDOWN || err == ENONET || err == EHOSTUNREACH || err == EOPNOTSUPP ||
         err == ENETUNREACH;
}

timeval toTimeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = ms.count() / 1000;
  tv.tv_usec = (ms.count() % 1000) * 1000;
  return tv;
}

}  // namespace

Worker::Worker(unsigned index) : index_(index) {
  base_ = detail::newSingleThreadBase();
  wake_ev_ = detail::newWakeEvent(base_, wake_fd_, &Worker::onWake, this);
  reap_ev_ = event_new(base_, -1, 0, &Worker::onReap, this);
  drain_timer_ = evtimer_new(base_, &Worker::onDrainTimeout, this);
  resume_timer_ = evtimer_new(base_, &Worker::onResumeTimer, this);
}

Worker::~Worker() {
  join();
  graveyard_.clear();
  closeListeners();
  for (auto& [id, fd] : listen_fds_) ::close(fd);
  event_free(wake_ev_);
  event_free(reap_ev_);
  event_free(drain_timer_);
  event_free(resume_timer_);
  ::close(wake_fd_);
  event_base_free(base_);
}

void Worker::addListener(uint64_t id, int fd) {
  if (!started_) {
    listen_fds_.emplace_back(id, fd);
    return;
  }
  if (draining_) {
    ::close(fd);
    return;
  }
  armListener(id, fd);
}

void Worker::armListener(uint64_t id, int fd) {
  slots_.push_back(std::make_unique<ListenerSlot>(ListenerSlot{this, id, fd, nullptr}));
  ListenerSlot* slot = slots_.back().get();
  slot->ev = event_new(base_, slot->fd, EV_READ | EV_PERSIST, &Worker::onListenReadable, slot);
  if (slot->ev == nullptr) std::abort();
  if (!accept_paused_) event_add(slot->ev, nullptr);
}

// Connections already in the socket's queue were accepted by the kernel:
// they are all taken and served before the socket closes (beyond the
// gate's room they are closed, as refused as the closed socket would have
// them), so removing a listener refuses only connections that come later.
void Worker::closeListener(uint64_t id) {
  bool found = false;
  for (auto it = slots_.begin(); it != slots_.end();) {
    if ((*it)->id != id) {
      ++it;
      continue;
    }
    found = true;
    if (!accept_paused_) acceptRest(**it);
    event_free((*it)->ev);
    ::close((*it)->fd);
    it = slots_.erase(it);
  }
  if (found && hooks_ != nullptr) hooks_->onListenerClosed(id);
}

void Worker::post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(handoff_mu_);
    tasks_.push_back(std::move(task));
  }
  wake();
}

void Worker::start(Hooks* hooks) {
  hooks_ = hooks;
  if (gate_ == nullptr) {  // used alone, without a Server: no cap
    own_gate_ = std::make_unique<ConnectionGate>(SIZE_MAX);
    gate_ = own_gate_.get();
  }
  if (peers_.empty()) peers_.push_back(this);
  for (auto& [id, fd] : listen_fds_) armListener(id, fd);
  listen_fds_.clear();
  started_ = true;
  thread_ = std::thread([this] {
    AltSignalStack alt_stack;
    event_base_loop(base_, EVLOOP_NO_EXIT_ON_EMPTY);
  });
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::wake() {
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

void Worker::requestDrain(std::chrono::milliseconds timeout) {
  drain_timeout_ms_.store(timeout.count());
  drain_requested_.store(true);
  wake();
}

void Worker::requestStop() {
  stop_requested_.store(true);
  wake();
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
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard<std::mutex> lock(w->handoff_mu_);
    adopted.swap(w->handoffs_);
    tasks.swap(w->tasks_);
  }
  for (auto& task : tasks) task();
  // Adopted while draining too: the peer placed them before it saw this
  // worker drain, and their clients may have sent a request already.
  for (const Handoff& h : adopted) {
    w->hooks_->onAccept(h.fd, reinterpret_cast<const sockaddr*>(&h.peer), h.len, h.listener);
  }
  if (w->drain_requested_.load() && !w->draining_) w->beginDrain();
  if (w->waiting_for_room_.load() && !w->gate_->full()) w->resumeAccepting();
}

void Worker::closeListeners() {
  for (auto& slot : slots_) {
    event_free(slot->ev);
    ::close(slot->fd);
  }
  slots_.clear();
  if (waiting_for_room_.exchange(false)) gate_->removeWaiter();
  evtimer_del(resume_timer_);
}

void Worker::beginDrain() {
  draining_ = true;
  closeListeners();
  timeval tv = toTimeval(std::chrono::milliseconds(drain_timeout_ms_.load()));
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

void Worker::onListenReadable(evutil_socket_t, short, void* arg) {
  auto* slot = static_cast<ListenerSlot*>(arg);
  slot->worker->acceptFrom(*slot);
}

// Loop thread. A slot in the gate is taken before accept(), so the cap is
// never exceeded, not even by workers accepting at the same moment.
void Worker::acceptFrom(const ListenerSlot& slot) {
  for (int i = 0; i < kAcceptBatch && !accept_paused_; ++i) {
    if (!gate_->tryAcquire()) {
      waitForRoom();
      return;
    }
    Handoff h = acceptOne(slot);
    if (h.fd >= 0) {
      place(h);
      continue;
    }
    int err = errno;
    releaseSlot();
    if (err == EAGAIN || err == EWOULDBLOCK) return;
    if (connectionOnlyError(err)) continue;
    // Out of descriptors (EMFILE, ENFILE) or kernel memory (ENOBUFS,
    // ENOMEM): the listener stays readable, so retrying now would spin.
    if (uint64_t count = g_accept_failures.note()) {
      WEIR_ERROR("accept: %s; new connections wait in the listen queue, retrying every %lld ms%s", std::strerror(err),
                 static_cast<long long>(kAcceptBackoff.count()), sinceLastLine(count, "failed accepts").c_str());
    }
    pauseAccepting(kAcceptBackoff);
    return;
  }
}

// One accept4 on `slot`: fd < 0 (errno set) when nothing was taken.
Worker::Handoff Worker::acceptOne(const ListenerSlot& slot) {
  Handoff h{};
  h.len = sizeof h.peer;
  h.listener = slot.id;
  h.fd = ::accept4(slot.fd, reinterpret_cast<sockaddr*>(&h.peer), &h.len, SOCK_NONBLOCK | SOCK_CLOEXEC);
  return h;
}

void Worker::acceptRest(const ListenerSlot& slot) {
  for (int i = 0; i < kMaxQueued; ++i) {
    Handoff h = acceptOne(slot);
    if (h.fd < 0) {
      if (connectionOnlyError(errno)) continue;
      return;  // the queue is empty (or out of descriptors: nothing more can be taken)
    }
    if (!gate_->tryAcquire()) {
      ::close(h.fd);
      continue;
    }
    serve(h);  // here, where the close that follows marks them draining
  }
}

void Worker::pauseAccepting(std::chrono::milliseconds for_at_least) {
  if (!accept_paused_) {
    for (auto& slot : slots_) event_del(slot->ev);
    accept_paused_ = true;
  }
  timeval tv = toTimeval(for_at_least);
  evtimer_add(resume_timer_, &tv);
}

// The gate is full. Registering as a waiter before the last look at the
// gate pairs with release(): either that look sees the freed slot, or the
// releasing worker sees this one waiting and wakes it.
void Worker::waitForRoom() {
  if (!waiting_for_room_.exchange(true)) gate_->addWaiter();
  if (!gate_->full()) {
    resumeAccepting();
    return;
  }
  if (uint64_t count = g_at_cap.note()) {
    WEIR_WARN("limits.connections reached: %zu client connections open; new connections wait in the listen queue%s",
              gate_->open(), sinceLastLine(count, "times").c_str());
  }
  pauseAccepting(kRoomRecheck);
}

void Worker::resumeAccepting() {
  if (draining_) return;
  if (waiting_for_room_.load()) {
    if (gate_->full()) {
      timeval tv = toTimeval(kRoomRecheck);
      evtimer_add(resume_timer_, &tv);
      return;
    }
    waiting_for_room_.store(false);
    gate_->removeWaiter();
  }
  evtimer_del(resume_timer_);
  if (!accept_paused_) return;
  accept_paused_ = false;
  for (auto& slot : slots_) event_add(slot->ev, nullptr);
}

void Worker::onResumeTimer(evutil_socket_t, short, void* arg) { static_cast<Worker*>(arg)->resumeAccepting(); }

void Worker::connectionClosed() {
  load_.fetch_sub(1, std::memory_order_relaxed);
  releaseSlot();
}

void Worker::releaseSlot() {
  if (!gate_->release()) return;
  for (Worker* p : peers_) {
    if (p->waiting_for_room_.load()) p->wake();
  }
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
  wake();
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
