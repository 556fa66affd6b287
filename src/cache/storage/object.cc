// Object and Chunk: the filler's side of a fill and the readers' views.
#include "weir/cache/object.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "cache/storage/chunk_pool.h"

namespace weir::cache {

// Full-size chunks come from the ChunkPool (see chunk_pool.h for why);
// others from malloc. malloc and free, not operator new and delete: a chunk
// is raw memory with a header, and the pair stays matched whatever a binary
// does to the global operators (the unit tests replace operator new/delete,
// not the nothrow one).
Chunk* Chunk::create(size_t capacity) {
  static_assert(allocatedBytesFor(kChunkSize) == ChunkPool::kSlotBytes, "a full chunk fills one pool slot");
  void* mem = capacity == kChunkSize ? ChunkPool::instance().allocate() : std::malloc(allocatedBytesFor(capacity));
  if (mem == nullptr) std::abort();  // out of memory: abort (STYLE.md)
  return new (mem) Chunk(static_cast<uint32_t>(capacity));
}

void Chunk::release() const {
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  Chunk* self = const_cast<Chunk*>(this);
  const bool pooled = capacity_ == kChunkSize;
  self->~Chunk();
  if (pooled) {
    ChunkPool::instance().free(self);
  } else {
    std::free(self);
  }
}

void Chunk::releaseCallback(const void* /*data*/, size_t /*len*/, void* arg) {
  static_cast<const Chunk*>(arg)->release();
}

size_t Chunk::append(const char* data, size_t len) {
  const uint32_t used = size_.load(std::memory_order_relaxed);
  const size_t n = std::min(len, static_cast<size_t>(capacity_ - used));
  std::memcpy(bytes() + used, data, n);
  size_.store(used + static_cast<uint32_t>(n), std::memory_order_release);
  return n;
}

uint64_t Object::stringHeapBytes(const std::string& s) {
  // A string whose data lies inside the string object itself uses its inline
  // buffer; otherwise it owns capacity() + 1 bytes on the heap.
  const char* self = reinterpret_cast<const char*>(&s);
  if (s.data() >= self && s.data() < self + sizeof(std::string)) return 0;
  return s.capacity() + 1;
}

uint64_t Object::baseCharge() const { return kControlBlockBytes + sizeof(Object) + stringHeapBytes(key_.str()); }

uint64_t Object::chargedBytes() const {
  uint64_t bytes = baseCharge() + stringHeapBytes(head_) + stringHeapBytes(vary_) + tagsCharge(tags_) + chunks_.capacity() * sizeof(ChunkRef) +
                   starts_.capacity() * sizeof(uint64_t);
  for (const ChunkRef& c : chunks_) bytes += c->allocatedBytes();
  return bytes;
}

size_t Object::slotsFor(int64_t body_length) const {
  if (body_length <= 0) return 0;
  return static_cast<size_t>((static_cast<uint64_t>(body_length) + kChunkSize - 1) / kChunkSize);
}

uint64_t Object::headCharge(const std::string& head, int64_t body_length) const {
  return stringHeapBytes(head) + slotsFor(body_length) * kSlotBytes;
}

// The filler's thread, before any append: head_ and meta_ are written once,
// then published by has_head_ (release), so readers that saw hasHead() read
// them without a lock.
void Object::setHead(std::string head, const ObjectMeta& meta) {
  head_ = std::move(head);
  meta_ = meta;
  const size_t slots = slotsFor(meta.body_length);
  if (slots > 0) {
    std::lock_guard<std::mutex> lock(mu_);
    chunks_.reserve(slots);
    starts_.reserve(slots);
  }
  has_head_.store(true, std::memory_order_release);
}

ObjectPtr Object::previous() const {
  std::lock_guard<std::mutex> lock(mu_);
  return previous_;
}

std::shared_ptr<Object> Object::takePrevious() {
  std::lock_guard<std::mutex> lock(mu_);
  return std::move(previous_);
}

bool Object::claimRefresh(int64_t now, int64_t retry_after) const {
  int64_t last = refresh_claimed_.load(std::memory_order_relaxed);
  if (last != 0 && now - last < retry_after) return false;
  return refresh_claimed_.compare_exchange_strong(last, now, std::memory_order_relaxed);
}

uint64_t Object::tagsCharge(const std::vector<std::string>& tags) const {
  uint64_t bytes = tags.capacity() * sizeof(std::string);
  for (const std::string& t : tags) bytes += stringHeapBytes(t);
  return bytes;
}

uint64_t Object::adoptCharge(const std::string& head, const Object& prev) const {
  uint64_t bytes = stringHeapBytes(head) + prev.chunks_.size() * kSlotBytes;
  for (const ChunkRef& c : prev.chunks_) bytes += c->allocatedBytes();
  return bytes;
}

// A 304 refresh: the new head over the previous object's chunks, shared by
// reference (they never change once complete). Complete right after.
void Object::setHeadAdopting(std::string head, const ObjectMeta& meta, const Object& prev) {
  head_ = std::move(head);
  meta_ = meta;
  {
    std::lock_guard<std::mutex> lock(mu_);
    chunks_.reserve(prev.chunks_.size());
    starts_.reserve(prev.starts_.size());
    chunks_ = prev.chunks_;
    starts_ = prev.starts_;
    appended_ = prev.bodySize();
    committed_.store(appended_, std::memory_order_release);
  }
  has_head_.store(true, std::memory_order_release);
}

bool Object::tailFull() const { return chunks_.empty() || chunks_.back()->size() == chunks_.back()->capacity(); }

size_t Object::nextChunkCapacity() const {
  if (meta_.body_length >= 0 && appended_ < static_cast<uint64_t>(meta_.body_length)) {
    return static_cast<size_t>(std::min<uint64_t>(kChunkSize, meta_.body_length - appended_));
  }
  // Unknown length (or more than declared): grow with what has been seen.
  return static_cast<size_t>(std::clamp<uint64_t>(appended_, kMinChunkSize, kChunkSize));
}

uint64_t Object::chunkCharge(size_t capacity) const {
  uint64_t bytes = Chunk::allocatedBytesFor(capacity);
  if (chunks_.size() == chunks_.capacity()) {
    const size_t grown = std::max<size_t>(4, chunks_.capacity() * 2);
    bytes += (grown - chunks_.capacity()) * kSlotBytes;
  }
  return bytes;
}

// Must allocate exactly what chunkCharge() charged: the slot vectors grow by
// an explicit reserve, never by push_back's own policy.
void Object::addChunk(size_t capacity) {
  ChunkRef chunk = ChunkRef::adopt(Chunk::create(capacity));
  std::lock_guard<std::mutex> lock(mu_);
  if (chunks_.size() == chunks_.capacity()) {
    const size_t grown = std::max<size_t>(4, chunks_.capacity() * 2);
    chunks_.reserve(grown);
    starts_.reserve(grown);
  }
  starts_.push_back(appended_);
  chunks_.push_back(std::move(chunk));
}

size_t Object::copyIn(const char* data, size_t len) {
  Chunk* tail = const_cast<Chunk*>(chunks_.back().get());
  const size_t n = tail->append(data, len);
  appended_ += n;
  return n;
}

void Object::publish(uint64_t appended) {
  std::lock_guard<std::mutex> lock(mu_);
  committed_.store(committed_.load(std::memory_order_relaxed) + appended, std::memory_order_release);
}

bool Object::markTerminal(FillState state, AbandonReason reason) {
  std::lock_guard<std::mutex> lock(mu_);
  if (state_.load(std::memory_order_relaxed) != FillState::kFilling) return false;
  reason_ = reason;
  state_.store(state, std::memory_order_release);
  return true;
}

FillEvent Object::snapshotLocked() const {
  FillEvent ev;
  ev.state = state_.load(std::memory_order_acquire);
  ev.head_ready = has_head_.load(std::memory_order_acquire);
  ev.committed = committed_.load(std::memory_order_acquire);
  ev.reason = reason_;
  return ev;
}

FillEvent Object::snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return snapshotLocked();
}

FillEvent Object::readFrom(uint64_t pos, std::vector<ChunkSpan>* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  const FillEvent ev = snapshotLocked();
  if (pos >= ev.committed) return ev;
  // The chunk holding `pos`: the last one starting at or before it.
  size_t i = static_cast<size_t>(std::upper_bound(starts_.begin(), starts_.end(), pos) - starts_.begin()) - 1;
  for (; i < chunks_.size() && starts_[i] < ev.committed; ++i) {
    const uint64_t begin = std::max(pos, starts_[i]);
    const uint64_t end = std::min<uint64_t>(ev.committed, starts_[i] + chunks_[i]->capacity());
    out->push_back(ChunkSpan{chunks_[i].get(), static_cast<size_t>(begin - starts_[i]),
                             static_cast<size_t>(end - begin)});
  }
  return ev;
}

SubscriptionId Object::subscribe(FillCallback callback, FillEvent* now) const {
  std::lock_guard<std::mutex> lock(subs_mu_);
  *now = snapshot();
  if (now->state != FillState::kFilling) return 0;
  const SubscriptionId id = next_subscription_++;
  subscribers_.emplace_back(id, std::move(callback));
  return id;
}

bool Object::unsubscribe(SubscriptionId id) const {
  std::lock_guard<std::mutex> lock(subs_mu_);
  auto it = std::find_if(subscribers_.begin(), subscribers_.end(), [id](const auto& s) { return s.first == id; });
  if (it == subscribers_.end()) return false;
  subscribers_.erase(it);
  return true;
}

size_t Object::subscriberCount() const {
  std::lock_guard<std::mutex> lock(subs_mu_);
  return subscribers_.size();
}

// The snapshot is taken under subs_mu_, so events reach each subscriber in
// order and a terminal event is the last one it ever sees.
void Object::notify() const {
  std::lock_guard<std::mutex> lock(subs_mu_);
  if (subscribers_.empty()) return;
  const FillEvent ev = snapshot();
  for (const auto& s : subscribers_) s.second(ev);
  if (ev.state != FillState::kFilling) subscribers_.clear();
}

}  // namespace weir::cache
