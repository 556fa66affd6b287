// One cycle of server indices in which each server appears in proportion to
// its weight: walked with a cursor it is weighted round robin, indexed at
// random it is a weighted random draw, both O(1) whatever the pool's size.
//
// Weights are first divided by their gcd; if the cycle would still be longer
// than kMaxLength they are scaled down in proportion (each kept >= 1), which
// costs a share error below 1/kMaxLength of the total per server, rounded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace weir::upstream {

class WeightedCycle {
 public:
  static constexpr uint64_t kMaxLength = 65536;

  enum class Order : uint8_t {
    // nginx's smooth weighted round robin: each step adds every server's
    // weight to its score, takes the highest (the first on a tie) and lowers
    // it by the total. Weights 5,1,1 give a a b a c a a: spread, not bursts.
    kSmooth,
    // Each server's entries side by side: as good for random draws and
    // built in O(length).
    kGrouped,
  };

  WeightedCycle() = default;
  // `servers[k]` has weight `weights[k]` (>= 1); entries are taken from
  // `servers`. Building kSmooth costs O(length x distinct weights).
  WeightedCycle(const std::vector<uint32_t>& servers, const std::vector<uint32_t>& weights, Order order);

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  uint32_t operator[](size_t k) const { return entries_[k]; }

  // The weights a cycle is built from: divided by their gcd, then scaled
  // down if their sum passes `max_total`.
  static std::vector<uint32_t> reduce(std::vector<uint32_t> weights, uint64_t max_total);

 private:
  void buildSmooth(const std::vector<uint32_t>& servers, const std::vector<uint32_t>& weights);

  std::vector<uint32_t> entries_;
};

}  // namespace weir::upstream
