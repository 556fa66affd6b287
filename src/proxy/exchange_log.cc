// The access-log line of an exchange. Kept apart from the exchange's state
// machine: it only reads what the exchange recorded.
#include <cstdio>

#include "proxy/downstream.h"
#include "proxy/exchange.h"
#include "weir/log/log.h"
#include "weir/proxy/proxy_worker.h"
#include "weir/proxy/runtime.h"

namespace weir::proxy {

void Exchange::logAccess() {
  if (!log::Writer::instance().accessEnabled()) return;
  const http::RequestHead& req = client_.request();
  const bool json = rt_->access_log_json;
  std::string& l = worker_.accessLog().line();
  double total = elapsed(client_.requestStarted());
  const uint64_t bytes = head_bytes_ + body_bytes_;
  char num[128];
  std::string_view upstream = upstream_.server() >= 0 ? upstream_.name() : std::string_view("-");
  auto field = [&](std::string_view name) -> std::string_view {
    for (size_t i = 0; i < req.fields.size(); ++i) {
      if (http::equalsIgnoreCase(req.fields.name(i), name)) return req.fields.value(i);
    }
    return "-";
  };
  if (json) {
    auto esc = [&](std::string_view v) {
      for (char c : v) {
        if (c == '"' || c == '\\') {
          l.push_back('\\');
          l.push_back(c);
        } else if (static_cast<unsigned char>(c) < 0x20) {
          std::snprintf(num, sizeof num, "\\u%04x", c);
          l.append(num);
        } else {
          l.push_back(c);
        }
      }
    };
    l.append("{\"time\":\"").append(log::isoTime()).append("\",\"client\":\"").append(client_.address());
    l.append("\",\"method\":\"");
    esc(req.method_name);
    l.append("\",\"target\":\"");
    esc(req.target);
    std::snprintf(num, sizeof num, "\",\"status\":%d,\"bytes\":%llu,\"upstream\":\"", status_,
                  static_cast<unsigned long long>(bytes));
    l.append(num).append(upstream);
    std::snprintf(num, sizeof num, "\",\"upstream_time\":%.3f,\"request_time\":%.3f}\n",
                  header_time_ < 0 ? 0.0 : header_time_, total);
    l.append(num);
  } else {
    l.append(client_.address()).append(" - - ").append(log::commonLogTime()).append(" \"");
    l.append(req.method_name).push_back(' ');
    l.append(req.target);
    std::snprintf(num, sizeof num, " HTTP/%u.%u\" %d %llu \"", req.version_major, req.version_minor, status_,
                  static_cast<unsigned long long>(bytes));
    l.append(num).append(field("referer")).append("\" \"");
    l.append(field("user-agent")).append("\" upstream=").append(upstream);
    if (header_time_ < 0) {
      std::snprintf(num, sizeof num, " upstream_time=- request_time=%.3f\n", total);
    } else {
      std::snprintf(num, sizeof num, " upstream_time=%.3f request_time=%.3f\n", header_time_, total);
    }
    l.append(num);
  }
  worker_.accessLog().commit();
}

}  // namespace weir::proxy
