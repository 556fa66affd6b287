// Maglev lookup table (Eisenbud et al., "Maglev: A Fast and Reliable
// Software Network Load Balancer", NSDI 2016): M slots, M prime; each server
// owns a share of the slots in proportion to its weight, and a key maps to
// slot key_hash mod M.
//
// Why Maglev rather than a hash ring: a lookup is one array read (a ring is
// a binary search over ~100 points per server), the slots are spread within
// a fraction of a percent of the weights (a ring needs many points per
// server to get close), and the table is M x 4 bytes (256 KiB for 65537
// slots) built in O(M log M). The trade-off: after a change of the server
// list a few more keys move than the minimum (the paper measures it; the
// unit tests bound it for removing 1 server of 10). A server that goes down
// does not rebuild anything: the picker skips its slots at lookup time.
//
// Immutable once built; shared by nothing but the picker that built it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace weir::upstream {

class MaglevTable {
 public:
  struct Server {
    std::string_view name;  // what the slot preferences hash: "host:port"
    uint32_t weight;        // >= 1
    uint32_t id;            // what the slots hold (the index in the pool)
  };

  MaglevTable() = default;
  // Empty when `servers` is.
  explicit MaglevTable(const std::vector<Server>& servers);

  // The table size for a number of servers: the smallest prime of a short
  // list that is >= 100 x servers and >= 65537 (the paper's advice, M much
  // larger than N, keeps shares within ~1%); the largest of the list past
  // 167,000 servers.
  static uint32_t sizeFor(size_t servers);

  bool empty() const { return slots_.empty(); }
  size_t size() const { return slots_.size(); }
  size_t slotOf(uint64_t key_hash) const { return static_cast<size_t>(key_hash % slots_.size()); }
  // A key's probe sequence after its slot: slot + stride, + 2 stride, ...
  // mod M; any stride in [1, M) visits every slot (M is prime).
  size_t strideOf(uint64_t second_hash) const { return static_cast<size_t>(1 + second_hash % (slots_.size() - 1)); }
  size_t next(size_t slot, size_t stride) const {
    return slot + stride >= slots_.size() ? slot + stride - slots_.size() : slot + stride;
  }
  uint32_t owner(size_t slot) const { return slots_[slot]; }
  // The server of a key when every server is eligible.
  uint32_t lookup(uint64_t key_hash) const { return owner(slotOf(key_hash)); }

 private:
  std::vector<uint32_t> slots_;
};

}  // namespace weir::upstream
