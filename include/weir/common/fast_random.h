// A per-thread random source: splitmix64. Its users (balancer pickers,
// request-ID generators) are per worker, so the state needs no atomics; a
// few cycles per draw and good enough spread for choosing servers and making
// unique IDs (not for anything secret).
#pragma once

#include <cstdint>

namespace weir {

class FastRandom {
 public:
  explicit FastRandom(uint64_t seed) : state_(seed) {}

  uint64_t next() { return mix(state_ += 0x9e3779b97f4a7c15ull); }
  // splitmix64's finalizer: a well-spread 64-bit function of z.
  static uint64_t mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n) for n < 2^32, by multiply and shift (no division).
  uint32_t below(uint32_t n) { return static_cast<uint32_t>(((next() >> 32) * n) >> 32); }
  // Uniform in [0, 1).
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  uint64_t state_;
};

}  // namespace weir
