// When a server's probes run. Each server's first probe comes at a random
// point of the first interval, and each next one an interval later give or
// take kJitter, so that the probes of many servers (and of many weir
// processes checking the same servers) spread out instead of arriving in
// one burst every interval. Pure functions over a caller's random engine.
#pragma once

#include <cstdint>
#include <random>

namespace weir::upstream {

constexpr double kJitter = 0.1;  // each interval is drawn from [0.9, 1.1] x interval

// Delay before a server's first probe: uniform in [0, interval_ms).
int64_t firstProbeDelayMs(int64_t interval_ms, std::mt19937_64& rng);

// Time from one probe's start to the next: uniform in
// [interval - 10%, interval + 10%], never below 1 ms.
int64_t nextProbeDelayMs(int64_t interval_ms, std::mt19937_64& rng);

}  // namespace weir::upstream
