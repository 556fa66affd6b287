#include "target.h"

#include <charconv>
#include <optional>

namespace weir::origin {
namespace {

std::optional<uint64_t> parseNumber(std::string_view s) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// Strips "scheme://authority" from an absolute-form target.
std::string_view originForm(std::string_view url) {
  size_t scheme = url.find("://");
  if (url.empty() || url.front() == '/' || scheme == std::string_view::npos) return url;
  size_t path = url.find('/', scheme + 3);
  return path == std::string_view::npos ? std::string_view("/") : url.substr(path);
}

int parseStatus(std::string_view s) {
  auto v = parseNumber(s);
  return (v && *v < 1000) ? static_cast<int>(*v) : -1;
}

void applyPath(std::string_view path, Target& t) {
  if (path.starts_with("/bytes/")) {
    auto n = parseNumber(path.substr(7));
    t.route = Route::kBytes;
    t.bytes = n.value_or(0);
    t.bad = !n;
  } else if (path.starts_with("/status/")) {
    t.route = Route::kStatus;
    t.path_status = parseStatus(path.substr(8));
  } else if (path == "/echo") {
    t.route = Route::kEcho;
  } else if (path == "/headers") {
    t.route = Route::kHeaders;
  } else if (path == "/stats") {
    t.route = Route::kStats;
  } else if (path == "/ws") {
    t.route = Route::kWebSocket;
  } else if (path == "/close") {
    t.route = Route::kClose;
  } else if (path == "/healthz" || path.starts_with("/healthz/")) {
    t.route = Route::kHealth;  // the switchable health endpoint (health_switch.h)
  } else if (path == "/_control/health") {
    t.route = Route::kHealthControl;
  }
}

void applyParam(std::string_view key, std::string_view value, Target& t) {
  auto n = parseNumber(value);
  bool on = n && *n != 0;
  if (key == "chunked") {
    t.chunked = on;
  } else if (key == "close") {
    t.close = on;
  } else if (key == "trailer") {
    t.trailer = on;
  } else if (key == "continue") {
    t.expect_continue = on;
  } else if (key == "delay") {
    t.delay_ms = static_cast<uint32_t>(n.value_or(0) > 3600000 ? 3600000 : n.value_or(0));
    t.bad = t.bad || !n;
  } else if (key == "cache") {
    t.cache_seconds = n ? static_cast<int64_t>(*n) : -1;
    t.bad = t.bad || !n;
  } else if (key == "status") {
    t.status_override = parseStatus(value);
  }
}

void applyQuery(std::string_view query, Target& t) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    size_t eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? "1" : pair.substr(eq + 1);
    applyParam(key, value, t);
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
}

}  // namespace

Target parseTarget(std::string_view url) {
  Target t;
  url = originForm(url);
  size_t hash = url.find('#');
  if (hash != std::string_view::npos) url = url.substr(0, hash);
  size_t q = url.find('?');
  applyPath(url.substr(0, q), t);
  if (q != std::string_view::npos) applyQuery(url.substr(q + 1), t);
  return t;
}

}  // namespace weir::origin
