// weir-bench's building blocks (issue 10): the latency histogram against
// exact percentiles, merging, the open-loop pacer with a driven clock, and
// Zipf sampling against its distribution.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "loadgen/histogram.h"
#include "loadgen/pacer.h"
#include "loadgen/zipf.h"

namespace weir::loadgen {
namespace {

// The exact percentile of sorted values, by the same rank rule.
uint64_t exactPercentile(const std::vector<uint64_t>& sorted, double p) {
  const auto rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size()))));
  return sorted[rank - 1];
}

TEST(LoadgenHistogram, PercentilesWithinThreeSignificantDigits) {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> latency(std::log(800.0), 1.2);  // µs, a long tail
  std::vector<uint64_t> values;
  Histogram h;
  for (int i = 0; i < 200000; ++i) {
    const auto v = static_cast<uint64_t>(std::max(1.0, latency(rng)));
    values.push_back(v);
    h.record(v);
  }
  std::sort(values.begin(), values.end());
  for (double p : {1.0, 50.0, 90.0, 99.0, 99.9, 99.99, 100.0}) {
    const uint64_t exact = exactPercentile(values, p);
    const uint64_t got = h.percentile(p);
    EXPECT_GE(got, exact) << p;
    EXPECT_LE(static_cast<double>(got - exact), static_cast<double>(exact) / 1024.0 + 1) << p;
  }
  EXPECT_EQ(h.count(), values.size());
  EXPECT_EQ(h.min(), values.front());
  EXPECT_EQ(h.max(), values.back());
  EXPECT_EQ(h.percentile(100), values.back());
}

TEST(LoadgenHistogram, EveryValueFallsInABucketThatHoldsIt) {
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{2047}, uint64_t{2048}, uint64_t{2049}, uint64_t{4095},
                     uint64_t{4096}, uint64_t{123456789}, Histogram::kMaxValue}) {
    const size_t i = Histogram::indexOf(v);
    ASSERT_LT(i, Histogram::kCounters) << v;
    EXPECT_LE(Histogram::lowestAt(i), v) << v;
    EXPECT_GE(Histogram::highestAt(i), v) << v;
    EXPECT_LE(Histogram::highestAt(i) - Histogram::lowestAt(i), std::max<uint64_t>(v / 1024, 0)) << v;
  }
  for (size_t i = 1; i < Histogram::kCounters; ++i) {
    ASSERT_EQ(Histogram::lowestAt(i), Histogram::highestAt(i - 1) + 1) << "buckets tile the range at " << i;
  }
}

TEST(LoadgenHistogram, MergingEqualsRecordingEverything) {
  Histogram a, b, all;
  for (uint64_t v = 1; v < 100000; v += 7) {
    (v % 3 == 0 ? a : b).record(v);
    all.record(v);
  }
  a.merge(b);
  for (double p : {50.0, 99.0, 99.99}) EXPECT_EQ(a.percentile(p), all.percentile(p));
  EXPECT_EQ(a.count(), all.count());
  EXPECT_DOUBLE_EQ(a.mean(), all.mean());
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
}

TEST(LoadgenHistogram, ClampsAboveAnHourAndIsEmptyAfterReset) {
  Histogram h;
  h.record(Histogram::kMaxValue * 2);
  EXPECT_EQ(h.clamped(), 1u);
  EXPECT_EQ(h.max(), Histogram::kMaxValue);
  h.reset();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.percentile(99), 0u);
}

TEST(LoadgenPacer, RequestsAreDueOnAFixedScheduleWhateverHappened) {
  Pacer p(1000, 0);  // one every millisecond
  EXPECT_EQ(p.take(0), 0);
  EXPECT_EQ(p.take(0), -1) << "the next is not due yet";
  EXPECT_EQ(p.nextDue(), 1000000);
  // A 10 ms stall: the ten requests it held up are all due at once, each
  // with its own due time (their latency counts from then).
  EXPECT_EQ(p.backlog(10500000), 10u);
  for (int i = 1; i <= 10; ++i) EXPECT_EQ(p.take(10500000), i * 1000000);
  EXPECT_EQ(p.take(10500000), -1);
  EXPECT_EQ(p.backlog(10500000), 0u);
}

TEST(LoadgenPacer, HoldsItsRateOverASecondOfUnevenTicks) {
  Pacer p(33333, 5000);
  std::mt19937 rng(3);
  std::uniform_int_distribution<int64_t> step(1, 200000);
  int64_t now = 5000;
  while (now < 5000 + 1000000000) {
    while (p.take(now) >= 0) {
    }
    now += step(rng);
  }
  EXPECT_NEAR(static_cast<double>(p.taken()), 33333.0, 2.0);
}

TEST(LoadgenZipf, SamplesFollowTheDistribution) {
  for (double alpha : {0.8, 1.0, 1.2}) {
    constexpr uint64_t kN = 1000;
    constexpr int kDraws = 400000;
    Zipf z(kN, alpha, 11);
    std::vector<int> seen(kN + 1, 0);
    for (int i = 0; i < kDraws; ++i) {
      const uint64_t k = z.next();
      ASSERT_GE(k, 1u);
      ASSERT_LE(k, kN);
      ++seen[k];
    }
    for (uint64_t k : {uint64_t{1}, uint64_t{2}, uint64_t{3}, uint64_t{10}, uint64_t{100}}) {
      const double expected = Zipf::probability(kN, alpha, k) * kDraws;
      // Within 5 standard deviations of a binomial count.
      EXPECT_NEAR(seen[k], expected, 5 * std::sqrt(expected) + 1) << "alpha " << alpha << " rank " << k;
    }
  }
}

TEST(LoadgenZipf, OneRankAndHugeRanges) {
  Zipf one(1, 1.0, 1);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(one.next(), 1u);
  Zipf huge(uint64_t{1} << 40, 0.99, 2);
  for (int i = 0; i < 1000; ++i) {
    const uint64_t k = huge.next();
    EXPECT_GE(k, 1u);
    EXPECT_LE(k, uint64_t{1} << 40);
  }
}

}  // namespace
}  // namespace weir::loadgen
