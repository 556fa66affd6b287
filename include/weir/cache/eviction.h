// Eviction policies, one per store shard. The store calls them with its shard
// lock held, so they need no locking of their own and must be cheap: touch()
// runs on every hit. They know entries only by EntryId (the shard's slot
// number) and their charge in bytes; they never see objects or keys, except a
// 64-bit fingerprint that S3-FIFO's ghost queue remembers after an eviction.
//
// Only complete objects are admitted: an object still filling is never a
// victim. evict() picks one victim, forgets it and returns its id; the store
// then unlinks it. Bookkeeping a policy keeps beyond its entries (S3-FIFO's
// ghost queue) is reported by overheadBytes() and counts against the budget;
// shedOverhead() gives some back when the store needs room and has no victim.
//
// Adding a policy: src/cache/eviction/<name>.{h,cc} and one line in
// src/cache/eviction/registry.cc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "weir/cache/types.h"

namespace weir::cache {

class EvictionPolicy {
 public:
  virtual ~EvictionPolicy() = default;

  // A newly complete entry of `charge` bytes. Precondition: `id` is not
  // admitted.
  virtual void admit(EntryId id, uint64_t fingerprint, uint64_t charge) = 0;
  // A hit on an admitted entry.
  virtual void touch(EntryId id) = 0;
  // An admitted entry leaves for another reason (erase, replacement).
  virtual void remove(EntryId id) = 0;
  // Chooses, forgets and returns a victim; kNoEntry when nothing is admitted.
  virtual EntryId evict() = 0;
  // Drops some bookkeeping (the oldest ghost entry); false when there is none.
  virtual bool shedOverhead() = 0;
  // Bytes of bookkeeping not charged to any entry (ghost entries).
  virtual uint64_t overheadBytes() const = 0;
  // Bookkeeping bytes per admitted entry; the store charges them to the entry.
  virtual uint64_t entryBytes() const = 0;
  // The shard's byte budget (sizes S3-FIFO's queues); on start and resize.
  virtual void setCapacity(uint64_t bytes) = 0;
  // Entries admitted.
  virtual size_t size() const = 0;
  virtual const char* name() const = 0;
};

// "s3fifo" (the default) or "lru"; nullptr for any other name. `capacity` is
// the shard's budget in bytes.
std::unique_ptr<EvictionPolicy> makeEvictionPolicy(std::string_view name, uint64_t capacity);
inline constexpr std::string_view kDefaultEviction = "s3fifo";

}  // namespace weir::cache
