#include "histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace weir::loadgen {

Histogram::Histogram() : counts_(kCounters, 0) {}

// Values under kSubBuckets index themselves; above, the bucket is the
// value's magnitude past the first bucket, and the sub-bucket its top 11
// bits (of which the first is always set, hence only the upper half).
size_t Histogram::indexOf(uint64_t value) {
  if (value < kSubBuckets) return static_cast<size_t>(value);
  const int magnitude = std::bit_width(value) - kSubBucketBits;  // >= 1
  const uint64_t sub = value >> magnitude;                          // in [kHalf, kSubBuckets)
  return static_cast<size_t>((static_cast<uint64_t>(magnitude) + 1) * kHalf + (sub - kHalf));
}

uint64_t Histogram::lowestAt(size_t index) {
  if (index < kSubBuckets) return index;
  const uint64_t magnitude = index / kHalf - 1;
  const uint64_t sub = index % kHalf + kHalf;
  return sub << magnitude;
}

uint64_t Histogram::highestAt(size_t index) {
  if (index < kSubBuckets) return index;
  const uint64_t magnitude = index / kHalf - 1;
  return lowestAt(index) + (uint64_t{1} << magnitude) - 1;
}

void Histogram::record(uint64_t value, uint64_t count) {
  if (count == 0) return;
  if (value > kMaxValue) {
    value = kMaxValue;
    clamped_ += count;
  }
  counts_[indexOf(value)] += count;
  total_ += count;
  sum_ += value * count;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
}

void Histogram::merge(const Histogram& other) {
  for (size_t i = 0; i < kCounters; ++i) counts_[i] += other.counts_[i];
  total_ += other.total_;
  clamped_ += other.clamped_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

void Histogram::reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  total_ = clamped_ = sum_ = max_ = 0;
  min_ = UINT64_MAX;
}

uint64_t Histogram::percentile(double percentile) const {
  if (total_ == 0) return 0;
  const double p = std::clamp(percentile, 0.0, 100.0);
  const uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(p / 100.0 * static_cast<double>(total_))));
  uint64_t seen = 0;
  for (size_t i = 0; i < kCounters; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(highestAt(i), max_);
  }
  return max_;
}

}  // namespace weir::loadgen
