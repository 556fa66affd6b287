// A per-connection deadline that is cheap to move. Setting it only stores a
// time; the libevent timer underneath is re-armed when it would fire too
// late (the new deadline is sooner than the armed one), and otherwise checks
// on firing whether the deadline really passed, re-arming for the rest if
// not. A keep-alive connection that moves its deadline on every request
// therefore costs a timer operation only now and then, not per request.
//
// Loop thread only. The callback runs when the deadline passes while set.
#pragma once

#include <event2/event.h>
#include <event2/event_struct.h>

#include <chrono>

namespace weir::core {

class Deadline {
 public:
  using Callback = void (*)(void* arg);

  Deadline(event_base* base, Callback cb, void* arg);
  ~Deadline();
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  // Fires `d` from now (the loop's cached time), replacing any earlier setting.
  void set(std::chrono::milliseconds d);
  void cancel() { set_ = false; }
  bool isSet() const { return set_; }

 private:
  static void onTimer(evutil_socket_t, short, void* arg);
  int64_t nowMs() const;
  void arm(int64_t at_ms);

  event_base* base_;
  Callback cb_;
  void* arg_;
  event ev_{};
  int64_t deadline_ms_ = 0;  // when it should fire
  int64_t armed_ms_ = 0;     // when the libevent timer fires
  bool set_ = false;
  bool armed_ = false;
};

}  // namespace weir::core
