#include "upstream/balancer/weighted_cycle.h"

#include <algorithm>
#include <map>
#include <numeric>

namespace weir::upstream {

std::vector<uint32_t> WeightedCycle::reduce(std::vector<uint32_t> weights, uint64_t max_total) {
  for (int pass = 0; pass < 2; ++pass) {
    uint32_t g = 0;
    for (uint32_t w : weights) g = std::gcd(g, w);
    uint64_t total = 0;
    for (uint32_t& w : weights) total += (w /= std::max<uint32_t>(g, 1));
    if (total <= max_total || pass == 1) break;
    // Scaled weights can share a divisor again: the second pass divides it.
    for (uint32_t& w : weights) w = static_cast<uint32_t>(std::max<uint64_t>(1, w * max_total / total));
  }
  return weights;
}

WeightedCycle::WeightedCycle(const std::vector<uint32_t>& servers, const std::vector<uint32_t>& weights,
                             Order order) {
  const std::vector<uint32_t> reduced = reduce(weights, kMaxLength);
  if (order == Order::kSmooth) {
    buildSmooth(servers, reduced);
    return;
  }
  for (size_t k = 0; k < servers.size(); ++k) entries_.insert(entries_.end(), reduced[k], servers[k]);
}

// Step t (from 1) gives server k the score t * w_k - total * picks_k, so
// servers of one weight differ only by their pick counts: the one with the
// fewest picks, the first of them on a tie, leads its group, and a group is
// served in cyclic order. Comparing group leaders instead of every server
// gives the same sequence as the per-server loop in O(distinct weights) a
// step.
void WeightedCycle::buildSmooth(const std::vector<uint32_t>& servers, const std::vector<uint32_t>& weights) {
  struct Group {
    int64_t weight;
    std::vector<size_t> members;  // positions in `servers`, ascending
    uint64_t picks = 0;
  };
  std::map<uint32_t, size_t> by_weight;
  std::vector<Group> groups;
  int64_t total = 0;
  for (size_t k = 0; k < servers.size(); ++k) {
    auto [it, added] = by_weight.emplace(weights[k], groups.size());
    if (added) groups.push_back(Group{weights[k], {}});
    groups[it->second].members.push_back(k);
    total += weights[k];
  }
  entries_.reserve(static_cast<size_t>(total));
  for (int64_t t = 1; t <= total; ++t) {
    Group* best = nullptr;
    int64_t best_score = 0;
    size_t best_pos = 0;
    for (Group& g : groups) {
      const size_t n = g.members.size();
      const int64_t score = t * g.weight - total * static_cast<int64_t>(g.picks / n);
      const size_t pos = g.members[g.picks % n];
      if (!best || score > best_score || (score == best_score && pos < best_pos)) {
        best = &g;
        best_score = score;
        best_pos = pos;
      }
    }
    ++best->picks;
    entries_.push_back(servers[best_pos]);
  }
}

}  // namespace weir::upstream
