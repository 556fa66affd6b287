// Many threads on one small store: lookups (verifying every byte), fills
// (some abandoned), waits on other threads' fills, erases, readers holding
// objects across evictions, chunks released on another thread (as libevent's
// cleanup would), and a monitor checking the byte cap while it all runs.
// Bounded in time; also run under ThreadSanitizer (make test's tsan stage).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "cache_test_util.h"
#include "weir/cache/store.h"
#include "weir/common/fast_random.h"

namespace weir::cache {
namespace {

using cachetest::headFor;
using cachetest::patternBody;

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr int kOpsPerThread = 30000;
#else
constexpr int kOpsPerThread = 200000;
#endif
constexpr int kThreads = 4;
constexpr int kKeys = 1000;
constexpr auto kTimeLimit = std::chrono::seconds(20);

struct Corpus {
  std::vector<CacheKey> keys;
  std::vector<std::string> bodies;
  std::vector<std::string> heads;
  Corpus() {
    FastRandom rng(99);
    for (int i = 0; i < kKeys; ++i) {
      keys.push_back(cachetest::keyFor("/obj/" + std::to_string(i)));
      bodies.push_back(patternBody(rng.below(3) == 0 ? rng.below(40000) : rng.below(3000), i));
      heads.push_back(headFor(i));
    }
  }
};

// Chunks a thread retained "for an evbuffer", released later by another.
class ChunkQueue {
 public:
  void push(const Chunk* c) {
    std::lock_guard<std::mutex> lock(mu_);
    q_.push_back(c);
  }
  const Chunk* pop() {
    std::lock_guard<std::mutex> lock(mu_);
    if (q_.empty()) return nullptr;
    const Chunk* c = q_.front();
    q_.pop_front();
    return c;
  }

 private:
  std::mutex mu_;
  std::deque<const Chunk*> q_;
};

struct Shared {
  Store& store;
  const Corpus& corpus;
  ChunkQueue chunks;
  std::atomic<uint64_t> lookups{0};
  std::atomic<uint64_t> callbacks{0};
  std::atomic<uint64_t> wrong{0};
  std::atomic<bool> stop{false};
};

bool matches(const Shared& sh, const Object& o, int k, bool whole) {
  if (!(o.key() == sh.corpus.keys[k])) return false;
  if (o.hasHead() && o.head() != sh.corpus.heads[k]) return false;
  const std::string body = o.state() == FillState::kComplete ? cachetest::readChunks(o) : cachetest::readAll(o);
  const std::string& want = sh.corpus.bodies[k];
  if (whole) return body == want;
  return body.size() <= want.size() && want.compare(0, body.size(), body) == 0;
}

void fillKey(Shared& sh, FillHandle& h, int k, FastRandom& rng) {
  const std::string& body = sh.corpus.bodies[k];
  ObjectMeta meta;
  meta.body_length = rng.below(2) == 0 ? static_cast<int64_t>(body.size()) : -1;
  if (!h.setHead(sh.corpus.heads[k], meta)) return;
  const bool give_up = rng.below(20) == 0;
  for (size_t off = 0; off < body.size();) {
    const size_t n = std::min<size_t>(1 + rng.below(9000), body.size() - off);
    if (!h.append(body.data() + off, n)) return;
    off += n;
    if (give_up && off > body.size() / 2) return;  // the handle's destructor abandons
  }
  (void)h.complete();
}

void waitOn(Shared& sh, const ObjectPtr& o, int k) {
  FillEvent now;
  const SubscriptionId id = o->subscribe([&sh](const FillEvent&) { sh.callbacks.fetch_add(1, std::memory_order_relaxed); }, &now);
  if (!matches(sh, *o, k, false)) sh.wrong.fetch_add(1);
  if (id != 0) o->unsubscribe(id);
}

void worker(Shared& sh, uint64_t seed) {
  FastRandom rng(seed);
  std::vector<std::pair<ObjectPtr, int>> held(8);
  const auto deadline = std::chrono::steady_clock::now() + kTimeLimit;
  for (int op = 0; op < kOpsPerThread && std::chrono::steady_clock::now() < deadline; ++op) {
    // Skewed popularity: a quarter of the keys get most requests.
    const int k = rng.below(4) != 0 ? static_cast<int>(rng.below(kKeys / 4)) : static_cast<int>(rng.below(kKeys));
    const CacheKey& key = sh.corpus.keys[k];
    const uint32_t what = rng.below(100);
    if (what < 60) {
      sh.lookups.fetch_add(1, std::memory_order_relaxed);
      ObjectPtr o = sh.store.lookup(key);
      if (o == nullptr) continue;
      if (!matches(sh, *o, k, true)) sh.wrong.fetch_add(1);
      if (what < 10) {
        auto& slot = held[rng.below(held.size())];
        if (slot.first && !matches(sh, *slot.first, slot.second, true)) sh.wrong.fetch_add(1);
        slot = {o, k};
      } else if (what < 15 && !o->chunks().empty()) {
        const Chunk* c = o->chunks()[rng.below(o->chunks().size())].get();
        c->retain();
        sh.chunks.push(c);
      }
    } else if (what < 92) {
      BeginFill b = sh.store.beginFill(key, rng.below(10) == 0);
      if (b.kind == BeginFill::Kind::kFill) fillKey(sh, b.fill, k, rng);
      if (b.kind == BeginFill::Kind::kWait) waitOn(sh, b.object, k);
      if (b.kind == BeginFill::Kind::kHit && !matches(sh, *b.object, k, true)) sh.wrong.fetch_add(1);
    } else if (what < 97) {
      (void)sh.store.erase(key);
    } else if (const Chunk* c = sh.chunks.pop()) {
      if (c->size() == 0) sh.wrong.fetch_add(1);
      Chunk::releaseCallback(c->data(), c->size(), const_cast<Chunk*>(c));
    }
  }
}

void monitor(Shared& sh, uint64_t* samples, uint64_t* over) {
  while (!sh.stop.load()) {
    const StoreStats s = sh.store.stats();
    if (s.bytes > s.max_bytes) ++*over;
    ++*samples;
    if (*samples % 500 == 0) sh.store.resize(*samples % 1000 == 0 ? 2u << 20 : 1536u << 10);
    std::this_thread::yield();
  }
}

void runStress(const char* policy) {
  static const Corpus corpus;
  StoreOptions o;
  o.max_bytes = 2 << 20;
  o.max_object_size = 64 << 10;
  o.shards = 8;
  o.eviction = policy;
  auto store = std::move(Store::create(o).value());
  Shared sh{*store, corpus};
  uint64_t samples = 0, over = 0;
  std::thread mon(monitor, std::ref(sh), &samples, &over);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(worker, std::ref(sh), 1000 + t);
  for (auto& t : threads) t.join();
  sh.stop = true;
  mon.join();
  while (const Chunk* c = sh.chunks.pop()) c->release();

  const StoreStats s = store->stats();
  EXPECT_EQ(sh.wrong.load(), 0u) << policy;
  EXPECT_EQ(over, 0u) << policy << ": bytes above max_bytes in " << over << " of " << samples << " samples";
  EXPECT_GT(samples, 0u);
  EXPECT_LE(s.bytes, s.max_bytes);
  EXPECT_EQ(s.filling, 0u) << "every fill ended";
  EXPECT_EQ(s.hits + s.misses, sh.lookups.load());
  EXPECT_GT(s.hits, 0u);
  EXPECT_GT(s.evictions, 0u);
  EXPECT_GT(s.inserts, 0u);
  EXPECT_GT(s.abandoned, 0u);
  // Nothing leaks from the accounting: an empty budget leaves nothing.
  store->resize(0);
  const StoreStats empty = store->stats();
  EXPECT_EQ(empty.bytes, 0u);
  EXPECT_EQ(empty.objects, 0u);
  std::printf("[ stress ] %s: %llu lookups, %llu hits, %llu inserts, %llu evictions, %llu abandoned, %llu callbacks, %llu cap samples\n",
              policy, static_cast<unsigned long long>(sh.lookups.load()), static_cast<unsigned long long>(s.hits),
              static_cast<unsigned long long>(s.inserts), static_cast<unsigned long long>(s.evictions),
              static_cast<unsigned long long>(s.abandoned), static_cast<unsigned long long>(sh.callbacks.load()),
              static_cast<unsigned long long>(samples));
}

TEST(CacheStressTest, FourThreadsS3Fifo) { runStress("s3fifo"); }
TEST(CacheStressTest, FourThreadsLru) { runStress("lru"); }

}  // namespace
}  // namespace weir::cache
