// The byte budget: exact charges, the hard cap after every operation,
// resizing, refusals, fills never evicted, readers keeping evicted objects.
#include <gtest/gtest.h>

#include "cache/eviction/s3fifo.h"
#include "cache_test_util.h"
#include "weir/cache/store.h"
#include "weir/common/fast_random.h"

namespace weir::cache {
namespace {

using cachetest::fillWith;
using cachetest::headFor;
using cachetest::keyFor;
using cachetest::makeStore;
using cachetest::patternBody;
using cachetest::readChunks;

uint64_t heapOf(size_t string_length) { return string_length > 15 ? string_length + 1 : 0; }

TEST(CacheBudgetTest, ExactChargeWithADeclaredLength) {
  auto st = makeStore(1 << 20);
  const CacheKey key = keyFor("/a");
  ASSERT_TRUE(cachetest::store(*st, key, patternBody(3000, 1)).ok());
  const uint64_t expected = Object::kControlBlockBytes + sizeof(Object) + heapOf(key.str().size()) +
                            heapOf(headFor(1).size()) + 1 * Object::kSlotBytes + (sizeof(Chunk) + 3000) +
                            st->entryOverheadBytes();
  EXPECT_EQ(st->stats().bytes, expected);
  EXPECT_EQ(st->lookup(key)->chargedBytes() + st->entryOverheadBytes(), expected);
  EXPECT_EQ(st->entryOverheadBytes(), Store::kIndexEntryBytes + 24) << "S3-FIFO's node is 24 bytes";
}

TEST(CacheBudgetTest, ExactChargeWithAnUnknownLength) {
  auto st = makeStore(1 << 20, "lru");
  const CacheKey key = keyFor("/a");
  ASSERT_TRUE(cachetest::store(*st, key, patternBody(40000, 1), {false, 3000}).ok());
  const uint64_t chunks = 1024 + 1024 + 2048 + 4096 + 8192 + kChunkSize + kChunkSize + 7 * sizeof(Chunk);
  const uint64_t slots = 8 * Object::kSlotBytes;  // grown 0 -> 4 -> 8 by explicit reserves
  const uint64_t expected = Object::kControlBlockBytes + sizeof(Object) + heapOf(key.str().size()) +
                            heapOf(headFor(1).size()) + slots + chunks + st->entryOverheadBytes();
  EXPECT_EQ(st->stats().bytes, expected);
}

TEST(CacheBudgetTest, EmptyStoreAfterEverythingLeaves) {
  auto st = makeStore(1 << 20);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(cachetest::store(*st, keyFor("/" + std::to_string(i)), "abc").ok());
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(st->erase(keyFor("/" + std::to_string(i))));
  EXPECT_EQ(st->stats().bytes, 0u);
}

TEST(CacheBudgetTest, NeverAboveTheCapAfterAnyOperation) {
  for (const char* policy : {"s3fifo", "lru"}) {
    const uint64_t cap = 200 * 1024;
    auto st = makeStore(cap, policy, 4, 64 * 1024);
    FastRandom rng(7);
    for (int op = 0; op < 4000; ++op) {
      const CacheKey key = keyFor("/" + std::to_string(rng.below(300)));
      const uint32_t what = rng.below(10);
      if (what < 5) {
        (void)st->lookup(key);
      } else if (what < 9) {
        const size_t len = rng.below(70 * 1024);
        BeginFill b = st->beginFill(key, true);
        if (b.kind == BeginFill::Kind::kFill) (void)fillWith(b.fill, headFor(op), patternBody(len, op), {rng.below(2) == 0, 5000});
      } else {
        (void)st->erase(key);
      }
      const StoreStats s = st->stats();
      ASSERT_LE(s.bytes, cap) << policy << " op " << op;
    }
    const StoreStats s = st->stats();
    EXPECT_GT(s.evictions, 0u) << policy;
    EXPECT_GT(s.refusedBy(Refusal::kTooLarge), 0u) << policy;
  }
}

TEST(CacheBudgetTest, ResizeDownEvictsToFitAndUpMakesRoom) {
  auto st = makeStore(1 << 20, "s3fifo", 2);
  for (int i = 0; i < 80; ++i) ASSERT_TRUE(cachetest::store(*st, keyFor("/" + std::to_string(i)), patternBody(10000, i)).ok());
  const StoreStats before = st->stats();
  EXPECT_GT(before.bytes, 700u * 1024);
  st->resize(100 * 1024);
  const StoreStats after = st->stats();
  EXPECT_LE(after.bytes, 100u * 1024);
  EXPECT_EQ(after.max_bytes, 100u * 1024);
  EXPECT_LT(after.objects, 12u);
  EXPECT_GT(after.evictions, before.evictions);
  st->resize(1 << 20);
  for (int i = 0; i < 60; ++i) ASSERT_TRUE(cachetest::store(*st, keyFor("/n" + std::to_string(i)), patternBody(10000, i)).ok());
  EXPECT_GE(st->stats().objects, 60u);
}

TEST(CacheBudgetTest, ResizeAbandonsFillsWhenCompleteObjectsAreNotEnough) {
  auto st = makeStore(1 << 20);
  BeginFill b = st->beginFill(keyFor("/big"));
  ASSERT_TRUE(b.fill.setHead(headFor(1), ObjectMeta{}).ok());
  const std::string body = patternBody(300000, 1);
  ASSERT_TRUE(b.fill.append(body.data(), body.size()).ok());
  st->resize(100000);
  EXPECT_LE(st->stats().bytes, 100000u);
  EXPECT_EQ(b.fill.object()->state(), FillState::kAbandoned);
  EXPECT_EQ(b.fill.object()->snapshot().reason, AbandonReason::kResized);
  EXPECT_FALSE(b.fill.append("x", 1).ok());
}

TEST(CacheBudgetTest, DeclaredLengthPastMaxObjectSizeIsRefusedAtTheHead) {
  auto st = makeStore(1 << 20, "s3fifo", 1, 10000);
  BeginFill b = st->beginFill(keyFor("/a"));
  ObjectMeta meta;
  meta.body_length = 10001;
  EXPECT_FALSE(b.fill.setHead(headFor(1), meta).ok());
  EXPECT_FALSE(b.fill.active());
  const StoreStats s = st->stats();
  EXPECT_EQ(s.refusedBy(Refusal::kTooLarge), 1u);
  EXPECT_EQ(s.bytes, 0u);
  EXPECT_EQ(s.filling, 0u);
}

TEST(CacheBudgetTest, AnUnknownLengthIsStoredWhileItFitsThenAbandoned) {
  auto st = makeStore(1 << 20, "s3fifo", 1, 10000);
  BeginFill b = st->beginFill(keyFor("/a"));
  ObjectPtr o = b.fill.object();
  ASSERT_TRUE(b.fill.setHead(headFor(1), ObjectMeta{}).ok());
  const std::string body = patternBody(12000, 1);
  ASSERT_TRUE(b.fill.append(body.data(), 6000).ok());
  ASSERT_TRUE(b.fill.append(body.data() + 6000, 4000).ok()) << "exactly max_object_size still fits";
  EXPECT_GT(st->stats().bytes, 10000u);
  EXPECT_FALSE(b.fill.append(body.data() + 10000, 1).ok());
  EXPECT_EQ(o->state(), FillState::kAbandoned);
  EXPECT_EQ(o->snapshot().reason, AbandonReason::kTooLarge);
  const StoreStats s = st->stats();
  EXPECT_EQ(s.bytes, 0u) << "the partial object's bytes are released";
  EXPECT_EQ(s.refusedBy(Refusal::kTooLarge), 1u);
  EXPECT_EQ(s.abandoned, 1u);
}

TEST(CacheBudgetTest, AnObjectLargerThanItsShardIsRefusedForSpace) {
  auto st = makeStore(20000, "lru", 1, 1 << 20);
  ASSERT_TRUE(cachetest::store(*st, keyFor("/small"), "x").ok());
  BeginFill b = st->beginFill(keyFor("/a"));
  ASSERT_TRUE(b.fill.setHead(headFor(1), ObjectMeta{}).ok());
  const std::string body = patternBody(30000, 1);
  EXPECT_FALSE(b.fill.append(body.data(), body.size()).ok());
  const StoreStats s = st->stats();
  EXPECT_EQ(s.refusedBy(Refusal::kNoSpace), 1u);
  EXPECT_LE(s.bytes, 20000u);
}

TEST(CacheBudgetTest, FillsInProgressAreNeverVictims) {
  auto st = makeStore(100000, "lru", 1);
  BeginFill a = st->beginFill(keyFor("/filling"));
  ASSERT_TRUE(a.fill.setHead(headFor(1), ObjectMeta{}).ok());
  const std::string big = patternBody(60000, 1);
  ASSERT_TRUE(a.fill.append(big.data(), big.size()).ok());
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(cachetest::store(*st, keyFor("/c" + std::to_string(i)), patternBody(20000, i)).ok()) << i;
    ASSERT_LE(st->stats().bytes, 100000u);
  }
  EXPECT_GT(st->stats().evictions, 5u);
  EXPECT_TRUE(a.fill.active());
  EXPECT_EQ(a.fill.object()->state(), FillState::kFilling);
  // No room for a second large fill beside the first: refused, the first kept.
  BeginFill c = st->beginFill(keyFor("/other"));
  ASSERT_TRUE(c.fill.setHead(headFor(2), ObjectMeta{}).ok());
  EXPECT_FALSE(c.fill.append(big.data(), 50000).ok());
  EXPECT_TRUE(a.fill.active());
  ASSERT_TRUE(a.fill.complete().ok());
  EXPECT_EQ(readChunks(*st->lookup(keyFor("/filling"))), big);
}

TEST(CacheBudgetTest, AHitKeepsServingWhileItsKeyIsEvicted) {
  for (const char* policy : {"s3fifo", "lru"}) {
    auto st = makeStore(200000, policy, 1);
    const std::string body = patternBody(50000, 9);
    ASSERT_TRUE(cachetest::store(*st, keyFor("/hot"), body).ok());
    ObjectPtr reader = st->lookup(keyFor("/hot"));
    ASSERT_TRUE(reader);
    // The reader has sent the first chunk and holds the object for the rest.
    std::string sent(reader->chunks()[0]->data(), reader->chunks()[0]->size());
    // Other objects come and are hit once each (with S3-FIFO they then move
    // to main, which pushes /hot, hit only by the reader, out of main).
    for (int i = 0; i < 20; ++i) {
      ASSERT_TRUE(cachetest::store(*st, keyFor("/other" + std::to_string(i)), patternBody(40000, i)).ok());
      (void)st->lookup(keyFor("/other" + std::to_string(i)));
    }
    EXPECT_FALSE(st->lookup(keyFor("/hot"))) << policy << ": evicted";
    EXPECT_LE(st->stats().bytes, 200000u);
    for (size_t i = 1; i < reader->chunks().size(); ++i) sent.append(reader->chunks()[i]->data(), reader->chunks()[i]->size());
    EXPECT_EQ(sent, body) << policy;
  }
}

TEST(CacheBudgetTest, GhostEntriesCountAgainstTheBudget) {
  // Tiny objects in a small cache: S3-FIFO's ghost grows; the total stays in.
  const uint64_t cap = 50000;
  auto st = makeStore(cap, "s3fifo", 1);
  auto name = [](int i) { return "/" + std::to_string(10000 + i); };  // one key length for all
  for (int i = 0; i < 2000; ++i) {
    ASSERT_TRUE(cachetest::store(*st, keyFor(name(i)), "tiny").ok());
    ASSERT_LE(st->stats().bytes, cap);
  }
  const StoreStats s = st->stats();
  // The objects alone would be under the cap by more than some ghost records.
  const uint64_t per_object = st->lookup(keyFor(name(1999)))->chargedBytes() + st->entryOverheadBytes();
  EXPECT_GT(s.bytes, s.objects * per_object) << "ghost entries are charged";
  EXPECT_EQ((s.bytes - s.objects * per_object) % S3FifoPolicy::kGhostEntryBytes, 0u);
}

}  // namespace
}  // namespace weir::cache
