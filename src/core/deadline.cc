#include "weir/core/deadline.h"

namespace weir::core {

Deadline::Deadline(event_base* base, Callback cb, void* arg) : base_(base), cb_(cb), arg_(arg) {
  event_assign(&ev_, base_, -1, 0, &Deadline::onTimer, this);
}

Deadline::~Deadline() { event_del(&ev_); }

int64_t Deadline::nowMs() const {
  timeval tv;
  event_base_gettimeofday_cached(base_, &tv);
  return static_cast<int64_t>(tv.tv_sec) * 1000 + tv.tv_usec / 1000;
}

void Deadline::set(std::chrono::milliseconds d) {
  deadline_ms_ = nowMs() + d.count();
  set_ = true;
  if (!armed_ || armed_ms_ > deadline_ms_) arm(deadline_ms_);
}

void Deadline::arm(int64_t at_ms) {
  int64_t in = at_ms - nowMs();
  if (in < 0) in = 0;
  timeval tv{static_cast<time_t>(in / 1000), static_cast<suseconds_t>((in % 1000) * 1000)};
  event_add(&ev_, &tv);
  armed_ms_ = at_ms;
  armed_ = true;
}

void Deadline::onTimer(evutil_socket_t, short, void* arg) {
  auto* d = static_cast<Deadline*>(arg);
  d->armed_ = false;
  if (!d->set_) return;
  if (d->nowMs() < d->deadline_ms_) {  // moved later since it was armed
    d->arm(d->deadline_ms_);
    return;
  }
  d->set_ = false;
  d->cb_(d->arg_);
}

}  // namespace weir::core
