// Parsers for the optional, process-wide config sections: workers, timeouts,
// limits, proxy_headers, access_log and error_log.
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>

#include "config/sections.h"

namespace weir::config::detail {
namespace {

constexpr int64_t kMaxWorkers = 256;

}  // namespace

unsigned usableCpuCount() {
  cpu_set_t set;
  CPU_ZERO(&set);
  long count = 0;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) count = CPU_COUNT(&set);
  if (count <= 0) count = sysconf(_SC_NPROCESSORS_ONLN);
  if (count <= 0) count = 1;
  return static_cast<unsigned>(std::min<long>(count, kMaxWorkers));
}

unsigned parseWorkers(const Item& item) {
  if (item.node.IsScalar() && item.node.Scalar() == "auto") return usableCpuCount();
  if (!item.node.IsScalar()) item.fail("expected auto or a number of workers");
  const std::string& text = item.node.Scalar();
  if (text.empty() || text.find_first_not_of("-0123456789") != std::string::npos) {
    item.fail("expected auto or a number between 1 and " + std::to_string(kMaxWorkers));
  }
  return static_cast<unsigned>(readInteger(item, 1, kMaxWorkers));
}

Timeouts parseTimeouts(const Item& item) {
  MapReader map(item, {"client_header", "client_idle", "upstream_connect", "upstream_response",
                       "send", "drain"});
  Timeouts out;
  if (auto v = map.get("client_header")) out.client_header = readTimeout(*v);
  if (auto v = map.get("client_idle")) out.client_idle = readTimeout(*v);
  if (auto v = map.get("upstream_connect")) out.upstream_connect = readTimeout(*v);
  if (auto v = map.get("upstream_response")) out.upstream_response = readTimeout(*v);
  if (auto v = map.get("send")) out.send = readTimeout(*v);
  if (auto v = map.get("drain")) out.drain = readTimeout(*v);
  return out;
}

Limits parseLimits(const Item& item) {
  MapReader map(item, {"header_bytes", "headers", "uri_bytes", "body_bytes"});
  Limits out;
  if (auto v = map.get("header_bytes")) {
    out.header_bytes = readSize(*v);
    if (out.header_bytes < 1024) v->fail("must be at least 1KiB");
  }
  if (auto v = map.get("headers")) out.headers = static_cast<uint32_t>(readInteger(*v, 1, 100000));
  if (auto v = map.get("uri_bytes")) out.uri_bytes = readSize(*v);
  if (auto v = map.get("body_bytes")) out.body_bytes = readSize(*v);
  return out;
}

ProxyHeaders parseProxyHeaders(const Item& item) {
  MapReader map(item, {"x_forwarded_for", "x_forwarded_proto", "x_forwarded_host", "via"});
  ProxyHeaders out;
  if (auto v = map.get("x_forwarded_for")) out.x_forwarded_for = readBool(*v);
  if (auto v = map.get("x_forwarded_proto")) out.x_forwarded_proto = readBool(*v);
  if (auto v = map.get("x_forwarded_host")) out.x_forwarded_host = readBool(*v);
  if (auto v = map.get("via")) out.via = readBool(*v);
  return out;
}

AccessLogConfig parseAccessLog(const Item& item) {
  AccessLogConfig out;
  // "access_log: off" (a YAML boolean or the word) turns it off; "on" keeps
  // the defaults.
  if (item.node.IsScalar()) {
    std::string text = item.node.Scalar();
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (text == "off" || text == "false" || text == "no") {
      out.enabled = false;
      return out;
    }
    if (text == "on" || text == "true" || text == "yes") return out;
    item.fail("expected a map with path and format, or off");
  }
  if (!item.node.IsMap()) item.fail("expected a map with path and format, or off");
  MapReader map(item, {"path", "format"});
  if (auto v = map.get("path")) out.path = readString(*v);
  if (auto v = map.get("format")) out.format = readChoice(*v, {"combined", "json"});
  return out;
}

ErrorLogConfig parseErrorLog(const Item& item) {
  MapReader map(item, {"path", "level"});
  ErrorLogConfig out;
  if (auto v = map.get("path")) out.path = readString(*v);
  if (auto v = map.get("level")) {
    std::string level = readChoice(*v, {"debug", "info", "warn", "error"});
    out.level = level == "debug"  ? LogLevel::kDebug
                : level == "info" ? LogLevel::kInfo
                : level == "warn" ? LogLevel::kWarn
                                  : LogLevel::kError;
  }
  return out;
}

}  // namespace weir::config::detail
