// The stats registry (per-worker slots summed at read, series kept by name
// across snapshots), route labels and the status page's percentiles.
#include <gtest/gtest.h>

#include <thread>

#include "admin/status.h"
#include "admin/text.h"
#include "weir/config/config.h"
#include "weir/stats/registry.h"
#include "weir/stats/runtime_stats.h"

namespace weir::stats {
namespace {

TEST(StatsRegistry, SeriesAreKeyedByNameAndSummedOverWorkers) {
  Registry r(3);
  const Series* a = r.series(Kind::kServer, {"app", "127.0.0.1:1"});
  const Series* b = r.series(Kind::kServer, {"app", "127.0.0.1:2"});
  EXPECT_NE(a, b);
  EXPECT_EQ(a, r.series(Kind::kServer, {"app", "127.0.0.1:1"}));
  bump(a->at(0)[server_slots::kConnOpened]);
  bump(a->at(2)[server_slots::kConnOpened], 4);
  EXPECT_EQ(a->sum(server_slots::kConnOpened), 5u);
  EXPECT_EQ(b->sum(server_slots::kConnOpened), 0u);
  EXPECT_EQ(r.list(Kind::kServer).size(), 2u);
  EXPECT_TRUE(r.list(Kind::kRoute).empty());
}

TEST(StatsRegistry, WorkersNeverShareACacheLine) {
  Registry r(2);
  const Series* s = r.series(Kind::kRoute, {"x", "app"});
  auto w0 = reinterpret_cast<uintptr_t>(s->at(0));
  auto w1 = reinterpret_cast<uintptr_t>(s->at(1));
  const uintptr_t size = s->size * sizeof(Slot);
  EXPECT_TRUE(w0 + size <= (w1 & ~uintptr_t{63}) || w1 + size <= (w0 & ~uintptr_t{63}));
}

TEST(StatsRegistry, ManySeriesSpanChunks) {
  Registry r(2);
  for (int i = 0; i < 5000; ++i) r.series(Kind::kServer, {"p", std::to_string(i)});
  const Series* last = r.series(Kind::kServer, {"p", "4999"});
  bump(last->at(1)[0], 3);
  EXPECT_EQ(last->sum(0), 3u);
}

TEST(StatsRegistry, ConcurrentWritersAndReader) {
  Registry r(2);
  const Series* s = r.series(Kind::kProcess, {});
  std::thread w0([&] { for (int i = 0; i < 100000; ++i) bump(s->at(0)[0]); });
  std::thread w1([&] { for (int i = 0; i < 100000; ++i) bump(s->at(1)[0]); });
  uint64_t seen = 0;
  for (int i = 0; i < 1000; ++i) seen = std::max(seen, s->sum(0));
  w0.join();
  w1.join();
  EXPECT_EQ(s->sum(0), 200000u);
  EXPECT_LE(seen, 200000u);
}

TEST(StatsRuntime, RouteLabels) {
  config::RouteConfig r;
  EXPECT_EQ(routeLabel(r), "/");
  r.path_prefix = "/api/";
  EXPECT_EQ(routeLabel(r), "/api/");
  r.host = "*.example.com";
  EXPECT_EQ(routeLabel(r), "*.example.com/api/");
  r.path_prefix.clear();
  EXPECT_EQ(routeLabel(r), "*.example.com");
  r.name = "api";
  EXPECT_EQ(routeLabel(r), "api");
}

TEST(StatsRuntime, RecordingGoesToTheRouteAndServer) {
  Result<config::ConfigPtr> cfg = config::loadString(
      "listeners:\n  - address: 127.0.0.1:8080\npools:\n  app:\n    servers:\n      - address: 127.0.0.1:9001\n"
      "routes:\n  - name: all\n    pool: app\n",
      "t.yaml");
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  Registry reg(2);
  RuntimeStatsPtr s = resolve(reg, **cfg);
  ExchangeSample e;
  e.route = 0;
  e.server = 0;
  e.status = 204;
  e.bytes_in = 50;
  e.bytes_out = 70;
  e.request_seconds = 0.003;
  e.upstream_seconds = 0.002;
  recordExchange(*s, 1, e);
  e.status = 503;
  recordExchange(*s, 0, e);
  const Series* route = reg.series(Kind::kRoute, {"all", "app"});
  EXPECT_EQ(route->sum(route_slots::kRequests + 1), 1u);
  EXPECT_EQ(route->sum(route_slots::kRequests + 4), 1u);
  EXPECT_EQ(route->sum(route_slots::kBytesIn), 100u);
  EXPECT_EQ(route->sum(route_slots::kDuration + latencyBucket(0.003)), 2u);
  EXPECT_EQ(route->sum(route_slots::kDuration + kHistSumUs), 6000u);
  // A second snapshot of the same config finds the same series.
  RuntimeStatsPtr again = resolve(reg, **cfg);
  EXPECT_EQ(again->routes[0], s->routes[0]);
  EXPECT_EQ(again->servers[0][0], s->servers[0][0]);
}

TEST(StatsRuntime, LatencyBuckets) {
  EXPECT_EQ(latencyBucket(0), 0u);
  EXPECT_EQ(latencyBucket(0.0005), 0u);  // le is inclusive
  EXPECT_EQ(latencyBucket(0.0006), 1u);
  EXPECT_EQ(latencyBucket(10), kLatencyBounds.size() - 1);
  EXPECT_EQ(latencyBucket(11), kLatencyBounds.size());  // +Inf
}

TEST(AdminStatus, Quantiles) {
  uint64_t b[kHistBuckets] = {};
  EXPECT_EQ(admin::bucketQuantile(b, 0.5), -1);
  b[latencyBucket(0.004)] = 100;  // all in (0.0025, 0.005]
  const double p50 = admin::bucketQuantile(b, 0.5);
  EXPECT_GT(p50, 0.0025);
  EXPECT_LE(p50, 0.005);
  b[kHistBuckets - 1] = 100;  // half over 10 s
  EXPECT_EQ(admin::bucketQuantile(b, 0.99), 10);
}

TEST(AdminText, Escaping) {
  std::string out;
  admin::appendLabelValue(out, "a\"b\\c\nd");
  EXPECT_EQ(out, "a\\\"b\\\\c\\nd");
  out.clear();
  admin::appendJsonString(out, "x\"\x01");
  EXPECT_EQ(out, "\"x\\\"\\u0001\"");
}

}  // namespace
}  // namespace weir::stats
