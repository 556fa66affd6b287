// A cached response: the head ready to send, the metadata the policy layer
// filled, and the body as reference-counted chunks.
//
// Lifetime. Objects are reference counted (ObjectPtr). The store holds one
// reference while the object is linked; every reader holds its own, so an
// object evicted or erased while a hit is being served stays valid for that
// reader. Each body chunk is reference counted too: a reader that hands a
// chunk to libevent (`evbuffer_add_reference`) takes a chunk reference of its
// own, and the chunk outlives the object for as long as the evbuffer needs it.
//
// States. An object is created filling by Store::beginFill; exactly one filler
// (the FillHandle's owner) sets the head, appends bytes and completes or
// abandons it. Once complete it never changes again. Abandoned objects keep
// the bytes committed so far readable but receive no more.
//
// Threading contract.
//  - key(), state(), hasHead(), bodySize(), snapshot(), readFrom(),
//    subscribe(), unsubscribe(): any thread, any time.
//  - head(), meta(): any thread once hasHead() has returned true (they are
//    written once by the filler, before hasHead() turns true, never again).
//  - chunks(): any thread once state() has returned kComplete (immutable from
//    then on); while filling, use readFrom(), which copies the committed spans
//    under the object's mutex.
//  - Two mutexes, both the object's own (never the store's shard lock): mu_
//    guards the chunk list and the state; subs_mu_ guards the subscribers and
//    is held while callbacks run. Lock order: subs_mu_ before mu_.
//  - Callbacks run on the filler's thread (or, for an abandonment by
//    Store::erase/resize, on the thread that called them), after each commit
//    (setHead, each append), on completion and on abandonment, in that order,
//    one at a time, with subs_mu_ held and no shard lock (Store::resize also
//    holds its own resize mutex, so it is the slow path). A callback must be
//    short (post to the waiter's own event loop and return) and must not call
//    subscribe() or unsubscribe() on this object, nor call into the Store; it
//    may call state(), snapshot() and readFrom(). Events may be redundant: a
//    reader reads what is there, not what the event says arrived. After a terminal event (kComplete, kAbandoned) the
//    subscription is gone and the callback is never called again.
//  - After unsubscribe() returns, the callback is not running and will not
//    run again.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "weir/cache/key.h"
#include "weir/cache/types.h"

namespace weir::cache {

// Body chunks hold at most kChunkSize bytes. When the body's length is
// declared, chunks are kChunkSize and the last is exactly the rest; when it is
// not, they grow from kMinChunkSize (doubling with the bytes seen) up to
// kChunkSize, so that a small body of unknown length does not pin 16 KiB.
// A full chunk's header and bytes fill exactly 16 KiB (one slot of the
// chunk pool, four pages).
inline constexpr size_t kChunkSize = 16 * 1024 - 16;
inline constexpr size_t kMinChunkSize = 1024;

// One allocation: this header, then capacity() bytes. Created with one
// reference; freed when the last reference goes. Bytes [0, size()) never
// change once written, so a reader may use them while the filler appends
// after them.
class alignas(16) Chunk {
 public:
  // Aborts when out of memory.
  static Chunk* create(size_t capacity);
  Chunk(const Chunk&) = delete;
  Chunk& operator=(const Chunk&) = delete;

  const char* data() const { return bytes(); }
  size_t size() const { return size_.load(std::memory_order_acquire); }
  size_t capacity() const { return capacity_; }
  // What the allocation costs: the budget charges this, not size().
  size_t allocatedBytes() const { return allocatedBytesFor(capacity_); }
  static constexpr size_t allocatedBytesFor(size_t capacity) { return sizeof(Chunk) + capacity; }

  // Reference counting; any thread. release() frees the chunk at zero.
  void retain() const { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() const;
  uint32_t refCount() const { return refs_.load(std::memory_order_acquire); }

  // A cleanup function for evbuffer_add_reference (libevent's
  // evbuffer_ref_cleanup_cb: void(const void* data, size_t len, void* arg)),
  // with `arg` the Chunk*. It drops one reference. Zero-copy hit:
  //   chunk->retain();
  //   if (evbuffer_add_reference(out, chunk->data() + off, len,
  //                              &Chunk::releaseCallback, chunk) != 0)
  //     chunk->release();  // libevent did not take it
  static void releaseCallback(const void* data, size_t len, void* arg);

 private:
  friend class Object;
  explicit Chunk(uint32_t capacity) : capacity_(capacity) {}
  ~Chunk() = default;
  char* bytes() const { return const_cast<char*>(reinterpret_cast<const char*>(this + 1)); }
  // The filler: copies up to the room left, publishes the new size, returns the count.
  size_t append(const char* data, size_t len);

  mutable std::atomic<uint32_t> refs_{1};
  const uint32_t capacity_;
  std::atomic<uint32_t> size_{0};
};

// Owns one chunk reference (like an intrusive pointer). Not thread-safe
// itself; distinct ChunkRefs to one chunk may live on different threads.
class ChunkRef {
 public:
  ChunkRef() = default;
  static ChunkRef adopt(Chunk* chunk) { return ChunkRef(chunk); }
  ChunkRef(const ChunkRef& other) : chunk_(other.chunk_) {
    if (chunk_ != nullptr) chunk_->retain();
  }
  ChunkRef(ChunkRef&& other) noexcept : chunk_(std::exchange(other.chunk_, nullptr)) {}
  ChunkRef& operator=(ChunkRef other) noexcept {
    std::swap(chunk_, other.chunk_);
    return *this;
  }
  ~ChunkRef() {
    if (chunk_ != nullptr) chunk_->release();
  }
  const Chunk* get() const { return chunk_; }
  const Chunk* operator->() const { return chunk_; }
  explicit operator bool() const { return chunk_ != nullptr; }

 private:
  explicit ChunkRef(Chunk* chunk) : chunk_(chunk) {}
  Chunk* chunk_ = nullptr;
};

// Committed bytes of one chunk. `chunk` stays valid while the reader holds the
// object (or a chunk reference of its own).
struct ChunkSpan {
  const Chunk* chunk = nullptr;
  size_t offset = 0;
  size_t length = 0;
  const char* data() const { return chunk->data() + offset; }
};

// What the policy layer records about a stored response (RFC 9111 §4.2).
// Times are seconds since the epoch, durations seconds.
struct ObjectMeta {
  enum Flag : uint32_t {
    kMustRevalidate = 1u << 0,
    kProxyRevalidate = 1u << 1,
    kNoCache = 1u << 2,  // response no-cache: every hit revalidates
    kHasValidator = 1u << 3,
  };
  int status = 0;
  int64_t request_time = 0;
  int64_t response_time = 0;
  int64_t corrected_initial_age = 0;
  int64_t freshness_lifetime = 0;
  // Declared body length, -1 when unknown (chunked, close-delimited). The
  // store refuses a declared length past max_object_size at once, and
  // complete() fails when the bytes appended differ from it.
  int64_t body_length = -1;
  // RFC 5861 windows the response gave, seconds; -1 when it gave none.
  int64_t stale_while_revalidate = -1;
  int64_t stale_if_error = -1;
  uint32_t flags = 0;
  bool has(Flag f) const { return (flags & f) != 0; }
};

// What a stored response carries besides its head and metadata.
struct StoredExtras {
  std::vector<std::string> tags;  // purge by tag
  std::string vary;               // the variant's secondary key (vary.h); "" without Vary
};

// A snapshot of a fill's progress.
struct FillEvent {
  FillState state = FillState::kFilling;
  bool head_ready = false;
  uint64_t committed = 0;  // body bytes readable
  AbandonReason reason = AbandonReason::kNone;
};

using FillCallback = std::function<void(const FillEvent&)>;
using SubscriptionId = uint64_t;  // 0 is never a subscription

class Object;
using ObjectPtr = std::shared_ptr<const Object>;

class Object {
 public:
  // Made by the store (public for make_shared only).
  explicit Object(CacheKey key) : key_(std::move(key)) {}
  Object(const Object&) = delete;
  Object& operator=(const Object&) = delete;

  const CacheKey& key() const { return key_; }
  FillState state() const { return state_.load(std::memory_order_acquire); }
  bool hasHead() const { return has_head_.load(std::memory_order_acquire); }
  // Precondition: hasHead().
  const std::string& head() const { return head_; }
  const ObjectMeta& meta() const { return meta_; }
  uint64_t bodySize() const { return committed_.load(std::memory_order_acquire); }
  // Precondition: state() == kComplete. The chunks in body order.
  const std::vector<ChunkRef>& chunks() const { return chunks_; }

  FillEvent snapshot() const;
  // Appends to `out` the committed bytes from body offset `pos` on, one span
  // per chunk, and returns the snapshot they were taken at. Any state.
  FillEvent readFrom(uint64_t pos, std::vector<ChunkSpan>* out) const;

  // Registers `callback` while the object is filling and returns its id with
  // `*now` the state at registration; the caller then reads what is already
  // there (readFrom) and, on each callback, what came since. Returns 0 and
  // registers nothing when the fill has already ended (`*now` says how).
  SubscriptionId subscribe(FillCallback callback, FillEvent* now) const;
  // False when `id` is not registered (already ended or removed).
  bool unsubscribe(SubscriptionId id) const;
  size_t subscriberCount() const;

  // The stale complete object this fill would replace, kept until its
  // response decides (a 304 refreshes it, an error may serve it stale);
  // null when there is none or it was let go. Any thread.
  ObjectPtr previous() const;

  // Soft purge: from now on the object counts as stale whatever its
  // freshness, so the next request revalidates it. Any thread, any state.
  // `now` in seconds since the epoch: staleness counts from then. The
  // first mark stays.
  void markStale(int64_t now) const {
    int64_t none = 0;
    marked_stale_.compare_exchange_strong(none, now > 0 ? now : 1, std::memory_order_relaxed);
  }
  bool markedStale() const { return marked_stale_.load(std::memory_order_relaxed) != 0; }
  int64_t markedStaleAt() const { return marked_stale_.load(std::memory_order_relaxed); }
  // A background revalidation is wanted: true for one caller, and again
  // once `retry_after` seconds passed since the last claim (a revalidation
  // that ended without replacing this object lets the next one start).
  bool claimRefresh(int64_t now, int64_t retry_after) const;
  // The claimed revalidation could not start: the next caller may claim.
  void releaseRefresh() const { refresh_claimed_.store(0, std::memory_order_relaxed); }

  // The variant's secondary key (vary.h), "" when the response has no
  // Vary. Precondition: hasHead().
  const std::string& vary() const { return vary_; }
  bool varies() const { return !vary_.empty(); }
  // When the object was stored or last answered a request (the caller's
  // clock; the least used of a URL's variants goes first). Any thread.
  int64_t lastUsed() const { return last_used_.load(std::memory_order_relaxed); }
  void touchUsed(int64_t now) const {
    if (last_used_.load(std::memory_order_relaxed) != now) last_used_.store(now, std::memory_order_relaxed);
  }

  // The last fetch that would have replaced this object failed at `now`
  // (the caller's clock, ms): for a while after, requests that may have it
  // stale get it at once instead of trying the origin again each. Any thread.
  void markFetchFailed(int64_t now_ms) const { fetch_failed_ms_.store(now_ms, std::memory_order_relaxed); }
  bool fetchFailedWithin(int64_t now_ms, int64_t window_ms) const {
    const int64_t at = fetch_failed_ms_.load(std::memory_order_relaxed);
    return at != 0 && now_ms - at < window_ms;
  }

  // Tags (purge by tag): set with the head under the shard lock, immutable
  // after; read them under the shard lock (the store) or once complete.
  const std::vector<std::string>& tags() const { return tags_; }

  // Bytes the object itself costs while linked (without the store's per-entry
  // index and eviction estimates); the filler's thread or once complete.
  uint64_t chargedBytes() const;
  // The fixed part: control block, the Object, the key string's heap.
  uint64_t baseCharge() const;
  // Heap bytes of a std::string (0 while it fits its inline buffer).
  static uint64_t stringHeapBytes(const std::string& s);
  // Bytes of chunk bookkeeping per chunk slot (ChunkRef and start offset).
  static constexpr uint64_t kSlotBytes = sizeof(ChunkRef) + sizeof(uint64_t);
  // The shared_ptr control block make_shared puts before the object.
  static constexpr uint64_t kControlBlockBytes = 16;

 private:
  friend class FillHandle;
  friend class Store;
  friend struct Shard;
  friend struct Released;

  // Filler side: the filler's thread only (see FillHandle).
  std::shared_ptr<Object> takePrevious();
  // The charge of a head that takes `prev`'s body over (a 304 refresh).
  uint64_t adoptCharge(const std::string& head, const Object& prev) const;
  void setHeadAdopting(std::string head, const ObjectMeta& meta, const Object& prev);
  uint64_t tagsCharge(const std::vector<std::string>& tags) const;
  uint64_t headCharge(const std::string& head, int64_t body_length) const;
  void setHead(std::string head, const ObjectMeta& meta);
  bool tailFull() const;
  size_t nextChunkCapacity() const;
  uint64_t chunkCharge(size_t capacity) const;
  void addChunk(size_t capacity);
  size_t copyIn(const char* data, size_t len);
  void publish(uint64_t appended);
  // Any thread: the first terminal state wins; false if already terminal.
  bool markTerminal(FillState state, AbandonReason reason);
  // Any thread, no lock held: tells the subscribers the current snapshot.
  void notify() const;
  size_t slotsFor(int64_t body_length) const;
  FillEvent snapshotLocked() const;

  const CacheKey key_;
  std::string head_;
  std::vector<std::string> tags_;
  std::string vary_;
  mutable std::atomic<int64_t> last_used_{0};
  mutable std::atomic<int64_t> fetch_failed_ms_{0};
  std::shared_ptr<Object> previous_;  // guarded by mu_
  mutable std::atomic<int64_t> marked_stale_{0};
  mutable std::atomic<int64_t> refresh_claimed_{0};
  ObjectMeta meta_;
  std::atomic<bool> has_head_{false};
  std::atomic<FillState> state_{FillState::kFilling};
  std::atomic<uint64_t> committed_{0};
  uint64_t appended_ = 0;  // the filler's count, ahead of committed_ during an append

  mutable std::mutex mu_;  // chunks_ and starts_ changes, reason_
  std::vector<ChunkRef> chunks_;
  std::vector<uint64_t> starts_;  // body offset of each chunk
  AbandonReason reason_ = AbandonReason::kNone;

  mutable std::mutex subs_mu_;
  mutable std::vector<std::pair<SubscriptionId, FillCallback>> subscribers_;
  mutable SubscriptionId next_subscription_ = 1;
};

}  // namespace weir::cache
