// Age (RFC 9111 4.2.3, 5.1).
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string_view>

#include "weir/cache/policy.h"
#include "weir/http/token.h"

namespace weir::cache {

std::optional<int64_t> parseAge(const http::ResponseHead& res) {
  const int i = res.fields.find(http::Token::kAge);
  if (i < 0) return std::nullopt;
  std::string_view v = res.fields.value(static_cast<size_t>(i));
  // 5.1: a list-valued Age keeps its first member.
  v = v.substr(0, v.find(','));
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  if (v.empty()) return std::nullopt;
  int64_t age = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
    if (age < kDeltaSecondsMax) age = age * 10 + (c - '0');
  }
  return std::min(age, kDeltaSecondsMax);
}

AgeInputs ageInputs(const http::ResponseHead& res, int64_t request_time, int64_t response_time) {
  AgeInputs in;
  in.age_value = parseAge(res).value_or(0);
  in.date_value = response_time;
  if (int i = res.fields.find(http::Token::kDate); i >= 0) {
    in.date_value = parseHttpDate(res.fields.value(static_cast<size_t>(i)), response_time).value_or(response_time);
  }
  in.request_time = request_time;
  in.response_time = response_time;
  return in;
}

int64_t correctedInitialAge(const AgeInputs& in) {
  const int64_t apparent_age = std::max<int64_t>(0, in.response_time - in.date_value);
  const int64_t response_delay = in.response_time - in.request_time;
  const int64_t corrected_age_value = in.age_value + response_delay;
  return std::max(apparent_age, corrected_age_value);
}

int64_t currentAge(int64_t corrected_initial_age, int64_t response_time, int64_t now) {
  const int64_t resident_time = now - response_time;
  return corrected_initial_age + resident_time;
}

int64_t ageFieldValue(int64_t current_age) { return std::clamp<int64_t>(current_age, 0, kDeltaSecondsMax); }

}  // namespace weir::cache
