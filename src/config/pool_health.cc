// Parsers for a pool's health and failover keys: health_check, passive,
// hash, slow_start, retry_on and retry_budget (pools.NAME.*).
#include <cctype>

#include "config/sections.h"

namespace weir::config::detail {
namespace {

int readStatus(const Item& item, std::string_view text) {
  int value = 0;
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) item.fail("expected a status code such as 200, or a range such as 200-399");
    value = value * 10 + (c - '0');
    if (value > 999) break;
  }
  if (text.empty() || value < 100 || value > 599) item.fail("status codes are between 100 and 599");
  return value;
}

HealthCheckConfig::StatusRange readStatusRange(const Item& item) {
  const std::string text = readString(item);
  const size_t dash = text.find('-');
  if (dash == std::string::npos) {
    int code = readStatus(item, text);
    return {code, code};
  }
  HealthCheckConfig::StatusRange r{readStatus(item, std::string_view(text).substr(0, dash)),
                                   readStatus(item, std::string_view(text).substr(dash + 1))};
  if (r.first > r.last) item.fail("the range's first status must not be above its last");
  return r;
}

// expect: 200, "200-399" or a list of either.
std::vector<HealthCheckConfig::StatusRange> readExpect(const Item& item) {
  std::vector<HealthCheckConfig::StatusRange> out;
  if (item.node.IsSequence()) {
    for (const Item& e : listItems(item)) out.push_back(readStatusRange(e));
    if (out.empty()) item.fail("at least one status is required");
  } else {
    out.push_back(readStatusRange(item));
  }
  return out;
}

std::string readProbeHost(const Item& item) {
  std::string host = readString(item);
  for (char c : host) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' || c == ':' ||
              c == '[' || c == ']';
    if (!ok) item.fail("expected a host name such as app.internal, optionally with :port");
  }
  return host;
}

}  // namespace

HealthCheckConfig parseHealthCheck(const Item& item) {
  MapReader map(item, {"type", "path", "host", "interval", "timeout", "rise", "fall", "expect"});
  HealthCheckConfig out;
  out.enabled = true;
  if (auto v = map.get("type")) {
    out.type = readChoice(*v, {"http", "tcp"}) == "tcp" ? HealthCheckConfig::Type::kTcp : HealthCheckConfig::Type::kHttp;
  }
  if (auto v = map.get("path")) out.path = readPath(*v);
  if (auto v = map.get("host")) out.host = readProbeHost(*v);
  if (auto v = map.get("interval")) out.interval = readTimeout(*v);
  if (auto v = map.get("timeout")) out.timeout = readTimeout(*v);
  if (auto v = map.get("rise")) out.rise = static_cast<uint32_t>(readInteger(*v, 1, 100));
  if (auto v = map.get("fall")) out.fall = static_cast<uint32_t>(readInteger(*v, 1, 100));
  if (auto v = map.get("expect")) out.expect = readExpect(*v);
  if (out.type == HealthCheckConfig::Type::kTcp) {
    for (std::string_view http_only : {"path", "host", "expect"}) {
      if (auto v = map.get(http_only)) v->fail("applies only to type: http");
    }
  }
  if (out.timeout > out.interval) {
    map.get("timeout").value_or(item).fail("must not be longer than interval (" +
                                           std::to_string(out.interval.count()) + "ms)");
  }
  return out;
}

// passive: false turns outlier ejection off; a map tunes it.
PassiveHealthConfig parsePassive(const Item& item) {
  PassiveHealthConfig out;
  if (!item.node.IsMap()) {
    out.enabled = readBool(item);
    return out;
  }
  MapReader map(item, {"consecutive_failures", "on_status", "ejection", "max_ejection", "max_ejected_percent"});
  if (auto v = map.get("consecutive_failures")) out.consecutive_failures = static_cast<uint32_t>(readInteger(*v, 1, 1000));
  if (auto v = map.get("on_status")) {
    out.on_status.clear();
    for (const Item& e : listItems(*v)) {
      int code = static_cast<int>(readInteger(e, 500, 599));
      out.on_status.push_back(code);
    }
  }
  if (auto v = map.get("ejection")) out.ejection = readTimeout(*v);
  if (auto v = map.get("max_ejection")) out.max_ejection = readTimeout(*v);
  if (auto v = map.get("max_ejected_percent")) out.max_ejected_percent = static_cast<uint32_t>(readInteger(*v, 0, 100));
  if (out.max_ejection < out.ejection) {
    map.get("max_ejection").value_or(item).fail("must not be shorter than ejection");
  }
  return out;
}

HashConfig parseHash(const Item& item) {
  MapReader map(item, {"key", "bounded_load"});
  HashConfig out;
  Item key = map.require("key");
  const std::string text = readString(key);
  const size_t colon = text.find(':');
  const std::string kind = text.substr(0, colon);
  const std::string name = colon == std::string::npos ? "" : text.substr(colon + 1);
  using S = HashConfig::Source;
  struct Kind {
    std::string_view word;
    S source;
    bool named;
  };
  static constexpr Kind kKinds[] = {{"header", S::kHeader, true}, {"cookie", S::kCookie, true},
                                    {"query", S::kQuery, true},   {"path", S::kPath, false},
                                    {"uri", S::kUri, false},      {"client_ip", S::kClientIp, false}};
  for (const Kind& k : kKinds) {
    if (kind != k.word) continue;
    if (k.named && name.empty()) key.fail(std::string(k.word) + " needs a name, as " + std::string(k.word) + ":NAME");
    if (!k.named && colon != std::string::npos) key.fail(std::string(k.word) + " takes no name");
    for (char c : name) {
      if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) key.fail("the name must not contain spaces or control characters");
    }
    out.source = k.source;
    out.name = name;
    if (auto v = map.get("bounded_load")) {
      out.bounded_load = readNumber(*v, 0, 100);
      if (out.bounded_load > 0 && out.bounded_load < 1) v->fail("must be 0 (no bound) or at least 1");
    }
    return out;
  }
  key.fail("expected header:NAME, cookie:NAME, query:NAME, path, uri or client_ip");
}

uint32_t parseRetryOn(const Item& item) {
  uint32_t out = 0;
  for (const Item& e : listItems(item)) {
    const std::string v = readChoice(e, {"connect_failure", "reset", "timeout", "502", "503", "504"});
    if (v == "connect_failure") out |= kRetryConnectFailure;
    if (v == "reset") out |= kRetryReset;
    if (v == "timeout") out |= kRetryTimeout;
    if (v == "502") out |= kRetry502;
    if (v == "503") out |= kRetry503;
    if (v == "504") out |= kRetry504;
  }
  return out;
}

RetryBudgetConfig parseRetryBudget(const Item& item) {
  MapReader map(item, {"percent", "min_concurrent"});
  RetryBudgetConfig out;
  if (auto v = map.get("percent")) out.percent = static_cast<uint32_t>(readInteger(*v, 0, 100));
  if (auto v = map.get("min_concurrent")) out.min_concurrent = static_cast<uint32_t>(readInteger(*v, 0, 100000));
  return out;
}

}  // namespace weir::config::detail
