// The access-log line of an exchange. Kept apart from the exchange's state
// machine: it only reads what the exchange recorded.
#include "proxy/downstream.h"
#include "proxy/exchange.h"
#include "weir/log/access_format.h"
#include "weir/log/log.h"
#include "weir/proxy/proxy_worker.h"
#include "weir/proxy/runtime.h"

namespace weir::proxy {
namespace {

std::string_view otherField(const http::RequestHead& req, std::string_view name) {
  for (size_t i = 0; i < req.fields.size(); ++i) {
    if (!http::isForwardingToken(req.fields.field(i).token) && http::equalsIgnoreCase(req.fields.name(i), name)) {
      return req.fields.value(i);
    }
  }
  return {};
}

// RFC 9112 3.2.2: an absolute-form target's authority is the host. The
// parser sets `authority` for every request it accepted; a rejected one may
// still show its Host.
std::string_view effectiveHost(const http::RequestHead& req) {
  if (!req.authority.empty()) return req.authority;
  std::string_view t = req.target;
  size_t scheme = t.find("://");
  if (scheme != std::string_view::npos && scheme > 0 && t.find_first_of("/?#") > scheme) {
    std::string_view authority = t.substr(scheme + 3);
    authority = authority.substr(0, authority.find_first_of("/?#"));
    size_t at = authority.rfind('@');
    return at == std::string_view::npos ? authority : authority.substr(at + 1);
  }
  int h = req.fields.find(http::Token::kHost);
  return h >= 0 ? req.fields.value(static_cast<size_t>(h)) : std::string_view();
}

}  // namespace

// One finished exchange in the metrics: the same point as its log line.
void Exchange::recordStats() {
  stats::ExchangeSample e;
  e.route = route_;
  e.pool = pool_;
  e.server = upstream_.server();
  e.status = status_;
  e.bytes_in = client_.requestHeadBytes() + request_bytes_;
  e.bytes_out = head_bytes_ + body_bytes_;
  e.request_seconds = elapsed(client_.requestStarted());
  e.upstream_seconds = header_time_;
  stats::recordExchange(*rt_->stats, worker_.worker().index(), e);
}

void Exchange::logAccess() {
  std::string_view cache_status;
  if (hooks_ == &cache_flow_) cache_status = cache_flow_.finished();
  if (rt_->stats) recordStats();
  if (!log::Writer::instance().accessEnabled()) return;
  const http::RequestHead& req = client_.request();
  timeval now;
  event_base_gettimeofday_cached(worker_.base(), &now);
  log::AccessRecord r;
  r.client = client_.address();
  r.method = req.method_name;  // empty until the parser has the method
  r.target = req.target;       // what arrived of it, also for a rejected request
  r.has_version = client_.requestHadVersion();
  r.version_major = req.version_major;
  r.version_minor = req.version_minor;
  r.host = effectiveHost(req);
  r.referer = otherField(req, "referer");
  r.user_agent = otherField(req, "user-agent");
  r.authorization = otherField(req, "authorization");
  r.status = status_;
  r.body_bytes = body_bytes_;
  r.request_bytes = request_bytes_;
  if (upstream_.server() >= 0) r.upstream = upstream_.name();
  r.upstream_connect_time = upstream_.connectTime();
  r.upstream_header_time = header_time_;
  r.request_time = elapsed(client_.requestStarted());
  r.error = error_;
  r.request_id = request_id_.view();
  r.cache_status = cache_status;
  r.time_ms = static_cast<int64_t>(now.tv_sec) * 1000 + now.tv_usec / 1000;
  const log::LogTime tz = rt_->config->access_log.local_time ? log::LogTime::kLocal : log::LogTime::kUtc;
  std::string& line = worker_.accessLog().line();
  if (rt_->access_log_json) {
    log::appendJson(r, tz, line);
  } else {
    log::appendCombined(r, tz, line);
  }
  worker_.accessLog().commit();
}

}  // namespace weir::proxy
