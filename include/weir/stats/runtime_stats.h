// A configuration snapshot's view of the registry: the series of its
// routes, pools and servers, resolved once when the Runtime is built, so
// that recording is an index and a few single-writer increments.
//
// Threading: built on the main thread; immutable afterwards. The record
// functions run on worker `worker`'s loop thread only and write only that
// worker's slots.
#pragma once

#include <memory>
#include <vector>

#include "weir/config/config.h"
#include "weir/stats/registry.h"

namespace weir::stats {

struct RuntimeStats {
  Registry* registry = nullptr;
  const Series* process = nullptr;
  const Series* unrouted = nullptr;                  // requests refused or matching no route
  std::vector<const Series*> routes;                 // per route, config order
  std::vector<const Series*> caches;                 // per route: its cache series, null without cache
  std::vector<const Series*> pools;                  // per pool
  std::vector<std::vector<const Series*>> servers;   // per pool, per server
};

using RuntimeStatsPtr = std::shared_ptr<const RuntimeStats>;

// The route's label: its name, else a description of its match: host and
// path prefix written together ("api.example.com/v1/"), the host alone, the
// path prefix alone, or "/" for a route that matches everything.
std::string routeLabel(const config::RouteConfig& route);

// Resolves (creating where new) the series of every route, pool and server.
RuntimeStatsPtr resolve(Registry& registry, const config::Config& config);

// What one finished exchange recorded (for its access-log line too).
struct ExchangeSample {
  int route = -1;          // -1: no route
  size_t pool = 0;
  int server = -1;         // index in the pool, -1: none was used
  int status = 0;
  uint64_t bytes_in = 0;   // from the client: request head and body
  uint64_t bytes_out = 0;  // to the client: response head and body
  double request_seconds = 0;
  double upstream_seconds = -1;  // to the upstream's response head, -1: none
};

void recordExchange(const RuntimeStats& s, unsigned worker, const ExchangeSample& e);
void recordError(const RuntimeStats& s, unsigned worker, size_t pool, ErrorCause cause);

// Client connections (ProxyWorker).
inline void recordAccepted(const RuntimeStats& s, unsigned worker) {
  bump(s.process->at(worker)[process_slots::kAccepted]);
}
inline void recordClosed(const RuntimeStats& s, unsigned worker) {
  bump(s.process->at(worker)[process_slots::kClosed]);
}

// Upstream connections (UpstreamAttempt). recordUpstreamOpened returns the
// slot the connection bumps when it closes (on the same worker).
inline void recordUpstreamReused(const RuntimeStats& s, unsigned worker, size_t pool, size_t server) {
  bump(s.servers[pool][server]->at(worker)[server_slots::kConnReused]);
}
inline Slot* recordUpstreamOpened(const RuntimeStats& s, unsigned worker, size_t pool, size_t server) {
  Slot* slots = s.servers[pool][server]->at(worker);
  bump(slots[server_slots::kConnOpened]);
  return &slots[server_slots::kConnClosed];
}

}  // namespace weir::stats
