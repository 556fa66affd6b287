// The cache module's small shared types: the key hash, entry ids, fill
// states and the reasons a fill ends early or is refused.
#pragma once

#include <cstddef>
#include <cstdint>

namespace weir::cache {

// XXH3-128 of a key's full string.
struct Hash128 {
  uint64_t low = 0;
  uint64_t high = 0;
  bool operator==(const Hash128&) const = default;
};

// The store's index hashes by the low half; shards are chosen by the high half,
// so the two selections are independent.
struct Hash128Hasher {
  size_t operator()(const Hash128& h) const noexcept { return static_cast<size_t>(h.low); }
};

// An entry's slot number inside one shard; eviction policies index by it.
using EntryId = uint32_t;
inline constexpr EntryId kNoEntry = UINT32_MAX;

enum class FillState : uint8_t {
  kFilling,    // one filler is appending; readers see the bytes committed so far
  kComplete,   // immutable from now on
  kAbandoned,  // the fill stopped; the bytes committed stay readable, no more come
};

// Why a fill was abandoned.
enum class AbandonReason : uint8_t {
  kNone,
  kFiller,    // the filler gave up (upstream failed, its client left, handle dropped)
  kNotStorable,  // the response turned out not storable (the filler said so)
  kTooLarge,  // the body passed max_object_size (declared or while streaming)
  kNoSpace,   // the object cannot fit in its shard even after evicting
  kErased,    // Store::erase (invalidation) removed it while it filled
  kResized,   // Store::resize shrank the budget below what the fills held
  kReplaced,  // beginFill(replace) started a new fill of the same key
  kRestored,  // the fill would have replaced a stale object, and put it back
              //   instead (its fetch failed: the stale object is served)
};

// Why beginFill or a fill was refused; counted in StoreStats::refused.
enum class Refusal : uint8_t {
  kTooLarge,   // body longer than max_object_size
  kNoSpace,    // could not make room within the shard's budget
  kCollision,  // another key with the same 128-bit hash is filling
  kCount,
};

const char* toString(FillState state);
const char* toString(AbandonReason reason);
const char* toString(Refusal refusal);

}  // namespace weir::cache
