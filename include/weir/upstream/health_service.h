// Active health checks and the end of passive ejections, on a thread of
// their own ("weir-health", its own event loop), off the request path.
//
// For every pool with health_check, each server is probed on a new
// connection every interval (give or take 10%, the first probe at a random
// point of the first interval, so that servers are not probed in one
// burst). Rise/fall counting marks a server down or up through
// ServerState::setActiveDown, which logs "pool P server S is now down
// (health check: status 503; 3 failures in a row)". Servers start up: no
// request is refused before the first probes have had their say. A run of
// `rise` passing probes also ends a passive ejection (see
// src/upstream/health/active_health.h for why one pass is not enough).
//
// For every pool, with or without health_check, the same thread ends the
// passive ejections that are due (PassiveHealth::expire, every 100 ms).
//
// Threading: constructed, started and stopped by the main thread; after
// start() the targets and everything derived from them belong to the health
// thread. The thread writes only the shared, thread-safe ServerState and
// PoolHealth objects that the workers read.
//
// Reload: the registry keeps each server's state by pool name and address,
// so a new snapshot's views hold the same ServerState objects for servers
// that stay. replaceTargets() hands the new target set to the health thread,
// which keeps the checker (its counts and schedule) of each server found in
// both sets whose check did not change, builds checkers for the new ones
// (first probe at a random point, starting from the state's activeDown),
// drops the others (an in-flight probe's connection closes with it), and
// clears activeDown for servers no longer checked. The old targets, and with
// them their config snapshot, are released on the health thread.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "weir/config/config.h"
#include "weir/upstream/server_state.h"

namespace weir::upstream {

struct HealthTarget {
  // The pool's configuration; an aliasing pointer into the snapshot's
  // ConfigPtr, which it keeps alive.
  std::shared_ptr<const config::PoolConfig> pool;
  PoolView view;  // view.servers[i] is pool->servers[i]
};

// One target per pool of `config`: views[i] belongs to config->pools[i]
// (Runtime::pool_views).
std::vector<HealthTarget> healthTargets(const config::ConfigPtr& config, const std::vector<PoolView>& views);

class HealthService {
 public:
  // `seed` seeds the probes' jitter; tests pass a fixed one.
  HealthService(std::vector<HealthTarget> targets, uint64_t seed);
  // Stops the thread if it runs.
  ~HealthService();
  HealthService(const HealthService&) = delete;
  HealthService& operator=(const HealthService&) = delete;

  // Starts the health thread. Once only; before the workers serve, so that
  // ejections end on time from the first one on.
  void start();
  // Stops probing (in-flight probes are dropped, their connections closed)
  // and joins the thread. Idempotent; after the workers have stopped.
  void stop();

  // Main thread: the targets of a reloaded configuration. Before start()
  // they replace the first ones; after, the health thread takes them soon.
  void replaceTargets(std::vector<HealthTarget> targets);

  // Servers with active checks (for the start line and tests).
  size_t checkedServers() const { return checked_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  size_t checked_ = 0;
};

}  // namespace weir::upstream
