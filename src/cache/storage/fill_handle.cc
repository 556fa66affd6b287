// FillHandle: the filler's side of a fill. One thread at a time; the store's
// shard lock is taken only to reserve budget (once per chunk), to complete and
// to abandon, never while bytes are copied.
#include <string>

#include "weir/cache/store.h"

namespace weir::cache {

FillHandle::FillHandle(FillHandle&& other) noexcept
    : store_(other.store_),
      object_(std::move(other.object_)),
      previous_(std::move(other.previous_)),
      shard_(other.shard_),
      id_(other.id_),
      failure_(other.failure_) {
  other.object_.reset();
}

FillHandle& FillHandle::operator=(FillHandle&& other) noexcept {
  if (this != &other) {
    abandon();
    store_ = other.store_;
    object_ = std::move(other.object_);
    other.object_.reset();
    previous_ = std::move(other.previous_);
    other.previous_.reset();
    shard_ = other.shard_;
    id_ = other.id_;
    failure_ = other.failure_;
  }
  return *this;
}

FillHandle::~FillHandle() { abandon(); }

void FillHandle::end() {
  if (object_) (void)object_->takePrevious();
  object_.reset();
  previous_.reset();
}

void FillHandle::abandon(AbandonReason reason) {
  if (!active()) return;
  store_->abandonFill(*this, reason);
  end();
}

Status FillHandle::lost(AbandonReason reason) {
  end();
  failure_ = reason;
  return Error{std::string("cache: fill abandoned (") + toString(reason) + ")"};
}

Status FillHandle::fail(AbandonReason reason) {
  store_->abandonFill(*this, reason);
  return lost(reason);
}

Status FillHandle::setHead(std::string head, const ObjectMeta& meta, StoredExtras extras) {
  if (!active()) return Error{"cache: fill not active"};
  if (object_->hasHead()) return Error{"cache: head already set"};
  if (previous_) {  // this response replaces it
    store_->releasePrevious(*this);
    (void)object_->takePrevious();
    previous_.reset();
  }
  if (meta.body_length >= 0 && static_cast<uint64_t>(meta.body_length) > store_->maxObjectSize()) {
    return fail(AbandonReason::kTooLarge);
  }
  const uint64_t charge = object_->headCharge(head, meta.body_length) + object_->tagsCharge(extras.tags) +
                          extras.tags.size() * Store::kTagEntryBytes + Object::stringHeapBytes(extras.vary);
  AbandonReason reason = AbandonReason::kNone;
  if (!store_->reserve(*this, charge, &reason)) return lost(reason);
  if (!extras.tags.empty() && !store_->indexTags(*this, std::move(extras.tags))) {
    return lost(object_->snapshot().reason);
  }
  object_->vary_ = std::move(extras.vary);
  object_->setHead(std::move(head), meta);
  object_->notify();
  return Ok{};
}

Status FillHandle::refresh(std::string head, ObjectMeta meta, StoredExtras extras) {
  if (!active()) return Error{"cache: fill not active"};
  if (object_->hasHead() || !previous_) return fail(AbandonReason::kFiller);
  const std::shared_ptr<Object> prev = std::move(previous_);
  (void)object_->takePrevious();
  meta.body_length = static_cast<int64_t>(prev->bodySize());
  const uint64_t charge = object_->adoptCharge(head, *prev) + object_->tagsCharge(extras.tags) +
                          extras.tags.size() * Store::kTagEntryBytes + Object::stringHeapBytes(extras.vary);
  store_->releasePrevious(*this);
  AbandonReason reason = AbandonReason::kNone;
  if (!store_->reserve(*this, charge, &reason)) return lost(reason);
  if (!extras.tags.empty() && !store_->indexTags(*this, std::move(extras.tags))) {
    return lost(object_->snapshot().reason);
  }
  object_->vary_ = std::move(extras.vary);
  object_->setHeadAdopting(std::move(head), meta, *prev);
  object_->notify();
  return complete();
}

bool FillHandle::restore() {
  if (!active()) return false;
  if (!previous_ || !store_->restoreFill(*this)) {
    abandon();
    return false;
  }
  end();
  return true;
}

Status FillHandle::append(const char* data, size_t len) {
  if (!active()) return Error{"cache: fill not active"};
  if (!object_->hasHead()) return Error{"cache: append before setHead"};
  // Abandoned meanwhile (erase, resize, replace): the tail chunk may still
  // have room, so the next reservation is not the only place to notice.
  if (object_->state() != FillState::kFilling) return lost(object_->snapshot().reason);
  if (object_->appended_ + len > store_->maxObjectSize()) return fail(AbandonReason::kTooLarge);
  size_t copied = 0;
  while (copied < len) {
    if (object_->tailFull()) {
      const size_t capacity = object_->nextChunkCapacity();
      AbandonReason reason = AbandonReason::kNone;
      if (!store_->reserve(*this, object_->chunkCharge(capacity), &reason)) return lost(reason);
      object_->addChunk(capacity);
    }
    copied += object_->copyIn(data + copied, len - copied);
  }
  object_->publish(copied);
  object_->notify();
  return Ok{};
}

Status FillHandle::complete() {
  if (!active()) return Error{"cache: fill not active"};
  if (!object_->hasHead()) return fail(AbandonReason::kFiller);
  const int64_t declared = object_->meta().body_length;
  if (declared >= 0 && object_->appended_ != static_cast<uint64_t>(declared)) return fail(AbandonReason::kFiller);
  Status status = store_->completeFill(*this);
  end();
  return status;
}

}  // namespace weir::cache
