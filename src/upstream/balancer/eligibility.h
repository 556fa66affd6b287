// Which servers a pick may return, the same for every picker (balancer.h):
// usable, not in the request's TriedSet, and in the tier in use, the
// primaries while any primary is usable, else the backups. A retry whose
// request has been tried on every usable primary goes to the backups too:
// the primaries are up, but none is left for this request.
//
// "Any primary usable" needs a pass over the pool, so it is cached and only
// re-derived when healthEpoch() moved (some server's usability changed, in
// any pool; rare). A pick then costs one atomic load for the epoch plus the
// per-server checks it makes. Each picker owns one Eligibility: it is per
// worker and takes no lock.
#pragma once

#include <climits>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "weir/config/config.h"
#include "weir/upstream/balancer.h"
#include "weir/upstream/server_state.h"

namespace weir::upstream {

class Eligibility {
 public:
  static constexpr size_t kPrimaries = 0;
  static constexpr size_t kBackups = 1;

  // `view.servers[i]` is the state of `pool.servers[i]`; the states are kept
  // alive by this object.
  Eligibility(const config::PoolConfig& pool, const PoolView& view);

  // Brings the cached tier up to date and picks the tier for this request;
  // call at the start of every pick.
  void refresh(const TriedSet& tried) {
    const uint64_t epoch = healthEpoch();
    if (epoch != epoch_) recompute(epoch);
    tier_ = health_tier_;
    if (tier_ == kPrimaries && tried.any() && any_usable_[kBackups] && !anyEligible(tried)) tier_ = kBackups;
  }

  // ---- valid after refresh() ----
  size_t tier() const { return tier_; }             // kPrimaries or kBackups
  bool anyUsable() const { return any_usable_[tier_]; }  // in the tier in use
  bool eligible(size_t i, const TriedSet& tried) const {
    const Server& s = servers_[i];
    return s.tier == tier_ && s.state->usable() && !tried.has(i);
  }
  // Slow start can only be in progress before this time, so outside it a
  // picker skips every rampFactor call.
  bool ramping(int64_t now) const { return now < ramp_until_[tier_]; }
  // The share of its weight slow start gives server i at `now`.
  double ramp(size_t i, int64_t now) const {
    return ramping(now) ? servers_[i].state->rampFactor(now, slow_start_ms_) : 1.0;
  }
  double effectiveWeight(size_t i, int64_t now) const { return servers_[i].weight * ramp(i, now); }
  // Sum of the effective weights of the usable servers of the tier in use.
  // Cached per epoch, and re-summed at most once per millisecond while a
  // server of the tier ramps.
  double tierWeight(int64_t now);
  // True when some server of the tier is eligible: O(servers of the tier),
  // for the rare pick that found nothing after a bounded search.
  bool anyEligible(const TriedSet& tried) const;

  // ---- configuration, fixed at construction ----
  size_t size() const { return servers_.size(); }
  uint32_t weight(size_t i) const { return servers_[i].weight; }
  const ServerState& state(size_t i) const { return *servers_[i].state; }
  // The servers of one tier, in pool order.
  const std::vector<uint32_t>& members(size_t tier) const { return members_[tier]; }

 private:
  struct Server {
    const ServerState* state;
    uint32_t weight;  // configured, at least 1
    uint32_t tier;
  };
  void recompute(uint64_t epoch);

  std::vector<ServerStatePtr> owned_;
  std::vector<Server> servers_;
  std::vector<uint32_t> members_[2];
  int64_t slow_start_ms_;

  uint64_t epoch_ = 0;  // healthEpoch() starts at 1: the first refresh derives
  size_t health_tier_ = kPrimaries;  // from health alone
  size_t tier_ = kPrimaries;         // for the current pick
  bool any_usable_[2] = {false, false};
  int64_t ramp_until_[2] = {INT64_MIN, INT64_MIN};

  struct TierWeight {
    double sum = 0;
    uint64_t epoch = 0;
    int64_t at = INT64_MIN;
  };
  TierWeight tier_weight_[2];
};

}  // namespace weir::upstream
