// Age (RFC 9111 4.2.3, 5.1), one test per rule.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>

#include "serialized_head.h"
#include "weir/cache/policy.h"

namespace weir::cache {
namespace {

using http::testing::parseResponse;

constexpr int64_t kDate = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT

http::ResponseHead response(const std::string& fields) {
  return parseResponse("HTTP/1.1 200 OK\r\n" + fields + "Content-Length: 0\r\n\r\n");
}

AgeInputs inputs(int64_t age, int64_t date, int64_t request_time, int64_t response_time) {
  AgeInputs in;
  in.age_value = age;
  in.date_value = date;
  in.request_time = request_time;
  in.response_time = response_time;
  return in;
}

// RFC 9111 4.2.3: apparent_age = max(0, response_time - date_value).
TEST(CachePolicyAge, ApparentAgeIsResponseTimeMinusDate) {
  EXPECT_EQ(correctedInitialAge(inputs(0, 1000, 1100, 1100)), 100);
  EXPECT_EQ(correctedInitialAge(inputs(0, 1100, 1100, 1100)), 0);
}

// RFC 9111 4.2.3: an origin clock ahead of ours gives no negative age.
TEST(CachePolicyAge, ApparentAgeIsNeverNegative) {
  EXPECT_EQ(correctedInitialAge(inputs(0, 5000, 1100, 1100)), 0);
}

// RFC 9111 4.2.3: corrected_age_value = age_value + response_delay, where
// response_delay = response_time - request_time.
TEST(CachePolicyAge, AgeFieldPlusResponseDelay) {
  EXPECT_EQ(correctedInitialAge(inputs(30, 1105, 1100, 1105)), 35);
  // The delay alone counts, even without an Age field.
  EXPECT_EQ(correctedInitialAge(inputs(0, 1105, 1100, 1105)), 5);
}

// RFC 9111 4.2.3: corrected_initial_age = max(apparent_age,
// corrected_age_value).
TEST(CachePolicyAge, CorrectedInitialAgeIsTheLargerEstimate) {
  EXPECT_EQ(correctedInitialAge(inputs(10, 1000, 1099, 1100)), 100);  // apparent 100 > 10 + 1
  EXPECT_EQ(correctedInitialAge(inputs(500, 1000, 1099, 1100)), 501);  // 500 + 1 > apparent 100
}

// RFC 9111 4.2.3: current_age = corrected_initial_age + resident_time,
// resident_time = now - response_time.
TEST(CachePolicyAge, CurrentAgeAddsResidentTime) {
  EXPECT_EQ(currentAge(35, 1105, 1105), 35);
  EXPECT_EQ(currentAge(35, 1105, 1165), 95);
  EXPECT_EQ(currentAge(0, 1000, 1000 + 86400), 86400);
}

// RFC 9111 5.1: Age is a non-negative integer; an invalid one is ignored.
TEST(CachePolicyAge, InvalidAgeIsIgnored) {
  EXPECT_EQ(parseAge(response("Age: 60\r\n")), 60);
  EXPECT_EQ(parseAge(response("Age: 0\r\n")), 0);
  EXPECT_EQ(parseAge(response("")), std::nullopt);
  for (const char* bad : {"-1", "1.5", "abc", "5s", "+5", "0x10", "\"5\""}) {
    EXPECT_EQ(parseAge(response(std::string("Age: ") + bad + "\r\n")), std::nullopt) << bad;
  }
  EXPECT_EQ(parseAge(response("Age:\r\n")), std::nullopt);
  AgeInputs in = ageInputs(response("Age: -5\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"), kDate, kDate);
  EXPECT_EQ(in.age_value, 0);
}

// RFC 9111 5.1: a list-valued Age keeps its first member.
TEST(CachePolicyAge, MultipleAgeValuesUseTheFirst) {
  EXPECT_EQ(parseAge(response("Age: 5, 6\r\n")), 5);
  EXPECT_EQ(parseAge(response("Age: 7\r\nAge: 8\r\n")), 7);
  EXPECT_EQ(parseAge(response("Age: x, 6\r\n")), std::nullopt);
}

// RFC 9111 1.2.2 and 5.1: an Age too large saturates at 2^31.
TEST(CachePolicyAge, OverflowingAgeSaturates) {
  EXPECT_EQ(parseAge(response("Age: 2147483648\r\n")), kDeltaSecondsMax);
  EXPECT_EQ(parseAge(response("Age: 999999999999999999999\r\n")), kDeltaSecondsMax);
  EXPECT_EQ(ageFieldValue(int64_t{1} << 40), kDeltaSecondsMax);
  EXPECT_EQ(ageFieldValue(-3), 0);
  EXPECT_EQ(ageFieldValue(42), 42);
}

// RFC 9111 4.2.3 with the fields of a real response: Age and Date read,
// and a missing Date taken as the response time (RFC 9110 6.6.1).
TEST(CachePolicyAge, InputsFromAResponse) {
  AgeInputs in = ageInputs(response("Age: 30\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"), kDate + 98, kDate + 100);
  EXPECT_EQ(in.age_value, 30);
  EXPECT_EQ(in.date_value, kDate);
  EXPECT_EQ(in.request_time, kDate + 98);
  EXPECT_EQ(in.response_time, kDate + 100);
  EXPECT_EQ(correctedInitialAge(in), 100);  // apparent 100 beats 30 + 2
  AgeInputs no_date = ageInputs(response("Age: 30\r\n"), kDate + 98, kDate + 100);
  EXPECT_EQ(no_date.date_value, kDate + 100);
  EXPECT_EQ(correctedInitialAge(no_date), 32);
  EXPECT_EQ(currentAge(correctedInitialAge(no_date), kDate + 100, kDate + 160), 92);
}

// RFC 9111 4.2: fresh while the lifetime exceeds the current age.
TEST(CachePolicyAge, FreshWhileLifetimeExceedsCurrentAge) {
  EXPECT_TRUE(isFresh(60, 59));
  EXPECT_FALSE(isFresh(60, 60));
  EXPECT_FALSE(isFresh(0, 0));
}

}  // namespace
}  // namespace weir::cache
