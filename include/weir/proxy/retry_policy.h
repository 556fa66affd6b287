// When a request that failed upstream may be sent again. Pure functions:
// the exchange describes the failure, the policy answers; the upstream-health
// work (retry budgets, retry on other servers after a reset) extends it here.
#pragma once

#include <cstdint>

#include "weir/http/message.h"

namespace weir::proxy {

enum class FailureKind : uint8_t {
  kConnect,         // the connection could not be made (refused, unreachable, connect timeout)
  kResetBeforeResponse,  // reset or closed after the request was (partly) sent, before any response byte
  kResponseTimeout, // no response within upstream_response
  kSendTimeout,     // the upstream stopped reading the request
  kInvalidResponse, // the upstream's bytes were not a valid response
};

struct AttemptFailure {
  FailureKind kind;
  bool reused_connection = false;  // the connection had served a response before
  bool request_bytes_sent = false; // any byte of the request reached the socket
  bool response_started = false;   // any byte of a response arrived
};

enum class RetryDecision : uint8_t {
  kNo,
  kNextServer,     // nothing was sent: try another server of the pool
  kSameServerFresh // a reused connection the server closed as we used it: once, on a new connection
};

// Methods whose repetition has the same effect as one request (RFC 9110 9.2.2).
bool isIdempotent(const http::RequestHead& req);

// `attempts` counts connections tried so far for this request, `max_attempts`
// is 1 + the pool's retries; `replayed` says a same-server replay happened.
RetryDecision mayRetry(const AttemptFailure& f, const http::RequestHead& req, unsigned attempts,
                       unsigned max_attempts, bool replayed);

}  // namespace weir::proxy
