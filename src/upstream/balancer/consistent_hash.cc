#include "upstream/balancer/consistent_hash.h"

#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "weir/common/fast_random.h"

namespace weir::upstream {
namespace {

constexpr uint64_t kNameSeed = 0x72616d7073616c74ull;    // "rampsalt"
constexpr uint64_t kStrideSalt = 0x7374726964657321ull;  // "strides!"

// FastRandom::mix spreads key_hash ^ salt into bits that are independent of
// the Maglev slot, which used key_hash mod M.
double unitOf(uint64_t z) { return static_cast<double>(FastRandom::mix(z) >> 11) * 0x1.0p-53; }

}  // namespace

ConsistentHashPicker::ConsistentHashPicker(const config::PoolConfig& pool, const PoolView& view, uint64_t seed)
    : eligibility_(pool, view), bounded_load_(pool.hash.bounded_load), health_(view.health),
      round_robin_(pool, view, seed) {
  name_hashes_.reserve(eligibility_.size());
  for (size_t i = 0; i < eligibility_.size(); ++i) {
    const std::string& name = eligibility_.state(i).name();
    name_hashes_.push_back(XXH3_64bits_withSeed(name.data(), name.size(), kNameSeed));
  }
  for (size_t tier : {Eligibility::kPrimaries, Eligibility::kBackups}) {
    std::vector<MaglevTable::Server> servers;
    for (uint32_t i : eligibility_.members(tier)) {
      servers.push_back(MaglevTable::Server{eligibility_.state(i).name(), eligibility_.weight(i), i});
    }
    tables_[tier] = MaglevTable(servers);
  }
}

// Without the pool's shared in-flight count (a hand-built view) there is no
// T to bound by, so no bound.
ConsistentHashPicker::Bound ConsistentHashPicker::bound(int64_t now) {
  if (bounded_load_ <= 0 || !health_) return Bound{false, 0};
  const double total_weight = eligibility_.tierWeight(now);
  if (total_weight <= 0) return Bound{false, 0};
  const int32_t in_flight = std::max(health_->requests_in_flight.load(std::memory_order_relaxed), 0);
  return Bound{true, bounded_load_ * (static_cast<double>(in_flight) + 1) / total_weight};
}

ConsistentHashPicker::Fit ConsistentHashPicker::fit(size_t i, uint64_t key, const Bound& bound, int64_t now,
                                                    const TriedSet& tried) const {
  if (!eligibility_.eligible(i, tried)) return Fit::kNo;
  const double f = eligibility_.ramp(i, now);
  if (f < 1.0 && unitOf(key ^ name_hashes_[i]) >= f) return Fit::kSpare;
  if (bound.on) {
    const double cap = std::ceil(bound.per_weight * eligibility_.weight(i) * f);
    if (eligibility_.state(i).inFlight() + 1.0 > cap) return Fit::kSpare;
  }
  return Fit::kYes;
}

// Probes stop at kMaxProbes (a server met twice in a row is checked once);
// then a scan of the tier from a key-derived start, still
// deterministic per key. When every eligible server is at cap (the pool's T
// lags the servers' counts) the first one met takes the request anyway.
int ConsistentHashPicker::pick(const PickContext& ctx, const TriedSet& tried) {
  if (!ctx.has_key) return round_robin_.pick(ctx, tried);
  eligibility_.refresh(tried);
  if (!eligibility_.anyUsable()) return -1;
  const MaglevTable& table = tables_[eligibility_.tier()];
  const Bound b = bound(ctx.now_ms);
  const uint64_t key = ctx.key_hash;
  size_t slot = table.slotOf(key);
  size_t stride = 0;  // derived only when the first probe fails: the usual pick costs one division
  int spare = -1;
  uint32_t previous = UINT32_MAX;
  for (int probe = 0; probe < kMaxProbes; ++probe) {
    const uint32_t i = table.owner(slot);
    if (i != previous) {
      previous = i;
      const Fit f = fit(i, key, b, ctx.now_ms, tried);
      if (f == Fit::kYes) return static_cast<int>(i);
      if (f == Fit::kSpare && spare < 0) spare = static_cast<int>(i);
    }
    if (stride == 0) stride = table.strideOf(FastRandom::mix(key ^ kStrideSalt));
    slot = table.next(slot, stride);
  }
  return scan(key, b, ctx.now_ms, tried, spare);
}

int ConsistentHashPicker::scan(uint64_t key, const Bound& bound, int64_t now, const TriedSet& tried,
                               int spare) const {
  const std::vector<uint32_t>& members = eligibility_.members(eligibility_.tier());
  const size_t start = static_cast<size_t>(FastRandom::mix(key) % members.size());
  for (size_t k = 0; k < members.size(); ++k) {
    const uint32_t i = members[(start + k) % members.size()];
    const Fit f = fit(i, key, bound, now, tried);
    if (f == Fit::kYes) return static_cast<int>(i);
    if (f == Fit::kSpare && spare < 0) spare = static_cast<int>(i);
  }
  return spare;
}

std::unique_ptr<Picker> ConsistentHashBalancer::build(const config::PoolConfig& pool, const PoolView& view,
                                                      uint64_t seed) const {
  return std::make_unique<ConsistentHashPicker>(pool, view, seed);
}

}  // namespace weir::upstream
