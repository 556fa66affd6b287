// Private: what /status.json and /ready report. The Sampler keeps, per
// server series, one sample a second of its request counts and upstream
// latency buckets for the last ~10 s, so the status page shows recent
// rates and percentiles rather than figures since the start.
// Admin thread only.
#pragma once

#include <array>
#include <deque>
#include <map>
#include <string>

#include "weir/proxy/runtime.h"
#include "weir/stats/process_info.h"
#include "weir/stats/registry.h"

namespace weir::admin {

class Sampler {
 public:
  static constexpr size_t kSamples = 11;  // 10 one-second intervals

  // Takes a sample of every server of `rt` at `now` (monotonic seconds).
  void sample(const proxy::Runtime& rt, double now);

  struct Window {
    double seconds = 0;              // covered; 0 when fewer than two samples
    double requests_per_second = 0;
    double errors_per_second = 0;    // 5xx the clients got
    double p50 = -1, p99 = -1;       // upstream latency, seconds; -1 without requests
  };
  Window window(const stats::Series* server) const;

 private:
  struct Point {
    double at;
    uint64_t requests;
    uint64_t errors;
    std::array<uint64_t, stats::kHistBuckets> buckets;
  };
  std::map<const stats::Series*, std::deque<Point>> history_;
};

// The percentile q (0..1) of a histogram's per-bucket counts, interpolated
// linearly inside the bucket (as Prometheus' histogram_quantile does); -1
// when empty. The +Inf bucket reports its lower bound (10 s).
double bucketQuantile(const uint64_t* buckets, double q);

struct Readiness {
  bool ready;
  std::string reason;  // why not, "" when ready
};
Readiness readiness(const proxy::Runtime* rt, bool listening);

std::string renderStatusJson(const proxy::Runtime* rt, const Sampler& sampler, const stats::ProcessInfo::Snapshot& p,
                             bool listening, double now_unix);

}  // namespace weir::admin
