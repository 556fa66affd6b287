#include "weir/cache/stale.h"

#include <algorithm>

#include "weir/http/token.h"

namespace weir::cache {
namespace {

bool staleAllowed(int64_t staleness, int64_t window, ReuseLimits limits) {
  return !limits.no_cache && !limits.never_stale && window > 0 && staleness <= window;
}

// The field name of one head line ("Name: value"), or "" for none.
std::string_view lineName(std::string_view line) {
  const size_t colon = line.find(':');
  return colon == std::string_view::npos ? std::string_view() : line.substr(0, colon);
}

// Calls `f(line)` for each field line after the status line.
template <typename F>
void eachFieldLine(std::string_view head, F f) {
  size_t at = head.find("\r\n");
  while (at != std::string_view::npos && at + 2 < head.size()) {
    const size_t start = at + 2;
    at = head.find("\r\n", start);
    const size_t end = at == std::string_view::npos ? head.size() : at;
    if (end > start) f(head.substr(start, end - start));
  }
}

}  // namespace

bool mayServeWhileRevalidating(int64_t staleness, int64_t window, ReuseLimits limits) {
  return staleAllowed(staleness, window, limits);
}

bool mayServeIfError(int64_t staleness, int64_t response_window, int64_t request_window, int64_t route_default,
                     ReuseLimits limits) {
  const int64_t window = std::max(response_window >= 0 ? response_window : route_default, request_window);
  return staleAllowed(staleness, window, limits);
}

bool isStaleIfErrorStatus(int status) { return status == 500 || status == 502 || status == 503 || status == 504; }

std::string updateStoredHead(std::string_view stored, std::string_view update) {
  std::vector<std::string_view> names;
  eachFieldLine(update, [&](std::string_view line) { names.push_back(lineName(line)); });
  auto updated = [&names](std::string_view name) {
    return std::any_of(names.begin(), names.end(), [name](std::string_view n) { return http::equalsIgnoreCase(n, name); });
  };
  std::string out(stored.substr(0, stored.find("\r\n")));
  out += "\r\n";
  eachFieldLine(stored, [&](std::string_view line) {
    if (!updated(lineName(line))) out.append(line).append("\r\n");
  });
  eachFieldLine(update, [&](std::string_view line) {
    if (http::equalsIgnoreCase(lineName(line), "content-length")) return;
    out.append(line).append("\r\n");
  });
  return out;
}

std::vector<std::string> responseTags(const http::ResponseHead& res, const std::vector<std::string>& field_names) {
  std::vector<std::string> tags;
  if (field_names.empty()) return tags;
  const http::HeaderBlock& f = res.fields;
  for (size_t i = 0; i < f.size() && tags.size() < kMaxTags; ++i) {
    const std::string_view name = f.name(i);
    if (std::none_of(field_names.begin(), field_names.end(),
                     [name](const std::string& n) { return http::equalsIgnoreCase(n, name); })) {
      continue;
    }
    const std::string_view value = f.value(i);
    size_t pos = 0;
    while (pos < value.size() && tags.size() < kMaxTags) {
      const size_t end = value.find_first_of(" ,\t", pos);
      const std::string_view tag = value.substr(pos, (end == std::string_view::npos ? value.size() : end) - pos);
      pos = end == std::string_view::npos ? value.size() : end + 1;
      if (tag.empty() || tag.size() > kMaxTagBytes) continue;
      if (std::find(tags.begin(), tags.end(), tag) == tags.end()) tags.emplace_back(tag);
    }
  }
  return tags;
}

}  // namespace weir::cache
