#include "weir/proxy/retry_policy.h"

#include <llhttp.h>

#include <cerrno>
#include <cstring>

namespace weir::proxy {

bool isIdempotent(const http::RequestHead& req) {
  switch (req.method) {
    case HTTP_GET:
    case HTTP_HEAD:
    case HTTP_OPTIONS:
    case HTTP_TRACE:
    case HTTP_PUT:
    case HTTP_DELETE:
      return true;
    default:
      return false;
  }
}

uint32_t retryOnBit(FailureKind kind, int status) {
  switch (kind) {
    case FailureKind::kConnect: return config::kRetryConnectFailure;
    case FailureKind::kResetBeforeResponse:
    case FailureKind::kInvalidResponse: return config::kRetryReset;
    case FailureKind::kResponseTimeout:
    case FailureKind::kSendTimeout: return config::kRetryTimeout;
    case FailureKind::kStatus:
      if (status == 502) return config::kRetry502;
      if (status == 503) return config::kRetry503;
      if (status == 504) return config::kRetry504;
      return 0;
  }
  return 0;
}

RetryDecision mayRetry(const AttemptFailure& f, const http::RequestHead& req, const RetryState& state) {
  if (f.client_saw_response) return RetryDecision::kNo;
  const bool replayable = isIdempotent(req) && state.body_kept;
  // A pooled connection that ends before it answered may be the server's
  // idle close racing our reuse, not a failure of the server: once, a new
  // connection to the same server, whatever retry_on says. If the request
  // was sent, only when repeating it is safe.
  if (f.kind == FailureKind::kResetBeforeResponse && f.reused_connection && !state.replayed &&
      (!f.request_bytes_sent || replayable)) {
    return RetryDecision::kSameServerFresh;
  }
  if ((state.retry_on & retryOnBit(f.kind, f.status)) == 0) return RetryDecision::kNo;
  // Nothing reached the server: any request may go elsewhere. Otherwise the
  // server may have acted on it, so only a request safe to repeat, whose
  // body weir still holds whole, is sent again.
  const bool safe = f.kind == FailureKind::kConnect || (!f.request_bytes_sent && f.kind != FailureKind::kStatus) ||
                    replayable;
  if (!safe) return RetryDecision::kNo;
  return state.attempts < state.max_attempts ? RetryDecision::kNextServer : RetryDecision::kNo;
}

bool retryNeedsBudget(const AttemptFailure& f) {
  return f.kind != FailureKind::kConnect && f.kind != FailureKind::kResetBeforeResponse && f.request_bytes_sent;
}

std::string failureReason(FailureKind kind, int err) {
  switch (kind) {
    case FailureKind::kConnect:
      if (err == ETIMEDOUT) return "connect timed out";
      return err == ECONNREFUSED ? "connect refused" : std::string("connect failed: ") + std::strerror(err);
    case FailureKind::kResetBeforeResponse: return err != 0 ? "reset before responding" : "closed before responding";
    case FailureKind::kResponseTimeout: return "timeout";
    case FailureKind::kSendTimeout: return "timeout sending the request";
    case FailureKind::kInvalidResponse: return "invalid response";
    case FailureKind::kStatus: break;
  }
  return "failed";
}

bool retryBudgetAllows(int32_t requests, int32_t retries, const config::RetryBudgetConfig& budget) {
  if (retries < static_cast<int32_t>(budget.min_concurrent)) return true;
  const int64_t others = static_cast<int64_t>(requests) - retries;
  return (static_cast<int64_t>(retries) + 1) * 100 <= static_cast<int64_t>(budget.percent) * others;
}

}  // namespace weir::proxy
