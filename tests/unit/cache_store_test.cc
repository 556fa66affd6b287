// The store: lookups, the one-filler-per-key decision, replacement,
// invalidation, hash collisions and configuration.
#include "weir/cache/store.h"

#include <gtest/gtest.h>

#include "cache_test_util.h"

namespace weir::cache {
namespace {

using cachetest::fillWith;
using cachetest::headFor;
using cachetest::keyFor;
using cachetest::makeStore;
using cachetest::patternBody;
using cachetest::readChunks;

TEST(CacheStoreTest, MissThenFillThenHit) {
  auto st = makeStore(1 << 20);
  EXPECT_FALSE(st->lookup(keyFor("/a")));
  const std::string body = patternBody(5000, 1);
  ASSERT_TRUE(cachetest::store(*st, keyFor("/a"), body).ok());
  ObjectPtr o = st->lookup(keyFor("/a"));
  ASSERT_TRUE(o);
  EXPECT_EQ(o->state(), FillState::kComplete);
  EXPECT_EQ(readChunks(*o), body);
  EXPECT_EQ(o->key(), keyFor("/a"));
  // A HEAD is answered from the stored GET.
  EXPECT_EQ(st->lookup(CacheKey::forRequest("HEAD", "http", "EXAMPLE.COM:80", "/a")), o);
  const StoreStats s = st->stats();
  EXPECT_EQ(s.hits, 2u);
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.inserts, 1u);
  EXPECT_EQ(s.objects, 1u);
  EXPECT_EQ(s.filling, 0u);
}

TEST(CacheStoreTest, OneFillerPerKeyOthersWaitOnIt) {
  auto st = makeStore(1 << 20);
  BeginFill first = st->beginFill(keyFor("/a"));
  ASSERT_EQ(first.kind, BeginFill::Kind::kFill);
  EXPECT_TRUE(first.fill.active());
  EXPECT_EQ(st->stats().filling, 1u);
  BeginFill second = st->beginFill(keyFor("/a"));
  EXPECT_EQ(second.kind, BeginFill::Kind::kWait);
  EXPECT_FALSE(second.fill.active());
  EXPECT_EQ(second.object, first.fill.object());
  EXPECT_EQ(st->beginFill(keyFor("/a"), true).kind, BeginFill::Kind::kWait) << "replace never cuts a fill short";
  ASSERT_TRUE(fillWith(first.fill, headFor(1), "one").ok());
  BeginFill third = st->beginFill(keyFor("/a"));
  EXPECT_EQ(third.kind, BeginFill::Kind::kHit) << "completed since the caller's lookup";
  EXPECT_EQ(third.object, second.object);
}

TEST(CacheStoreTest, ReplaceUnlinksTheOldObjectAndKeepsItForItsReaders) {
  auto st = makeStore(1 << 20);
  ASSERT_TRUE(cachetest::store(*st, keyFor("/a"), "old").ok());
  ObjectPtr old = st->lookup(keyFor("/a"));
  BeginFill refetch = st->beginFill(keyFor("/a"), true);
  ASSERT_EQ(refetch.kind, BeginFill::Kind::kFill);
  EXPECT_FALSE(st->lookup(keyFor("/a")));
  EXPECT_EQ(st->stats().objects, 0u);
  ASSERT_TRUE(fillWith(refetch.fill, headFor(2), "new").ok());
  EXPECT_EQ(readChunks(*st->lookup(keyFor("/a"))), "new");
  EXPECT_EQ(readChunks(*old), "old");
}

TEST(CacheStoreTest, EraseRemovesACompleteObject) {
  auto st = makeStore(1 << 20);
  ASSERT_TRUE(cachetest::store(*st, keyFor("/a"), "x").ok());
  EXPECT_TRUE(st->erase(keyFor("/a")));
  EXPECT_FALSE(st->erase(keyFor("/a")));
  EXPECT_FALSE(st->lookup(keyFor("/a")));
  const StoreStats s = st->stats();
  EXPECT_EQ(s.objects, 0u);
  EXPECT_EQ(s.bytes, 0u);
  EXPECT_EQ(s.erased, 1u);
}

TEST(CacheStoreTest, EraseAbandonsAFillAndTellsItsWaiters) {
  auto st = makeStore(1 << 20);
  BeginFill b = st->beginFill(keyFor("/a"));
  ASSERT_TRUE(b.fill.setHead(headFor(1), ObjectMeta{}).ok());
  ASSERT_TRUE(b.fill.append("abc", 3).ok());
  std::vector<FillEvent> seen;
  FillEvent now;
  b.fill.object()->subscribe([&](const FillEvent& ev) { seen.push_back(ev); }, &now);
  EXPECT_TRUE(st->erase(keyFor("/a")));
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].state, FillState::kAbandoned);
  EXPECT_EQ(seen[0].reason, AbandonReason::kErased);
  // The filler learns on its next call; its client still gets every byte
  // (the integrator keeps forwarding), the cache just stops storing.
  const std::string more = patternBody(kChunkSize, 2);
  EXPECT_FALSE(b.fill.append(more.data(), more.size()).ok());
  EXPECT_FALSE(b.fill.active());
  EXPECT_FALSE(b.fill.complete().ok());
  EXPECT_EQ(st->stats().bytes, 0u);
  EXPECT_EQ(st->stats().filling, 0u);
}

TEST(CacheStoreTest, AHashCollisionNeverServesTheWrongObject) {
  auto st = makeStore(1 << 20);
  const CacheKey a = CacheKey::withHashForTesting("GET http h /a", Hash128{42, 7});
  const CacheKey b = CacheKey::withHashForTesting("GET http h /b", Hash128{42, 7});
  BeginFill fa = st->beginFill(a);
  ASSERT_EQ(fa.kind, BeginFill::Kind::kFill);
  BeginFill fb = st->beginFill(b);
  EXPECT_EQ(fb.kind, BeginFill::Kind::kRefused) << "b must not wait on a's fill";
  EXPECT_EQ(fb.refusal, Refusal::kCollision);
  EXPECT_EQ(st->stats().refusedBy(Refusal::kCollision), 1u);
  ASSERT_TRUE(fillWith(fa.fill, headFor(1), "object a").ok());
  EXPECT_FALSE(st->lookup(b)) << "same hash, other key: a miss";
  EXPECT_FALSE(st->erase(b));
  ASSERT_TRUE(st->lookup(a));
  // b's fill takes the slot; a is gone, b is served.
  BeginFill fb2 = st->beginFill(b);
  ASSERT_EQ(fb2.kind, BeginFill::Kind::kFill);
  ASSERT_TRUE(fillWith(fb2.fill, headFor(2), "object b").ok());
  EXPECT_FALSE(st->lookup(a));
  ASSERT_TRUE(st->lookup(b));
  EXPECT_EQ(readChunks(*st->lookup(b)), "object b");
  EXPECT_EQ(st->stats().objects, 1u);
}

TEST(CacheStoreTest, CreateRejectsAnUnknownPolicyAndAZeroSize) {
  StoreOptions o;
  o.eviction = "arc";
  auto r = Store::create(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("arc"), std::string::npos);
  o.eviction = "lru";
  o.max_bytes = 0;
  EXPECT_FALSE(Store::create(o).ok());
  o.max_bytes = 1 << 20;
  auto lru = Store::create(o);
  ASSERT_TRUE(lru.ok());
  EXPECT_EQ(lru.value()->evictionName(), "lru");
}

TEST(CacheStoreTest, ShardCountIsAPowerOfTwoSizedForTheLargestObject) {
  StoreOptions o;  // 256 MiB, 8 MiB objects
  o.workers = 2;
  EXPECT_EQ(Store::create(o).value()->shardCount(), 8u);
  o.workers = 16;  // 64 shards of 4 MiB would not hold 4 objects of 8 MiB
  EXPECT_EQ(Store::create(o).value()->shardCount(), 8u);
  o.workers = 3;
  o.max_object_size = 1 << 20;
  EXPECT_EQ(Store::create(o).value()->shardCount(), 16u);
  o.shards = 5;
  auto st = std::move(Store::create(o).value());
  EXPECT_EQ(st->shardCount(), 8u);
  EXPECT_EQ(st->shardBudget(), (uint64_t{256} << 20) / 8);
}

TEST(CacheStoreTest, ManyKeysAcrossShards) {
  auto st = makeStore(8 << 20, "s3fifo", 8);
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(cachetest::store(*st, keyFor("/k" + std::to_string(i)), patternBody(100 + i, i), {}, i).ok());
  }
  for (int i = 0; i < 200; ++i) {
    ObjectPtr o = st->lookup(keyFor("/k" + std::to_string(i)));
    ASSERT_TRUE(o) << i;
    EXPECT_EQ(readChunks(*o), patternBody(100 + i, i));
    EXPECT_EQ(o->head(), headFor(i));
  }
  EXPECT_EQ(st->stats().objects, 200u);
}

}  // namespace
}  // namespace weir::cache

namespace weir::cache {
namespace {

// Purge: eraseIf unlinks what the predicate picks, complete or filling, in
// every shard, and gives their bytes back at once.
TEST(CacheStoreTest, EraseIfUnlinksWhatMatchesInEveryShard) {
  auto st = makeStore(4 << 20);
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(cachetest::store(*st, keyFor("/p/" + std::to_string(i)), patternBody(1000, i)).ok());
    ASSERT_TRUE(cachetest::store(*st, keyFor("/q/" + std::to_string(i)), patternBody(1000, i)).ok());
  }
  BeginFill filling = st->beginFill(keyFor("/p/filling"));
  ASSERT_EQ(filling.kind, BeginFill::Kind::kFill);
  const std::string prefix = keyFor("/p/").str();
  const size_t n = st->eraseIf([&](const CacheKey& k) { return k.str().compare(0, prefix.size(), prefix) == 0; });
  EXPECT_EQ(n, 41u);
  EXPECT_FALSE(st->lookup(keyFor("/p/7")));
  EXPECT_TRUE(st->lookup(keyFor("/q/7")));
  EXPECT_EQ(st->stats().objects, 40u);
  EXPECT_EQ(st->stats().filling, 0u);
  EXPECT_EQ(filling.fill.object()->state(), FillState::kAbandoned) << "the purged fill is abandoned";
  EXPECT_EQ(st->eraseIf([](const CacheKey&) { return true; }), 40u);
  EXPECT_EQ(st->stats().bytes, 0u);
}

}  // namespace
}  // namespace weir::cache
