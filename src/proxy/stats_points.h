// Private: the proxy's error-cause metrics, kept out of the exchange's
// state machine. Each function does nothing when metrics are off.
// Loop thread of `worker` only.
#pragma once

#include <cerrno>

#include "weir/proxy/proxy_worker.h"
#include "weir/proxy/retry_policy.h"
#include "weir/proxy/runtime.h"
#include "weir/stats/runtime_stats.h"

namespace weir::proxy {

inline void countError(const Runtime& rt, ProxyWorker& worker, size_t pool, stats::ErrorCause cause) {
  if (rt.stats) stats::recordError(*rt.stats, worker.worker().index(), pool, cause);
}

// The 502/504 an upstream failure ends in (Exchange::upstreamFailed).
inline stats::ErrorCause failureCause(FailureKind kind, int err) {
  switch (kind) {
    case FailureKind::kConnect:
      return err == ETIMEDOUT ? stats::ErrorCause::kConnectTimeout : stats::ErrorCause::kConnectFailed;
    case FailureKind::kResetBeforeResponse: return stats::ErrorCause::kReset;
    case FailureKind::kResponseTimeout: return stats::ErrorCause::kResponseTimeout;
    case FailureKind::kSendTimeout: return stats::ErrorCause::kSendTimeout;
    case FailureKind::kInvalidResponse: return stats::ErrorCause::kInvalidResponse;
    case FailureKind::kStatus: break;
  }
  return stats::ErrorCause::kUpstream502;
}

inline stats::ErrorCause upstreamStatusCause(int status) {
  if (status == 503) return stats::ErrorCause::kUpstream503;
  if (status == 504) return stats::ErrorCause::kUpstream504;
  return stats::ErrorCause::kUpstream502;
}

}  // namespace weir::proxy
