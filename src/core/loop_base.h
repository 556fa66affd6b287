// Private to core: an event loop owned by one thread, and the eventfd that
// wakes it from other threads. Both abort on failure (out of resources at
// start, nothing to recover).
#pragma once

#include <event2/event.h>
#include <sys/eventfd.h>

#include <cstdlib>

namespace weir::core::detail {

// A base used by exactly one thread: no libevent locking.
inline event_base* newSingleThreadBase() {
  event_config* cfg = event_config_new();
  event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
  event_base* base = event_base_new_with_config(cfg);
  event_config_free(cfg);
  if (base == nullptr) std::abort();
  return base;
}

// A persistent read event on a new eventfd; `fd` receives the descriptor.
inline event* newWakeEvent(event_base* base, int& fd, event_callback_fn cb, void* arg) {
  fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) std::abort();
  event* ev = event_new(base, fd, EV_READ | EV_PERSIST, cb, arg);
  event_add(ev, nullptr);
  return ev;
}

}  // namespace weir::core::detail
