// The chunk pool: full-size chunks come from its slabs, freed slots are
// reused before new memory is mapped, and trim() keeps the slots usable.
#include "cache/storage/chunk_pool.h"

#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <vector>

#include "weir/cache/object.h"

namespace weir::cache {
namespace {

TEST(CacheChunkPoolTest, SlotsAreDistinctAlignedAndReusedBeforeMoreIsMapped) {
  ChunkPool& pool = ChunkPool::instance();
  std::vector<void*> slots;
  std::set<void*> seen;
  for (int i = 0; i < 100; ++i) {  // more than one slab's 64 slots
    void* s = pool.allocate();
    EXPECT_EQ(reinterpret_cast<uintptr_t>(s) % 16, 0u);
    std::memset(s, i, ChunkPool::kSlotBytes);  // the whole slot is writable
    EXPECT_TRUE(seen.insert(s).second) << "slot handed out twice";
    slots.push_back(s);
  }
  const uint64_t mapped = pool.stats().mapped_bytes;
  EXPECT_GE(mapped, 100 * ChunkPool::kSlotBytes);
  for (void* s : slots) pool.free(s);
  for (int i = 0; i < 100; ++i) slots[static_cast<size_t>(i)] = pool.allocate();
  EXPECT_EQ(pool.stats().mapped_bytes, mapped) << "freed slots must be reused first";
  for (void* s : slots) pool.free(s);
}

TEST(CacheChunkPoolTest, TrimmedSlotsAreZeroedAndStillUsable) {
  ChunkPool& pool = ChunkPool::instance();
  void* s = pool.allocate();
  std::memset(s, 0xab, ChunkPool::kSlotBytes);
  pool.free(s);
  pool.trim();
  void* again = pool.allocate();
  EXPECT_EQ(again, s) << "the last freed slot comes back first";
  EXPECT_EQ(static_cast<unsigned char*>(again)[100], 0u) << "trim gave the page back: it reads as zero";
  std::memset(again, 1, ChunkPool::kSlotBytes);
  pool.free(again);
}

TEST(CacheChunkPoolTest, OnlyFullChunksComeFromThePool) {
  ChunkPool& pool = ChunkPool::instance();
  const uint64_t free_before = pool.stats().free_slots;
  const uint64_t mapped_before = pool.stats().mapped_bytes;
  Chunk* full = Chunk::create(kChunkSize);
  Chunk* small = Chunk::create(4000);
  const ChunkPool::Stats during = pool.stats();
  EXPECT_EQ(during.free_slots, free_before + (during.mapped_bytes - mapped_before) / ChunkPool::kSlotBytes - 1)
      << "one slot taken for the full chunk, none for the small one";
  EXPECT_EQ(full->allocatedBytes(), ChunkPool::kSlotBytes);
  full->release();
  small->release();
  EXPECT_EQ(pool.stats().free_slots, during.free_slots + 1);
}

}  // namespace
}  // namespace weir::cache
