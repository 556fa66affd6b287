#include "admin/status.h"

#include <unistd.h>

#include <cmath>

#include "admin/text.h"

namespace weir::admin {
namespace {

const char* stateName(const upstream::ServerState& s) {
  if (s.activeDown()) return "down";
  if (s.ejected()) return "ejected";
  return s.usable() ? "up" : "down";
}

void jsonNumber(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  appendNumber(out, v);
}

void jsonKey(std::string& out, std::string_view key) {
  appendJsonString(out, key);
  out += ':';
}

}  // namespace

double bucketQuantile(const uint64_t* buckets, double q) {
  uint64_t total = 0;
  for (size_t i = 0; i < stats::kHistBuckets; ++i) total += buckets[i];
  if (total == 0) return -1;
  const double rank = q * static_cast<double>(total);
  uint64_t below = 0;
  for (size_t i = 0; i < stats::kHistBuckets; ++i) {
    const uint64_t here = buckets[i];
    if (here > 0 && static_cast<double>(below + here) >= rank) {
      const double lo = i == 0 ? 0 : stats::kLatencyBounds[i - 1];
      if (i >= stats::kLatencyBounds.size()) return lo;
      const double hi = stats::kLatencyBounds[i];
      return lo + (hi - lo) * (rank - static_cast<double>(below)) / static_cast<double>(here);
    }
    below += here;
  }
  return stats::kLatencyBounds.back();
}

void Sampler::sample(const proxy::Runtime& rt, double now) {
  if (!rt.stats) return;
  for (const auto& pool : rt.stats->servers) {
    for (const stats::Series* s : pool) {
      uint64_t v[stats::server_slots::kSize];
      s->sumInto(0, stats::server_slots::kSize, v);
      Point p{now, 0, v[stats::server_slots::kRequests + 4], {}};
      for (size_t c = 0; c < stats::kClasses; ++c) p.requests += v[stats::server_slots::kRequests + c];
      for (size_t b = 0; b < stats::kHistBuckets; ++b) p.buckets[b] = v[stats::server_slots::kUpstreamDuration + b];
      auto& h = history_[s];
      h.push_back(p);
      while (h.size() > kSamples) h.pop_front();
    }
  }
  // Series no snapshot shows any more (removed by a reload) age out.
  for (auto it = history_.begin(); it != history_.end();) {
    it = now - it->second.back().at > 30 ? history_.erase(it) : std::next(it);
  }
}

Sampler::Window Sampler::window(const stats::Series* server) const {
  Window w;
  auto it = history_.find(server);
  if (it == history_.end() || it->second.size() < 2) return w;
  const Point& a = it->second.front();
  const Point& b = it->second.back();
  w.seconds = b.at - a.at;
  if (w.seconds <= 0) return w;
  w.requests_per_second = static_cast<double>(b.requests - a.requests) / w.seconds;
  w.errors_per_second = static_cast<double>(b.errors - a.errors) / w.seconds;
  uint64_t delta[stats::kHistBuckets];
  for (size_t i = 0; i < stats::kHistBuckets; ++i) delta[i] = b.buckets[i] - a.buckets[i];
  w.p50 = bucketQuantile(delta, 0.5);
  w.p99 = bucketQuantile(delta, 0.99);
  return w;
}

Readiness readiness(const proxy::Runtime* rt, bool listening) {
  if (!listening) return {false, "listeners are not open"};
  if (rt == nullptr) return {false, "no configuration loaded"};
  for (size_t p = 0; p < rt->pool_views.size(); ++p) {
    bool any = false;
    for (const auto& s : rt->pool_views[p].servers) any = any || s->usable();
    if (!any) return {false, "pool " + rt->config->pools[p].name + " has no usable server"};
  }
  return {true, ""};
}

std::string renderStatusJson(const proxy::Runtime* rt, const Sampler& sampler, const stats::ProcessInfo::Snapshot& p,
                             bool listening, double now_unix) {
  std::string o;
  o.reserve(16 * 1024);
  o += '{';
  jsonKey(o, "version");
  appendJsonString(o, WEIR_VERSION);
  o += ',';
  jsonKey(o, "pid");
  jsonNumber(o, static_cast<double>(::getpid()));
  o += ',';
  jsonKey(o, "start_time");
  jsonNumber(o, p.start_time);
  o += ',';
  jsonKey(o, "uptime_seconds");
  jsonNumber(o, now_unix - p.start_time);
  o += ',';
  jsonKey(o, "config");
  o += '{';
  jsonKey(o, "file");
  appendJsonString(o, p.config_file);
  o += ',';
  jsonKey(o, "hash");
  appendJsonString(o, stats::hashHex(p.config_hash));
  o += ',';
  jsonKey(o, "loaded_at");
  jsonNumber(o, p.config_loaded_at);
  o += ',';
  jsonKey(o, "reloads");
  o += "{\"success\":" + std::to_string(p.reloads_ok) + ",\"failure\":" + std::to_string(p.reloads_failed) +
       ",\"last_success\":" + (p.last_reload_ok ? "true" : "false") + ",\"last_at\":";
  jsonNumber(o, p.last_reload_at);
  o += ",\"last_error\":";
  appendJsonString(o, p.last_reload_error);
  o += "}},";
  jsonKey(o, "listeners");
  o += '[';
  for (size_t i = 0; i < p.listeners.size(); ++i) {
    if (i > 0) o += ',';
    appendJsonString(o, p.listeners[i]);
  }
  o += "],";
  const Readiness r = readiness(rt, listening);
  o += "\"ready\":";
  o += r.ready ? "true" : "false";
  o += ",\"ready_reason\":";
  appendJsonString(o, r.reason);
  o += ",\"window_seconds\":";
  jsonNumber(o, static_cast<double>(Sampler::kSamples - 1));
  o += ",\"pools\":[";
  const size_t pools = rt ? rt->config->pools.size() : 0;
  for (size_t pi = 0; pi < pools; ++pi) {
    const config::PoolConfig& pool = rt->config->pools[pi];
    const upstream::PoolView& view = rt->pool_views[pi];
    if (pi > 0) o += ',';
    o += '{';
    jsonKey(o, "name");
    appendJsonString(o, pool.name);
    o += ',';
    jsonKey(o, "balancer");
    appendJsonString(o, pool.balancer);
    o += ",\"health_check\":";
    o += pool.health_check.enabled ? "true" : "false";
    o += ",\"servers\":[";
    for (size_t si = 0; si < view.servers.size(); ++si) {
      const upstream::ServerState& s = *view.servers[si];
      const upstream::ServerState::Status st = s.status();
      const stats::Series* series = rt->stats ? rt->stats->servers[pi][si] : nullptr;
      const Sampler::Window w = series ? sampler.window(series) : Sampler::Window{};
      if (si > 0) o += ',';
      o += '{';
      jsonKey(o, "address");
      appendJsonString(o, s.name());
      o += ",\"state\":";
      appendJsonString(o, stateName(s));
      o += ",\"reason\":";
      appendJsonString(o, st.reason);
      o += ",\"weight\":" + std::to_string(pool.servers[si].weight);
      o += ",\"backup\":";
      o += pool.servers[si].backup ? "true" : "false";
      o += ",\"in_flight\":" + std::to_string(s.inFlight());
      o += ",\"ejections_total\":" + std::to_string(s.ejectionsTotal());
      o += ",\"checks_passed\":" + std::to_string(s.checksPassed());
      o += ",\"checks_failed\":" + std::to_string(s.checksFailed());
      o += ",\"requests_total\":";
      uint64_t total = 0;
      if (series) {
        for (size_t c = 0; c < stats::kClasses; ++c) total += series->sum(stats::server_slots::kRequests + c);
      }
      o += std::to_string(total);
      o += ",\"requests_per_second\":";
      jsonNumber(o, w.requests_per_second);
      o += ",\"errors_per_second\":";
      jsonNumber(o, w.errors_per_second);
      o += ",\"error_ratio\":";
      jsonNumber(o, w.requests_per_second > 0 ? w.errors_per_second / w.requests_per_second : 0);
      o += ",\"p50_seconds\":";
      if (w.p50 < 0) o += "null"; else jsonNumber(o, w.p50);
      o += ",\"p99_seconds\":";
      if (w.p99 < 0) o += "null"; else jsonNumber(o, w.p99);
      o += '}';
    }
    o += "]}";
  }
  o += "]}";
  return o;
}

}  // namespace weir::admin
