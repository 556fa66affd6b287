// Load-balancing algorithms. A Balancer is registered by its config name and
// builds one Picker per (worker, pool): pickers hold mutable per-worker state,
// so picking takes no lock. Health (later) only changes which servers are
// eligible; balancers never probe servers themselves.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "weir/config/config.h"

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
  void clear() { std::fill(bits_.begin(), bits_.end(), 0); }

 private:
  std::vector<uint64_t> bits_;
};

struct PickContext {
  uint64_t request_hash = 0;  // for hashing balancers (later)
};

class Picker {
 public:
  virtual ~Picker() = default;
  // Index of the server to use, or -1 when every server was tried.
  virtual int pick(const PickContext& ctx, const TriedSet& tried) = 0;
};

class Balancer {
 public:
  virtual ~Balancer() = default;
  virtual std::unique_ptr<Picker> build(const config::PoolConfig& pool) const = 0;
};

// nullptr for an unknown name. Names: "round_robin".
const Balancer* findBalancer(std::string_view name);

}  // namespace weir::upstream
