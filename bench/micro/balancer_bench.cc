// Microbenchmarks for the balancers: the cost of one pick (every request
// pays it, retries again) and of building a picker (every worker, at start
// and on each reload).
//
// BM_Pick/<balancer>/servers:N/case:C, C = 0 every server up and untried,
// 1 one server tried (a retry), 2 one server in its slow-start ramp.
// consistent_hash picks cycle through 4096 precomputed key hashes, so its
// table reads are spread as real keys would be.
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <xxhash.h>

#include <memory>
#include <string>
#include <vector>

#include "weir/config/config.h"
#include "weir/upstream/balancer.h"
#include "weir/upstream/server_state.h"

namespace {

using weir::upstream::Balancer;
using weir::upstream::PickContext;
using weir::upstream::Picker;
using weir::upstream::TriedSet;

// Servers 10.0.x.y:80 with weights 1..8 in turn, or 1..servers when
// `distinct` (the longest smooth round-robin cycle to build).
weir::config::PoolConfig makePool(size_t servers, bool distinct = false) {
  weir::config::PoolConfig pool;
  pool.name = "bench";
  pool.slow_start = std::chrono::seconds(10);
  for (size_t i = 0; i < servers; ++i) {
    weir::config::ServerConfig s;
    auto* in = reinterpret_cast<sockaddr_in*>(&s.addr.storage);
    in->sin_family = AF_INET;
    in->sin_port = htons(80);
    in->sin_addr.s_addr = htonl(0x0a000000u + static_cast<uint32_t>(i) + 1);
    s.addr.length = sizeof(sockaddr_in);
    s.address = s.addr.toString();
    s.weight = distinct ? static_cast<uint32_t>(i + 1) : static_cast<uint32_t>(i % 8 + 1);
    pool.servers.push_back(s);
  }
  return pool;
}

std::vector<uint64_t> keyHashes() {
  std::vector<uint64_t> keys;
  for (int k = 0; k < 4096; ++k) {
    const std::string key = "session-" + std::to_string(k);
    keys.push_back(XXH3_64bits(key.data(), key.size()));
  }
  return keys;
}

void BM_Pick(benchmark::State& state, const char* name) {
  const size_t servers = static_cast<size_t>(state.range(0));
  const int64_t scenario = state.range(1);
  const Balancer* balancer = weir::upstream::findBalancer(name);
  if (balancer == nullptr) {
    state.SkipWithError("balancer not registered");
    return;
  }
  const weir::config::PoolConfig pool = makePool(servers);
  weir::upstream::HealthRegistry registry;
  const weir::upstream::PoolView view = registry.view(pool);
  PickContext ctx;
  ctx.now_ms = 1000000;
  if (scenario == 2) {  // half way through its ramp: rampFactor 0.5
    view.servers[1]->setActiveDown(true, "bench", ctx.now_ms - 6000);
    view.servers[1]->setActiveDown(false, "bench", ctx.now_ms - 5000);
  }
  std::unique_ptr<Picker> picker = balancer->build(pool, view, 1);
  TriedSet tried(servers);
  if (scenario == 1) tried.add(servers / 2);
  ctx.has_key = std::string(name) == "consistent_hash";
  const std::vector<uint64_t> keys = keyHashes();
  size_t n = 0;
  for (auto _ : state) {
    ctx.key_hash = keys[n++ & 4095];
    int server = picker->pick(ctx, tried);
    benchmark::DoNotOptimize(server);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

#define WEIR_PICK_BENCH(algo)                          \
  BENCHMARK_CAPTURE(BM_Pick, algo, #algo)              \
      ->ArgsProduct({{10, 1000}, {0, 1, 2}})           \
      ->ArgNames({"servers", "case"})

WEIR_PICK_BENCH(round_robin);
WEIR_PICK_BENCH(least_request);
WEIR_PICK_BENCH(random);
WEIR_PICK_BENCH(consistent_hash);

// Building one picker: Maglev tables for consistent_hash, the weighted
// cycles for the others. distinct:1 gives every server its own weight.
void BM_Build(benchmark::State& state, const char* name) {
  const Balancer* balancer = weir::upstream::findBalancer(name);
  if (balancer == nullptr) {
    state.SkipWithError("balancer not registered");
    return;
  }
  const weir::config::PoolConfig pool = makePool(static_cast<size_t>(state.range(0)), state.range(1) != 0);
  weir::upstream::HealthRegistry registry;
  const weir::upstream::PoolView view = registry.view(pool);
  for (auto _ : state) {
    std::unique_ptr<Picker> picker = balancer->build(pool, view, 1);
    benchmark::DoNotOptimize(picker.get());
  }
}

#define WEIR_BUILD_BENCH(algo)                         \
  BENCHMARK_CAPTURE(BM_Build, algo, #algo)             \
      ->ArgsProduct({{10, 1000}, {0, 1}})              \
      ->ArgNames({"servers", "distinct"})              \
      ->Unit(benchmark::kMicrosecond)

WEIR_BUILD_BENCH(round_robin);
WEIR_BUILD_BENCH(least_request);
WEIR_BUILD_BENCH(consistent_hash);

// Moved from parser_bench.cc, unchanged, so that figures compare with older
// runs: 8 servers of weights 1..8, nothing tried or server 3 tried.
void BM_RoundRobinPick(benchmark::State& state) {
  weir::config::PoolConfig pool;
  for (uint32_t i = 0; i < 8; ++i) {
    weir::config::ServerConfig s;
    s.address = "127.0.0.1:" + std::to_string(9000 + i);
    s.weight = i + 1;
    pool.servers.push_back(s);
  }
  const weir::upstream::Balancer* balancer = weir::upstream::findBalancer("round_robin");
  if (balancer == nullptr) {
    state.SkipWithError("round_robin is not registered");
    return;
  }
  std::unique_ptr<weir::upstream::Picker> picker = balancer->build(pool, weir::upstream::HealthRegistry().view(pool), 1);
  weir::upstream::TriedSet tried(pool.servers.size());
  if (state.range(0) != 0) tried.add(3);
  const weir::upstream::PickContext ctx;
  for (auto _ : state) {
    int server = picker->pick(ctx, tried);
    benchmark::DoNotOptimize(server);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_RoundRobinPick)->Arg(0)->Arg(1)->ArgName("retry");

}  // namespace
