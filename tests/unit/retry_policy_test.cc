// The retry policy: what may be sent again after an upstream failure.
#include "weir/proxy/retry_policy.h"

#include <gtest/gtest.h>
#include <llhttp.h>

namespace weir::proxy {
namespace {

http::RequestHead request(uint8_t method, bool body = false) {
  http::RequestHead r;
  r.method = method;
  r.method_name = llhttp_method_name(static_cast<llhttp_method_t>(method));
  if (body) {
    r.has_content_length = true;
    r.content_length = 5;
  }
  return r;
}

AttemptFailure failure(FailureKind kind, bool reused, bool sent, bool response = false) {
  return AttemptFailure{kind, reused, sent, response};
}

TEST(RetryPolicyTest, ConnectFailureGoesToTheNextServerWhileAttemptsRemain) {
  auto post = request(HTTP_POST, true);
  EXPECT_EQ(mayRetry(failure(FailureKind::kConnect, false, false), post, 1, 2, false), RetryDecision::kNextServer);
  EXPECT_EQ(mayRetry(failure(FailureKind::kConnect, false, false), post, 2, 2, false), RetryDecision::kNo);
}

TEST(RetryPolicyTest, StalePooledConnectionWithNothingSentIsRetriedFreshForAnyMethod) {
  auto post = request(HTTP_POST, true);
  EXPECT_EQ(mayRetry(failure(FailureKind::kResetBeforeResponse, true, false), post, 1, 1, false),
            RetryDecision::kSameServerFresh);
}

TEST(RetryPolicyTest, ResetAfterSendingReplaysOnlyIdempotentBodilessRequests) {
  const auto reset = failure(FailureKind::kResetBeforeResponse, true, true);
  EXPECT_EQ(mayRetry(reset, request(HTTP_GET), 1, 1, false), RetryDecision::kSameServerFresh);
  EXPECT_EQ(mayRetry(reset, request(HTTP_HEAD), 1, 1, false), RetryDecision::kSameServerFresh);
  EXPECT_EQ(mayRetry(reset, request(HTTP_DELETE), 1, 1, false), RetryDecision::kSameServerFresh);
  EXPECT_EQ(mayRetry(reset, request(HTTP_POST), 1, 1, false), RetryDecision::kNo) << "POST is not idempotent";
  EXPECT_EQ(mayRetry(reset, request(HTTP_PATCH), 1, 1, false), RetryDecision::kNo);
  EXPECT_EQ(mayRetry(reset, request(HTTP_PUT, true), 1, 1, false), RetryDecision::kNo) << "its body is gone";
  EXPECT_EQ(mayRetry(reset, request(HTTP_GET), 1, 1, true), RetryDecision::kNo) << "once only";
}

TEST(RetryPolicyTest, FreshConnectionOrStartedResponseIsNeverReplayed) {
  EXPECT_EQ(mayRetry(failure(FailureKind::kResetBeforeResponse, false, true), request(HTTP_GET), 1, 3, false),
            RetryDecision::kNo);
  EXPECT_EQ(mayRetry(failure(FailureKind::kResetBeforeResponse, true, true, true), request(HTTP_GET), 1, 3, false),
            RetryDecision::kNo);
  EXPECT_EQ(mayRetry(failure(FailureKind::kResponseTimeout, true, true), request(HTTP_GET), 1, 3, false),
            RetryDecision::kNo);
}

}  // namespace
}  // namespace weir::proxy
