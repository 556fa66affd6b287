// FillHandle: the filler's side of a fill. One thread at a time; the store's
// shard lock is taken only to reserve budget (once per chunk), to complete and
// to abandon, never while bytes are copied.
#include <string>

#include "weir/cache/store.h"

namespace weir::cache {

FillHandle::FillHandle(FillHandle&& other) noexcept
    : store_(other.store_),
      object_(std::move(other.object_)),
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
    shard_ = other.shard_;
    id_ = other.id_;
    failure_ = other.failure_;
  }
  return *this;
}

FillHandle::~FillHandle() { abandon(); }

void FillHandle::abandon(AbandonReason reason) {
  if (!active()) return;
  store_->abandonFill(*this, reason);
  object_.reset();
}

Status FillHandle::lost(AbandonReason reason) {
  object_.reset();
  failure_ = reason;
  return Error{std::string("cache: fill abandoned (") + toString(reason) + ")"};
}

Status FillHandle::fail(AbandonReason reason) {
  store_->abandonFill(*this, reason);
  return lost(reason);
}

Status FillHandle::setHead(std::string head, const ObjectMeta& meta) {
  if (!active()) return Error{"cache: fill not active"};
  if (object_->hasHead()) return Error{"cache: head already set"};
  if (meta.body_length >= 0 && static_cast<uint64_t>(meta.body_length) > store_->maxObjectSize()) {
    return fail(AbandonReason::kTooLarge);
  }
  AbandonReason reason = AbandonReason::kNone;
  if (!store_->reserve(*this, object_->headCharge(head, meta.body_length), &reason)) return lost(reason);
  object_->setHead(std::move(head), meta);
  object_->notify();
  return Ok{};
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
  object_.reset();
  return status;
}

}  // namespace weir::cache
