// The open-loop schedule: the i-th request of a pacer is due at
// start + i / rate, whatever happened to the ones before, so a server that
// stalls finds the requests it held up already due when it recovers, and
// each one's latency counts from when it was due (coordinated omission
// corrected, as wrk2 does). The clock is the caller's (nanoseconds), so
// tests drive it.
#pragma once

#include <cstdint>

namespace weir::loadgen {

class Pacer {
 public:
  // rate > 0 requests per second.
  Pacer(double rate, int64_t start_ns);
  // When the next request is due.
  int64_t nextDue() const { return dueAt(taken_); }
  // The next request, if due by `now_ns`: its due time (and it is taken);
  // -1 when none is due yet.
  int64_t take(int64_t now_ns);
  // Requests due by `now_ns` and not taken.
  uint64_t backlog(int64_t now_ns) const;
  uint64_t taken() const { return taken_; }

 private:
  int64_t dueAt(uint64_t i) const;
  double interval_ns_;
  int64_t start_ns_;
  uint64_t taken_ = 0;
};

}  // namespace weir::loadgen
