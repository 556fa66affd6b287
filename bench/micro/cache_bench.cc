// Microbenchmarks for the cache store: a hit (shard lock, index, full-key
// compare, policy touch, a shared_ptr copy), a miss, and a whole fill of a
// 1 KiB object into a full store (so every insert evicts), for both eviction
// policies; and building a key (normalise + XXH3-128).
//
// BM_LookupHit/<policy>/threads:N spreads 10,000 stored keys over 16 shards.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "weir/cache/key.h"
#include "weir/cache/store.h"

namespace {

using weir::cache::BeginFill;
using weir::cache::CacheKey;
using weir::cache::ObjectMeta;
using weir::cache::Store;
using weir::cache::StoreOptions;

constexpr int kStored = 10000;
const std::string kHead = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1024\r\n\r\n";
const std::string kBody(1024, 'x');

std::unique_ptr<Store> makeStore(const char* policy, uint64_t max_bytes) {
  StoreOptions o;
  o.max_bytes = max_bytes;
  o.max_object_size = 1 << 20;
  o.shards = 16;
  o.eviction = policy;
  return std::move(Store::create(o).value());
}

CacheKey keyOf(int i) { return CacheKey::forRequest("GET", "http", "bench.example", "/static/object/" + std::to_string(i)); }

bool fillOne(Store& store, const CacheKey& key) {
  BeginFill b = store.beginFill(key, true);
  if (b.kind != BeginFill::Kind::kFill) return false;
  ObjectMeta meta;
  meta.status = 200;
  meta.body_length = static_cast<int64_t>(kBody.size());
  return b.fill.setHead(kHead, meta).ok() && b.fill.append(kBody.data(), kBody.size()).ok() && b.fill.complete().ok();
}

struct Fixture {
  std::unique_ptr<Store> store;
  std::vector<CacheKey> keys;
  std::vector<CacheKey> absent;
  explicit Fixture(const char* policy) : store(makeStore(policy, uint64_t{256} << 20)) {
    for (int i = 0; i < kStored; ++i) {
      keys.push_back(keyOf(i));
      absent.push_back(keyOf(kStored + i));
      fillOne(*store, keys.back());
    }
  }
};

Fixture& fixture(const char* policy) {
  static Fixture s3("s3fifo");
  static Fixture lru("lru");
  return std::string_view(policy) == "lru" ? lru : s3;
}

void BM_LookupHit(benchmark::State& state, const char* policy) {
  Fixture& f = fixture(policy);
  size_t i = static_cast<size_t>(state.thread_index()) * 7919;
  for (auto _ : state) {
    auto o = f.store->lookup(f.keys[i++ % kStored]);
    benchmark::DoNotOptimize(o);
  }
}

void BM_LookupMiss(benchmark::State& state, const char* policy) {
  Fixture& f = fixture(policy);
  size_t i = 0;
  for (auto _ : state) {
    auto o = f.store->lookup(f.absent[i++ % kStored]);
    benchmark::DoNotOptimize(o);
  }
}

// Each iteration fills a new 1 KiB object into a full 4 MiB store.
void BM_InsertWithEviction(benchmark::State& state, const char* policy) {
  auto store = makeStore(policy, uint64_t{4} << 20);
  std::vector<CacheKey> keys;
  for (int i = 0; i < 100000; ++i) keys.push_back(keyOf(i));
  for (int i = 0; i < 8000; ++i) fillOne(*store, keys[i]);
  size_t i = 8000;
  for (auto _ : state) benchmark::DoNotOptimize(fillOne(*store, keys[i++ % keys.size()]));
  state.counters["evictions"] = static_cast<double>(store->stats().evictions);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kBody.size()));
}

void BM_KeyBuild(benchmark::State& state) {
  for (auto _ : state) {
    CacheKey k = CacheKey::forRequest("GET", "https", "Static.Example.com:443", "/assets/app.9f8e7d.js?v=3");
    benchmark::DoNotOptimize(k);
  }
}

BENCHMARK_CAPTURE(BM_LookupHit, s3fifo, "s3fifo")->Threads(1)->Threads(2);
BENCHMARK_CAPTURE(BM_LookupHit, lru, "lru")->Threads(1)->Threads(2);
BENCHMARK_CAPTURE(BM_LookupMiss, s3fifo, "s3fifo");
BENCHMARK_CAPTURE(BM_LookupMiss, lru, "lru");
BENCHMARK_CAPTURE(BM_InsertWithEviction, s3fifo, "s3fifo");
BENCHMARK_CAPTURE(BM_InsertWithEviction, lru, "lru");
BENCHMARK(BM_KeyBuild);

// Purge by tag of 100,000 objects out of 100,000 (all tagged "all") in a
// 16-shard store: the tag index finds them, batches of Store::kTagBatch
// per lock hold unlink them. The fill is not timed.
void BM_PurgeTag100k(benchmark::State& state) {
  constexpr int kObjects = 100000;
  for (auto _ : state) {
    state.PauseTiming();
    auto store = makeStore("s3fifo", uint64_t{1} << 30);
    for (int i = 0; i < kObjects; ++i) {
      BeginFill b = store->beginFill(keyOf(i), true);
      ObjectMeta meta;
      meta.status = 200;
      meta.body_length = 16;
      weir::cache::StoredExtras extras;
      extras.tags = {"all", "t" + std::to_string(i % 100)};
      if (!b.fill.setHead(kHead, meta, std::move(extras)).ok() || !b.fill.append(kBody.data(), 16).ok() ||
          !b.fill.complete().ok()) {
        state.SkipWithError("fill failed");
        return;
      }
    }
    state.ResumeTiming();
    benchmark::DoNotOptimize(store->purgeTag("all", false));
    state.PauseTiming();
    store.reset();
    state.ResumeTiming();
  }
}
BENCHMARK(BM_PurgeTag100k)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
