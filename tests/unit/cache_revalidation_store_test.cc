// The store's side of revalidation, stale serving and purge by tag: a fill
// that replaces a stale object keeps it (previous), a 304 refreshes it over
// the same chunks, a failed fetch puts it back, tags are indexed, soft
// purge marks objects stale, and the byte count stays exact throughout.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cache_test_util.h"
#include "weir/cache/store.h"

namespace weir::cache {
namespace {

using cachetest::keyFor;
using cachetest::makeStore;
using cachetest::patternBody;
using cachetest::readAll;
using cachetest::readChunks;

ObjectMeta metaFor(size_t body) {
  ObjectMeta m;
  m.status = 200;
  m.body_length = static_cast<int64_t>(body);
  return m;
}

Status fillTagged(Store& st, const CacheKey& key, const std::string& body, std::vector<std::string> tags) {
  BeginFill b = st.beginFill(key, true);
  if (b.kind != BeginFill::Kind::kFill) return Error{"no fill"};
  Status s = b.fill.setHead("HTTP/1.1 200 OK\r\nX-V: 1\r\n", metaFor(body.size()), {std::move(tags), ""});
  if (!s) return s;
  s = b.fill.append(body.data(), body.size());
  if (!s) return s;
  return b.fill.complete();
}

TEST(CacheRevalidationStore, AReplacingFillKeepsThePreviousObjectUntilItsHead) {
  auto st = makeStore(4 << 20);
  const CacheKey key = keyFor("/r");
  const std::string body = patternBody(40000, 3);
  ASSERT_TRUE(cachetest::store(*st, key, body).ok());
  const uint64_t stored = st->stats().bytes;
  ObjectPtr old = st->lookup(key);
  BeginFill b = st->beginFill(key, true);
  ASSERT_EQ(b.kind, BeginFill::Kind::kFill);
  EXPECT_EQ(b.fill.previous(), old);
  EXPECT_EQ(b.fill.object()->previous(), old) << "waiters see it too";
  EXPECT_EQ(st->lookup(key), nullptr) << "the key is being filled";
  EXPECT_GE(st->stats().bytes, stored) << "the previous object's bytes still count";
  BeginFill w = st->beginFill(key, true);
  EXPECT_EQ(w.kind, BeginFill::Kind::kWait);
  // A new response: the previous object goes, its bytes with it.
  ASSERT_TRUE(b.fill.setHead("HTTP/1.1 200 OK\r\n", metaFor(3)).ok());
  EXPECT_EQ(b.fill.previous(), nullptr);
  EXPECT_EQ(b.fill.object()->previous(), nullptr);
  EXPECT_LT(st->stats().bytes, stored);
  ASSERT_TRUE(b.fill.append("new", 3).ok());
  ASSERT_TRUE(b.fill.complete().ok());
  EXPECT_EQ(readAll(*st->lookup(key)), "new");
  EXPECT_EQ(readChunks(*old), body) << "a reader's reference stays valid";
}

TEST(CacheRevalidationStore, RefreshSharesTheBodyAndChargesItOnce) {
  auto st = makeStore(4 << 20);
  const CacheKey key = keyFor("/r");
  const std::string body = patternBody(50000, 4);
  ASSERT_TRUE(cachetest::store(*st, key, body).ok());
  const uint64_t before = st->stats().bytes;
  ObjectPtr old = st->lookup(key);
  BeginFill b = st->beginFill(key, true);
  ASSERT_EQ(b.kind, BeginFill::Kind::kFill);
  ObjectPtr fresh = b.fill.object();
  FillEvent seen;
  int events = 0;
  BeginFill w = st->beginFill(key, true);
  ASSERT_EQ(w.kind, BeginFill::Kind::kWait);
  w.object->subscribe([&](const FillEvent& ev) { seen = ev, ++events; }, &seen);
  ObjectMeta meta = metaFor(0);
  meta.freshness_lifetime = 99;
  ASSERT_TRUE(b.fill.refresh("HTTP/1.1 200 OK\r\nX-V: 2\r\n", meta).ok());
  EXPECT_FALSE(b.fill.active());
  EXPECT_EQ(seen.state, FillState::kComplete) << "the waiter streams the refreshed object";
  ObjectPtr now = st->lookup(key);
  ASSERT_EQ(now, fresh);
  EXPECT_EQ(now->head(), "HTTP/1.1 200 OK\r\nX-V: 2\r\n");
  EXPECT_EQ(now->meta().freshness_lifetime, 99);
  EXPECT_EQ(now->meta().body_length, 50000);
  EXPECT_EQ(readChunks(*now), body);
  ASSERT_EQ(now->chunks().size(), old->chunks().size());
  EXPECT_EQ(now->chunks()[0].get(), old->chunks()[0].get()) << "shared, not copied";
  // The same body, a head of the same size: within a few bytes of before.
  const uint64_t after = st->stats().bytes;
  EXPECT_LE(after, before + 64);
  EXPECT_GE(after + 64, before);
  EXPECT_EQ(now->chargedBytes() + st->entryOverheadBytes(), after);
}

TEST(CacheRevalidationStore, RestorePutsThePreviousObjectBack) {
  auto st = makeStore(4 << 20);
  const CacheKey key = keyFor("/r");
  ASSERT_TRUE(cachetest::store(*st, key, "old body").ok());
  const uint64_t before = st->stats().bytes;
  ObjectPtr old = st->lookup(key);
  BeginFill b = st->beginFill(key, true);
  BeginFill w = st->beginFill(key, true);
  ASSERT_EQ(w.kind, BeginFill::Kind::kWait);
  FillEvent seen;
  w.object->subscribe([&](const FillEvent& ev) { seen = ev; }, &seen);
  EXPECT_TRUE(b.fill.restore());
  EXPECT_EQ(seen.state, FillState::kAbandoned);
  EXPECT_EQ(seen.reason, AbandonReason::kRestored);
  EXPECT_EQ(st->lookup(key), old);
  EXPECT_EQ(st->stats().bytes, before);
  EXPECT_EQ(st->stats().objects, 1u);
  EXPECT_EQ(st->stats().filling, 0u);
  // Without a previous object a restore is a plain abandon.
  BeginFill fresh = st->beginFill(keyFor("/new"), false);
  ASSERT_EQ(fresh.kind, BeginFill::Kind::kFill);
  EXPECT_FALSE(fresh.fill.restore());
  EXPECT_FALSE(fresh.fill.active());
  EXPECT_EQ(st->stats().bytes, before);
}

TEST(CacheRevalidationStore, AnEraseDuringTheRevalidationWins) {
  auto st = makeStore(4 << 20);
  const CacheKey key = keyFor("/r");
  ASSERT_TRUE(cachetest::store(*st, key, "old").ok());
  BeginFill b = st->beginFill(key, true);
  EXPECT_TRUE(st->erase(key));
  EXPECT_FALSE(b.fill.restore()) << "purged meanwhile: not put back";
  EXPECT_EQ(st->lookup(key), nullptr);
  EXPECT_EQ(st->stats().bytes, 0u);
}

// A purge while a revalidation runs finds the object it would put back:
// the fill is abandoned (hard) or the kept object marked (soft), so a
// failed fetch cannot bring a purged object back.
TEST(CacheRevalidationStore, APurgeDuringARevalidationIsNotUndoneByARestore) {
  auto st = makeStore(4 << 20);
  const CacheKey key = keyFor("/p");
  ASSERT_TRUE(fillTagged(*st, key, "tagged", {"prod-1"}).ok());
  BeginFill soft = st->beginFill(key, true);
  ASSERT_EQ(soft.kind, BeginFill::Kind::kFill);
  EXPECT_EQ(st->purgeTag("prod-1", true, 1000), 1u);
  EXPECT_TRUE(soft.fill.restore());
  EXPECT_TRUE(st->lookup(key)->markedStale()) << "restored, still marked";
  BeginFill hard = st->beginFill(key, true);
  ASSERT_EQ(hard.kind, BeginFill::Kind::kFill);
  EXPECT_EQ(st->purgeTag("prod-1", false), 1u);
  EXPECT_FALSE(hard.fill.restore());
  EXPECT_EQ(st->lookup(key), nullptr);
  EXPECT_EQ(st->stats().bytes, 0u);
}

// Revalidations of a full store never take it past its budget.
TEST(CacheRevalidationStore, RevalidationsOfAFullStoreStayUnderTheCap) {
  auto st = makeStore(200000, "lru", 1);
  std::vector<CacheKey> keys;
  for (int i = 0; st->stats().evictions == 0 && i < 1000; ++i) {
    keys.push_back(keyFor("/full/" + std::to_string(i)));
    ASSERT_TRUE(cachetest::store(*st, keys.back(), patternBody(900, i)).ok());
  }
  std::vector<FillHandle> fills;
  for (const CacheKey& k : keys) {
    BeginFill b = st->beginFill(k, true);
    if (b.kind == BeginFill::Kind::kFill) fills.push_back(std::move(b.fill));
    EXPECT_LE(st->stats().bytes, 200000u);
  }
  EXPECT_FALSE(fills.empty());
  for (FillHandle& f : fills) f.restore();
  EXPECT_LE(st->stats().bytes, 200000u);
}

TEST(CacheRevalidationStore, PurgeByTagFindsTaggedObjectsOnly) {
  auto st = makeStore(8 << 20, "s3fifo", 4);
  for (int i = 0; i < 40; ++i) {
    std::vector<std::string> tags{"all"};
    tags.push_back(i % 2 == 0 ? "even" : "odd");
    if (i == 7) tags.push_back("seven");
    ASSERT_TRUE(fillTagged(*st, keyFor("/t/" + std::to_string(i)), "x", tags).ok());
  }
  EXPECT_EQ(st->purgeTag("seven", false), 1u);
  EXPECT_EQ(st->lookup(keyFor("/t/7")), nullptr);
  EXPECT_EQ(st->purgeTag("seven", false), 0u);
  EXPECT_EQ(st->purgeTag("eve", false), 0u) << "whole tags only";
  EXPECT_EQ(st->purgeTag("even", true, 1000), 20u) << "soft: marked, kept";
  EXPECT_TRUE(st->lookup(keyFor("/t/4"))->markedStale());
  EXPECT_FALSE(st->lookup(keyFor("/t/5"))->markedStale());
  EXPECT_EQ(st->purgeTag("even", false), 20u);
  EXPECT_EQ(st->purgeTag("all", false), 19u);
  EXPECT_EQ(st->stats().objects, 0u);
  EXPECT_EQ(st->stats().bytes, 0u) << "the tag index's charge left with the objects";
}

TEST(CacheRevalidationStore, TagsLeaveTheIndexWhenObjectsAreEvictedOrReplaced) {
  auto st = makeStore(1 << 20, "lru", 1);
  const std::string body = patternBody(100000, 5);
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(fillTagged(*st, keyFor("/e/" + std::to_string(i)), body, {"big"}).ok());
  const uint64_t kept = st->stats().objects;
  EXPECT_LT(kept, 30u) << "some were evicted";
  EXPECT_EQ(st->purgeTag("big", false), kept) << "only what is still stored";
  ASSERT_TRUE(fillTagged(*st, keyFor("/x"), "a", {"one"}).ok());
  ASSERT_TRUE(fillTagged(*st, keyFor("/x"), "b", {"two"}).ok());  // replaced, new tags
  EXPECT_EQ(st->purgeTag("one", false), 0u);
  EXPECT_EQ(st->purgeTag("two", false), 1u);
}

TEST(CacheRevalidationStore, SoftPurgeByKeyMarksWithoutRemoving) {
  auto st = makeStore(4 << 20);
  ASSERT_TRUE(cachetest::store(*st, keyFor("/s/a"), "a").ok());
  ASSERT_TRUE(cachetest::store(*st, keyFor("/s/b"), "b").ok());
  ASSERT_TRUE(cachetest::store(*st, keyFor("/o/c"), "c").ok());
  EXPECT_TRUE(st->markStale(keyFor("/s/a"), 1000));
  EXPECT_EQ(st->lookup(keyFor("/s/a"))->markedStaleAt(), 1000);
  EXPECT_TRUE(st->markStale(keyFor("/s/a"), 2000));
  EXPECT_EQ(st->lookup(keyFor("/s/a"))->markedStaleAt(), 1000) << "the first mark stays";
  EXPECT_FALSE(st->markStale(keyFor("/none"), 1000));
  const std::string prefix = keyFor("/s/").str();
  EXPECT_EQ(st->markStaleIf([&](const CacheKey& k) { return k.str().rfind(prefix, 0) == 0; }, 1000), 2u);
  EXPECT_TRUE(st->lookup(keyFor("/s/b"))->markedStale());
  EXPECT_FALSE(st->lookup(keyFor("/o/c"))->markedStale());
  EXPECT_EQ(st->stats().objects, 3u);
}

TEST(CacheRevalidationStore, ABackgroundRefreshIsClaimedOnceUntilItsRetryTime) {
  auto st = makeStore(4 << 20);
  ASSERT_TRUE(cachetest::store(*st, keyFor("/c"), "c").ok());
  ObjectPtr o = st->lookup(keyFor("/c"));
  EXPECT_TRUE(o->claimRefresh(1000, 10));
  EXPECT_FALSE(o->claimRefresh(1001, 10));
  EXPECT_FALSE(o->claimRefresh(1009, 10));
  EXPECT_TRUE(o->claimRefresh(1010, 10));
}

}  // namespace
}  // namespace weir::cache
