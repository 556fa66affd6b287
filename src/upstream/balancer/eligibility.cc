#include "upstream/balancer/eligibility.h"

#include <algorithm>

namespace weir::upstream {

Eligibility::Eligibility(const config::PoolConfig& pool, const PoolView& view)
    : owned_(view.servers), slow_start_ms_(view.slow_start_ms) {
  servers_.reserve(owned_.size());
  for (size_t i = 0; i < owned_.size(); ++i) {
    // A view always matches its pool; a hand-built one that is longer gets
    // weight 1, primary, rather than a read past the end.
    const bool known = i < pool.servers.size();
    const uint32_t weight = known ? std::max<uint32_t>(pool.servers[i].weight, 1) : 1;
    const uint32_t tier = known && pool.servers[i].backup ? kBackups : kPrimaries;
    servers_.push_back(Server{owned_[i].get(), weight, tier});
    members_[tier].push_back(static_cast<uint32_t>(i));
  }
}

// The epoch is read before the scan: a change that lands during it bumps the
// epoch again and the next pick derives once more.
void Eligibility::recompute(uint64_t epoch) {
  epoch_ = epoch;
  bool primary_usable = false;
  for (uint32_t i : members_[kPrimaries]) primary_usable = primary_usable || servers_[i].state->usable();
  health_tier_ = primary_usable ? kPrimaries : kBackups;
  for (size_t tier : {kPrimaries, kBackups}) {
    any_usable_[tier] = false;
    ramp_until_[tier] = INT64_MIN;
    for (uint32_t i : members_[tier]) {
      const ServerState& s = *servers_[i].state;
      if (!s.usable()) continue;
      any_usable_[tier] = true;
      // upSince only changes with usability, which bumps the epoch.
      if (slow_start_ms_ > 0 && s.upSince() != kUpSinceStart) {
        ramp_until_[tier] = std::max(ramp_until_[tier], s.upSince() + slow_start_ms_);
      }
    }
  }
}

double Eligibility::tierWeight(int64_t now) {
  // A sum taken while a server ramped goes stale as time passes; one taken
  // after every ramp ended stays right until the epoch moves.
  TierWeight& w = tier_weight_[tier_];
  const bool stale = w.epoch != epoch_ || (now != w.at && ramping(w.at));
  if (!stale) return w.sum;
  double sum = 0;
  for (uint32_t i : members_[tier_]) {
    if (servers_[i].state->usable()) sum += effectiveWeight(i, now);
  }
  w = {sum, epoch_, now};
  return sum;
}

bool Eligibility::anyEligible(const TriedSet& tried) const {
  for (uint32_t i : members_[tier_]) {
    if (eligible(i, tried)) return true;
  }
  return false;
}

}  // namespace weir::upstream
