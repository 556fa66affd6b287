// The active checks of one server: when its probes run (probe_schedule.h),
// one Probe at a time on its own connection, and what their results do
// (ActiveHealth). A down server is probed at the same interval as an up one.
//
// Threading: created, run and destroyed on the health thread.
#pragma once

#include <event2/event.h>

#include <memory>
#include <random>

#include "upstream/health/active_health.h"
#include "upstream/health/probe.h"
#include "weir/config/config.h"
#include "weir/core/deadline.h"
#include "weir/upstream/server_state.h"

namespace weir::upstream {

class ServerChecker {
 public:
  // `pool` (its health_check) and `rng` must outlive the checker.
  ServerChecker(event_base* base, const config::PoolConfig& pool, size_t index, ServerStatePtr server,
                PoolHealthPtr health, std::mt19937_64& rng);
  ServerChecker(const ServerChecker&) = delete;
  ServerChecker& operator=(const ServerChecker&) = delete;

  // Schedules the first probe at a random point of the first interval.
  void start();
  const ServerState& server() const { return *server_; }

 private:
  static void onDue(void* arg);
  void probe();
  void onResult(const ProbeResult& r);

  ServerStatePtr server_;
  event_base* base_;
  ProbeSpec spec_;
  int64_t interval_ms_;
  ActiveHealth health_;
  std::mt19937_64& rng_;
  core::Deadline due_;
  std::unique_ptr<Probe> probe_;  // the current or last probe
  int64_t started_ms_ = 0;
  int64_t ejected_at_start_ = 0;
};

}  // namespace weir::upstream
