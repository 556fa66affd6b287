#include "upstream/balancer/random.h"

namespace weir::upstream {

RandomPicker::RandomPicker(const config::PoolConfig& pool, const PoolView& view, uint64_t seed)
    : eligibility_(pool, view), draw_(eligibility_), random_(seed) {}

int RandomPicker::pick(const PickContext& ctx, const TriedSet& tried) {
  eligibility_.refresh(tried);
  if (!eligibility_.anyUsable()) return -1;
  return draw_.draw(eligibility_, random_, ctx.now_ms, tried);
}

std::unique_ptr<Picker> RandomBalancer::build(const config::PoolConfig& pool, const PoolView& view,
                                              uint64_t seed) const {
  return std::make_unique<RandomPicker>(pool, view, seed);
}

}  // namespace weir::upstream
