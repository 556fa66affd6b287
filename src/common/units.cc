// Parsing of durations and byte sizes as operators write them in config files.
// Both parsers are strict: no signs, no spaces, no exponents, no trailing
// garbage. Anything they do not understand is rejected rather than guessed.
#include "weir/common/units.h"

#include <array>
#include <limits>

namespace weir {
namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// Consumes a run of decimal digits into `out`. Returns false when there is no
// digit or the value does not fit in 64 bits.
bool takeDigits(std::string_view& text, uint64_t& out) {
  size_t i = 0;
  uint64_t value = 0;
  while (i < text.size() && isDigit(text[i])) {
    unsigned digit = static_cast<unsigned>(text[i] - '0');
    if (__builtin_mul_overflow(value, 10u, &value) ||
        __builtin_add_overflow(value, digit, &value)) {
      return false;
    }
    ++i;
  }
  if (i == 0) return false;
  text.remove_prefix(i);
  out = value;
  return true;
}

// Consumes an optional ".digits" part: `fraction` / `scale` is its value.
// Digits past the ninth are below a nanosecond of any unit; they are checked
// and then ignored, which keeps the duration arithmetic within 128 bits.
bool takeFraction(std::string_view& text, uint64_t& fraction, uint64_t& scale) {
  if (text.empty() || text.front() != '.') return true;
  text.remove_prefix(1);
  size_t digits = 0;
  while (!text.empty() && isDigit(text.front())) {
    if (digits < 9) {
      fraction = fraction * 10 + static_cast<uint64_t>(text.front() - '0');
      scale *= 10;
    }
    ++digits;
    text.remove_prefix(1);
  }
  return digits > 0;
}

struct Unit {
  std::string_view suffix;
  uint64_t factor;
};

constexpr uint64_t kMicrosPerSecond = 1000 * 1000;

constexpr std::array<Unit, 6> kDurationUnits{{
    {"us", 1},
    {"ms", 1000},
    {"s", kMicrosPerSecond},
    {"m", 60 * kMicrosPerSecond},
    {"h", 3600 * kMicrosPerSecond},
    {"", kMicrosPerSecond},  // a bare number is seconds
}};

constexpr uint64_t kKi = 1024;
constexpr std::array<Unit, 16> kSizeUnits{{
    {"", 1},
    {"B", 1},
    {"k", kKi},
    {"K", kKi},
    {"m", kKi * kKi},
    {"M", kKi * kKi},
    {"g", kKi * kKi * kKi},
    {"G", kKi * kKi * kKi},
    {"KiB", kKi},
    {"MiB", kKi * kKi},
    {"GiB", kKi * kKi * kKi},
    {"TiB", kKi * kKi * kKi * kKi},
    {"KB", 1000},
    {"MB", 1000 * 1000},
    {"GB", 1000 * 1000 * 1000},
    {"TB", 1000ull * 1000 * 1000 * 1000},
}};

template <size_t N>
std::optional<uint64_t> unitFactor(const std::array<Unit, N>& units, std::string_view suffix) {
  for (const Unit& unit : units) {
    if (unit.suffix == suffix) return unit.factor;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::chrono::milliseconds> parseDuration(std::string_view text) {
  uint64_t whole = 0;
  if (!takeDigits(text, whole)) return std::nullopt;

  uint64_t fraction = 0;
  uint64_t fraction_scale = 1;
  if (!takeFraction(text, fraction, fraction_scale)) return std::nullopt;

  std::optional<uint64_t> factor = unitFactor(kDurationUnits, text);
  if (!factor) return std::nullopt;

  // Exact value in microseconds is scaled / fraction_scale; it fits in 128 bits
  // (64 + 32 + 30). Round to the nearest millisecond, but never turn a
  // non-zero duration such as "250us" into zero.
  __extension__ typedef unsigned __int128 U128;
  U128 scaled = static_cast<U128>(whole) * *factor * fraction_scale +
                static_cast<U128>(fraction) * *factor;
  U128 per_milli = static_cast<U128>(fraction_scale) * 1000;
  U128 millis = (scaled + per_milli / 2) / per_milli;
  if (millis == 0 && scaled != 0) millis = 1;
  using Rep = std::chrono::milliseconds::rep;
  if (millis > static_cast<U128>(std::numeric_limits<Rep>::max())) return std::nullopt;
  return std::chrono::milliseconds(static_cast<Rep>(millis));
}

std::optional<uint64_t> parseByteSize(std::string_view text) {
  uint64_t count = 0;
  if (!takeDigits(text, count)) return std::nullopt;
  std::optional<uint64_t> factor = unitFactor(kSizeUnits, text);
  if (!factor) return std::nullopt;
  uint64_t bytes = 0;
  if (__builtin_mul_overflow(count, *factor, &bytes)) return std::nullopt;
  return bytes;
}

}  // namespace weir
