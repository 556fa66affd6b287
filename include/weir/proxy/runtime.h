// A compiled, immutable configuration snapshot: what every worker reads on
// the request path. Built on the main thread from a validated Config; workers
// hold it by shared_ptr, so a later reload can publish a new one while
// in-flight requests finish on the old.
#pragma once

#include <chrono>
#include <memory>

#include "weir/cache/store.h"
#include "weir/config/config.h"
#include "weir/http/forward.h"
#include "weir/http/parser.h"
#include "weir/proxy/router.h"
#include "weir/stats/runtime_stats.h"
#include "weir/upstream/balancer.h"
#include "weir/upstream/server_state.h"

namespace weir::proxy {

using Ms = std::chrono::milliseconds;

// A pool's upstream timeouts: the global timeouts.upstream_* with the pool's
// own overrides applied.
struct UpstreamTimeouts {
  Ms connect;
  Ms response;  // waiting for bytes weir is ready to read
  Ms send;      // a write to the upstream making no progress
  Ms idle;      // an idle keep-alive connection
};

struct ClientTimeouts {
  Ms header;  // first byte of a request to the end of its head
  Ms idle;    // keep-alive wait for the next request
  Ms body;    // between two reads of a request body
  Ms send;    // a write to the client making no progress
  Ms tunnel;  // an Upgrade tunnel with no traffic either way
  Ms drain;   // graceful stop
};

struct Runtime {
  explicit Runtime(config::ConfigPtr cfg);

  config::ConfigPtr config;
  http::ParserLimits request_limits;
  http::ParserLimits response_limits;
  http::ForwardOptions forward;
  bool access_log_json = false;  // else combined
  Router router;
  ClientTimeouts client_timeouts;
  std::vector<UpstreamTimeouts> pool_timeouts;          // per pool
  std::vector<const upstream::Balancer*> balancers;     // per pool
  std::vector<upstream::PoolView> pool_views;            // per pool: shared server state (and names)
  std::vector<upstream::PassiveHealth> passive;          // per pool
  stats::RuntimeStatsPtr stats;                          // nullptr: metrics off (no admin listener)
  // The process's cache (outlives every Runtime); nullptr when no route
  // has cache: true.
  cache::Store* cache = nullptr;
};

using RuntimePtr = std::shared_ptr<const Runtime>;

// nullptr with `error` set when a pool names an unknown balancer. Server
// state comes from `registry`, which keeps it for servers that stay; metric
// series from `stats` (nullptr: no metrics), which keeps them likewise.
RuntimePtr buildRuntime(config::ConfigPtr cfg, upstream::HealthRegistry& registry, std::string& error,
                        stats::Registry* stats = nullptr, cache::Store* cache = nullptr);

// Whether any route of `config` has cache: true.
bool usesCache(const config::Config& config);

}  // namespace weir::proxy
