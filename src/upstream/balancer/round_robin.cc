#include "upstream/balancer/round_robin.h"

namespace weir::upstream {

RoundRobinPicker::RoundRobinPicker(const config::PoolConfig& pool, const PoolView& view, uint64_t seed)
    : eligibility_(pool, view), random_(seed) {
  for (size_t tier : {Eligibility::kPrimaries, Eligibility::kBackups}) {
    const std::vector<uint32_t>& members = eligibility_.members(tier);
    std::vector<uint32_t> weights;
    weights.reserve(members.size());
    for (uint32_t i : members) weights.push_back(eligibility_.weight(i));
    cycles_[tier] = WeightedCycle(members, weights, WeightedCycle::Order::kSmooth);
  }
}

// A refused pick (-1) leaves the cursor where it was, so the rotation goes
// on undisturbed. An entry turned down only by its ramp is kept as a last
// resort: a pick never fails while something is eligible.
int RoundRobinPicker::pick(const PickContext& ctx, const TriedSet& tried) {
  eligibility_.refresh(tried);
  if (!eligibility_.anyUsable()) return -1;
  const size_t tier = eligibility_.tier();
  const WeightedCycle& cycle = cycles_[tier];
  const size_t length = cycle.size();
  const bool ramping = eligibility_.ramping(ctx.now_ms);
  size_t cursor = cursors_[tier];
  int spare = -1;
  size_t spare_cursor = cursor;
  for (size_t step = 0; step < length; ++step) {
    if (step == kStepsBeforeCheck && spare < 0 && !eligibility_.anyEligible(tried)) return -1;
    const uint32_t i = cycle[cursor];
    if (++cursor == length) cursor = 0;
    if (!eligibility_.eligible(i, tried)) continue;
    if (ramping) {
      const double f = eligibility_.ramp(i, ctx.now_ms);
      if (f < 1.0 && random_.unit() >= f) {
        if (spare < 0) {
          spare = static_cast<int>(i);
          spare_cursor = cursor;
        }
        continue;
      }
    }
    cursors_[tier] = cursor;
    return static_cast<int>(i);
  }
  cursors_[tier] = spare_cursor;
  return spare;
}

std::unique_ptr<Picker> RoundRobinBalancer::build(const config::PoolConfig& pool, const PoolView& view,
                                                  uint64_t seed) const {
  return std::make_unique<RoundRobinPicker>(pool, view, seed);
}

}  // namespace weir::upstream
