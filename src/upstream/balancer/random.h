// Weighted random: each pick an independent draw among the eligible
// servers, in proportion to their effective weights (WeightedDraw). No
// state shared between picks apart from the random generator.
#pragma once

#include "upstream/balancer/eligibility.h"
#include "upstream/balancer/weighted_draw.h"
#include "weir/common/fast_random.h"
#include "weir/upstream/balancer.h"

namespace weir::upstream {

class RandomPicker final : public Picker {
 public:
  RandomPicker(const config::PoolConfig& pool, const PoolView& view, uint64_t seed);
  int pick(const PickContext& ctx, const TriedSet& tried) override;

 private:
  Eligibility eligibility_;
  WeightedDraw draw_;
  FastRandom random_;
};

class RandomBalancer final : public Balancer {
 public:
  std::unique_ptr<Picker> build(const config::PoolConfig& pool, const PoolView& view, uint64_t seed) const override;
};

}  // namespace weir::upstream
