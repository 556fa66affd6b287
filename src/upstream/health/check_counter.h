// Rise/fall counting for one server's active health checks: a pure state
// machine over probe results, kept apart from sockets and timers so that it
// can be tested on its own.
//
// An up server goes down after `fall` consecutive failures; a down server
// comes up after `rise` consecutive successes. Any other result only moves
// the runs: a success ends a failure run and the other way round, so
// alternating results never change the state.
//
// Threading: owned by one ServerChecker on the health thread.
#pragma once

#include <cstdint>

namespace weir::upstream {

class CheckCounter {
 public:
  enum class Change { kNone, kWentUp, kWentDown };

  // `up`: the state to start from (servers start up at load; after a reload
  // a server keeps what the checks had found).
  CheckCounter(uint32_t rise, uint32_t fall, bool up = true)
      : rise_(rise == 0 ? 1 : rise), fall_(fall == 0 ? 1 : fall), up_(up) {}

  Change record(bool passed) {
    if (passed) {
      failures_ = 0;
      successes_ = bump(successes_);
      if (!up_ && successes_ >= rise_) {
        up_ = true;
        return Change::kWentUp;
      }
    } else {
      successes_ = 0;
      failures_ = bump(failures_);
      if (up_ && failures_ >= fall_) {
        up_ = false;
        return Change::kWentDown;
      }
    }
    return Change::kNone;
  }

  bool up() const { return up_; }
  uint32_t successes() const { return successes_; }  // current run of passes
  uint32_t failures() const { return failures_; }    // current run of failures
  uint32_t rise() const { return rise_; }
  uint32_t fall() const { return fall_; }

 private:
  // A run longer than any threshold (at most 100) needs no exact count.
  static uint32_t bump(uint32_t n) { return n < UINT32_MAX ? n + 1 : n; }

  uint32_t rise_;
  uint32_t fall_;
  bool up_;
  uint32_t successes_ = 0;
  uint32_t failures_ = 0;
};

}  // namespace weir::upstream
