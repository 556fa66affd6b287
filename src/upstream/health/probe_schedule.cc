#include "upstream/health/probe_schedule.h"

#include <algorithm>

namespace weir::upstream {

int64_t firstProbeDelayMs(int64_t interval_ms, std::mt19937_64& rng) {
  if (interval_ms <= 1) return 0;
  return std::uniform_int_distribution<int64_t>(0, interval_ms - 1)(rng);
}

int64_t nextProbeDelayMs(int64_t interval_ms, std::mt19937_64& rng) {
  const int64_t spread = static_cast<int64_t>(static_cast<double>(interval_ms) * kJitter);
  const int64_t d = std::uniform_int_distribution<int64_t>(interval_ms - spread, interval_ms + spread)(rng);
  return std::max<int64_t>(d, 1);
}

}  // namespace weir::upstream
