#include "weir/proxy/runtime.h"

namespace weir::proxy {
namespace {

UpstreamTimeouts poolTimeouts(const config::Timeouts& global, const config::PoolTimeouts& own) {
  return {own.upstream_connect.value_or(global.upstream_connect),
          own.upstream_response.value_or(global.upstream_response),
          own.upstream_send.value_or(global.upstream_send), own.upstream_idle.value_or(global.upstream_idle)};
}

http::UnderscoreNames underscoreNames(config::UnderscoreHeaders u) {
  switch (u) {
    case config::UnderscoreHeaders::kAllow: return http::UnderscoreNames::kAllow;
    case config::UnderscoreHeaders::kReject: return http::UnderscoreNames::kReject;
    case config::UnderscoreHeaders::kDrop: break;
  }
  return http::UnderscoreNames::kDrop;
}

}  // namespace

Runtime::Runtime(config::ConfigPtr cfg) : config(std::move(cfg)), router(*config) {
  const config::Limits& l = config->limits;
  request_limits = {l.header_bytes, l.headers, l.uri_bytes, l.body_bytes};
  // Responses: the same head limits; bodies are the upstream's business.
  response_limits = {std::max<uint64_t>(l.header_bytes, 64 * 1024), std::max<uint32_t>(l.headers, 200),
                     l.uri_bytes, UINT64_MAX};
  const config::ProxyHeaders& h = config->proxy_headers;
  const std::string_view request_id = config->request_id.enabled ? config->request_id.header : std::string_view();
  forward = {h.x_forwarded_for, h.x_forwarded_proto, h.x_forwarded_host, h.via, underscoreNames(h.underscore_headers),
             request_id};
  request_limits.underscore_names = forward.underscore_names;
  access_log_json = config->access_log.format == "json";
  const config::Timeouts& t = config->timeouts;
  client_timeouts = {t.client_header, t.client_idle, t.client_body, t.send, t.tunnel, t.drain};
  for (const auto& pool : config->pools) {
    balancers.push_back(upstream::findBalancer(pool.balancer));
    pool_timeouts.push_back(poolTimeouts(t, pool.timeouts));
  }
}

bool usesCache(const config::Config& config) {
  for (const config::RouteConfig& r : config.routes) {
    if (r.cache) return true;
  }
  return false;
}

RuntimePtr buildRuntime(config::ConfigPtr cfg, upstream::HealthRegistry& registry, std::string& error,
                        stats::Registry* stats, cache::Store* cache) {
  auto rt = std::make_shared<Runtime>(std::move(cfg));
  for (const auto& pool : rt->config->pools) {
    rt->pool_views.push_back(registry.view(pool));
    rt->passive.emplace_back(pool.passive, pool.servers.size());
  }
  for (size_t i = 0; i < rt->balancers.size(); ++i) {
    if (rt->balancers[i] == nullptr) {
      error = "pool " + rt->config->pools[i].name + ": unknown balancer " + rt->config->pools[i].balancer;
      return nullptr;
    }
  }
  if (stats != nullptr) rt->stats = stats::resolve(*stats, *rt->config);
  if (usesCache(*rt->config)) rt->cache = cache;
  return rt;
}

}  // namespace weir::proxy
