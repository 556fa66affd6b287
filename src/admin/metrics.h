// Private: the /metrics body, Prometheus text exposition format 0.0.4.
// Admin thread only.
#pragma once

#include <string>

#include "weir/proxy/runtime.h"
#include "weir/stats/process_info.h"
#include "weir/stats/registry.h"

namespace weir::admin {

inline constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

// Counters come from every series in `registry` (also of routes, pools and
// servers a reload removed); gauges of server state from `runtime` (may be
// nullptr: none).
std::string renderMetrics(const stats::Registry& registry, const proxy::Runtime* runtime,
                          const stats::ProcessInfo::Snapshot& process, const stats::ProcessUsage& usage);

}  // namespace weir::admin
