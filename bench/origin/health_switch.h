// weir-origin's switchable health endpoint, for tests of weir's active
// health checks:
//   GET /healthz (or any path under /healthz/) answers the current health
//       status (200 at start, or --health-status) and remembers the request
//       head, so a test can see what weir's probes send;
//   GET /_control/health?status=CODE sets that status (200..599);
//   GET /_control/health reports it, as text:
//       status: 200
//       probes: 12
//       last probe:
//       GET /healthz HTTP/1.1
//       Host: ...
// Process-wide: every worker thread answers the same status.
//
// Thread-safe; written by any worker, read by any worker.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

namespace weir::origin {

class HealthSwitch {
 public:
  explicit HealthSwitch(int status = 200) : status_(status) {}

  int status() const { return status_.load(std::memory_order_relaxed); }
  void setStatus(int status) { status_.store(status, std::memory_order_relaxed); }
  // A request to /healthz: counted, its head kept as the last one.
  void recordProbe(std::string_view head);
  // The /_control/health body.
  std::string report() const;

 private:
  std::atomic<int> status_;
  mutable std::mutex mu_;
  uint64_t probes_ = 0;    // guarded by mu_
  std::string last_head_;  // guarded by mu_
};

}  // namespace weir::origin
