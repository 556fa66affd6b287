// HTTP-date (RFC 9110 5.6.7).
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>

#include "weir/cache/http_date.h"

namespace weir::cache {
namespace {

constexpr int64_t kExample = 784111777;   // 1994-11-06T08:49:37Z, RFC 9110 5.6.7's example
constexpr int64_t kNow2026 = 1796169600;  // 2026-12-02T00:00:00Z

// RFC 9110 5.6.7: the example in its three forms.
TEST(CachePolicyHttpDate, TheRfcExampleInAllThreeForms) {
  EXPECT_EQ(parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT", kNow2026), kExample);   // IMF-fixdate
  EXPECT_EQ(parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT", kNow2026), kExample);  // obsolete RFC 850
  EXPECT_EQ(parseHttpDate("Sun Nov  6 08:49:37 1994", kNow2026), kExample);        // asctime
}

TEST(CachePolicyHttpDate, EpochLeapDaysAndFarYears) {
  EXPECT_EQ(parseHttpDate("Thu, 01 Jan 1970 00:00:00 GMT", 0), 0);
  EXPECT_EQ(parseHttpDate("Wed, 31 Dec 1969 23:59:59 GMT", 0), -1);
  EXPECT_EQ(parseHttpDate("Tue, 29 Feb 2000 12:00:00 GMT", 0), 951825600);
  EXPECT_EQ(parseHttpDate("Sun, 07 Feb 2106 06:28:16 GMT", 0), int64_t{4294967296});  // past 32 bits
  EXPECT_EQ(parseHttpDate("Fri, 31 Dec 9999 23:59:59 GMT", 0), int64_t{253402300799});
  EXPECT_EQ(parseHttpDate("Thu Feb 29 00:00:00 2024", 0), 1709164800);
  EXPECT_EQ(parseHttpDate("Thu Feb 29 00:00:00 2024", 0), parseHttpDate("Thu, 29 Feb 2024 00:00:00 GMT", 0));
}

// RFC 9110 5.6.7: a two-digit year more than 50 years in the future is the
// most recent past year with the same last two digits.
TEST(CachePolicyHttpDate, Rfc850TwoDigitYearsAreWithinFiftyYearsAhead) {
  auto year_of = [](const char* date, int64_t now) {
    std::optional<int64_t> t = parseHttpDate(date, now);
    return t ? 1970 + *t / 31556952 : -1;  // mean Gregorian year, good to the year here
  };
  EXPECT_EQ(year_of("Wednesday, 01-Jul-76 00:00:00 GMT", kNow2026), 2076);  // exactly 50 ahead: the future
  EXPECT_EQ(year_of("Friday, 01-Jul-77 00:00:00 GMT", kNow2026), 1977);    // 51 ahead: the past century
  EXPECT_EQ(year_of("Wednesday, 01-Jul-26 00:00:00 GMT", kNow2026), 2026);
  EXPECT_EQ(year_of("Thursday, 01-Jul-99 00:00:00 GMT", kNow2026), 1999);
  EXPECT_EQ(year_of("Saturday, 01-Jul-00 00:00:00 GMT", kNow2026), 2000);
  // The same text read in 1994 is 1994.
  EXPECT_EQ(parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT", kExample), kExample);
  // Read in 2061, "94" is 2094: 33 years ahead is not more than 50.
  EXPECT_EQ(year_of("Sunday, 06-Nov-94 08:49:37 GMT", 2871763200 /* 2061-01-01 */), 2094);
}

// RFC 9110 5.6.7: the grammar is exact.
TEST(CachePolicyHttpDate, AnythingElseIsNotADate) {
  for (const char* bad : {"", "0", "-1", "now", "Sun, 06 Nov 1994 08:49:37", "Sun, 06 Nov 1994 08:49:37 UTC",
                          "Sun, 6 Nov 1994 08:49:37 GMT", "sun, 06 Nov 1994 08:49:37 GMT",
                          "Sun, 06 nov 1994 08:49:37 GMT", "Sun,  06 Nov 1994 08:49:37 GMT",
                          "Sun, 06 Nov 1994 8:49:37 GMT", "Sun, 06 Nov 94 08:49:37 GMT",
                          "Sun, 31 Nov 1994 08:49:37 GMT",
                          "Sun, 29 Feb 1900 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT",
                          "Sun, 06 Nov 1994 08:60:00 GMT", "Sun, 06 Nov 1994 08:49:61 GMT",
                          "Sun, 00 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 GMT ",
                          "Xyz, 06 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08-49-37 GMT",
                          "Sun, 06 Nov 1994 08:49:37 gmt", "Sunday, 06-Nov-1994 08:49:37 GMT",
                          "Sundy, 06-Nov-94 08:49:37 GMT", "Sunday 06-Nov-94 08:49:37 GMT",
                          "Sunday, 06 Nov 94 08:49:37 GMT", "Sun Nov 6 08:49:37 1994", "Sun Nov  6 08:49:37 94",
                          "Sun Nov  6 08:49:37 1994 GMT", "1994-11-06T08:49:37Z"}) {
    EXPECT_EQ(parseHttpDate(bad, kNow2026), std::nullopt) << '"' << bad << '"';
  }
}

// RFC 9110 5.6.7 allows second 60 (a leap second).
TEST(CachePolicyHttpDate, LeapSecondIsAccepted) {
  EXPECT_EQ(parseHttpDate("Sat, 31 Dec 2016 23:59:60 GMT", 0), 1483228800);
}

TEST(CachePolicyHttpDate, FormatsImfFixdate) {
  for (int64_t t : {kExample, int64_t{0}, int64_t{951825600}, int64_t{1709164800}, kNow2026, int64_t{-1}}) {
    std::string out;
    appendHttpDate(t, out);
    EXPECT_EQ(parseHttpDate(out, 0), t) << out;
  }
  std::string out = "Date: ";
  appendHttpDate(kExample, out);
  EXPECT_EQ(out, "Date: Sun, 06 Nov 1994 08:49:37 GMT");
}

}  // namespace
}  // namespace weir::cache
