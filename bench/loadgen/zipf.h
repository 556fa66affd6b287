// Zipf-distributed ranks for cache workloads: P(k) proportional to k^-alpha
// for k in 1..n, sampled in O(1) time and memory by rejection-inversion
// (W. Hörmann and G. Derflinger, "Rejection-inversion to generate variates
// from monotone discrete distributions", ACM TOMACS 6(3), 1996), so n may be
// in the hundreds of millions. Not thread-safe: one per thread.
#pragma once

#include <cstdint>

namespace weir::loadgen {

class Zipf {
 public:
  // n >= 1, alpha > 0 (alpha = 1 included).
  Zipf(uint64_t n, double alpha, uint64_t seed);
  // A rank in 1..n.
  uint64_t next();
  // The exact probability of rank k (for tests; O(n) the first call).
  static double probability(uint64_t n, double alpha, uint64_t k);

 private:
  double h(double x) const;          // x^-alpha
  double hIntegral(double x) const;  // the integral of h, (x^(1-alpha) - 1) / (1 - alpha), log x at alpha = 1
  double hIntegralInverse(double y) const;
  double uniform();  // [0, 1)

  uint64_t n_;
  double alpha_;
  double h_integral_x1_;
  double h_integral_n_;
  double s_;
  uint64_t state_;
};

}  // namespace weir::loadgen
