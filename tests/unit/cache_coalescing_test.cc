// Waiters on other threads stream one fill as it arrives, woken only by the
// filler's callbacks (as the integrator's waiters will be, through a post to
// their own loop): each ends with the whole body, or with the bytes committed
// before an abandonment and the news of it.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "cache_test_util.h"
#include "weir/cache/store.h"

namespace weir::cache {
namespace {

using cachetest::headFor;
using cachetest::keyFor;
using cachetest::makeStore;
using cachetest::patternBody;

// A waiter's "event loop": the callback posts (bumps a counter and signals),
// the waiter's own thread reads.
class Waiter {
 public:
  explicit Waiter(ObjectPtr object) : object_(std::move(object)) {}

  // Reads until the fill ends; returns the bytes read and the final state.
  FillEvent run(std::string* body) {
    FillEvent now;
    const SubscriptionId id = object_->subscribe(
        [this](const FillEvent&) {
          std::lock_guard<std::mutex> lock(mu_);
          ++posted_;
          cv_.notify_one();
        },
        &now);
    uint64_t seen = 0;
    for (;;) {
      std::vector<ChunkSpan> spans;
      const FillEvent ev = object_->readFrom(body->size(), &spans);
      for (const ChunkSpan& s : spans) body->append(s.data(), s.length);
      if (ev.state != FillState::kFilling) {
        object_->unsubscribe(id);
        return ev;
      }
      std::unique_lock<std::mutex> lock(mu_);
      if (!cv_.wait_for(lock, std::chrono::seconds(10), [&] { return posted_ != seen; })) return FillEvent{};
      seen = posted_;
    }
  }

 private:
  ObjectPtr object_;
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t posted_ = 0;
};

void runFill(bool abandon_halfway, const char* policy) {
  auto st = makeStore(8 << 20, policy, 4, 4 << 20);
  const std::string body = patternBody(600000, 77);
  BeginFill filler = st->beginFill(keyFor("/slow"));
  ASSERT_EQ(filler.kind, BeginFill::Kind::kFill);
  constexpr int kWaiters = 6;
  std::vector<std::string> got(kWaiters);
  std::vector<FillEvent> ends(kWaiters);
  std::atomic<int> ready{0};
  std::vector<std::thread> waiters;
  for (int w = 0; w < kWaiters; ++w) {
    waiters.emplace_back([&, w] {
      BeginFill b = st->beginFill(keyFor("/slow"));
      EXPECT_EQ(b.kind, BeginFill::Kind::kWait);
      ready.fetch_add(1);
      if (b.kind == BeginFill::Kind::kWait) ends[w] = Waiter(b.object).run(&got[w]);
    });
  }
  while (ready.load() < kWaiters) std::this_thread::yield();
  ObjectMeta meta;
  meta.status = 200;
  meta.body_length = abandon_halfway ? -1 : static_cast<int64_t>(body.size());
  ASSERT_TRUE(filler.fill.setHead(headFor(77), meta).ok());
  size_t sent = 0;
  for (size_t off = 0; off < body.size(); off += 5000) {
    if (abandon_halfway && off >= body.size() / 2) break;
    const size_t n = std::min<size_t>(5000, body.size() - off);
    ASSERT_TRUE(filler.fill.append(body.data() + off, n).ok());
    sent = off + n;
    if (off % 50000 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (abandon_halfway) {
    filler.fill.abandon();
  } else {
    ASSERT_TRUE(filler.fill.complete().ok());
  }
  for (auto& t : waiters) t.join();
  for (int w = 0; w < kWaiters; ++w) {
    if (abandon_halfway) {
      EXPECT_EQ(ends[w].state, FillState::kAbandoned) << w;
      EXPECT_EQ(ends[w].reason, AbandonReason::kFiller) << w;
      EXPECT_EQ(got[w], body.substr(0, sent)) << w;
    } else {
      EXPECT_EQ(ends[w].state, FillState::kComplete) << w;
      EXPECT_EQ(got[w], body) << w;
    }
  }
  EXPECT_EQ(st->stats().filling, 0u);
  EXPECT_EQ(static_cast<bool>(st->lookup(keyFor("/slow"))), !abandon_halfway);
}

TEST(CacheCoalescingTest, WaitersOnOtherThreadsStreamTheFillAsItArrives) { runFill(false, "s3fifo"); }
TEST(CacheCoalescingTest, WaitersAreToldOfAnAbandonedFill) { runFill(true, "lru"); }

}  // namespace
}  // namespace weir::cache
