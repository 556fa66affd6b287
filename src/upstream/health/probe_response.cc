#include "upstream/health/probe_response.h"

#include <algorithm>

namespace weir::upstream {
namespace {

constexpr std::string_view kPrefix = "HTTP/1.";

bool isDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

// "HTTP/1." DIGIT SP 3DIGIT ( SP reason | nothing ) line-end. Each byte is
// checked as soon as it is there, so garbage fails on the first read rather
// than at the timeout.
StatusLine parseStatusLine(std::string_view in) {
  using S = StatusLine::State;
  const size_t prefix = std::min(in.size(), kPrefix.size());
  if (in.substr(0, prefix) != kPrefix.substr(0, prefix)) return {S::kInvalid, 0};
  if (in.size() > 7 && !isDigit(in[7])) return {S::kInvalid, 0};
  if (in.size() > 8 && in[8] != ' ') return {S::kInvalid, 0};
  int status = 0;
  for (size_t i = 9; i < 12 && i < in.size(); ++i) {
    if (!isDigit(in[i])) return {S::kInvalid, 0};
    status = status * 10 + (in[i] - '0');
  }
  if (in.size() > 12 && in[12] != ' ' && in[12] != '\r' && in[12] != '\n') return {S::kInvalid, 0};
  const size_t lf = in.find('\n');
  if (lf == std::string_view::npos) {
    return {in.size() >= kMaxStatusLine ? S::kInvalid : S::kIncomplete, 0};
  }
  if (lf < 12) return {S::kInvalid, 0};                       // line ended inside "HTTP/1.x NNN"
  if (status < 100 || status > 599) return {S::kInvalid, 0};
  return {S::kComplete, status};
}

bool statusExpected(int status, const std::vector<config::HealthCheckConfig::StatusRange>& expect) {
  for (const auto& r : expect) {
    if (status >= r.first && status <= r.last) return true;
  }
  return false;
}

}  // namespace weir::upstream
