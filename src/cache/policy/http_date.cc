// HTTP-date (RFC 9110 5.6.7). Fixed-position parsing of the three forms;
// calendar arithmetic by days-from-civil, so no timegm() and no locale.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "weir/cache/http_date.h"

namespace weir::cache {
namespace {

constexpr std::string_view kDays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
constexpr std::string_view kLongDays[] = {"Monday", "Tuesday", "Wednesday", "Thursday",
                                          "Friday", "Saturday", "Sunday"};
constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// Days since 1970-01-01 of a proleptic Gregorian date (month 1-12).
int64_t daysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// The year of a day count (the inverse's year only).
int64_t yearOfDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  return yoe + era * 400 + (mp >= 10 ? 1 : 0);
}

int daysInMonth(int64_t y, int m) {
  static constexpr int kLengths[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kLengths[m - 1];
}

// `n` digits at `at`, or -1.
int digits(std::string_view s, size_t at, size_t n) {
  if (at + n > s.size()) return -1;
  int v = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

template <size_t N>
int indexOf(const std::string_view (&names)[N], std::string_view s) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == s) return static_cast<int>(i);
  }
  return -1;
}

struct Civil {
  int64_t year = 0;
  int month = 0;  // 1-12
  int day = 0;
  int hour = -1;
  int minute = -1;
  int second = -1;
};

std::optional<int64_t> toEpoch(const Civil& c) {
  if (c.month < 1 || c.day < 1 || c.day > daysInMonth(c.year, c.month)) return std::nullopt;
  if (c.hour < 0 || c.hour > 23 || c.minute < 0 || c.minute > 59 || c.second < 0 || c.second > 60) {
    return std::nullopt;
  }
  return daysFromCivil(c.year, c.month, c.day) * 86400 + c.hour * 3600 + c.minute * 60 + c.second;
}

// "HH:MM:SS" at `at`.
bool timeOfDay(std::string_view s, size_t at, Civil& c) {
  if (at + 8 > s.size() || s[at + 2] != ':' || s[at + 5] != ':') return false;
  c.hour = digits(s, at, 2);
  c.minute = digits(s, at + 3, 2);
  c.second = digits(s, at + 6, 2);
  return true;
}

// "Sun, 06 Nov 1994 08:49:37 GMT"
std::optional<int64_t> imfFixdate(std::string_view s) {
  if (s.size() != 29 || indexOf(kDays, s.substr(0, 3)) < 0 || s.substr(3, 2) != ", " || s[7] != ' ' ||
      s[11] != ' ' || s[16] != ' ' || s.substr(25) != " GMT") {
    return std::nullopt;
  }
  Civil c;
  c.day = digits(s, 5, 2);
  c.month = indexOf(kMonths, s.substr(8, 3)) + 1;
  c.year = digits(s, 12, 4);
  if (c.year < 0 || !timeOfDay(s, 17, c)) return std::nullopt;
  return toEpoch(c);
}

// "Sunday, 06-Nov-94 08:49:37 GMT"
std::optional<int64_t> rfc850Date(std::string_view s, int64_t reference_time) {
  const size_t comma = s.find(',');
  if (comma == std::string_view::npos || indexOf(kLongDays, s.substr(0, comma)) < 0) return std::nullopt;
  std::string_view rest = s.substr(comma);  // ", 06-Nov-94 08:49:37 GMT"
  if (rest.size() != 24 || rest[1] != ' ' || rest[4] != '-' || rest[8] != '-' || rest[11] != ' ' ||
      rest.substr(20) != " GMT") {
    return std::nullopt;
  }
  Civil c;
  c.day = digits(rest, 2, 2);
  c.month = indexOf(kMonths, rest.substr(5, 3)) + 1;
  const int yy = digits(rest, 9, 2);
  if (yy < 0 || !timeOfDay(rest, 12, c)) return std::nullopt;
  // RFC 9110 5.6.7: more than 50 years ahead of the reference means the
  // most recent past year with those two digits.
  const int64_t reference_year = yearOfDays(reference_time >= 0 ? reference_time / 86400
                                                                : -((-reference_time + 86399) / 86400));
  c.year = reference_year - reference_year % 100 + yy;
  if (c.year > reference_year + 50) c.year -= 100;
  return toEpoch(c);
}

// "Sun Nov  6 08:49:37 1994" (the day is space-padded)
std::optional<int64_t> asctimeDate(std::string_view s) {
  if (s.size() != 24 || indexOf(kDays, s.substr(0, 3)) < 0 || s[3] != ' ' || s[7] != ' ' || s[10] != ' ' ||
      s[19] != ' ') {
    return std::nullopt;
  }
  Civil c;
  c.month = indexOf(kMonths, s.substr(4, 3)) + 1;
  c.day = s[8] == ' ' ? digits(s, 9, 1) : digits(s, 8, 2);
  c.year = digits(s, 20, 4);
  if (c.year < 0 || !timeOfDay(s, 11, c)) return std::nullopt;
  return toEpoch(c);
}

void appendTwo(std::string& out, int64_t v) {
  out.push_back(static_cast<char>('0' + v / 10));
  out.push_back(static_cast<char>('0' + v % 10));
}

}  // namespace

std::optional<int64_t> parseHttpDate(std::string_view text, int64_t reference_time) {
  if (text.size() < 4) return std::nullopt;
  if (text[3] == ',') return imfFixdate(text);
  if (text[3] == ' ') return asctimeDate(text);
  return rfc850Date(text, reference_time);
}

void appendHttpDate(int64_t t, std::string& out) {
  const int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
  const int64_t secs = t - days * 86400;
  const int64_t year = yearOfDays(days);
  int month = 1;
  while (month < 12 && daysFromCivil(year, month + 1, 1) <= days) ++month;
  const int64_t day = days - daysFromCivil(year, month, 1) + 1;
  // 1970-01-01 was a Thursday (index 3 from Monday).
  const int64_t weekday = ((days % 7) + 7 + 3) % 7;
  out.append(kDays[weekday]);
  out.append(", ");
  appendTwo(out, day);
  out.push_back(' ');
  out.append(kMonths[month - 1]);
  out.push_back(' ');
  std::string y = std::to_string(year);
  if (y.size() < 4) y.insert(0, 4 - y.size(), '0');
  out.append(y);
  out.push_back(' ');
  appendTwo(out, secs / 3600);
  out.push_back(':');
  appendTwo(out, secs / 60 % 60);
  out.push_back(':');
  appendTwo(out, secs % 60);
  out.append(" GMT");
}

}  // namespace weir::cache
