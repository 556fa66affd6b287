// Using a stored response (RFC 9111 4, 4.2.4, 5.2.1), one test per rule.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "serialized_head.h"
#include "weir/cache/policy.h"

namespace weir::cache {
namespace {

using D = LookupDecision;

// A stored response of age `age` and lifetime `lifetime`, asked for with
// request directives `cc` and response directives `response_cc`.
D decide(const char* cc, int64_t age, int64_t lifetime, const char* response_cc = "") {
  return decideLookup(parseCacheControl(cc), false, age, lifetime, reuseLimits(parseCacheControl(response_cc)));
}

// RFC 9111 4.2: a fresh stored response answers.
TEST(CachePolicyLookup, FreshIsAHit) {
  EXPECT_EQ(decide("", 10, 60), D::kServeFresh);
  EXPECT_EQ(decide("", 0, 1), D::kServeFresh);
}

// RFC 9111 4.2.4: a stale one goes to the origin (refetched in part 1).
TEST(CachePolicyLookup, StaleGoesToTheOrigin) {
  EXPECT_EQ(decide("", 60, 60), D::kOriginStale);
  EXPECT_EQ(decide("", 100, 0), D::kOriginStale);
}

// RFC 9111 5.2.1.4: request no-cache: not served without the origin.
TEST(CachePolicyLookup, RequestNoCacheGoesToTheOrigin) {
  EXPECT_EQ(decide("no-cache", 0, 60), D::kOriginRequest);
  EXPECT_EQ(decide("NO-CACHE, max-stale", 100, 60), D::kOriginRequest);
}

// RFC 9111 5.4: Pragma: no-cache without Cache-Control is no-cache.
TEST(CachePolicyLookup, PragmaNoCacheGoesToTheOrigin) {
  EXPECT_EQ(decideLookup(parseCacheControl(""), true, 0, 60, {}), D::kOriginRequest);
  http::RequestHead req = http::testing::parseRequest("GET / HTTP/1.1\r\nHost: a\r\nPragma: no-cache\r\n\r\n");
  EXPECT_EQ(decideLookup(requestCacheControl(req), false, 0, 60, {}), D::kOriginRequest);
}

// RFC 9111 5.2.1.1: max-age=N refuses a response older than N; max-age=0
// still accepts age 0, unlike no-cache.
TEST(CachePolicyLookup, RequestMaxAgeBoundsTheAge) {
  EXPECT_EQ(decide("max-age=30", 31, 60), D::kOriginRequest);
  EXPECT_EQ(decide("max-age=30", 30, 60), D::kServeFresh);
  EXPECT_EQ(decide("max-age=0", 1, 60), D::kOriginRequest);
  EXPECT_EQ(decide("max-age=0", 0, 60), D::kServeFresh);
  EXPECT_EQ(decide("no-cache", 0, 60), D::kOriginRequest);
  // max-age alone does not accept staleness.
  EXPECT_EQ(decide("max-age=300", 100, 60), D::kOriginStale);
}

// RFC 9111 5.2.1.3: min-fresh=N wants at least N more seconds of freshness.
TEST(CachePolicyLookup, MinFreshWantsRemainingFreshness) {
  EXPECT_EQ(decide("min-fresh=20", 30, 60), D::kServeFresh);       // 30 left
  EXPECT_EQ(decide("min-fresh=30", 30, 60), D::kServeFresh);       // exactly 30 left
  EXPECT_EQ(decide("min-fresh=31", 30, 60), D::kOriginRequest);
  EXPECT_EQ(decide("min-fresh=5, max-stale", 70, 60), D::kOriginStale);  // stale never satisfies it
}

// RFC 9111 5.2.1.2 and 4.2.4: max-stale serves a stale response, with a
// value up to that staleness, without one any staleness.
TEST(CachePolicyLookup, MaxStaleServesStale) {
  EXPECT_EQ(decide("max-stale", 1000000, 60), D::kServeStale);
  EXPECT_EQ(decide("max-stale=40", 100, 60), D::kServeStale);  // 40 s stale
  EXPECT_EQ(decide("max-stale=39", 100, 60), D::kOriginStale);
  EXPECT_EQ(decide("max-stale=0", 60, 60), D::kServeStale);  // stale by 0 s
  EXPECT_EQ(decide("max-stale=10", 30, 60), D::kServeFresh);
}

// RFC 9111 5.2.2.2, 5.2.2.8, 5.2.2.10: must-revalidate, proxy-revalidate
// and s-maxage forbid serving stale, whatever the request accepts.
TEST(CachePolicyLookup, MustRevalidateForbidsServingStale) {
  for (const char* response_cc : {"must-revalidate", "proxy-revalidate", "s-maxage=60"}) {
    EXPECT_EQ(decide("max-stale", 100, 60, response_cc), D::kOriginStale) << response_cc;
    EXPECT_EQ(decide("", 10, 60, response_cc), D::kServeFresh) << response_cc;
  }
}

// RFC 9111 5.2.2.4: a no-cache response is never reused without the
// origin, fresh or not.
TEST(CachePolicyLookup, ResponseNoCacheAlwaysGoesToTheOrigin) {
  EXPECT_EQ(decide("", 0, 60, "no-cache"), D::kOriginStale);
  EXPECT_EQ(decide("max-stale", 100, 60, "no-cache=\"Set-Cookie\""), D::kOriginStale);
  ReuseLimits limits = reuseLimits(parseCacheControl("no-cache, max-age=5"));
  EXPECT_TRUE(limits.no_cache);
  EXPECT_FALSE(limits.never_stale);
}

// RFC 9111 5.2.1.5: request no-store; weir bypasses the cache.
TEST(CachePolicyLookup, RequestNoStoreBypasses) {
  EXPECT_EQ(decide("no-store", 0, 60), D::kBypass);
  EXPECT_EQ(decideMiss(parseCacheControl("no-store")), D::kBypass);
}

// RFC 9111 5.2.1.7: only-if-cached answers from the cache or with 504.
TEST(CachePolicyLookup, OnlyIfCachedWithNothingUsableIs504) {
  EXPECT_EQ(decide("only-if-cached", 10, 60), D::kServeFresh);
  EXPECT_EQ(decide("only-if-cached", 100, 60), D::kGatewayTimeout);
  EXPECT_EQ(decide("only-if-cached, max-stale", 100, 60), D::kServeStale);
  EXPECT_EQ(decide("only-if-cached, no-cache", 10, 60), D::kGatewayTimeout);
  EXPECT_EQ(decide("only-if-cached", 10, 60, "no-cache"), D::kGatewayTimeout);
  EXPECT_EQ(decide("only-if-cached, no-store", 10, 60), D::kGatewayTimeout);
  EXPECT_EQ(decideMiss(parseCacheControl("only-if-cached")), D::kGatewayTimeout);
}

TEST(CachePolicyLookup, NothingStoredIsAMiss) {
  EXPECT_EQ(decideMiss(parseCacheControl("")), D::kOriginMiss);
  EXPECT_EQ(decideMiss(parseCacheControl("no-cache, max-age=0")), D::kOriginMiss);
}

// RFC 9211 2.2: each decision's fwd value.
TEST(CachePolicyLookup, DecisionsMapToCacheStatusFwd) {
  EXPECT_EQ(fwdFor(D::kServeFresh), Fwd::kNone);
  EXPECT_EQ(fwdFor(D::kServeStale), Fwd::kNone);
  EXPECT_EQ(fwdFor(D::kOriginStale), Fwd::kStale);
  EXPECT_EQ(fwdFor(D::kOriginRequest), Fwd::kRequest);
  EXPECT_EQ(fwdFor(D::kOriginMiss), Fwd::kUriMiss);
  EXPECT_EQ(fwdFor(D::kBypass), Fwd::kBypass);
  EXPECT_EQ(fwdFor(D::kGatewayTimeout), Fwd::kNone);
  EXPECT_STREQ(lookupDecisionName(D::kOriginRequest), "origin_request");
  EXPECT_STREQ(lookupDecisionName(D::kGatewayTimeout), "gateway_timeout");
}

}  // namespace
}  // namespace weir::cache
