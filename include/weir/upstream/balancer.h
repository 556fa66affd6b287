// Load-balancing algorithms. A Balancer is registered by its config name and
// builds one Picker per (worker, pool): pickers hold mutable per-worker state,
// so picking takes no lock. Health only changes which servers are eligible:
// pickers read ServerState (usable, in flight, slow-start ramp) and never
// probe servers themselves.
//
// Eligible, for every balancer: usable (not down, not ejected), not in the
// request's TriedSet, and in the tier in use: the primary servers while any
// primary is usable, else the backups; a retry that has tried every usable
// primary may go to a backup (src/upstream/balancer/eligibility.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "weir/config/config.h"
#include "weir/upstream/server_state.h"

namespace weir::upstream {

// Servers already tried for one request (by index in the pool).
class TriedSet {
 public:
  explicit TriedSet(size_t servers = 0) : bits_((servers + 63) / 64, 0) {}
  void add(size_t i) {
    if (i / 64 >= bits_.size()) bits_.resize(i / 64 + 1, 0);
    bits_[i / 64] |= uint64_t{1} << (i % 64);
  }
  bool has(size_t i) const { return i / 64 < bits_.size() && (bits_[i / 64] >> (i % 64)) & 1; }
  bool any() const {
    for (uint64_t b : bits_) {
      if (b != 0) return true;
    }
    return false;
  }
  void clear() { std::fill(bits_.begin(), bits_.end(), 0); }

 private:
  std::vector<uint64_t> bits_;
};

struct PickContext {
  int64_t now_ms = 0;     // monotonicMs() at the pick: slow start reads it
  bool has_key = false;   // consistent_hash: the request carries the hash key
  uint64_t key_hash = 0;  // XXH3-64 of the key's value
};

class Picker {
 public:
  virtual ~Picker() = default;
  // Index of the server to use, or -1 when no server is eligible (all down,
  // or every usable one tried). No allocation, no lock.
  virtual int pick(const PickContext& ctx, const TriedSet& tried) = 0;
};

class Balancer {
 public:
  virtual ~Balancer() = default;
  // `view.servers[i]` is the shared state of `pool.servers[i]`; `seed`
  // seeds the picker's random generator (tests pass a fixed one).
  virtual std::unique_ptr<Picker> build(const config::PoolConfig& pool, const PoolView& view,
                                        uint64_t seed) const = 0;
};

// nullptr for an unknown name. Names: round_robin, least_request, random,
// consistent_hash.
const Balancer* findBalancer(std::string_view name);

}  // namespace weir::upstream
