// What the results of one server's probes do to its shared ServerState:
// rise/fall counting (CheckCounter), ServerState::setActiveDown on each
// transition (which logs the one error-log line and counts it), and the end
// of a passive ejection.
//
// Passive ejection and active checks: a passing probe ends an ejection only
// after `rise` consecutive passing probes that all started while that same
// ejection was on. One pass is not enough: a probe already in flight when
// the ejection began says nothing about what real traffic saw, and a light
// health endpoint often passes while real requests fail, which would cut
// every ejection down to one interval. `rise` is the bar the operator set
// for "healthy enough for traffic" and applies here too; after it the
// server is on probation as after any ejection (one failure ejects it
// again, for longer). A failing probe restarts the count. Ejections with no
// such run of passes end when their time is over (PassiveHealth::expire).
//
// Threading: owned by one ServerChecker on the health thread; no sockets,
// so tests drive it directly.
#pragma once

#include <cstdint>
#include <string>

#include "upstream/health/check_counter.h"
#include "weir/config/config.h"
#include "weir/upstream/server_state.h"

namespace weir::upstream {

class ActiveHealth {
 public:
  // Starts from what the state says (up at load; after a reload what the
  // checks had found).
  ActiveHealth(const config::HealthCheckConfig& hc, ServerStatePtr server, PoolHealthPtr pool);

  // Taken as a probe starts and handed back with its result: which
  // ejection (its end time; 0 for none) the probe started under.
  int64_t probeStarts() const { return server_->ejectedUntil(); }
  // One probe's result; `detail` is its reason ("status 503", "timeout").
  void record(bool passed, const std::string& detail, int64_t ejected_at_start, int64_t now);

  const CheckCounter& counter() const { return counter_; }
  uint32_t passesWhileEjected() const { return ejection_passes_; }

 private:
  void endEjectionAfterPasses(bool passed, int64_t ejected_at_start, int64_t now);

  ServerStatePtr server_;
  PoolHealthPtr pool_;
  CheckCounter counter_;
  int64_t ejection_ = 0;          // the ejection (its end time) the passes below were seen under
  uint32_t ejection_passes_ = 0;  // consecutive passes of probes started during it
};

}  // namespace weir::upstream
