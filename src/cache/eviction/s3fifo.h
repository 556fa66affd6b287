// S3-FIFO (Yang et al., "FIFO queues are all you need for cache eviction",
// SOSP 2023), by bytes:
//  - small: a FIFO for new entries, about 10% of the shard's budget;
//  - main: a FIFO with reinsertion (a 2-bit CLOCK) for the rest;
//  - ghost: fingerprints of entries evicted from small, remembered until the
//    charges they stood for pass 90% of the budget.
// Each entry counts hits up to 3 (touch: a saturating increment, no list
// move). Evicting from small: an entry hit at least once moves to main with
// its count reset, any other leaves for the ghost (a one-hit wonder never
// reaches main). Evicting from main: an entry with a count is moved back to
// the head with the count lowered, the first without one is the victim. A new
// entry whose fingerprint is in the ghost goes straight to main.
#pragma once

#include <deque>
#include <unordered_map>
#include <vector>

#include "cache/eviction/id_list.h"
#include "weir/cache/eviction.h"

namespace weir::cache {

class S3FifoPolicy final : public EvictionPolicy {
 public:
  // The bytes one ghost entry is charged: its ring record plus a hash-map
  // node and bucket.
  static constexpr uint64_t kGhostEntryBytes = 80;
  static constexpr uint8_t kMaxFreq = 3;
  // Hits an entry needs in small to move to main.
  static constexpr uint8_t kPromoteFreq = 1;

  explicit S3FifoPolicy(uint64_t capacity) { setCapacity(capacity); }

  void admit(EntryId id, uint64_t fingerprint, uint64_t charge) override;
  void touch(EntryId id) override {
    uint8_t& f = nodes_[id].freq;
    if (f < kMaxFreq) ++f;
  }
  void remove(EntryId id) override;
  EntryId evict() override;
  bool shedOverhead() override;
  uint64_t overheadBytes() const override { return ghost_.size() * kGhostEntryBytes; }
  uint64_t entryBytes() const override { return sizeof(Node); }
  void setCapacity(uint64_t bytes) override;
  size_t size() const override { return small_.size() + main_.size(); }
  const char* name() const override { return "s3fifo"; }

  // For tests.
  size_t smallSize() const { return small_.size(); }
  size_t mainSize() const { return main_.size(); }
  size_t ghostSize() const { return ghost_index_.size(); }
  bool inMain(EntryId id) const { return id < nodes_.size() && nodes_[id].queue == kMain; }
  bool inSmall(EntryId id) const { return id < nodes_.size() && nodes_[id].queue == kSmall; }
  uint8_t freqOf(EntryId id) const { return nodes_[id].freq; }

 private:
  enum Queue : uint8_t { kNone, kSmall, kMain };
  struct Node {
    EntryId prev = kNoEntry;
    EntryId next = kNoEntry;
    uint64_t fingerprint = 0;
    uint32_t charge = 0;  // saturates at 4 GiB: only the queues' sizing reads it
    Queue queue = kNone;
    uint8_t freq = 0;
  };
  struct GhostRecord {
    uint64_t fingerprint;
    uint64_t charge;
    uint64_t seq;
  };

  void pushQueue(EntryId id, Queue q);
  void unlinkQueue(EntryId id);
  void pushGhost(const Node& n);
  void popGhost();

  std::vector<Node> nodes_;
  IdList small_;
  IdList main_;
  uint64_t small_bytes_ = 0;
  uint64_t main_bytes_ = 0;
  uint64_t small_target_ = 0;
  uint64_t ghost_limit_ = 0;
  std::deque<GhostRecord> ghost_;
  std::unordered_map<uint64_t, uint64_t> ghost_index_;  // fingerprint -> seq of its newest record
  uint64_t ghost_charge_ = 0;
  uint64_t ghost_seq_ = 0;
};

}  // namespace weir::cache
