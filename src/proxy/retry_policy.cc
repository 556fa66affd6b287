#include "weir/proxy/retry_policy.h"

#include <llhttp.h>

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

RetryDecision mayRetry(const AttemptFailure& f, const http::RequestHead& req, unsigned attempts,
                       unsigned max_attempts, bool replayed) {
  if (f.response_started) return RetryDecision::kNo;
  // Nothing reached the server: any request may go again. A pooled
  // connection found closed before anything was written is the server's
  // idle close; a new connection to the same server is the fix.
  if (f.kind != FailureKind::kConnect && !f.request_bytes_sent && f.reused_connection && !replayed) {
    return RetryDecision::kSameServerFresh;
  }
  if (f.kind == FailureKind::kConnect || !f.request_bytes_sent) {
    return attempts < max_attempts ? RetryDecision::kNextServer : RetryDecision::kNo;
  }
  // The server may have acted on what it read. Only a request that is safe
  // to repeat is sent again, and only for the race where a kept-alive
  // connection was closed by the server just as weir reused it.
  if (f.kind == FailureKind::kResetBeforeResponse && f.reused_connection && !replayed && isIdempotent(req) &&
      !req.hasBody()) {
    return RetryDecision::kSameServerFresh;
  }
  return RetryDecision::kNo;
}

}  // namespace weir::proxy
