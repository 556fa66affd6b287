// Least recently used: one list, a hit moves the entry to the head, the tail
// is the victim. The baseline S3-FIFO is measured against.
#pragma once

#include <vector>

#include "cache/eviction/id_list.h"
#include "weir/cache/eviction.h"

namespace weir::cache {

class LruPolicy final : public EvictionPolicy {
 public:
  void admit(EntryId id, uint64_t fingerprint, uint64_t charge) override;
  void touch(EntryId id) override;
  void remove(EntryId id) override;
  EntryId evict() override;
  bool shedOverhead() override { return false; }
  uint64_t overheadBytes() const override { return 0; }
  uint64_t entryBytes() const override { return sizeof(Node); }
  void setCapacity(uint64_t) override {}
  size_t size() const override { return list_.size(); }
  const char* name() const override { return "lru"; }

 private:
  struct Node {
    EntryId prev = kNoEntry;
    EntryId next = kNoEntry;
    bool linked = false;
  };
  std::vector<Node> nodes_;
  IdList list_;
};

}  // namespace weir::cache
