#include "pacer.h"

#include <cmath>

namespace weir::loadgen {

Pacer::Pacer(double rate, int64_t start_ns) : interval_ns_(1e9 / rate), start_ns_(start_ns) {}

int64_t Pacer::dueAt(uint64_t i) const {
  return start_ns_ + static_cast<int64_t>(std::llround(static_cast<double>(i) * interval_ns_));
}

int64_t Pacer::take(int64_t now_ns) {
  const int64_t due = dueAt(taken_);
  if (due > now_ns) return -1;
  ++taken_;
  return due;
}

uint64_t Pacer::backlog(int64_t now_ns) const {
  if (now_ns < dueAt(taken_)) return 0;
  // The last index due by now, then a step either way for rounding.
  auto last = static_cast<uint64_t>(static_cast<double>(now_ns - start_ns_) / interval_ns_);
  while (dueAt(last + 1) <= now_ns) ++last;
  while (last > 0 && dueAt(last) > now_ns) --last;
  return last + 1 - taken_;
}

}  // namespace weir::loadgen
