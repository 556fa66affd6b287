#include "admin/metrics.h"

#include <array>
#include <map>
#include <string_view>
#include <utility>
#include <vector>

#include "admin/text.h"
#include "weir/cache/policy.h"
#include "weir/cache/store.h"

namespace weir::admin {
namespace {

using Labels = std::vector<std::pair<std::string_view, std::string_view>>;

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }

  template <class T>
  void sample(std::string_view name, const Labels& labels, T value) {
    out_ += name;
    if (!labels.empty()) {
      out_ += '{';
      for (size_t i = 0; i < labels.size(); ++i) {
        if (i > 0) out_ += ',';
        out_ += labels[i].first;
        out_ += "=\"";
        appendLabelValue(out_, labels[i].second);
        out_ += '"';
      }
      out_ += '}';
    }
    out_ += ' ';
    appendNumber(out_, value);
    out_ += '\n';
  }

  // A histogram from per-bucket (not cumulative) counts and a sum in µs.
  void histogram(std::string_view name, Labels labels, const uint64_t* slots) {
    const std::string bucket = std::string(name) + "_bucket";
    uint64_t cumulative = 0;
    labels.emplace_back("le", "");
    for (size_t i = 0; i < stats::kHistBuckets; ++i) {
      cumulative += slots[i];
      std::string le;
      if (i < stats::kLatencyBounds.size()) {
        appendNumber(le, stats::kLatencyBounds[i]);
      } else {
        le = "+Inf";
      }
      labels.back().second = le;
      sample(bucket, labels, cumulative);
    }
    labels.pop_back();
    sample(std::string(name) + "_sum", labels, static_cast<double>(slots[stats::kHistSumUs]) / 1e6);
    sample(std::string(name) + "_count", labels, cumulative);
  }

 private:
  std::string& out_;
};

using Hist = std::array<uint64_t, stats::kHistSlots>;

void processFamilies(Writer& w, const stats::ProcessInfo::Snapshot& p, const stats::ProcessUsage& u) {
  w.family("weir_build_info", "gauge", "Always 1; the version of the running binary.");
  w.sample("weir_build_info", {{"version", WEIR_VERSION}}, uint64_t{1});
  w.family("weir_process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch, in seconds.");
  w.sample("weir_process_start_time_seconds", {}, p.start_time);
  w.family("weir_process_cpu_seconds_total", "counter", "User and system CPU time spent by the process, in seconds.");
  w.sample("weir_process_cpu_seconds_total", {}, u.cpu_seconds);
  w.family("weir_process_resident_memory_bytes", "gauge", "Resident memory of the process, in bytes.");
  w.sample("weir_process_resident_memory_bytes", {}, u.resident_bytes);
  w.family("weir_process_open_fds", "gauge", "Open file descriptors of the process.");
  w.sample("weir_process_open_fds", {}, u.open_fds);
  w.family("weir_process_max_fds", "gauge", "The process's descriptor limit (soft RLIMIT_NOFILE).");
  w.sample("weir_process_max_fds", {}, u.max_fds);

  const std::string hash = stats::hashHex(p.config_hash);
  w.family("weir_config_info", "gauge", "Always 1; the loaded configuration file and the XXH3-64 hash of its bytes.");
  w.sample("weir_config_info", {{"file", p.config_file}, {"hash", hash}}, uint64_t{1});
  w.family("weir_config_reloads_total", "counter", "Configuration reloads, by result.");
  w.sample("weir_config_reloads_total", {{"result", "success"}}, p.reloads_ok);
  w.sample("weir_config_reloads_total", {{"result", "failure"}}, p.reloads_failed);
  w.family("weir_config_loaded_timestamp_seconds", "gauge",
           "When the running configuration was loaded (the start or the last good reload), since the Unix epoch.");
  w.sample("weir_config_loaded_timestamp_seconds", {}, p.config_loaded_at);
  w.family("weir_config_last_reload_success", "gauge", "1 if the last reload succeeded (or none was tried), else 0.");
  w.sample("weir_config_last_reload_success", {}, uint64_t{p.last_reload_ok ? 1u : 0u});
  w.family("weir_config_last_reload_timestamp_seconds", "gauge",
           "Time of the last reload attempt, or of the first load when none, since the Unix epoch.");
  w.sample("weir_config_last_reload_timestamp_seconds", {}, p.last_reload_at > 0 ? p.last_reload_at : p.config_loaded_at);
}

void downstreamFamilies(Writer& w, const stats::Registry& r) {
  uint64_t accepted = 0, closed = 0;
  for (const stats::Series* s : r.list(stats::Kind::kProcess)) {
    accepted += s->sum(stats::process_slots::kAccepted);
    closed += s->sum(stats::process_slots::kClosed);
  }
  w.family("weir_downstream_connections_accepted_total", "counter", "Client connections accepted.");
  w.sample("weir_downstream_connections_accepted_total", {}, accepted);
  w.family("weir_downstream_connections_open", "gauge", "Client connections open now.");
  w.sample("weir_downstream_connections_open", {}, accepted >= closed ? accepted - closed : 0);
}

void routeFamilies(Writer& w, const stats::Registry& r) {
  const std::vector<const stats::Series*> routes = r.list(stats::Kind::kRoute);
  struct Row {
    const stats::Series* s;
    std::array<uint64_t, stats::route_slots::kSize> v;
  };
  std::vector<Row> rows;
  for (const stats::Series* s : routes) {
    Row row{s, {}};
    s->sumInto(0, stats::route_slots::kSize, row.v.data());
    rows.push_back(row);
  }
  auto labels = [](const stats::Series* s) -> Labels { return {{"route", s->labels[0]}, {"pool", s->labels[1]}}; };
  w.family("weir_requests_total", "counter",
           "Requests answered, by route, pool and status class (route and pool empty: no route matched or the "
           "request was refused before routing).");
  for (const Row& row : rows) {
    for (size_t c = 0; c < stats::kClasses; ++c) {
      Labels l = labels(row.s);
      l.emplace_back("code_class", stats::kClassNames[c]);
      w.sample("weir_requests_total", l, row.v[stats::route_slots::kRequests + c]);
    }
  }
  w.family("weir_request_duration_seconds", "histogram",
           "Time from the first byte of a request to the end of its answer, in seconds.");
  for (const Row& row : rows) {
    w.histogram("weir_request_duration_seconds", labels(row.s), row.v.data() + stats::route_slots::kDuration);
  }
  w.family("weir_downstream_received_bytes_total", "counter", "Request bytes received from clients (heads and bodies).");
  for (const Row& row : rows) {
    w.sample("weir_downstream_received_bytes_total", labels(row.s), row.v[stats::route_slots::kBytesIn]);
  }
  w.family("weir_downstream_sent_bytes_total", "counter", "Response bytes sent to clients (heads and bodies).");
  for (const Row& row : rows) {
    w.sample("weir_downstream_sent_bytes_total", labels(row.s), row.v[stats::route_slots::kBytesOut]);
  }
}

void upstreamCounterFamilies(Writer& w, const stats::Registry& r) {
  struct PoolSums {
    Hist latency{};
    uint64_t opened = 0, reused = 0, closed = 0;
  };
  struct Row {
    const stats::Series* s;
    std::array<uint64_t, stats::server_slots::kSize> v;
  };
  std::map<std::string_view, PoolSums> pools;
  std::vector<Row> rows;
  for (const stats::Series* s : r.list(stats::Kind::kServer)) {
    Row row{s, {}};
    s->sumInto(0, stats::server_slots::kSize, row.v.data());
    PoolSums& p = pools[s->labels[0]];
    for (size_t i = 0; i < stats::kHistSlots; ++i) p.latency[i] += row.v[stats::server_slots::kUpstreamDuration + i];
    p.opened += row.v[stats::server_slots::kConnOpened];
    p.reused += row.v[stats::server_slots::kConnReused];
    p.closed += row.v[stats::server_slots::kConnClosed];
    rows.push_back(row);
  }
  w.family("weir_upstream_requests_total", "counter",
           "Requests sent to a server, by the status class the client got.");
  for (const Row& row : rows) {
    for (size_t c = 0; c < stats::kClasses; ++c) {
      w.sample("weir_upstream_requests_total",
               {{"pool", row.s->labels[0]}, {"server", row.s->labels[1]}, {"code_class", stats::kClassNames[c]}},
               row.v[stats::server_slots::kRequests + c]);
    }
  }
  w.family("weir_upstream_response_duration_seconds", "histogram",
           "Time from taking or opening an upstream connection to the upstream's response head, in seconds.");
  for (const auto& [pool, sums] : pools) {
    w.histogram("weir_upstream_response_duration_seconds", {{"pool", pool}}, sums.latency.data());
  }
  w.family("weir_upstream_connections_opened_total", "counter", "Upstream connections opened.");
  for (const auto& [pool, sums] : pools) w.sample("weir_upstream_connections_opened_total", {{"pool", pool}}, sums.opened);
  w.family("weir_upstream_connections_reused_total", "counter", "Requests sent on an idle keep-alive upstream connection.");
  for (const auto& [pool, sums] : pools) w.sample("weir_upstream_connections_reused_total", {{"pool", pool}}, sums.reused);
  w.family("weir_upstream_connections_open", "gauge", "Upstream connections open now (in use or idle).");
  for (const auto& [pool, sums] : pools) {
    w.sample("weir_upstream_connections_open", {{"pool", pool}}, sums.opened >= sums.closed ? sums.opened - sums.closed : 0);
  }
}

void errorFamilies(Writer& w, const stats::Registry& r) {
  w.family("weir_error_responses_total", "counter", "502, 503 and 504 answers weir gave itself, by pool and cause.");
  for (const stats::Series* s : r.list(stats::Kind::kPool)) {
    for (size_t i = 0; i < stats::kCauses.size(); ++i) {
      const std::string code = std::to_string(stats::kCauses[i].code);
      w.sample("weir_error_responses_total", {{"pool", s->labels[0]}, {"code", code}, {"cause", stats::kCauses[i].name}},
               s->sum(stats::pool_slots::kErrors + i));
    }
  }
}

const char* serverState(const upstream::ServerState& s) {
  if (s.activeDown()) return "down";
  if (s.ejected()) return "ejected";
  return s.usable() ? "up" : "down";
}

void serverStateFamilies(Writer& w, const proxy::Runtime& rt) {
  const auto& pools = rt.config->pools;
  auto each = [&](auto fn) {
    for (size_t p = 0; p < pools.size(); ++p) {
      for (const upstream::ServerStatePtr& s : rt.pool_views[p].servers) fn(pools[p].name, *s);
    }
  };
  w.family("weir_upstream_server_up", "gauge", "1 if the server takes requests (not down by health checks, not ejected).");
  each([&](const std::string& pool, const upstream::ServerState& s) {
    w.sample("weir_upstream_server_up", {{"pool", pool}, {"server", s.name()}}, uint64_t{s.usable() ? 1u : 0u});
  });
  w.family("weir_upstream_server_state", "gauge", "1 for the server's state: up, down (health checks) or ejected (passive).");
  each([&](const std::string& pool, const upstream::ServerState& s) {
    const std::string_view now = serverState(s);
    for (std::string_view state : {"up", "down", "ejected"}) {
      w.sample("weir_upstream_server_state", {{"pool", pool}, {"server", s.name()}, {"state", state}},
               uint64_t{state == now ? 1u : 0u});
    }
  });
  w.family("weir_upstream_server_in_flight_requests", "gauge", "Requests a server is answering now.");
  each([&](const std::string& pool, const upstream::ServerState& s) {
    w.sample("weir_upstream_server_in_flight_requests", {{"pool", pool}, {"server", s.name()}},
             static_cast<double>(s.inFlight()));
  });
  w.family("weir_upstream_server_ejections_total", "counter", "Passive ejections of a server.");
  each([&](const std::string& pool, const upstream::ServerState& s) {
    w.sample("weir_upstream_server_ejections_total", {{"pool", pool}, {"server", s.name()}}, s.ejectionsTotal());
  });
  w.family("weir_upstream_server_health_checks_total", "counter", "Active health-check probes, by result.");
  each([&](const std::string& pool, const upstream::ServerState& s) {
    w.sample("weir_upstream_server_health_checks_total", {{"pool", pool}, {"server", s.name()}, {"result", "pass"}},
             s.checksPassed());
    w.sample("weir_upstream_server_health_checks_total", {{"pool", pool}, {"server", s.name()}, {"result", "fail"}},
             s.checksFailed());
  });
  w.family("weir_upstream_retries_total", "counter", "Requests retried on another server (or replayed), per pool.");
  for (size_t p = 0; p < pools.size(); ++p) {
    w.sample("weir_upstream_retries_total", {{"pool", pools[p].name}},
             rt.pool_views[p].health->retries.load(std::memory_order_relaxed));
  }
  w.family("weir_upstream_retries_refused_total", "counter", "Retries the pool's retry budget refused.");
  for (size_t p = 0; p < pools.size(); ++p) {
    w.sample("weir_upstream_retries_refused_total", {{"pool", pools[p].name}},
             rt.pool_views[p].health->retries_refused.load(std::memory_order_relaxed));
  }
}

// The cache: what it did per route (from the workers' slots) and what the
// store holds (its own counters, summed over shards).
void cacheFamilies(Writer& w, const stats::Registry& r, const cache::Store* store) {
  struct Row {
    const stats::Series* s;
    std::array<uint64_t, stats::cache_slots::kSize> v;
  };
  std::vector<Row> rows;
  for (const stats::Series* s : r.list(stats::Kind::kCache)) {
    Row row{s, {}};
    s->sumInto(0, stats::cache_slots::kSize, row.v.data());
    rows.push_back(row);
  }
  if (rows.empty() && store == nullptr) return;
  w.family("weir_cache_requests_total", "counter",
           "Requests on routes with the cache, by route and result (hit, miss, stale, request: the request's "
           "directives sent it to the origin, collapsed: served from another request's fetch, bypass, "
           "unavailable: only-if-cached answered 504).");
  for (const Row& row : rows) {
    for (size_t i = 0; i < stats::kCacheResultNames.size(); ++i) {
      w.sample("weir_cache_requests_total", {{"route", row.s->labels[0]}, {"result", stats::kCacheResultNames[i]}},
               row.v[stats::cache_slots::kResults + i]);
    }
  }
  w.family("weir_cache_store_refusals_total", "counter",
           "Responses fetched on a cached route and not stored, by route and reason.");
  for (const Row& row : rows) {
    for (size_t i = 0; i < stats::kCacheRefusals; ++i) {
      std::string_view reason = i < stats::kCachePolicyRefusals
                                    ? cache::refusalName(static_cast<cache::StoreRefusal>(i + 1))
                                    : i == stats::kCacheTooLarge ? "too_large"
                                    : i == stats::kCacheNoSpace  ? "no_space"
                                                                 : "collision";
      w.sample("weir_cache_store_refusals_total", {{"route", row.s->labels[0]}, {"reason", reason}},
               row.v[stats::cache_slots::kRefusals + i]);
    }
  }
  w.family("weir_cache_coalesced_waits_total", "counter",
           "Requests that waited for another request's fetch of the same object, by route and how the wait ended "
           "(streamed from it, released to fetch for themselves, timed out after cache.lock_timeout).");
  for (const Row& row : rows) {
    for (size_t i = 0; i < stats::kCacheWaitNames.size(); ++i) {
      w.sample("weir_cache_coalesced_waits_total", {{"route", row.s->labels[0]}, {"outcome", stats::kCacheWaitNames[i]}},
               row.v[stats::cache_slots::kWaits + i]);
    }
  }
  if (store == nullptr) return;
  const cache::StoreStats st = store->stats();
  struct StoreFamily {
    const char* name;
    const char* type;
    const char* help;
    uint64_t value;
  };
  const StoreFamily families[] = {
      {"weir_cache_objects", "gauge", "Complete objects the cache holds.", st.objects},
      {"weir_cache_fills_in_progress", "gauge", "Objects being stored now.", st.filling},
      {"weir_cache_bytes", "gauge",
       "Bytes the cache holds: bodies, heads, keys, metadata and index, as charged against cache.max_size.", st.bytes},
      {"weir_cache_max_bytes", "gauge", "cache.max_size: the hard cap on weir_cache_bytes.", st.max_bytes},
      {"weir_cache_stores_total", "counter", "Objects stored (fills completed).", st.inserts},
      {"weir_cache_evictions_total", "counter", "Complete objects evicted to make room.", st.evictions},
      {"weir_cache_invalidations_total", "counter",
       "Objects removed by invalidation (a successful unsafe request to their URI) or a purge.", st.erased},
      {"weir_cache_fills_abandoned_total", "counter",
       "Fills that ended without storing (not storable, too large, no room, upstream failure, invalidated).",
       st.abandoned},
  };
  for (const StoreFamily& f : families) {
    w.family(f.name, f.type, f.help);
    w.sample(f.name, {}, f.value);
  }
}

}  // namespace

std::string renderMetrics(const stats::Registry& registry, const proxy::Runtime* runtime,
                          const stats::ProcessInfo::Snapshot& process, const stats::ProcessUsage& usage) {
  std::string out;
  out.reserve(64 * 1024);
  Writer w(out);
  processFamilies(w, process, usage);
  downstreamFamilies(w, registry);
  routeFamilies(w, registry);
  upstreamCounterFamilies(w, registry);
  errorFamilies(w, registry);
  if (runtime != nullptr) serverStateFamilies(w, *runtime);
  cacheFamilies(w, registry, runtime != nullptr ? runtime->cache : nullptr);
  return out;
}

}  // namespace weir::admin
