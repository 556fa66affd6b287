#include "zipf.h"

#include <algorithm>
#include <cmath>

namespace weir::loadgen {
namespace {

// log1p(x) / x and expm1(x) / x, continuous at 0 (where both are 1): they
// keep hIntegral and its inverse accurate for alpha near 1.
double log1pOverX(double x) { return std::abs(x) > 1e-8 ? std::log1p(x) / x : 1 - x / 2 + x * x / 3; }
double expm1OverX(double x) { return std::abs(x) > 1e-8 ? std::expm1(x) / x : 1 + x / 2 + x * x / 6; }

}  // namespace

Zipf::Zipf(uint64_t n, double alpha, uint64_t seed)
    : n_(std::max<uint64_t>(1, n)), alpha_(alpha), state_(seed * 0x9e3779b97f4a7c15ull + 1) {
  h_integral_x1_ = hIntegral(1.5) - 1.0;
  h_integral_n_ = hIntegral(static_cast<double>(n_) + 0.5);
  s_ = 2.0 - hIntegralInverse(hIntegral(2.5) - h(2.0));
}

double Zipf::h(double x) const { return std::exp(-alpha_ * std::log(x)); }

double Zipf::hIntegral(double x) const {
  const double log_x = std::log(x);
  return expm1OverX((1.0 - alpha_) * log_x) * log_x;
}

double Zipf::hIntegralInverse(double y) const {
  double t = y * (1.0 - alpha_);
  t = std::max(t, -1.0);  // rounding near the lower end
  return std::exp(log1pOverX(t) * y);
}

// splitmix64: fast, and good enough to draw ranks.
double Zipf::uniform() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}

uint64_t Zipf::next() {
  for (;;) {
    const double u = h_integral_n_ + uniform() * (h_integral_x1_ - h_integral_n_);
    const double x = hIntegralInverse(u);
    const double k = std::clamp(std::floor(x + 0.5), 1.0, static_cast<double>(n_));
    // Accept at once when k is close enough to x, else by the exact test.
    if (k - x <= s_ || u >= hIntegral(k + 0.5) - h(k)) return static_cast<uint64_t>(k);
  }
}

double Zipf::probability(uint64_t n, double alpha, uint64_t k) {
  double sum = 0;
  for (uint64_t i = 1; i <= n; ++i) sum += std::pow(static_cast<double>(i), -alpha);
  return std::pow(static_cast<double>(k), -alpha) / sum;
}

}  // namespace weir::loadgen
