// The cache's storage: a sharded index of objects under a hard byte budget.
//
// Shards. A power-of-two number of shards, chosen by the key's hash; each has
// its own mutex, index, eviction policy and byte budget (max_bytes / shards).
// The mutex is held only to find, insert, charge or unlink an entry (and to run
// the eviction policy); never while body bytes are copied, never while a
// response is written, never while fill callbacks run.
//
// Budget (a hard cap). Every byte the cache allocates for an object counts:
// the Object and its shared_ptr control block, the key and head strings' heap,
// each chunk at its full allocated size, the chunk slot vectors, and fixed
// per-entry estimates for the index node (kIndexEntryBytes) and the eviction
// bookkeeping (EvictionPolicy::entryBytes(), plus the ghost entries'
// overheadBytes()). Bytes are reserved before they are allocated; a
// reservation past the shard's budget evicts complete objects first, and a
// fill that still cannot fit is abandoned. So the sum the stats report never
// exceeds max_bytes. An object unlinked (evicted, erased, replaced) stops
// counting at once, even while readers still hold it.
//
// Thread-safety: every Store method is safe from any thread. A FillHandle
// belongs to its filler: its methods are called from one thread at a time
// (normally the filler's event loop). The Store must outlive every
// FillHandle; objects and chunks may outlive the Store.
//
// Errors: no exceptions; refusals are results (BeginFill::kRefused, a failed
// Status from the handle) and counted in StoreStats.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "weir/cache/key.h"
#include "weir/cache/object.h"
#include "weir/cache/types.h"
#include "weir/common/result.h"

namespace weir::cache {

struct StoreOptions {
  uint64_t max_bytes = uint64_t{256} << 20;
  uint64_t max_object_size = uint64_t{8} << 20;  // body bytes
  // shards == 0: 4 x workers rounded up to a power of two, then halved while a
  // shard's budget would hold fewer than kMinMaxObjectsPerShard objects of
  // max_object_size. A non-zero value is rounded up to a power of two and
  // used as given.
  size_t shards = 0;
  size_t workers = 1;
  std::string eviction = "s3fifo";  // or "lru"
};

struct StoreStats {
  uint64_t max_bytes = 0;
  uint64_t bytes = 0;    // charged now, ghost entries included; <= max_bytes
  uint64_t objects = 0;  // complete objects linked
  uint64_t filling = 0;  // fills in progress
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t inserts = 0;    // fills completed
  uint64_t evictions = 0;  // complete objects evicted for room
  uint64_t erased = 0;     // by erase(), filling or complete
  uint64_t abandoned = 0;  // fills abandoned for any reason
  std::array<uint64_t, static_cast<size_t>(Refusal::kCount)> refused{};  // by Refusal
  uint64_t refusedBy(Refusal r) const { return refused[static_cast<size_t>(r)]; }
};

class Store;
struct Shard;

// The filler's side of one fill. Move-only; destroying an active handle
// abandons the fill (AbandonReason::kFiller). One thread at a time.
class FillHandle {
 public:
  FillHandle() = default;
  FillHandle(FillHandle&& other) noexcept;
  FillHandle& operator=(FillHandle&& other) noexcept;
  ~FillHandle();

  // True until complete(), abandon() or a failed call.
  bool active() const { return object_ != nullptr; }
  // The object being filled (null once inactive); for the filler's own use
  // and to show waiters.
  ObjectPtr object() const { return object_; }
  // Why the last failed call ended the fill (kNone when none failed).
  AbandonReason failure() const { return failure_; }

  // The stale object this fill would replace (beginFill with replace), or
  // null. Kept until setHead(), refresh(), restore() or the end of the fill.
  ObjectPtr previous() const { return previous_; }

  // Once, before any append. Refused (the fill abandoned) when
  // meta.body_length > max_object_size (kTooLarge) or the head does not fit
  // (kNoSpace). The head is sent as is on every hit; Age and Cache-Status are
  // the integrator's to add. `tags` index the object for purge by tag. The
  // previous object, if any, is let go: this response replaces it.
  Status setHead(std::string head, const ObjectMeta& meta, StoredExtras extras = {});
  // A 304 revalidated the previous object: the fill becomes a complete
  // object with `head` and `meta` (meta.body_length is taken from the
  // previous object) over the previous object's body, shared without a
  // copy. Fails (abandoning) when there is no previous object or no room.
  Status refresh(std::string head, ObjectMeta meta, StoredExtras extras = {});
  // The fetch failed: the previous object goes back under the key, as it
  // was, and the fill ends (waiters hear kRestored). False, and a plain
  // abandon, when there is no previous object or the entry was erased.
  bool restore();
  // Copies `len` bytes into the body (reserving budget one chunk at a time).
  // Fails, and abandons the fill, when the body would pass max_object_size
  // (kTooLarge) or cannot fit (kNoSpace), or when the fill was abandoned
  // meanwhile by erase/resize/replace. Subscribers hear of each append.
  Status append(const char* data, size_t len);
  // Makes the object complete and admits it to the eviction policy. Fails
  // (abandoning) when the fill was abandoned meanwhile or the body's length
  // differs from meta.body_length.
  Status complete();
  // Gives up (not storable, upstream failed): the object is unlinked and its
  // bytes released; waiters are told, with `reason` (kNotStorable tells them
  // not to try to fill it themselves). No-op when inactive.
  void abandon(AbandonReason reason = AbandonReason::kFiller);

 private:
  friend class Store;
  FillHandle(Store* store, std::shared_ptr<Object> object, size_t shard, EntryId id,
             std::shared_ptr<Object> previous)
      : store_(store), object_(std::move(object)), previous_(std::move(previous)), shard_(shard), id_(id) {}
  Status fail(AbandonReason reason);  // abandons, then lost()
  Status lost(AbandonReason reason);  // the fill is gone: become inactive
  void end();                         // inactive: the object and the previous one let go

  Store* store_ = nullptr;
  std::shared_ptr<Object> object_;
  std::shared_ptr<Object> previous_;
  size_t shard_ = 0;
  EntryId id_ = kNoEntry;
  AbandonReason failure_ = AbandonReason::kNone;
};

struct BeginFill {
  enum class Kind {
    kFill,     // the caller is the filler: `fill` is active
    kWait,     // another fill of the key is in progress: `object` (subscribe to it)
    kHit,      // a complete object is stored (it completed since the caller's lookup)
    kRefused,  // neither: fetch and do not store (`refusal`)
  };
  Kind kind = Kind::kRefused;
  FillHandle fill;
  ObjectPtr object;
  Refusal refusal = Refusal::kNoSpace;
};

class Store {
 public:
  // Per entry, besides the object's own allocations: the index's hash node
  // (~48 bytes as malloc rounds it), its bucket (8-16), the entry slot (32,
  // up to 64 while the slot vector has doubled), a free-list id, and the
  // doubling slack of the policy's id-indexed node vector.
  static constexpr uint64_t kIndexEntryBytes = 160;
  static constexpr size_t kMinMaxObjectsPerShard = 4;

  // Errors: an unknown eviction name, max_bytes == 0.
  static Result<std::unique_ptr<Store>> create(const StoreOptions& options);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // The complete object stored under `key` (full key compared), or null.
  // A hit touches the eviction policy. Stale objects are returned too: the
  // policy layer decides freshness. Counts a hit or a miss.
  ObjectPtr lookup(const CacheKey& key);

  // The one-filler-per-key decision, atomic under the shard lock. With
  // `replace`, a complete object under the key is unlinked and a new fill
  // starts (a stale entry refetched or revalidated); the fill keeps it as
  // its previous object (FillHandle::previous, Object::previous for
  // waiters) and its bytes stay charged until the response decides.
  // Without `replace`, a complete object is returned (kHit).
  BeginFill beginFill(const CacheKey& key, bool replace = false);

  // Invalidation: unlinks the key's object, complete or filling (a fill is
  // abandoned with kErased and its waiters told). False when nothing was
  // stored under the key.
  bool erase(const CacheKey& key);
  // Variants: how many objects carry `tag` (all shards), and the least
  // recently used of them erased until at most `keep` are left. Returns
  // how many were erased.
  size_t countTagged(std::string_view tag);
  size_t trimTagged(std::string_view tag, size_t keep);

  // Soft purge of one key: marks its object (complete or filling, and the
  // stale object a fill may put back) stale as of `now` (seconds since the
  // epoch), so the next request revalidates it; it may still be served
  // stale. False when nothing is stored under the key.
  bool markStale(const CacheKey& key, int64_t now);
  // Soft purge by key: markStale for every object whose key `match` accepts.
  size_t markStaleIf(const std::function<bool(const CacheKey&)>& match, int64_t now);
  // Purge by tag: every object (complete or filling) the tag was given to,
  // found through the shards' tag index, not a scan; unlinked, or with
  // `soft` marked stale. The shard lock is let go every kTagBatch objects.
  size_t purgeTag(std::string_view tag, bool soft, int64_t now = 0);
  static constexpr size_t kTagBatch = 1024;
  // The index's cost per tag of an object (hash node and set slot).
  static constexpr uint64_t kTagEntryBytes = 64;

  // Purge: unlinks every object, complete or filling, whose key `match`
  // accepts, shard by shard (each shard's lock held for its own scan only,
  // so hits on the other shards go on). Returns how many were unlinked.
  // `match` runs under a shard lock: it must be quick and must not call
  // into the Store.
  size_t eraseIf(const std::function<bool(const CacheKey&)>& match);

  // A reload's new max_size: each shard's budget becomes max_bytes / shards
  // (the shard count never changes) and shards evict down to it, abandoning
  // fills (kResized) if complete objects are not enough.
  void resize(uint64_t max_bytes);
  void setMaxObjectSize(uint64_t bytes) { max_object_size_.store(bytes, std::memory_order_relaxed); }
  uint64_t maxObjectSize() const { return max_object_size_.load(std::memory_order_relaxed); }

  // Summed over shards with relaxed loads: each figure is exact for its shard
  // at some moment during the call; bytes <= max_bytes always holds (a
  // resize in progress finishes first: both take resize_mu_).
  StoreStats stats() const;
  size_t shardCount() const { return shard_count_; }
  uint64_t shardBudget() const;
  // Bytes charged per entry besides the object's own (index + eviction).
  uint64_t entryOverheadBytes() const;
  const std::string& evictionName() const { return eviction_; }

 private:
  friend class FillHandle;
  Store(const StoreOptions& options, size_t shards);
  using Graveyard = std::vector<std::shared_ptr<Object>>;

  Shard& shardFor(const CacheKey& key);
  bool reserve(FillHandle& fill, uint64_t bytes, AbandonReason* reason);
  Status completeFill(FillHandle& fill);
  void abandonFill(FillHandle& fill, AbandonReason reason);
  void releasePrevious(FillHandle& fill);
  bool indexTags(FillHandle& fill, std::vector<std::string> tags);
  bool restoreFill(FillHandle& fill);

  const size_t shard_count_;
  const std::string eviction_;
  std::atomic<uint64_t> max_object_size_;
  std::atomic<uint64_t> max_bytes_;
  mutable std::mutex resize_mu_;  // resize() against stats(); never with a shard lock held before it
  std::unique_ptr<Shard[]> shards_;
};

}  // namespace weir::cache
