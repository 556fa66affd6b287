// Consistent hashing on the request's key (pools.NAME.hash) over a Maglev
// table (maglev_table.h), one per tier, built with the picker.
//
// A key's server is the owner of slot key_hash mod M. When that server is
// not eligible (down, tried, wrong tier) the lookup probes further slots of
// the table, so the keys of a down server spread over the others instead of
// doubling one neighbour's load, and come back when it is up. The probes
// step by a stride derived from the key (double hashing), not by 1: Maglev
// fills the table along arithmetic progressions, so the owner of slot + 1
// is correlated with the owner of slot; with 4 servers, stepping by 1 split
// a tried server's keys 55/45 between the two left, a per-key stride 50/50.
//
// Bounded load (hash.bounded_load = c > 0; Mirrokni, Thorup, Zadimoghaddam,
// "Consistent Hashing with Bounded Loads", 2016): a server is at cap when
// inFlight + 1 > ceil(c x (T + 1) x w / W), T the requests in flight on the
// pool (PoolHealth, shared by the workers) and W the tier's usable effective
// weight (cached per health epoch); a key whose server is at cap goes on to
// the next slot, so a hot key overflows onto a few servers and no server
// takes more than c times its fair share.
//
// Slow start: a server ramping with factor f keeps only the keys whose
// secondary hash (key and server remixed) falls below f, deterministically,
// the others spill to their next slot until the ramp ends; its cap is
// scaled by f too.
//
// A request without the key is balanced by round robin.
#pragma once

#include <vector>

#include "upstream/balancer/eligibility.h"
#include "upstream/balancer/maglev_table.h"
#include "upstream/balancer/round_robin.h"
#include "weir/upstream/balancer.h"

namespace weir::upstream {

class ConsistentHashPicker final : public Picker {
 public:
  ConsistentHashPicker(const config::PoolConfig& pool, const PoolView& view, uint64_t seed);
  int pick(const PickContext& ctx, const TriedSet& tried) override;

 private:
  // Slots probed before a scan of the tier takes over: with half the tier
  // out, all 64 miss about once in 10^19 lookups.
  static constexpr int kMaxProbes = 64;

  enum class Fit : uint8_t { kNo, kSpare, kYes };  // kSpare: eligible, but at cap or outside its ramp share
  struct Bound {
    bool on;
    double per_weight;  // c x (T + 1) / W: a server's cap is ceil(per_weight x its effective weight)
  };

  Bound bound(int64_t now);
  Fit fit(size_t i, uint64_t key, const Bound& bound, int64_t now, const TriedSet& tried) const;
  int scan(uint64_t key, const Bound& bound, int64_t now, const TriedSet& tried, int spare) const;

  Eligibility eligibility_;
  MaglevTable tables_[2];
  std::vector<uint64_t> name_hashes_;  // salt each server's ramp share of the keys
  double bounded_load_;
  PoolHealthPtr health_;
  RoundRobinPicker round_robin_;
};

class ConsistentHashBalancer final : public Balancer {
 public:
  std::unique_ptr<Picker> build(const config::PoolConfig& pool, const PoolView& view, uint64_t seed) const override;
};

}  // namespace weir::upstream
