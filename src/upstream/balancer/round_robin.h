// Smooth weighted round robin, as nginx does it (WeightedCycle::kSmooth):
// weights 5,1,1 give a a b a c a a, spread out, not bursts.
//
// The nginx loop costs O(servers) a pick. Here the sequence of one cycle is
// computed when the picker is built, once for the primaries and once for the
// backups, and a pick walks it with a cursor, skipping ineligible entries:
// O(1) for any pool size while few servers are out. Skipping instead of
// re-running the loop without the ineligible servers gives the same shares
// among the others (their entries keep their order).
//
// Slow start: an entry of a ramping server is taken with probability equal
// to its ramp factor, else the walk moves on, so its share follows its
// effective weight.
#pragma once

#include "upstream/balancer/eligibility.h"
#include "upstream/balancer/weighted_cycle.h"
#include "weir/common/fast_random.h"
#include "weir/upstream/balancer.h"

namespace weir::upstream {

class RoundRobinPicker final : public Picker {
 public:
  RoundRobinPicker(const config::PoolConfig& pool, const PoolView& view, uint64_t seed);
  int pick(const PickContext& ctx, const TriedSet& tried) override;

 private:
  // Entries walked before checking that anything is eligible at all, so that
  // a pick with every server tried costs O(servers), not O(cycle).
  static constexpr size_t kStepsBeforeCheck = 64;

  Eligibility eligibility_;
  WeightedCycle cycles_[2];  // by tier
  size_t cursors_[2] = {0, 0};
  FastRandom random_;
};

class RoundRobinBalancer final : public Balancer {
 public:
  std::unique_ptr<Picker> build(const config::PoolConfig& pool, const PoolView& view, uint64_t seed) const override;
};

}  // namespace weir::upstream
