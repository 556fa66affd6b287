#include "weir/common/units.h"

#include <gtest/gtest.h>

#include <optional>
#include <string_view>

namespace weir {
namespace {

using std::chrono::milliseconds;

struct DurationCase {
  std::string_view text;
  std::optional<int64_t> millis;  // nullopt: rejected
};

TEST(UnitsTest, ParseDurationTable) {
  const DurationCase cases[] = {
      {"30s", 30000},
      {"500ms", 500},
      {"2m", 120000},
      {"1h", 3600000},
      {"1.5s", 1500},
      {"0.25m", 15000},
      {"2.5h", 9000000},
      {"250us", 1},      // below a millisecond rounds up to 1ms, never to 0
      {"1500us", 2},     // nearest millisecond
      {"1499us", 1},
      {"10", 10000},     // bare number: seconds
      {"0.5", 500},
      {"0s", 0},         // valid syntax; callers decide whether 0 is allowed
      {"0", 0},
      {"007s", 7000},
      {"1.0000000001s", 1000},  // digits past the ninth are ignored
      {"9223372036854775807ms", INT64_MAX},
      {"", std::nullopt},
      {"s", std::nullopt},
      {"-1s", std::nullopt},
      {"+1s", std::nullopt},
      {" 1s", std::nullopt},
      {"1s ", std::nullopt},
      {"1 s", std::nullopt},
      {"1.s", std::nullopt},
      {".5s", std::nullopt},
      {"1..5s", std::nullopt},
      {"1d", std::nullopt},
      {"1sec", std::nullopt},
      {"1S", std::nullopt},
      {"1e3", std::nullopt},
      {"1ms1", std::nullopt},
      {"abc", std::nullopt},
      {"9223372036854775808ms", std::nullopt},  // ms count overflows int64
      {"99999999999999999999s", std::nullopt},  // does not fit in 64 bits
      {"18446744073709551615h", std::nullopt},
  };
  for (const DurationCase& c : cases) {
    SCOPED_TRACE(std::string(c.text));
    std::optional<milliseconds> got = parseDuration(c.text);
    if (!c.millis) {
      EXPECT_FALSE(got.has_value()) << "got " << got->count() << "ms";
    } else {
      ASSERT_TRUE(got.has_value());
      EXPECT_EQ(got->count(), *c.millis);
    }
  }
}

struct SizeCase {
  std::string_view text;
  std::optional<uint64_t> bytes;
};

TEST(UnitsTest, ParseByteSizeTable) {
  constexpr uint64_t kKi = 1024;
  const SizeCase cases[] = {
      {"512", 512},
      {"512B", 512},
      {"0", 0},
      {"64KiB", 64 * kKi},
      {"1MiB", kKi * kKi},
      {"1GiB", kKi * kKi * kKi},
      {"2TiB", 2 * kKi * kKi * kKi * kKi},
      {"32KB", 32000},
      {"5MB", 5000000},
      {"1GB", 1000000000},
      {"1TB", 1000000000000},
      {"16k", 16 * kKi},
      {"16K", 16 * kKi},
      {"1m", kKi * kKi},
      {"1M", kKi * kKi},
      {"1g", kKi * kKi * kKi},
      {"1G", kKi * kKi * kKi},
      {"18446744073709551615", UINT64_MAX},
      {"", std::nullopt},
      {"KiB", std::nullopt},
      {"-1", std::nullopt},
      {"+1", std::nullopt},
      {"1.5MiB", std::nullopt},
      {"1 KiB", std::nullopt},
      {"1kib", std::nullopt},
      {"1kb", std::nullopt},
      {"1b", std::nullopt},
      {"1KiBB", std::nullopt},
      {"1Ki", std::nullopt},
      {"1x", std::nullopt},
      {"0x10", std::nullopt},
      {"18446744073709551616", std::nullopt},  // does not fit in 64 bits
      {"16777216TiB", std::nullopt},           // 2^24 * 2^40 overflows
      {"18446744073709551615K", std::nullopt},
  };
  for (const SizeCase& c : cases) {
    SCOPED_TRACE(std::string(c.text));
    std::optional<uint64_t> got = parseByteSize(c.text);
    if (!c.bytes) {
      EXPECT_FALSE(got.has_value()) << "got " << *got;
    } else {
      ASSERT_TRUE(got.has_value());
      EXPECT_EQ(*got, *c.bytes);
    }
  }
}

TEST(UnitsTest, LargestSizesThatFit) {
  EXPECT_EQ(parseByteSize("16777215TiB"), uint64_t{16777215} << 40);
  EXPECT_EQ(parseByteSize("17179869183G"), uint64_t{17179869183} << 30);
}

}  // namespace
}  // namespace weir
