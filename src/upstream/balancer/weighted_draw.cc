#include "upstream/balancer/weighted_draw.h"

namespace weir::upstream {

WeightedDraw::WeightedDraw(const Eligibility& eligibility) {
  for (size_t tier : {Eligibility::kPrimaries, Eligibility::kBackups}) {
    const std::vector<uint32_t>& members = eligibility.members(tier);
    std::vector<uint32_t> weights;
    weights.reserve(members.size());
    for (uint32_t i : members) weights.push_back(eligibility.weight(i));
    cycles_[tier] = WeightedCycle(members, weights, WeightedCycle::Order::kGrouped);
  }
}

int WeightedDraw::draw(const Eligibility& eligibility, FastRandom& random, int64_t now, const TriedSet& tried,
                       int except) const {
  const WeightedCycle& cycle = cycles_[eligibility.tier()];
  if (cycle.empty()) return -1;
  const bool ramping = eligibility.ramping(now);
  const uint32_t length = static_cast<uint32_t>(cycle.size());
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    const uint32_t i = cycle[random.below(length)];
    if (static_cast<int>(i) == except || !eligibility.eligible(i, tried)) continue;
    if (ramping) {
      const double f = eligibility.ramp(i, now);
      if (f < 1.0 && random.unit() >= f) continue;
    }
    return static_cast<int>(i);
  }
  return scan(eligibility, random, now, tried, except);
}

// Weighted reservoir sampling in one pass: the k-th eligible server replaces
// the choice with probability w_k / (sum of w so far), which leaves each
// with probability w / total. Uses the exact weights, not the cycle's.
int WeightedDraw::scan(const Eligibility& eligibility, FastRandom& random, int64_t now, const TriedSet& tried,
                       int except) const {
  int chosen = -1;
  double total = 0;
  for (uint32_t i : eligibility.members(eligibility.tier())) {
    if (static_cast<int>(i) == except || !eligibility.eligible(i, tried)) continue;
    const double w = eligibility.effectiveWeight(i, now);
    total += w;
    if (random.unit() * total < w) chosen = static_cast<int>(i);
  }
  return chosen;
}

}  // namespace weir::upstream
