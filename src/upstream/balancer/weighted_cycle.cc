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

namespace {

// The servers of one weight: positions in `servers`, ascending.
using Groups = std::map<uint32_t, std::vector<size_t>>;

// One cycle of the smooth order over `groups`, with keys of type Key (see
// buildSmooth): int64_t while positions fit kPosBits, else __int128.
template <class Key>
void smoothSteps(const Groups& groups, const std::vector<uint32_t>& servers, int64_t total,
                 std::vector<uint32_t>& out) {
  constexpr int kPosBits = 20;
  std::vector<Key> rate, offset;  // a group's key at step t is t * rate - offset
  std::vector<size_t> cursor;
  std::vector<const std::vector<size_t>*> members;
  for (const auto& [w, positions] : groups) {
    rate.push_back(Key{w} << kPosBits);
    offset.push_back(static_cast<Key>(positions[0]));
    cursor.push_back(0);
    members.push_back(&positions);
  }
  for (int64_t t = 1; t <= total; ++t) {
    size_t best = 0;
    Key best_key = t * rate[0] - offset[0];
    for (size_t g = 1; g < rate.size(); ++g) {
      const Key key = t * rate[g] - offset[g];
      best = key > best_key ? g : best;
      best_key = key > best_key ? key : best_key;
    }
    const std::vector<size_t>& group = *members[best];
    const size_t before = group[cursor[best]];
    out.push_back(servers[before]);
    Key round = 0;
    if (++cursor[best] == group.size()) {
      cursor[best] = 0;
      round = Key{total} << kPosBits;
    }
    offset[best] += round + static_cast<Key>(group[cursor[best]]) - static_cast<Key>(before);
  }
}

}  // namespace

// Step t (from 1) gives server k the score t * w_k - total * picks_k, so
// servers of one weight differ only by their pick counts: the one with the
// fewest picks, the first of them on a tie, leads its group, and a group is
// served in cyclic order. Comparing group leaders instead of every server
// gives the same sequence as the per-server loop in O(distinct weights) a
// step; distinct weights summing to at most kMaxLength are at most ~360.
//
// The tie-break rides in the low bits of one key, (score << 20) - leader
// position, so the inner loop is a branch-free max. In 64 bits while the
// pool has < 2^20 servers: then total <= kMaxLength + servers < 2^21
// (reduce()) and scores < total^2 < 2^42.
void WeightedCycle::buildSmooth(const std::vector<uint32_t>& servers, const std::vector<uint32_t>& weights) {
  Groups groups;
  int64_t total = 0;
  for (size_t k = 0; k < servers.size(); ++k) {
    groups[weights[k]].push_back(k);
    total += weights[k];
  }
  if (groups.empty()) return;
  entries_.reserve(static_cast<size_t>(total));
  if (servers.size() < (size_t{1} << 20)) {
    smoothSteps<int64_t>(groups, servers, total, entries_);
  } else {
    smoothSteps<__int128>(groups, servers, total, entries_);
  }
}

}  // namespace weir::upstream
