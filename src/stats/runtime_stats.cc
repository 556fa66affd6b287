#include "weir/stats/runtime_stats.h"

#include <cmath>

namespace weir::stats {
namespace {

void observe(Slot* hist, double seconds) {
  if (!(seconds >= 0)) seconds = 0;  // also NaN
  bump(hist[latencyBucket(seconds)]);
  bump(hist[kHistSumUs], static_cast<uint64_t>(std::llround(seconds * 1e6)));
}

}  // namespace

std::string routeLabel(const config::RouteConfig& route) {
  if (!route.name.empty()) return route.name;
  if (route.host.empty() && route.path_prefix.empty()) return "/";
  return route.host + route.path_prefix;
}

RuntimeStatsPtr resolve(Registry& registry, const config::Config& config) {
  auto s = std::make_shared<RuntimeStats>();
  s->registry = &registry;
  s->process = registry.series(Kind::kProcess, {});
  s->unrouted = registry.series(Kind::kRoute, {"", ""});
  for (const config::RouteConfig& r : config.routes) {
    s->routes.push_back(registry.series(Kind::kRoute, {routeLabel(r), r.pool}));
    s->caches.push_back(r.cache ? registry.series(Kind::kCache, {routeLabel(r)}) : nullptr);
  }
  for (const config::PoolConfig& p : config.pools) {
    s->pools.push_back(registry.series(Kind::kPool, {p.name}));
    std::vector<const Series*> servers;
    for (const config::ServerConfig& server : p.servers) {
      // The resolved address, as the server-state families and status.json
      // name it, so that series of one server join in PromQL.
      servers.push_back(registry.series(Kind::kServer, {p.name, server.addr.toString()}));
    }
    s->servers.push_back(std::move(servers));
  }
  return s;
}

void recordExchange(const RuntimeStats& s, unsigned worker, const ExchangeSample& e) {
  const Series* route = e.route >= 0 ? s.routes[static_cast<size_t>(e.route)] : s.unrouted;
  Slot* r = route->at(worker);
  const size_t cls = statusClass(e.status);
  bump(r[route_slots::kRequests + cls]);
  bump(r[route_slots::kBytesIn], e.bytes_in);
  bump(r[route_slots::kBytesOut], e.bytes_out);
  observe(r + route_slots::kDuration, e.request_seconds);
  if (e.route < 0 || e.server < 0) return;
  Slot* v = s.servers[e.pool][static_cast<size_t>(e.server)]->at(worker);
  bump(v[server_slots::kRequests + cls]);
  if (e.upstream_seconds >= 0) observe(v + server_slots::kUpstreamDuration, e.upstream_seconds);
}

void recordError(const RuntimeStats& s, unsigned worker, size_t pool, ErrorCause cause) {
  bump(s.pools[pool]->at(worker)[pool_slots::kErrors + static_cast<size_t>(cause)]);
}

}  // namespace weir::stats
