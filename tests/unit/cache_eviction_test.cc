// The eviction policies on crafted sequences (ids stand for entries, charges
// are 1 byte, so capacities are entry counts).
#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "cache/eviction/lru.h"
#include "cache/eviction/s3fifo.h"
#include "weir/cache/eviction.h"

namespace weir::cache {
namespace {

// A tiny cache over a policy: `capacity` entries of charge 1, fingerprint = id.
class Sim {
 public:
  Sim(EvictionPolicy& policy, size_t capacity) : policy_(policy), capacity_(capacity) {}
  // Returns true on a hit.
  bool access(EntryId id) {
    if (resident_.count(id) != 0) {
      policy_.touch(id);
      return true;
    }
    while (resident_.size() >= capacity_) {
      const EntryId victim = policy_.evict();
      EXPECT_NE(victim, kNoEntry);
      EXPECT_EQ(resident_.erase(victim), 1u) << "victim " << victim << " was not resident";
      evicted_.push_back(victim);
    }
    policy_.admit(id, id, 1);
    resident_.insert(id);
    return false;
  }
  bool resident(EntryId id) const { return resident_.count(id) != 0; }
  const std::vector<EntryId>& evicted() const { return evicted_; }

 private:
  EvictionPolicy& policy_;
  size_t capacity_;
  std::set<EntryId> resident_;
  std::vector<EntryId> evicted_;
};

TEST(CacheEvictionTest, RegistryNamesBothPolicies) {
  EXPECT_STREQ(makeEvictionPolicy("s3fifo", 100)->name(), "s3fifo");
  EXPECT_STREQ(makeEvictionPolicy("lru", 100)->name(), "lru");
  EXPECT_EQ(makeEvictionPolicy("clock", 100), nullptr);
  EXPECT_EQ(kDefaultEviction, "s3fifo");
}

TEST(CacheEvictionTest, LruEvictsTheLeastRecentlyUsed) {
  LruPolicy lru;
  for (EntryId id = 0; id < 4; ++id) lru.admit(id, id, 1);
  lru.touch(0);
  lru.touch(2);
  EXPECT_EQ(lru.evict(), 1u);
  EXPECT_EQ(lru.evict(), 3u);
  EXPECT_EQ(lru.evict(), 0u);
  lru.remove(2);
  EXPECT_EQ(lru.evict(), kNoEntry);
  EXPECT_EQ(lru.size(), 0u);
  EXPECT_EQ(lru.overheadBytes(), 0u);
}

TEST(CacheEvictionTest, S3FifoOneHitWondersLeaveThroughSmallWithoutTouchingMain) {
  S3FifoPolicy s3(100);  // small: 10 entries' worth
  Sim sim(s3, 100);
  // A hot set of 50, each seen twice: into small, hit, promoted to main.
  for (int round = 0; round < 2; ++round) {
    for (EntryId id = 0; id < 50; ++id) sim.access(id);
  }
  // A scan of 1000 one-hit wonders.
  for (EntryId id = 1000; id < 2000; ++id) sim.access(id);
  for (EntryId id = 0; id < 50; ++id) {
    EXPECT_TRUE(sim.resident(id)) << id;
    EXPECT_TRUE(s3.inMain(id)) << id;
  }
  for (EntryId id = 1000; id < 2000; ++id) EXPECT_FALSE(s3.inMain(id)) << id;
  for (EntryId v : sim.evicted()) EXPECT_GE(v, 1000u) << "only scan entries are evicted";
  EXPECT_GT(s3.ghostSize(), 0u);
  EXPECT_EQ(s3.overheadBytes(), s3.ghostSize() * S3FifoPolicy::kGhostEntryBytes);

  // LRU on the same sequence loses the whole hot set.
  LruPolicy lru;
  Sim lsim(lru, 100);
  for (int round = 0; round < 2; ++round) {
    for (EntryId id = 0; id < 50; ++id) lsim.access(id);
  }
  for (EntryId id = 1000; id < 2000; ++id) lsim.access(id);
  for (EntryId id = 0; id < 50; ++id) EXPECT_FALSE(lsim.resident(id)) << id;
}

TEST(CacheEvictionTest, S3FifoAGhostHitIsInsertedIntoMain) {
  S3FifoPolicy s3(10);  // small target 1
  s3.admit(1, 0xabc, 1);
  s3.admit(2, 0xdef, 1);
  EXPECT_TRUE(s3.inSmall(1));
  EXPECT_EQ(s3.evict(), 1u) << "the oldest in small, never hit";
  EXPECT_EQ(s3.ghostSize(), 1u);
  // The same key (fingerprint) comes back, in a new slot.
  s3.admit(7, 0xabc, 1);
  EXPECT_TRUE(s3.inMain(7));
  EXPECT_EQ(s3.ghostSize(), 0u) << "a ghost hit consumes the ghost entry";
  s3.admit(8, 0x123, 1);
  EXPECT_TRUE(s3.inSmall(8));
}

TEST(CacheEvictionTest, S3FifoMainReinsertsWhileTheCountLasts) {
  S3FifoPolicy s3(5);  // small target 0: evict() takes from small first
  // Put 1, 2, 3 in main through ghost hits.
  for (EntryId id = 1; id <= 3; ++id) {
    s3.admit(id, id, 1);
    ASSERT_EQ(s3.evict(), id);
    s3.admit(id, id, 1);
    ASSERT_TRUE(s3.inMain(id));
  }
  s3.touch(1);
  s3.touch(1);
  s3.touch(2);
  // Main's order is 1 (oldest), 2, 3. 1 has 2, 2 has 1, 3 has none.
  EXPECT_EQ(s3.evict(), 3u);
  EXPECT_EQ(s3.evict(), 2u) << "1 reinserted twice, 2 once";
  EXPECT_EQ(s3.evict(), 1u);
  EXPECT_EQ(s3.evict(), kNoEntry);
}

TEST(CacheEvictionTest, S3FifoCountSaturatesAtThreeAndTouchMovesNothing) {
  S3FifoPolicy s3(100);
  s3.admit(1, 1, 1);
  s3.admit(2, 2, 1);
  for (int i = 0; i < 10; ++i) s3.touch(1);
  EXPECT_EQ(s3.freqOf(1), 3u);
  EXPECT_EQ(s3.freqOf(2), 0u);
  EXPECT_TRUE(s3.inSmall(1)) << "a hit is a counter increment, no list move";
}

TEST(CacheEvictionTest, S3FifoRemoveAndTheGhostBound) {
  S3FifoPolicy s3(20);  // ghost remembers 18 bytes of charges
  for (EntryId id = 0; id < 100; ++id) {
    s3.admit(id, id, 1);
    ASSERT_EQ(s3.evict(), id);
  }
  EXPECT_EQ(s3.ghostSize(), 18u);
  s3.admit(200, 200, 1);
  s3.remove(200);
  EXPECT_EQ(s3.size(), 0u);
  EXPECT_EQ(s3.evict(), kNoEntry);
  EXPECT_TRUE(s3.shedOverhead());
  EXPECT_EQ(s3.ghostSize(), 17u);
  s3.setCapacity(5);
  EXPECT_LE(s3.ghostSize(), 5u);
}

TEST(CacheEvictionTest, S3FifoSmallHitsMoveToMainOnEviction) {
  S3FifoPolicy s3(10);  // small target 1
  s3.admit(1, 1, 1);
  s3.admit(2, 2, 1);
  s3.touch(1);
  EXPECT_EQ(s3.evict(), 2u) << "1 was hit: it moves to main, 2 goes";
  EXPECT_TRUE(s3.inMain(1));
  EXPECT_EQ(s3.smallSize(), 0u);
  EXPECT_EQ(s3.mainSize(), 1u);
}

}  // namespace
}  // namespace weir::cache
