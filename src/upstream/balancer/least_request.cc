#include "upstream/balancer/least_request.h"

#include <algorithm>

namespace weir::upstream {

LeastRequestPicker::LeastRequestPicker(const config::PoolConfig& pool, const PoolView& view, uint64_t seed)
    : eligibility_(pool, view), draw_(eligibility_), random_(seed) {}

// Load is inFlight / weight, without the +1 of "load once this request is
// sent": the draws already favour heavy servers in proportion to weight, and
// a +1 would favour them a second time whenever both are idle (weights
// 1,2,3,4 at zero load would get 1%, 8%, 27%, 64% of the picks instead of
// 10-40%). On a tie, idle servers included, the first draw wins, so at zero
// load the shares are the weights and under load the in-flight counts steer.
int LeastRequestPicker::pick(const PickContext& ctx, const TriedSet& tried) {
  eligibility_.refresh(tried);
  if (!eligibility_.anyUsable()) return -1;
  const int first = draw_.draw(eligibility_, random_, ctx.now_ms, tried);
  if (first < 0 || eligibility_.members(eligibility_.tier()).size() < 2) return first;
  const int second = draw_.draw(eligibility_, random_, ctx.now_ms, tried, first);
  if (second < 0) return first;
  const size_t a = static_cast<size_t>(first);
  const size_t b = static_cast<size_t>(second);
  const double load_a = std::max(eligibility_.state(a).inFlight(), 0) * eligibility_.effectiveWeight(b, ctx.now_ms);
  const double load_b = std::max(eligibility_.state(b).inFlight(), 0) * eligibility_.effectiveWeight(a, ctx.now_ms);
  return load_b < load_a ? second : first;
}

std::unique_ptr<Picker> LeastRequestBalancer::build(const config::PoolConfig& pool, const PoolView& view,
                                                    uint64_t seed) const {
  return std::make_unique<LeastRequestPicker>(pool, view, seed);
}

}  // namespace weir::upstream
