// Objects and chunks: chunk sizing, reading while filling, the retain /
// release contract of zero-copy hits, and fill notifications.
#include "weir/cache/object.h"

#include <gtest/gtest.h>

#include <vector>

#include "cache_test_util.h"
#include "weir/cache/store.h"

namespace weir::cache {
namespace {

using cachetest::fillWith;
using cachetest::headFor;
using cachetest::keyFor;
using cachetest::makeStore;
using cachetest::patternBody;
using cachetest::readAll;
using cachetest::readChunks;

TEST(CacheObjectTest, ChunkReferenceCountingAndTheEvbufferCleanup) {
  Chunk* c = Chunk::create(100);
  EXPECT_EQ(c->refCount(), 1u);
  EXPECT_EQ(c->capacity(), 100u);
  EXPECT_EQ(c->size(), 0u);
  EXPECT_EQ(c->allocatedBytes(), sizeof(Chunk) + 100);
  c->retain();
  EXPECT_EQ(c->refCount(), 2u);
  // What libevent calls when the evbuffer no longer needs the bytes.
  void (*cleanup)(const void*, size_t, void*) = &Chunk::releaseCallback;
  cleanup(c->data(), 0, c);
  EXPECT_EQ(c->refCount(), 1u);
  {
    ChunkRef ref = ChunkRef::adopt(c);  // takes the last reference
    ChunkRef copy = ref;
    EXPECT_EQ(c->refCount(), 2u);
  }  // freed here; ASan would report a leak or a double free
}

TEST(CacheObjectTest, DeclaredLengthUsesFullChunksAndAnExactLastOne) {
  auto st = makeStore(1 << 20);
  BeginFill b = st->beginFill(keyFor("/a"));
  ASSERT_EQ(b.kind, BeginFill::Kind::kFill);
  const std::string body = patternBody(kChunkSize * 2 + 100, 3);
  ASSERT_TRUE(fillWith(b.fill, headFor(3), body, {true, 1000}).ok());
  ObjectPtr o = st->lookup(keyFor("/a"));
  ASSERT_TRUE(o);
  ASSERT_EQ(o->chunks().size(), 3u);
  EXPECT_EQ(o->chunks()[0]->capacity(), kChunkSize);
  EXPECT_EQ(o->chunks()[1]->capacity(), kChunkSize);
  EXPECT_EQ(o->chunks()[2]->capacity(), 100u);
  EXPECT_EQ(readChunks(*o), body);
  EXPECT_EQ(o->bodySize(), body.size());
  EXPECT_EQ(o->head(), headFor(3));
  EXPECT_EQ(o->meta().status, 200);
}

TEST(CacheObjectTest, UnknownLengthChunksGrowFromTheMinimum) {
  auto st = makeStore(1 << 20);
  BeginFill b = st->beginFill(keyFor("/a"));
  const std::string body = patternBody(40000, 4);
  ASSERT_TRUE(fillWith(b.fill, headFor(4), body, {false, 777}).ok());
  ObjectPtr o = st->lookup(keyFor("/a"));
  ASSERT_TRUE(o);
  std::vector<size_t> caps;
  for (const ChunkRef& c : o->chunks()) caps.push_back(c->capacity());
  EXPECT_EQ(caps, (std::vector<size_t>{1024, 1024, 2048, 4096, 8192, kChunkSize, kChunkSize}));
  EXPECT_EQ(readChunks(*o), body);
}

TEST(CacheObjectTest, ReadersSeeCommittedBytesWhileFillingFromAnyOffset) {
  auto st = makeStore(1 << 20);
  BeginFill b = st->beginFill(keyFor("/a"));
  ObjectMeta meta;
  meta.body_length = 50000;
  ASSERT_TRUE(b.fill.setHead(headFor(5), meta).ok());
  const std::string body = patternBody(50000, 5);
  ASSERT_TRUE(b.fill.append(body.data(), 20000).ok());
  ObjectPtr o = b.fill.object();
  EXPECT_EQ(o->state(), FillState::kFilling);
  EXPECT_TRUE(o->hasHead());
  EXPECT_EQ(readAll(*o), body.substr(0, 20000));
  std::vector<ChunkSpan> spans;
  const FillEvent ev = o->readFrom(16000, &spans);
  EXPECT_EQ(ev.committed, 20000u);
  ASSERT_EQ(spans.size(), 2u);  // 16000..kChunkSize in chunk 0, kChunkSize..20000 in chunk 1
  EXPECT_EQ(spans[0].length, kChunkSize - 16000);
  EXPECT_EQ(spans[1].offset, 0u);
  EXPECT_EQ(spans[1].length, 20000 - kChunkSize);
  EXPECT_EQ(std::string(spans[1].data(), 10), body.substr(kChunkSize, 10));
  spans.clear();
  o->readFrom(20000, &spans);
  EXPECT_TRUE(spans.empty());
  EXPECT_FALSE(st->lookup(keyFor("/a"))) << "a fill in progress is not a hit";
  ASSERT_TRUE(b.fill.append(body.data() + 20000, 30000).ok());
  ASSERT_TRUE(b.fill.complete().ok());
  EXPECT_EQ(o->state(), FillState::kComplete);
  EXPECT_EQ(readAll(*o), body);
}

TEST(CacheObjectTest, AChunkOutlivesItsObjectWhileReferenced) {
  const Chunk* held = nullptr;
  std::string expected;
  {
    auto st = makeStore(1 << 20);
    BeginFill b = st->beginFill(keyFor("/a"));
    const std::string body = patternBody(3000, 6);
    ASSERT_TRUE(fillWith(b.fill, headFor(6), body).ok());
    ObjectPtr o = st->lookup(keyFor("/a"));
    held = o->chunks()[0].get();
    held->retain();  // as before evbuffer_add_reference
    expected = body;
    EXPECT_TRUE(st->erase(keyFor("/a")));
  }  // the store and the object are gone
  EXPECT_EQ(held->refCount(), 1u);
  EXPECT_EQ(std::string(held->data(), held->size()), expected);
  Chunk::releaseCallback(held->data(), held->size(), const_cast<Chunk*>(held));
}

struct Recorder {
  std::vector<FillEvent> events;
  FillCallback callback() {
    return [this](const FillEvent& ev) { events.push_back(ev); };
  }
};

TEST(CacheObjectTest, SubscribersHearEachCommitAndTheCompletion) {
  auto st = makeStore(1 << 20);
  BeginFill b = st->beginFill(keyFor("/a"));
  BeginFill w = st->beginFill(keyFor("/a"));
  ASSERT_EQ(w.kind, BeginFill::Kind::kWait);
  ASSERT_EQ(w.object, b.fill.object());
  Recorder rec;
  FillEvent now;
  const SubscriptionId id = w.object->subscribe(rec.callback(), &now);
  EXPECT_NE(id, 0u);
  EXPECT_EQ(now.state, FillState::kFilling);
  EXPECT_FALSE(now.head_ready);
  ObjectMeta meta;
  ASSERT_TRUE(b.fill.setHead(headFor(1), meta).ok());
  ASSERT_TRUE(b.fill.append("abc", 3).ok());
  ASSERT_TRUE(b.fill.append("defg", 4).ok());
  ASSERT_TRUE(b.fill.complete().ok());
  ASSERT_EQ(rec.events.size(), 4u);
  EXPECT_TRUE(rec.events[0].head_ready);
  EXPECT_EQ(rec.events[0].committed, 0u);
  EXPECT_EQ(rec.events[1].committed, 3u);
  EXPECT_EQ(rec.events[2].committed, 7u);
  EXPECT_EQ(rec.events[3].state, FillState::kComplete);
  EXPECT_EQ(w.object->subscriberCount(), 0u) << "a terminal event ends the subscription";
  EXPECT_FALSE(w.object->unsubscribe(id));
  EXPECT_EQ(readAll(*w.object), "abcdefg");
}

TEST(CacheObjectTest, AbandonTellsSubscribersAndKeepsCommittedBytes) {
  auto st = makeStore(1 << 20);
  BeginFill b = st->beginFill(keyFor("/a"));
  ObjectPtr o = b.fill.object();
  Recorder rec;
  FillEvent now;
  ASSERT_NE(o->subscribe(rec.callback(), &now), 0u);
  ASSERT_TRUE(b.fill.setHead(headFor(1), ObjectMeta{}).ok());
  ASSERT_TRUE(b.fill.append("xy", 2).ok());
  b.fill.abandon();
  EXPECT_FALSE(b.fill.active());
  ASSERT_EQ(rec.events.size(), 3u);
  EXPECT_EQ(rec.events.back().state, FillState::kAbandoned);
  EXPECT_EQ(rec.events.back().reason, AbandonReason::kFiller);
  EXPECT_EQ(rec.events.back().committed, 2u);
  EXPECT_EQ(readAll(*o), "xy");
  EXPECT_EQ(st->stats().filling, 0u);
  EXPECT_EQ(st->stats().abandoned, 1u);
  EXPECT_EQ(st->beginFill(keyFor("/a")).kind, BeginFill::Kind::kFill) << "the key is free again";
}

TEST(CacheObjectTest, DroppingTheHandleAbandons) {
  auto st = makeStore(1 << 20);
  ObjectPtr o;
  Recorder rec;
  {
    BeginFill b = st->beginFill(keyFor("/a"));
    o = b.fill.object();
    FillEvent now;
    o->subscribe(rec.callback(), &now);
  }
  ASSERT_EQ(rec.events.size(), 1u);
  EXPECT_EQ(rec.events[0].state, FillState::kAbandoned);
  EXPECT_EQ(o->state(), FillState::kAbandoned);
}

TEST(CacheObjectTest, SubscribeAfterTheEndRegistersNothingAndUnsubscribeStops) {
  auto st = makeStore(1 << 20);
  BeginFill b = st->beginFill(keyFor("/a"));
  ObjectPtr o = b.fill.object();
  Recorder kept, dropped;
  FillEvent now;
  o->subscribe(kept.callback(), &now);
  const SubscriptionId gone = o->subscribe(dropped.callback(), &now);
  EXPECT_TRUE(o->unsubscribe(gone));
  ASSERT_TRUE(fillWith(b.fill, headFor(1), "body").ok());
  EXPECT_TRUE(dropped.events.empty());
  EXPECT_EQ(kept.events.back().state, FillState::kComplete);
  Recorder late;
  EXPECT_EQ(o->subscribe(late.callback(), &now), 0u);
  EXPECT_EQ(now.state, FillState::kComplete);
  EXPECT_EQ(now.committed, 4u);
  EXPECT_TRUE(late.events.empty());
}

TEST(CacheObjectTest, CompleteRefusesABodyShorterThanDeclared) {
  auto st = makeStore(1 << 20);
  BeginFill b = st->beginFill(keyFor("/a"));
  ObjectMeta meta;
  meta.body_length = 10;
  ASSERT_TRUE(b.fill.setHead(headFor(1), meta).ok());
  ObjectPtr o = b.fill.object();
  ASSERT_TRUE(b.fill.append("12345", 5).ok());
  EXPECT_FALSE(b.fill.complete().ok());
  EXPECT_EQ(o->state(), FillState::kAbandoned);
  EXPECT_FALSE(st->lookup(keyFor("/a")));
}

}  // namespace
}  // namespace weir::cache
