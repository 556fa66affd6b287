// The admin thread: accepts connections, reads one bounded request head
// each, answers it and closes; samples server counters every second for
// /status.
#include "weir/admin/admin_server.h"

#include <event2/buffer.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <unordered_map>
#include <string>
#include <string_view>
#include <vector>

#include "admin/metrics.h"
#include "admin/purge.h"
#include "admin/status.h"
#include "admin/status_page.h"
#include "weir/cache/key_options.h"
#include "weir/core/acceptor.h"
#include "weir/core/deadline.h"
#include "weir/core/loop_thread.h"
#include "weir/core/stream.h"
#include "weir/log/log.h"

namespace weir::admin {
namespace {

constexpr size_t kMaxHead = 8 * 1024;
constexpr size_t kMaxConnections = 64;
constexpr std::chrono::milliseconds kRequestTimeout{5000};
// Clients outside admin.allow have a budget and a deadline of their own, so
// that they can never take the slots of a scraper or a liveness probe.
constexpr size_t kMaxDenied = 16;
constexpr std::chrono::milliseconds kDeniedTimeout{1000};
constexpr std::chrono::milliseconds kSampleEvery{1000};

struct Response {
  int status = 200;
  std::string_view content_type = "text/plain; charset=utf-8";
  std::string body;
  std::string_view allow;  // 405: the methods allowed, for the Allow field
};

std::string_view reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
  }
  return "Error";
}

double monotonicSeconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace

struct AdminServer::Impl {
  class Connection;

  explicit Impl(AdminOptions o) : opts(std::move(o)) {}

  Response handle(std::string_view method, std::string_view target, bool allowed);
  void onAccept(int fd, const sockaddr* peer);
  void finished(Connection* c);
  static void onReap(void* arg);
  static void onSample(void* arg);
  void begin();
  void end();

  AdminOptions opts;
  core::Acceptor acceptor;
  Sampler sampler;
  std::unordered_map<Connection*, std::unique_ptr<Connection>> connections;
  size_t open_allowed = 0;  // connections from admin.allow
  size_t open_denied = 0;   // from anywhere else, answered 403
  std::vector<std::unique_ptr<Connection>> dead;
  std::unique_ptr<core::Deadline> reap;
  std::unique_ptr<core::Deadline> sample_timer;
  bool started = false;
  core::LoopThread loop{"weir-admin"};  // declared last: stopped first
};

// One admin connection: a request head, one answer, close.
class AdminServer::Impl::Connection final : private core::StreamHandler {
 public:
  Connection(Impl& server, int fd, bool allowed)
      : server_(server), allowed_(allowed), stream_(server.loop.base(), this),
        timer_(server.loop.base(), &Connection::onTimeout, this) {
    stream_.setLowWater(0);
    stream_.attach(fd);
    timer_.set(allowed ? kRequestTimeout : kDeniedTimeout);
  }
  ~Connection() { stream_.close(); }
  bool allowed() const { return allowed_; }

 private:
  void onStreamRead(core::Stream& s) override {
    if (answered_) return;
    evbuffer* in = s.input();
    evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, nullptr);
    if (end.pos < 0) {
      if (evbuffer_get_length(in) > kMaxHead) return reply({431, "text/plain; charset=utf-8", "request head too large\n"});
      if (s.eof() || s.errorCode() != 0) return done();
      return;
    }
    if (static_cast<size_t>(end.pos) > kMaxHead) return reply({431, "text/plain; charset=utf-8", "request head too large\n"});
    const size_t line_len = [&] {
      evbuffer_ptr eol = evbuffer_search_eol(in, nullptr, nullptr, EVBUFFER_EOL_CRLF_STRICT);
      return eol.pos < 0 ? size_t{0} : static_cast<size_t>(eol.pos);
    }();
    std::string line(line_len, '\0');
    evbuffer_copyout(in, line.data(), line_len);
    // METHOD SP request-target SP HTTP/1.x
    const size_t sp1 = line.find(' ');
    const size_t sp2 = sp1 == std::string::npos ? std::string::npos : line.find(' ', sp1 + 1);
    if (sp1 == std::string::npos || sp2 == std::string::npos || line.compare(sp2 + 1, 7, "HTTP/1.") != 0 ||
        line.size() != sp2 + 9) {
      return reply({400, "text/plain; charset=utf-8", "bad request line\n"});
    }
    head_only_ = line.compare(0, sp1, "HEAD") == 0;
    reply(server_.handle(std::string_view(line).substr(0, sp1), std::string_view(line).substr(sp1 + 1, sp2 - sp1 - 1),
                         allowed_));
  }

  void onStreamWritable(core::Stream& s) override {
    if (answered_ && s.outputLength() == 0) done();
  }
  void onStreamError(core::Stream&) override { done(); }

  static void onTimeout(void* arg) {
    auto* c = static_cast<Connection*>(arg);
    if (!c->answered_) {
      c->reply({408, "text/plain; charset=utf-8", "request timeout\n"});
    } else {
      c->done();  // a client that does not read its answer
    }
  }

  void reply(const Response& r) {
    answered_ = true;
    std::string head = "HTTP/1.1 " + std::to_string(r.status) + " " + std::string(reason(r.status)) +
                       "\r\nContent-Type: " + std::string(r.content_type) +
                       "\r\nContent-Length: " + std::to_string(r.body.size()) +
                       "\r\nCache-Control: no-store\r\nConnection: close\r\n";
    if (!r.allow.empty()) head += "Allow: " + std::string(r.allow) + "\r\n";
    head += "\r\n";
    evbuffer_add(stream_.output(), head.data(), head.size());
    if (!head_only_) evbuffer_add(stream_.output(), r.body.data(), r.body.size());
    stream_.pauseReading();
    stream_.shutdownWriteAfterFlush();
    timer_.set(allowed_ ? kRequestTimeout : kDeniedTimeout);
    if (!stream_.flush()) return done();
    if (stream_.outputLength() == 0) done();
  }

  void done() {
    if (closed_) return;
    closed_ = true;
    timer_.cancel();
    server_.finished(this);
  }

  Impl& server_;
  bool allowed_;
  core::Stream stream_;
  core::Deadline timer_;
  bool answered_ = false;
  bool head_only_ = false;
  bool closed_ = false;
};

Response AdminServer::Impl::handle(std::string_view method, std::string_view target, bool allowed) {
  if (!allowed) return {403, "text/plain; charset=utf-8", "forbidden: this client is not in admin.allow\n"};
  const size_t q = target.find('?');
  const std::string_view path = target.substr(0, q);
  if (path == "/cache/purge") {
    if (method != "POST") {
      Response r{405, "text/plain; charset=utf-8", "method not allowed: POST /cache/purge?url=URL\n"};
      r.allow = "POST";
      return r;
    }
    const proxy::RuntimePtr rt = opts.runtime ? opts.runtime() : nullptr;
    KeyTarget key_target;
    if (rt) {
      key_target = [&rt](std::string_view host, std::string_view t) {
        const int route = rt->router.match(host, t.substr(0, t.find('?')));
        if (route < 0) return std::string(t);
        const config::CacheKeyConfig& kc = rt->config->routes[static_cast<size_t>(route)].cache_key;
        if (!kc.changesTarget()) return std::string(t);
        return cache::keyTarget(t, kc.ignore_query, kc.ignore_all_query, kc.sort_query);
      };
    }
    PurgeResult p = purge(q == std::string_view::npos ? std::string_view() : target.substr(q + 1),
                          rt ? rt->cache : nullptr, key_target);
    return {p.status, "application/json", std::move(p.body)};
  }
  const bool known = path == "/metrics" || path == "/status" || path == "/status.json" || path == "/healthz" ||
                     path == "/ready" || path == "/";
  if (!known) {
    return {404, "text/plain; charset=utf-8",
            "not found; try /metrics, /status, /status.json, /healthz, /ready or POST /cache/purge\n"};
  }
  if (method != "GET" && method != "HEAD") {
    Response r{405, "text/plain; charset=utf-8", "method not allowed\n"};
    r.allow = "GET, HEAD";
    return r;
  }
  if (path == "/healthz") return {200, "text/plain; charset=utf-8", "ok\n"};
  const proxy::RuntimePtr rt = opts.runtime ? opts.runtime() : nullptr;
  const bool listening = !opts.listening || opts.listening();
  if (path == "/ready") {
    const Readiness r = readiness(rt.get(), listening);
    if (r.ready) return {200, "text/plain; charset=utf-8", "ready\n"};
    return {503, "text/plain; charset=utf-8", "not ready: " + r.reason + "\n"};
  }
  const stats::ProcessInfo::Snapshot info = opts.process->snapshot();
  if (path == "/metrics") {
    return {200, kMetricsContentType, renderMetrics(*opts.registry, rt.get(), info, stats::readProcessUsage())};
  }
  if (path == "/status.json") {
    return {200, "application/json", renderStatusJson(rt.get(), sampler, info, listening, stats::unixNow())};
  }
  return {200, "text/html; charset=utf-8", std::string(statusPage())};  // /status and /
}

void AdminServer::Impl::onAccept(int fd, const sockaddr* peer) {
  const bool allowed = anyContains(opts.config.allow, peer);
  if ((allowed ? open_allowed : open_denied) >= (allowed ? kMaxConnections : kMaxDenied)) {
    ::close(fd);
    return;
  }
  ++(allowed ? open_allowed : open_denied);
  auto c = std::make_unique<Connection>(*this, fd, allowed);
  Connection* key = c.get();
  connections.emplace(key, std::move(c));
}

// The connection is freed from the loop, after the callback that ended it.
void AdminServer::Impl::finished(Connection* c) {
  auto it = connections.find(c);
  if (it == connections.end()) return;
  --(c->allowed() ? open_allowed : open_denied);
  dead.push_back(std::move(it->second));
  connections.erase(it);
  reap->set(std::chrono::milliseconds(0));
}

void AdminServer::Impl::onReap(void* arg) { static_cast<Impl*>(arg)->dead.clear(); }

void AdminServer::Impl::onSample(void* arg) {
  auto* impl = static_cast<Impl*>(arg);
  if (proxy::RuntimePtr rt = impl->opts.runtime ? impl->opts.runtime() : nullptr) {
    impl->sampler.sample(*rt, monotonicSeconds());
  }
  impl->sample_timer->set(kSampleEvery);
}

void AdminServer::Impl::begin() {
  reap = std::make_unique<core::Deadline>(loop.base(), &Impl::onReap, this);
  sample_timer = std::make_unique<core::Deadline>(loop.base(), &Impl::onSample, this);
  acceptor.start(loop.base(), [this](int fd, const sockaddr* peer, socklen_t) { onAccept(fd, peer); });
  onSample(this);
}

void AdminServer::Impl::end() {
  acceptor.close();
  connections.clear();
  dead.clear();
  reap.reset();
  sample_timer.reset();
}

AdminServer::AdminServer(AdminOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

AdminServer::~AdminServer() { stop(); }

Status AdminServer::open(const std::vector<core::InheritedSocket>& inherited) {
  const std::string want = impl_->opts.config.addr.toString();
  for (const core::InheritedSocket& s : inherited) {
    if (s.address == want && impl_->acceptor.fd() < 0) {
      impl_->acceptor.adopt(s.fd);
    } else {
      ::close(s.fd);
    }
  }
  if (impl_->acceptor.fd() >= 0) return Ok{};
  if (auto st = impl_->acceptor.open(impl_->opts.config.addr, 128); !st) {
    return st.error();
  }
  return Ok{};
}

int AdminServer::listeningSocket() const { return impl_->acceptor.fd(); }

void AdminServer::start() {
  if (impl_->started) return;
  impl_->started = true;
  Impl* impl = impl_.get();
  impl->loop.start([impl] { impl->begin(); }, [impl] { impl->end(); });
  WEIR_INFO("admin listener on %s (metrics, status, healthz, ready)", impl->opts.config.addr.toString().c_str());
}

void AdminServer::stop() { impl_->loop.stop(); }

}  // namespace weir::admin
