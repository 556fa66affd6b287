// Smooth weighted round robin, as nginx does it: each pick adds every
// server's weight to its running score, takes the highest score and lowers it
// by the total. Weights 5,1,1 give a a b a c a a — spread out, not bursts.
#pragma once

#include "weir/upstream/balancer.h"

namespace weir::upstream {

class RoundRobinPicker final : public Picker {
 public:
  explicit RoundRobinPicker(std::vector<uint32_t> weights);
  int pick(const PickContext& ctx, const TriedSet& tried) override;

 private:
  struct Peer {
    int64_t weight;
    int64_t current = 0;
  };
  std::vector<Peer> peers_;
};

class RoundRobinBalancer final : public Balancer {
 public:
  std::unique_ptr<Picker> build(const config::PoolConfig& pool, const PoolView& view, uint64_t seed) const override;
};

}  // namespace weir::upstream
