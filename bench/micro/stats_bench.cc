// Microbenchmarks for metrics recording: what one request pays when the
// admin listener is on (weir records nothing without one).
//
// BM_RecordExchange: one finished exchange (route and server counters, bytes,
// both latency histograms) on one worker's slots, cycling through 4 routes
// and 4 servers so that several series are touched as under real traffic.
// BM_RecordConnection: a client connection accepted and closed.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "weir/config/config.h"
#include "weir/stats/registry.h"
#include "weir/stats/runtime_stats.h"

namespace {

weir::config::ConfigPtr benchConfig() {
  std::string yaml = "listeners:\n  - address: 127.0.0.1:8080\npools:\n  app:\n    servers:\n";
  for (int i = 1; i <= 4; ++i) yaml += "      - address: 127.0.0.1:900" + std::to_string(i) + "\n";
  yaml += "routes:\n";
  for (int i = 1; i <= 3; ++i) yaml += "  - match: { path_prefix: /r" + std::to_string(i) + "/ }\n    pool: app\n";
  yaml += "  - pool: app\n";
  auto loaded = weir::config::loadString(yaml, "bench.yaml");
  return loaded.ok() ? *loaded : nullptr;
}

// The registry (2 workers) and the series of benchConfig(); null after
// SkipWithError when the config does not load.
struct Recording {
  weir::stats::Registry registry{2};
  weir::stats::RuntimeStatsPtr stats;
};

std::unique_ptr<Recording> recording(benchmark::State& state) {
  weir::config::ConfigPtr config = benchConfig();
  if (!config) {
    state.SkipWithError("config did not load");
    return nullptr;
  }
  auto r = std::make_unique<Recording>();
  r->stats = weir::stats::resolve(r->registry, *config);
  return r;
}

void BM_RecordExchange(benchmark::State& state) {
  std::unique_ptr<Recording> r = recording(state);
  if (!r) return;
  const weir::stats::RuntimeStats& stats = *r->stats;
  weir::stats::ExchangeSample e;
  e.pool = 0;
  e.bytes_in = 120;
  e.bytes_out = 240;
  uint64_t n = 0;
  for (auto _ : state) {
    e.route = static_cast<int>(n & 3);
    e.server = static_cast<int>((n >> 2) & 3);
    e.status = (n & 63) == 0 ? 502 : 200;
    e.request_seconds = 0.0002 * static_cast<double>(1 + (n & 15));
    e.upstream_seconds = e.request_seconds * 0.8;
    weir::stats::recordExchange(stats, 1, e);
    ++n;
  }
  benchmark::DoNotOptimize(r->registry.list(weir::stats::Kind::kRoute).size());
}
BENCHMARK(BM_RecordExchange);

void BM_RecordConnection(benchmark::State& state) {
  std::unique_ptr<Recording> r = recording(state);
  if (!r) return;
  for (auto _ : state) {
    weir::stats::recordAccepted(*r->stats, 1);
    weir::stats::recordClosed(*r->stats, 1);
  }
}
BENCHMARK(BM_RecordConnection);

}  // namespace
