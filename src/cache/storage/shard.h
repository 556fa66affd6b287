// One store shard: its index, entries, eviction policy and budget. Private to
// src/cache/storage. Every member function requires `mu` held.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "weir/cache/eviction.h"
#include "weir/cache/object.h"
#include "weir/cache/types.h"

namespace weir::cache {

struct Entry {
  std::shared_ptr<Object> object;  // null in a free slot
  uint64_t charge = 0;
  // A fill that would replace a stale object keeps it (Object::previous())
  // until the response decides; its charge stays in `charge`, and its tags
  // in the tag index under this entry, till then (a purge finds it, and a
  // restore cannot bring back what was purged). Never the last reference
  // (the FillHandle holds one), so it may be dropped under the lock.
  std::shared_ptr<Object> previous;
  uint64_t previous_charge = 0;
  bool filling = false;
};

// Written only with the shard's mutex held (a relaxed load and store, no
// locked read-modify-write); read from any thread.
struct ShardCounters {
  std::atomic<uint64_t> bytes{0};
  std::atomic<uint64_t> objects{0};
  std::atomic<uint64_t> filling{0};
  std::atomic<uint64_t> hits{0};
  std::atomic<uint64_t> misses{0};
  std::atomic<uint64_t> inserts{0};
  std::atomic<uint64_t> evictions{0};
  std::atomic<uint64_t> erased{0};
  std::atomic<uint64_t> abandoned{0};
  std::array<std::atomic<uint64_t>, static_cast<size_t>(Refusal::kCount)> refused{};
};

inline void bump(std::atomic<uint64_t>& counter) {
  counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

// What a locked operation unlinked, released once the lock is gone: objects
// whose fill it abandoned are told (callbacks never run under the shard
// lock), and the last references drop outside it too.
struct Released {
  std::vector<std::shared_ptr<Object>> dropped;
  std::vector<std::shared_ptr<Object>> abandoned;
  // Call without the shard lock (the destructor calls it too: declare a
  // Released before the lock_guard so that it goes after the lock).
  void finish();
  ~Released() { finish(); }
};

uint64_t tagHash(std::string_view tag);

struct alignas(64) Shard {
  std::mutex mu;
  std::unordered_map<Hash128, EntryId, Hash128Hasher> index;
  // Purge by tag: tag hash -> the entries whose object carries the tag.
  std::unordered_map<uint64_t, std::unordered_set<EntryId>> tags;
  std::vector<Entry> entries;
  std::vector<EntryId> free_ids;
  std::unique_ptr<EvictionPolicy> policy;
  uint64_t budget = 0;
  uint64_t used = 0;           // sum of entry charges
  uint64_t filling_bytes = 0;  // of which fills in progress
  uint64_t objects = 0;
  uint64_t filling = 0;
  ShardCounters counters;

  // What counts against the budget.
  uint64_t total() const { return used + policy->overheadBytes(); }
  // The entry under `key`'s hash, whatever its full key; kNoEntry if none.
  EntryId findHash(const Hash128& hash) const;
  // The entry under `key`, full key compared; kNoEntry if none.
  EntryId find(const CacheKey& key) const;
  // Whether `id` still holds the fill of `object` (not abandoned since).
  bool current(EntryId id, const Object* object) const;
  // A new filling entry.
  EntryId link(std::shared_ptr<Object> object, uint64_t charge);
  // Adds `object`'s tags to the tag index under entry `id`, or takes them out.
  void indexTags(EntryId id, const Object& object);
  void unindexTags(EntryId id, const Object& object);
  // Removes an entry from the index and the budget. `policy_knows`: a
  // complete entry the policy still holds (not one evict() returned).
  std::shared_ptr<Object> unlink(EntryId id, bool policy_knows);
  // An invalidation or a purge: a fill abandoned (kErased, its waiters
  // told), a complete object unlinked; counted as erased.
  void erase(EntryId id, Released& out);
  // Marks a filling entry abandoned and unlinks it; counts it.
  void abandon(EntryId id, AbandonReason reason, Released& out);
  // Evicts complete objects (and ghost entries) until `need` more bytes fit.
  // False, evicting nothing, when the fills in progress leave no room.
  bool makeRoom(uint64_t need, Released& out);
  // After a budget cut: evicts, then abandons fills, until total() fits.
  void shrink(Released& out);
  // Copies the figures the counters mirror.
  void publish();
};

}  // namespace weir::cache
