// Least request by the power of two choices (Mitzenmacher): draw two
// eligible servers at random, in proportion to their effective weights
// (WeightedDraw), and send the request to the less loaded one, load being
// in-flight requests per unit of effective weight. In-flight counts are the
// shared ServerState ones, so every worker sees the others' requests.
//
// Why two random choices rather than the global minimum: O(1) per pick, and
// workers that read the counts a little late do not all pile onto the same
// "least loaded" server.
#pragma once

#include "upstream/balancer/eligibility.h"
#include "upstream/balancer/weighted_draw.h"
#include "weir/common/fast_random.h"
#include "weir/upstream/balancer.h"

namespace weir::upstream {

class LeastRequestPicker final : public Picker {
 public:
  LeastRequestPicker(const config::PoolConfig& pool, const PoolView& view, uint64_t seed);
  int pick(const PickContext& ctx, const TriedSet& tried) override;

 private:
  Eligibility eligibility_;
  WeightedDraw draw_;
  FastRandom random_;
};

class LeastRequestBalancer final : public Balancer {
 public:
  std::unique_ptr<Picker> build(const config::PoolConfig& pool, const PoolView& view, uint64_t seed) const override;
};

}  // namespace weir::upstream
