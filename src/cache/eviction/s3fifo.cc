#include "cache/eviction/s3fifo.h"

#include <algorithm>

namespace weir::cache {

void S3FifoPolicy::setCapacity(uint64_t bytes) {
  small_target_ = bytes / 10;
  ghost_limit_ = bytes - small_target_;
  while (!ghost_.empty() && ghost_charge_ > ghost_limit_) popGhost();
}

void S3FifoPolicy::pushQueue(EntryId id, Queue q) {
  Node& n = nodes_[id];
  n.queue = q;
  if (q == kSmall) {
    small_.pushHead(nodes_, id);
    small_bytes_ += n.charge;
  } else {
    main_.pushHead(nodes_, id);
    main_bytes_ += n.charge;
  }
}

void S3FifoPolicy::unlinkQueue(EntryId id) {
  Node& n = nodes_[id];
  if (n.queue == kSmall) {
    small_.unlink(nodes_, id);
    small_bytes_ -= n.charge;
  } else if (n.queue == kMain) {
    main_.unlink(nodes_, id);
    main_bytes_ -= n.charge;
  }
  n.queue = kNone;
}

void S3FifoPolicy::admit(EntryId id, uint64_t fingerprint, uint64_t charge) {
  if (id >= nodes_.size()) nodes_.resize(id + 1);
  Node& n = nodes_[id];
  n.fingerprint = fingerprint;
  n.charge = static_cast<uint32_t>(std::min<uint64_t>(charge, UINT32_MAX));
  n.freq = 0;
  // A ghost hit: evicted from small not long ago and asked for again, so it
  // has proved itself once already.
  auto ghost = ghost_index_.find(fingerprint);
  if (ghost != ghost_index_.end()) {
    ghost_index_.erase(ghost);
    pushQueue(id, kMain);
  } else {
    pushQueue(id, kSmall);
  }
}

void S3FifoPolicy::remove(EntryId id) {
  if (id < nodes_.size()) unlinkQueue(id);
}

void S3FifoPolicy::pushGhost(const Node& n) {
  ghost_.push_back(GhostRecord{n.fingerprint, n.charge, ++ghost_seq_});
  ghost_index_[n.fingerprint] = ghost_seq_;
  ghost_charge_ += n.charge;
  while (!ghost_.empty() && ghost_charge_ > ghost_limit_) popGhost();
}

void S3FifoPolicy::popGhost() {
  const GhostRecord r = ghost_.front();
  ghost_.pop_front();
  ghost_charge_ -= r.charge;
  // A newer record (evicted again since) or a ghost hit owns the index entry.
  auto it = ghost_index_.find(r.fingerprint);
  if (it != ghost_index_.end() && it->second == r.seq) ghost_index_.erase(it);
}

bool S3FifoPolicy::shedOverhead() {
  if (ghost_.empty()) return false;
  popGhost();
  return true;
}

// Terminates: every pass either returns, moves an entry from small to main
// (small only shrinks), or lowers a main entry's count (at most 3 each).
EntryId S3FifoPolicy::evict() {
  for (;;) {
    if (!small_.empty() && (small_bytes_ >= small_target_ || main_.empty())) {
      const EntryId id = small_.tail();
      unlinkQueue(id);
      Node& n = nodes_[id];
      if (n.freq >= kPromoteFreq) {
        n.freq = 0;
        pushQueue(id, kMain);
        continue;
      }
      pushGhost(n);
      return id;
    }
    if (main_.empty()) return kNoEntry;
    const EntryId id = main_.tail();
    Node& n = nodes_[id];
    unlinkQueue(id);
    if (n.freq > 0) {
      --n.freq;
      pushQueue(id, kMain);
      continue;
    }
    return id;
  }
}

}  // namespace weir::cache
