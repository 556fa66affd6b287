// A log-linear latency histogram in the manner of HdrHistogram: values from
// 1 to kMaxValue (microseconds: 1 µs to an hour) kept to 3 significant
// digits (a value's bucket is at most 1/1024 of it wide), in constant
// memory (23,552 counters), mergeable, with exact counts.
//
// Layout: 2,048 linear sub-buckets cover 0..2047; each further bucket
// doubles the width of the one before and holds the upper 1,024
// sub-buckets of its range, so every value v >= 2048 falls in a bucket
// whose width is 2^(floor(log2 v) - 10), under v / 1024.
//
// Not thread-safe: one per thread, merged at the end (or per second).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace weir::loadgen {

class Histogram {
 public:
  static constexpr uint64_t kMaxValue = uint64_t{3600} * 1000 * 1000;  // one hour in µs
  static constexpr int kSubBucketBits = 11;                            // 2,048 sub-buckets
  static constexpr uint64_t kSubBuckets = uint64_t{1} << kSubBucketBits;
  static constexpr uint64_t kHalf = kSubBuckets / 2;
  static constexpr int kBuckets = 22;  // 2,048 << 21 > kMaxValue
  static constexpr size_t kCounters = (kBuckets + 1) * kHalf;

  Histogram();

  // Values above kMaxValue are recorded as kMaxValue (and counted in
  // clamped()); 0 is recorded as 0.
  void record(uint64_t value, uint64_t count = 1);
  void merge(const Histogram& other);
  void reset();

  uint64_t count() const { return total_; }
  uint64_t clamped() const { return clamped_; }
  uint64_t min() const { return total_ == 0 ? 0 : min_; }
  uint64_t max() const { return max_; }
  double mean() const { return total_ == 0 ? 0 : static_cast<double>(sum_) / static_cast<double>(total_); }
  // The smallest recorded value v such that at least `percentile` percent
  // of the values are <= v, given as the highest value its bucket holds
  // (never above max()). 0 when empty. percentile in [0, 100].
  uint64_t percentile(double percentile) const;

  // The bucket arithmetic, exposed for tests.
  static size_t indexOf(uint64_t value);
  static uint64_t lowestAt(size_t index);
  static uint64_t highestAt(size_t index);

 private:
  std::vector<uint64_t> counts_;
  uint64_t total_ = 0;
  uint64_t clamped_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
  uint64_t sum_ = 0;
};

}  // namespace weir::loadgen
