// Freshness lifetime (RFC 9111 4.2.1, 4.2.2, 5.3), one test per rule.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "serialized_head.h"
#include "weir/cache/policy.h"

namespace weir::cache {
namespace {

using http::testing::parseResponse;

constexpr int64_t kDate = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT
const std::string kDateField = "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n";

http::ResponseHead response(int status, const std::string& fields) {
  return parseResponse("HTTP/1.1 " + std::to_string(status) + " X\r\n" + fields + "Content-Length: 0\r\n\r\n");
}

FreshnessLifetime lifetime(int status, const std::string& fields, FreshnessOptions opts = {}) {
  if (opts.response_time == 0) opts.response_time = kDate;
  http::ResponseHead res = response(status, fields);
  return freshnessLifetime(res, responseCacheControl(res), opts);
}

FreshnessLifetime lifetime(const std::string& fields) { return lifetime(200, fields); }

// RFC 9111 4.2.1: a shared cache reads s-maxage first, over max-age and
// Expires.
TEST(CachePolicyFreshness, SMaxageOverridesMaxAgeAndExpires) {
  FreshnessLifetime f = lifetime(kDateField + "Cache-Control: max-age=60, s-maxage=30\r\n"
                                 "Expires: Sun, 06 Nov 1994 09:49:37 GMT\r\n");
  EXPECT_EQ(f.seconds, 30);
  EXPECT_EQ(f.source, FreshnessSource::kSMaxAge);
  EXPECT_EQ(lifetime("Cache-Control: s-maxage=0, max-age=600\r\n").seconds, 0);
}

// RFC 9111 4.2.1 and 5.3: max-age overrides Expires.
TEST(CachePolicyFreshness, MaxAgeOverridesExpires) {
  FreshnessLifetime f = lifetime(kDateField + "Expires: Sun, 06 Nov 1994 09:49:37 GMT\r\nCache-Control: max-age=5\r\n");
  EXPECT_EQ(f.seconds, 5);
  EXPECT_EQ(f.source, FreshnessSource::kMaxAge);
  // Even an Expires in the past.
  EXPECT_EQ(lifetime("Expires: 0\r\nCache-Control: max-age=5\r\n").seconds, 5);
}

// RFC 9111 4.2.1: Expires - Date.
TEST(CachePolicyFreshness, ExpiresMinusDate) {
  FreshnessLifetime f = lifetime(kDateField + "Expires: Sun, 06 Nov 1994 09:49:37 GMT\r\n");
  EXPECT_EQ(f.seconds, 3600);
  EXPECT_EQ(f.source, FreshnessSource::kExpires);
  // The obsolete forms are dates too.
  EXPECT_EQ(lifetime(kDateField + "Expires: Sunday, 06-Nov-94 08:50:37 GMT\r\n").seconds, 60);
  EXPECT_EQ(lifetime(kDateField + "Expires: Sun Nov  6 08:49:47 1994\r\n").seconds, 10);
}

// RFC 9111 4.2.1: Expires before Date is already expired.
TEST(CachePolicyFreshness, ExpiresInThePastIsZero) {
  FreshnessLifetime f = lifetime(kDateField + "Expires: Sat, 05 Nov 1994 08:49:37 GMT\r\n");
  EXPECT_EQ(f.seconds, 0);
  EXPECT_EQ(f.source, FreshnessSource::kExpires);
}

// RFC 9111 5.3: an invalid Expires, especially "0", means already expired.
TEST(CachePolicyFreshness, InvalidExpiresIsInThePast) {
  for (const char* bad : {"0", "-1", "never", "Sun, 06 Nov 1994 08:49:37 UTC"}) {
    FreshnessLifetime f = lifetime(kDateField + "Expires: " + bad + "\r\n");
    EXPECT_EQ(f.seconds, 0) << bad;
    EXPECT_EQ(f.source, FreshnessSource::kExpires) << bad;
  }
  // Not a fall-back to the heuristic, even with Last-Modified.
  EXPECT_EQ(lifetime(kDateField + "Expires: 0\r\nLast-Modified: Sat, 05 Nov 1994 08:49:37 GMT\r\n").seconds, 0);
}

// RFC 9110 6.6.1: without a Date the recipient's receipt time stands in.
TEST(CachePolicyFreshness, MissingDateUsesTheResponseTime) {
  FreshnessOptions opts;
  opts.response_time = kDate + 600;  // received 10 minutes after the Expires' reference point
  FreshnessLifetime f = lifetime(200, "Expires: Sun, 06 Nov 1994 09:49:37 GMT\r\n", opts);
  EXPECT_EQ(f.seconds, 3000);
  // An invalid Date is treated the same.
  EXPECT_EQ(lifetime(200, "Date: yesterday\r\nExpires: Sun, 06 Nov 1994 09:49:37 GMT\r\n", opts).seconds, 3000);
}

// RFC 9111 4.2.1: only the first Expires and Date count.
TEST(CachePolicyFreshness, FirstDateAndExpiresCount) {
  EXPECT_EQ(lifetime(kDateField + "Date: Sun, 06 Nov 1994 09:00:00 GMT\r\nExpires: Sun, 06 Nov 1994 09:49:37 GMT\r\n"
                     "Expires: Sun, 06 Nov 1994 10:49:37 GMT\r\n")
                .seconds,
            3600);
}

// RFC 9111 4.2.1: conflicting max-age (or s-maxage) values: stale.
TEST(CachePolicyFreshness, ConflictingDirectivesAreStale) {
  FreshnessLifetime f = lifetime("Cache-Control: max-age=60\r\nCache-Control: max-age=3600\r\n");
  EXPECT_EQ(f.seconds, 0);
  EXPECT_EQ(f.source, FreshnessSource::kConflict);
  EXPECT_EQ(lifetime("Cache-Control: max-age=60, max-age=60\r\n").seconds, 60);
}

// RFC 9111 4.2.2: a heuristic of 10% of the time since Last-Modified.
TEST(CachePolicyFreshness, HeuristicIsAFractionOfTheTimeSinceLastModified) {
  FreshnessLifetime f = lifetime(kDateField + "Last-Modified: Sun, 06 Nov 1994 06:49:37 GMT\r\n");
  EXPECT_EQ(f.seconds, 720);  // 10% of 2 hours
  EXPECT_EQ(f.source, FreshnessSource::kHeuristic);
  FreshnessOptions quarter;
  quarter.heuristic_percent = 25;
  EXPECT_EQ(lifetime(200, kDateField + "Last-Modified: Sun, 06 Nov 1994 06:49:37 GMT\r\n", quarter).seconds, 1800);
  FreshnessOptions off;
  off.heuristic_percent = 0;
  EXPECT_EQ(lifetime(200, kDateField + "Last-Modified: Sun, 06 Nov 1994 06:49:37 GMT\r\n", off).source,
            FreshnessSource::kNone);
}

// RFC 9111 4.2.2: the heuristic is capped (a day by default).
TEST(CachePolicyFreshness, HeuristicIsCapped) {
  EXPECT_EQ(lifetime(kDateField + "Last-Modified: Thu, 01 Jan 1970 00:00:00 GMT\r\n").seconds, 86400);
  FreshnessOptions hour;
  hour.heuristic_max = 3600;
  EXPECT_EQ(lifetime(200, kDateField + "Last-Modified: Thu, 01 Jan 1970 00:00:00 GMT\r\n", hour).seconds, 3600);
}

// RFC 9111 4.2.2: no Last-Modified, or one not in the past: no heuristic.
TEST(CachePolicyFreshness, HeuristicOnlyWithALastModifiedInThePast) {
  EXPECT_EQ(lifetime(kDateField).source, FreshnessSource::kNone);
  EXPECT_EQ(lifetime(kDateField).seconds, 0);
  EXPECT_EQ(lifetime(kDateField + "Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\n").seconds, 0);  // same second
  EXPECT_EQ(lifetime(kDateField + "Last-Modified: Mon, 07 Nov 1994 08:49:37 GMT\r\n").seconds, 0);  // future
  EXPECT_EQ(lifetime(kDateField + "Last-Modified: garbage\r\n").seconds, 0);
}

// RFC 9110 15.1: 204 and 404 allow heuristics; 302 does not.
TEST(CachePolicyFreshness, HeuristicsFollowTheStatusCode) {
  const std::string lm = kDateField + "Last-Modified: Sun, 06 Nov 1994 06:49:37 GMT\r\n";
  EXPECT_EQ(lifetime(204, lm).seconds, 720);
  EXPECT_EQ(lifetime(404, lm).seconds, 720);
  EXPECT_EQ(lifetime(301, lm).seconds, 720);
  EXPECT_EQ(lifetime(302, lm).seconds, 0);
  EXPECT_EQ(lifetime(302, lm).source, FreshnessSource::kNone);
  EXPECT_EQ(lifetime(500, lm).seconds, 0);
  // public makes any status eligible (4.2.2).
  EXPECT_EQ(lifetime(302, lm + "Cache-Control: public\r\n").seconds, 720);
}

// RFC 9111 4.2.2 uses Date for "now at the origin": with no Date, the
// response time.
TEST(CachePolicyFreshness, HeuristicWithoutDateUsesTheResponseTime) {
  FreshnessOptions opts;
  opts.response_time = kDate;
  EXPECT_EQ(lifetime(200, "Last-Modified: Sun, 06 Nov 1994 07:49:37 GMT\r\n", opts).seconds, 360);
}

// max-age=0 is explicit: zero, not heuristic.
TEST(CachePolicyFreshness, MaxAgeZeroIsExplicit) {
  FreshnessLifetime f =
      lifetime(kDateField + "Cache-Control: max-age=0\r\nLast-Modified: Thu, 01 Jan 1970 00:00:00 GMT\r\n");
  EXPECT_EQ(f.seconds, 0);
  EXPECT_EQ(f.source, FreshnessSource::kMaxAge);
}

TEST(CachePolicyFreshness, SourceNamesAreStable) {
  EXPECT_STREQ(freshnessSourceName(FreshnessSource::kSMaxAge), "s_maxage");
  EXPECT_STREQ(freshnessSourceName(FreshnessSource::kMaxAge), "max_age");
  EXPECT_STREQ(freshnessSourceName(FreshnessSource::kExpires), "expires");
  EXPECT_STREQ(freshnessSourceName(FreshnessSource::kHeuristic), "heuristic");
  EXPECT_STREQ(freshnessSourceName(FreshnessSource::kNone), "none");
  EXPECT_STREQ(freshnessSourceName(FreshnessSource::kConflict), "conflict");
}

}  // namespace
}  // namespace weir::cache
