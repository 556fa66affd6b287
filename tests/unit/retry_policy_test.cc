// The retry policy: what may be sent again after an upstream failure, and
// the retry budget's arithmetic.
#include "weir/proxy/retry_policy.h"

#include <gtest/gtest.h>
#include <llhttp.h>

#include <cerrno>

namespace weir::proxy {
namespace {

constexpr uint32_t kDefaultRetryOn = config::kRetryConnectFailure | config::kRetryReset | config::kRetryTimeout;

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

AttemptFailure failure(FailureKind kind, bool reused, bool sent, bool client_saw = false, int status = 0) {
  return AttemptFailure{kind, reused, sent, client_saw, status};
}

RetryState state(unsigned attempts, unsigned max_attempts, bool replayed = false, uint32_t retry_on = kDefaultRetryOn,
                 bool body_kept = true) {
  return RetryState{attempts, max_attempts, replayed, retry_on, body_kept};
}

TEST(RetryPolicyTest, ConnectFailureGoesToTheNextServerForAnyMethodWhileAttemptsRemain) {
  auto post = request(HTTP_POST, true);
  EXPECT_EQ(mayRetry(failure(FailureKind::kConnect, false, false), post, state(1, 2)), RetryDecision::kNextServer);
  EXPECT_EQ(mayRetry(failure(FailureKind::kConnect, false, false), post, state(2, 2)), RetryDecision::kNo);
}

TEST(RetryPolicyTest, StalePooledConnectionWithNothingSentIsRetriedFreshForAnyMethod) {
  auto post = request(HTTP_POST, true);
  EXPECT_EQ(mayRetry(failure(FailureKind::kResetBeforeResponse, true, false), post, state(1, 1, false, 0)),
            RetryDecision::kSameServerFresh)
      << "the idle-close race is not a failure retry_on governs";
}

TEST(RetryPolicyTest, ResetOfAReusedConnectionAfterSendingReplaysOnlyWhatIsSafe) {
  const auto reset = failure(FailureKind::kResetBeforeResponse, true, true);
  EXPECT_EQ(mayRetry(reset, request(HTTP_GET), state(1, 1)), RetryDecision::kSameServerFresh);
  EXPECT_EQ(mayRetry(reset, request(HTTP_HEAD), state(1, 1)), RetryDecision::kSameServerFresh);
  EXPECT_EQ(mayRetry(reset, request(HTTP_DELETE), state(1, 1)), RetryDecision::kSameServerFresh);
  EXPECT_EQ(mayRetry(reset, request(HTTP_PUT, true), state(1, 1)), RetryDecision::kSameServerFresh)
      << "its body is kept whole";
  EXPECT_EQ(mayRetry(reset, request(HTTP_PUT, true), state(1, 1, false, kDefaultRetryOn, false)), RetryDecision::kNo)
      << "its body was too large to keep";
  EXPECT_EQ(mayRetry(reset, request(HTTP_POST), state(1, 3)), RetryDecision::kNo) << "POST is not idempotent";
  EXPECT_EQ(mayRetry(reset, request(HTTP_PATCH), state(1, 3)), RetryDecision::kNo);
  EXPECT_EQ(mayRetry(reset, request(HTTP_GET), state(1, 1, true)), RetryDecision::kNo) << "once only";
}

TEST(RetryPolicyTest, ResetOrTimeoutAfterSendingGoesElsewhereOnlyForIdempotentRequests) {
  for (FailureKind kind : {FailureKind::kResetBeforeResponse, FailureKind::kResponseTimeout,
                           FailureKind::kInvalidResponse}) {
    SCOPED_TRACE(static_cast<int>(kind));
    EXPECT_EQ(mayRetry(failure(kind, false, true), request(HTTP_GET), state(1, 2)), RetryDecision::kNextServer);
    EXPECT_EQ(mayRetry(failure(kind, false, true), request(HTTP_OPTIONS), state(1, 2)), RetryDecision::kNextServer);
    EXPECT_EQ(mayRetry(failure(kind, false, true), request(HTTP_POST, true), state(1, 2)), RetryDecision::kNo);
    EXPECT_EQ(mayRetry(failure(kind, false, true), request(HTTP_GET), state(2, 2)), RetryDecision::kNo);
  }
}

TEST(RetryPolicyTest, NothingIsRetriedOnceAResponseByteReachedTheClient) {
  EXPECT_EQ(mayRetry(failure(FailureKind::kResetBeforeResponse, true, true, true), request(HTTP_GET), state(1, 3)),
            RetryDecision::kNo);
  EXPECT_EQ(mayRetry(failure(FailureKind::kConnect, false, false, true), request(HTTP_GET), state(1, 3)),
            RetryDecision::kNo);
}

TEST(RetryPolicyTest, RetryOnSaysWhichFailuresAreRetried) {
  const auto get = request(HTTP_GET);
  EXPECT_EQ(mayRetry(failure(FailureKind::kConnect, false, false), get, state(1, 2, false, config::kRetryReset)),
            RetryDecision::kNo);
  EXPECT_EQ(mayRetry(failure(FailureKind::kResponseTimeout, false, true), get,
                     state(1, 2, false, config::kRetryConnectFailure)),
            RetryDecision::kNo);
  // Statuses only when listed, and only for requests safe to repeat.
  const auto unavailable = failure(FailureKind::kStatus, false, true, false, 503);
  EXPECT_EQ(mayRetry(unavailable, get, state(1, 2)), RetryDecision::kNo);
  EXPECT_EQ(mayRetry(unavailable, get, state(1, 2, false, config::kRetry503)), RetryDecision::kNextServer);
  EXPECT_EQ(mayRetry(unavailable, get, state(1, 2, false, config::kRetry502 | config::kRetry504)), RetryDecision::kNo);
  EXPECT_EQ(mayRetry(unavailable, request(HTTP_POST), state(1, 2, false, config::kRetry503)), RetryDecision::kNo);
  EXPECT_EQ(retryOnBit(FailureKind::kStatus, 500), 0u);
}

TEST(RetryPolicyTest, BudgetAllowsTheFloorThenAShareOfTheOtherRequests) {
  const config::RetryBudgetConfig budget{20, 3};
  EXPECT_TRUE(retryBudgetAllows(1, 0, budget));
  EXPECT_TRUE(retryBudgetAllows(3, 2, budget)) << "under the floor of 3";
  EXPECT_FALSE(retryBudgetAllows(3, 3, budget));
  // 50 requests in flight, 8 of them retries: 9 retries would be 9/41 of the others, over 20%.
  EXPECT_TRUE(retryBudgetAllows(50, 7, budget));   // 8 <= 0.2 * 43
  EXPECT_FALSE(retryBudgetAllows(50, 8, budget));  // 9 > 0.2 * 42
  EXPECT_TRUE(retryBudgetAllows(1000, 165, budget));   // 166 <= 0.2 * 835
  EXPECT_FALSE(retryBudgetAllows(1000, 166, budget));  // 167 > 0.2 * 834
  EXPECT_FALSE(retryBudgetAllows(10, 3, {0, 3})) << "percent 0: only the floor";
  EXPECT_FALSE(retryBudgetAllows(10, 0, {0, 0})) << "no retries at all";
  EXPECT_TRUE(retryBudgetAllows(10, 4, {100, 0}));
  EXPECT_FALSE(retryBudgetAllows(10, 5, {100, 0})) << "as many retries as other requests at most";
}

TEST(RetryPolicyTest, OnlyFailuresOfAnOverloadedServerAskTheBudget) {
  EXPECT_FALSE(retryNeedsBudget(failure(FailureKind::kConnect, false, false))) << "a dead server";
  EXPECT_FALSE(retryNeedsBudget(failure(FailureKind::kResetBeforeResponse, false, true))) << "a dead server";
  EXPECT_FALSE(retryNeedsBudget(failure(FailureKind::kResponseTimeout, false, false))) << "nothing reached it";
  EXPECT_TRUE(retryNeedsBudget(failure(FailureKind::kResponseTimeout, false, true)));
  EXPECT_TRUE(retryNeedsBudget(failure(FailureKind::kInvalidResponse, false, true)));
  EXPECT_TRUE(retryNeedsBudget(failure(FailureKind::kStatus, false, true, false, 503)));
}

TEST(RetryPolicyTest, FailureReasonsAreShortAndNameTheCause) {
  EXPECT_EQ(failureReason(FailureKind::kConnect, ECONNREFUSED), "connect refused");
  EXPECT_EQ(failureReason(FailureKind::kConnect, ETIMEDOUT), "connect timed out");
  EXPECT_EQ(failureReason(FailureKind::kConnect, ENETUNREACH), "connect failed: Network is unreachable");
  EXPECT_EQ(failureReason(FailureKind::kResetBeforeResponse, ECONNRESET), "reset before responding");
  EXPECT_EQ(failureReason(FailureKind::kResetBeforeResponse, 0), "closed before responding");
  EXPECT_EQ(failureReason(FailureKind::kResponseTimeout, 0), "timeout");
}

}  // namespace
}  // namespace weir::proxy
