// When a request that failed upstream may be sent again, and whether the
// pool's retry budget lets it. Pure functions: the exchange describes the
// failure, the policy answers.
#pragma once

#include <cstdint>
#include <string>

#include "weir/config/config.h"
#include "weir/http/message.h"

namespace weir::proxy {

enum class FailureKind : uint8_t {
  kConnect,              // the connection could not be made (refused, unreachable, connect timeout)
  kResetBeforeResponse,  // reset or closed after the request was (partly) sent, before a whole response head
  kResponseTimeout,      // no response within upstream_response
  kSendTimeout,          // the upstream stopped reading the request
  kInvalidResponse,      // the upstream's bytes were not a valid response
  kStatus,               // a whole response head whose status retry_on lists (502, 503, 504)
};

struct AttemptFailure {
  FailureKind kind;
  bool reused_connection = false;    // the connection had served a response before
  bool request_bytes_sent = false;   // any byte of the request reached the socket
  bool client_saw_response = false;  // any response byte (a relayed 1xx) reached the client
  int status = 0;                    // kStatus: the upstream's status
};

// The largest request body kept whole so that an idempotent request can be
// replayed on another server after it was sent.
constexpr uint64_t kReplayBodyLimit = 64 * 1024;

struct RetryState {
  unsigned attempts = 0;      // connections tried so far for this request
  unsigned max_attempts = 1;  // 1 + the pool's retries
  bool replayed = false;      // a same-server replay happened
  uint32_t retry_on = 0;      // config::RetryOn bits
  bool body_kept = true;      // no body, or all of it forwarded so far is held (<= kReplayBodyLimit)
};

enum class RetryDecision : uint8_t {
  kNo,
  kNextServer,      // try another server of the pool (subject to the retry budget)
  kSameServerFresh  // a reused connection the server closed as we used it: once, on a new connection
};

// Methods whose repetition has the same effect as one request (RFC 9110 9.2.2).
bool isIdempotent(const http::RequestHead& req);

// The retry_on bit a failure falls under (0 for a status retry_on cannot list).
uint32_t retryOnBit(FailureKind kind, int status);

RetryDecision mayRetry(const AttemptFailure& f, const http::RequestHead& req, const RetryState& state);

// The retry budget: a new retry may start while the pool's retries in flight
// stay within `percent` of its other requests in flight, and always while
// fewer than `min_concurrent` are. `requests` counts every request in flight
// on the pool, the retrying ones included.
bool retryBudgetAllows(int32_t requests, int32_t retries, const config::RetryBudgetConfig& budget);

// Whether a retry after this failure asks the budget. The budget guards
// servers that are overloaded, which show it by answering late, invalidly
// or with 5xx: retrying those at full rate would double their load. A
// server that refused the connection, or reset or closed it without a byte
// of response, has died or is dying: its requests go to servers not tried
// yet at once (a kill under load must cost no client an error), bounded by
// `retries`.
bool retryNeedsBudget(const AttemptFailure& f);

// The reason passive health records for a failed attempt ("connect
// refused", "timeout", ...); `err` is the errno, if any.
std::string failureReason(FailureKind kind, int err);

}  // namespace weir::proxy
