#include "upstream/balancer/round_robin.h"

namespace weir::upstream {

RoundRobinPicker::RoundRobinPicker(std::vector<uint32_t> weights) {
  peers_.reserve(weights.size());
  for (uint32_t w : weights) peers_.push_back(Peer{static_cast<int64_t>(w)});
}

int RoundRobinPicker::pick(const PickContext&, const TriedSet& tried) {
  int best = -1;
  int64_t total = 0;
  for (size_t i = 0; i < peers_.size(); ++i) {
    if (tried.has(i)) continue;
    Peer& p = peers_[i];
    p.current += p.weight;
    total += p.weight;
    if (best < 0 || p.current > peers_[static_cast<size_t>(best)].current) best = static_cast<int>(i);
  }
  if (best >= 0) peers_[static_cast<size_t>(best)].current -= total;
  return best;
}

std::unique_ptr<Picker> RoundRobinBalancer::build(const config::PoolConfig& pool, const PoolView&, uint64_t) const {
  std::vector<uint32_t> weights;
  weights.reserve(pool.servers.size());
  for (const auto& s : pool.servers) weights.push_back(s.weight);
  return std::make_unique<RoundRobinPicker>(std::move(weights));
}

}  // namespace weir::upstream
