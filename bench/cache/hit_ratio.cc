// weir-cache-hit-ratio: S3-FIFO against LRU on Zipf traces. For each alpha
// (0.8, 0.9, 1.0) one trace of 5,000,000 requests over 1,000,000 objects
// (fixed seed) is replayed through each policy at cache sizes of 1%, 5% and
// 10% of the objects, and the miss ratios are printed as a table.
//
// The policies are the store's own (makeEvictionPolicy), driven by a minimal
// cache: every object costs 1, so a capacity is a number of objects, and the
// ghost queue's bookkeeping is not charged (the store charges it; here it
// would only shrink both caches' object counts by a little for S3-FIFO).
// Misses include the cold ones, which both policies share.
//
// With --store, a second table replays the alpha 0.9 trace through the real
// Store (about 100 s more on two cores): 1 KiB
// bodies, 16 shards, a byte budget sized to hold 1%, 5% and 10% of the
// objects, with every byte charged (S3-FIFO's ghost entries included).
//
//   weir-cache-hit-ratio [--store] [requests]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "weir/cache/eviction.h"
#include "weir/cache/store.h"
#include "weir/common/fast_random.h"

namespace {

using weir::cache::EntryId;
using weir::cache::EvictionPolicy;

constexpr uint32_t kObjects = 1000000;

std::vector<uint32_t> zipfTrace(double alpha, size_t length, uint64_t seed) {
  std::vector<double> cdf(kObjects);
  double sum = 0;
  for (uint32_t i = 0; i < kObjects; ++i) cdf[i] = (sum += 1.0 / std::pow(static_cast<double>(i + 1), alpha));
  for (double& c : cdf) c /= sum;
  // Ranks are scattered over ids so that popularity and id are unrelated.
  std::vector<uint32_t> id_of(kObjects);
  for (uint32_t i = 0; i < kObjects; ++i) id_of[i] = i;
  weir::FastRandom rng(seed);
  for (uint32_t i = kObjects - 1; i > 0; --i) std::swap(id_of[i], id_of[rng.below(i + 1)]);
  std::vector<uint32_t> trace(length);
  for (uint32_t& t : trace) {
    const size_t rank = static_cast<size_t>(std::lower_bound(cdf.begin(), cdf.end(), rng.unit()) - cdf.begin());
    t = id_of[std::min<size_t>(rank, kObjects - 1)];
  }
  return trace;
}

double missRatio(const char* policy_name, const std::vector<uint32_t>& trace, size_t capacity) {
  auto policy = weir::cache::makeEvictionPolicy(policy_name, capacity);
  std::vector<uint8_t> resident(kObjects, 0);
  size_t used = 0;
  uint64_t misses = 0;
  for (uint32_t id : trace) {
    if (resident[id] != 0) {
      policy->touch(id);
      continue;
    }
    ++misses;
    while (used >= capacity) {
      const EntryId victim = policy->evict();
      if (victim == weir::cache::kNoEntry) std::abort();
      resident[victim] = 0;
      --used;
    }
    policy->admit(id, weir::FastRandom::mix(id), 1);
    resident[id] = 1;
    ++used;
  }
  return static_cast<double>(misses) / static_cast<double>(trace.size());
}

const std::string kBody(1024, 'b');
const std::string kHead = "HTTP/1.1 200 OK\r\nContent-Length: 1024\r\n\r\n";

weir::cache::CacheKey keyOf(uint32_t id) {
  return weir::cache::CacheKey::forRequest("GET", "http", "trace.example", "/o/" + std::to_string(id));
}

bool fillOne(weir::cache::Store& store, const weir::cache::CacheKey& key) {
  weir::cache::BeginFill b = store.beginFill(key);
  if (b.kind != weir::cache::BeginFill::Kind::kFill) return false;
  weir::cache::ObjectMeta meta;
  meta.body_length = static_cast<int64_t>(kBody.size());
  return b.fill.setHead(kHead, meta).ok() && b.fill.append(kBody.data(), kBody.size()).ok() && b.fill.complete().ok();
}

std::unique_ptr<weir::cache::Store> makeStore(const char* policy, uint64_t max_bytes) {
  weir::cache::StoreOptions o;
  o.max_bytes = max_bytes;
  o.shards = 16;
  o.eviction = policy;
  return std::move(weir::cache::Store::create(o).value());
}

// What one trace object costs in the store.
uint64_t objectCharge() {
  auto store = makeStore("lru", uint64_t{1} << 20);
  fillOne(*store, keyOf(999999));
  return store->stats().bytes;
}

double storeMissRatio(const char* policy, const std::vector<uint32_t>& trace, uint64_t max_bytes) {
  auto store = makeStore(policy, max_bytes);
  uint64_t misses = 0;
  for (uint32_t id : trace) {
    const weir::cache::CacheKey key = keyOf(id);
    if (store->lookup(key)) continue;
    ++misses;
    fillOne(*store, key);
  }
  return static_cast<double>(misses) / static_cast<double>(trace.size());
}

void storeTable(const std::vector<uint32_t>& trace) {
  const uint64_t charge = objectCharge();
  std::printf("\nThrough the Store (alpha 0.9; 1 KiB bodies, %llu bytes charged per object; 16 shards)\n\n",
              static_cast<unsigned long long>(charge));
  std::printf("%-6s %-12s %10s %10s %12s\n", "alpha", "budget", "s3fifo", "lru", "s3fifo/lru");
  for (double fraction : {0.01, 0.05, 0.10}) {
    const uint64_t budget = static_cast<uint64_t>(kObjects * fraction) * charge;
    const double s3 = storeMissRatio("s3fifo", trace, budget);
    const double lru = storeMissRatio("lru", trace, budget);
    char label[32];
    std::snprintf(label, sizeof(label), "%2.0f%% (%lluM)", fraction * 100,
                  static_cast<unsigned long long>(budget >> 20));
    std::printf("%-6.1f %-12s %10.4f %10.4f %12.3f\n", 0.9, label, s3, lru, s3 / lru);
  }
}

}  // namespace

int main(int argc, char** argv) {
  bool with_store = false;
  size_t requests = 5000000;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--store") {
      with_store = true;
    } else {
      requests = static_cast<size_t>(std::atoll(argv[i]));
    }
  }
  const auto start = std::chrono::steady_clock::now();
  std::printf("Zipf trace: %u objects, %zu requests per alpha, seed 42; miss ratio (lower is better)\n\n", kObjects,
              requests);
  std::printf("%-6s %-12s %10s %10s %12s\n", "alpha", "cache", "s3fifo", "lru", "s3fifo/lru");
  std::vector<uint32_t> trace09;
  for (double alpha : {0.8, 0.9, 1.0}) {
    std::vector<uint32_t> trace = zipfTrace(alpha, requests, 42);
    for (double fraction : {0.01, 0.05, 0.10}) {
      const size_t capacity = static_cast<size_t>(kObjects * fraction);
      const double s3 = missRatio("s3fifo", trace, capacity);
      const double lru = missRatio("lru", trace, capacity);
      char cache[32];
      std::snprintf(cache, sizeof(cache), "%2.0f%% (%zuk)", fraction * 100, capacity / 1000);
      std::printf("%-6.1f %-12s %10.4f %10.4f %12.3f\n", alpha, cache, s3, lru, s3 / lru);
    }
    if (alpha == 0.9) trace09 = std::move(trace);
  }
  if (with_store) storeTable(trace09);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("\n%.1f s\n", seconds);
  return 0;
}
