#include "engine.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "weir/http/parser.h"

namespace weir::loadgen {
namespace {

constexpr int64_t kTickNs = 5'000'000;            // timeouts, reconnects, the end, publishing
constexpr int64_t kConnectBackoffNs = 10'000'000;  // after a refused or failed connect

timeval toTimeval(int64_t ns) {
  if (ns < 0) ns = 0;
  return timeval{static_cast<time_t>(ns / 1'000'000'000), static_cast<suseconds_t>(ns % 1'000'000'000 / 1000)};
}

}  // namespace

int64_t monotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// One connection: a non-blocking socket written with send() directly (a
// request rarely does not fit; the rest waits for EV_WRITE) and read into
// the engine's buffer, fed to the parser without copying.
struct Engine::Conn {
  explicit Conn(Engine* e) : engine(e), parser(http::Parser::Kind::kResponse, http::ParserLimits{}) {}
  Engine* engine;
  int fd = -1;
  event* ev = nullptr;  // EV_READ (and EV_WRITE while connecting or while `out` is not empty)
  bool connecting = false;
  bool connected = false;
  bool in_idle = false;
  bool close_after = false;  // the last response (or the options) ends the connection
  bool want_write = false;
  int64_t retry_at_ns = 0;
  std::string out;  // bytes send() did not take
  std::deque<Pending> inflight;
  http::Parser parser;
};

Engine::Engine(const Options& options, const EnginePlan& plan) : o_(options), plan_(plan) {
  event_config* cfg = event_config_new();
  event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);  // open-loop sends to the microsecond
  event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
  base_ = event_base_new_with_config(cfg);
  event_config_free(cfg);
  tick_ = event_new(base_, -1, 0, &Engine::onTick, this);
  due_ = event_new(base_, -1, 0, [](evutil_socket_t, short, void* arg) { static_cast<Engine*>(arg)->dispatch(); }, this);
  if (plan_.rate > 0) pacer_.emplace(plan_.rate, plan_.start_ns);
  if (o_.zipf_n > 0) zipf_.emplace(o_.zipf_n, o_.zipf_alpha, 0x5eed + plan_.index);
  path_index_ = plan_.index;  // threads start at different targets
  buildRequest(o_.path, request_);
  for (const std::string& p : o_.paths) {
    path_requests_.emplace_back();
    buildRequest(p, path_requests_.back());
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(o_.host.c_str(), std::to_string(o_.port).c_str(), &hints, &res) == 0 && res != nullptr) {
    std::memcpy(&addr_, res->ai_addr, res->ai_addrlen);
    addr_len_ = static_cast<socklen_t>(res->ai_addrlen);
    resolved_ = true;
    freeaddrinfo(res);
  }
  for (unsigned i = 0; i < plan_.connections; ++i) conns_.push_back(std::make_unique<Conn>(this));
}

Engine::~Engine() {
  for (auto& c : conns_) {
    if (c->ev != nullptr) event_free(c->ev);
    if (c->fd >= 0) ::close(c->fd);
  }
  if (tick_ != nullptr) event_free(tick_);
  if (due_ != nullptr) event_free(due_);
  if (base_ != nullptr) event_base_free(base_);
}

void Engine::stop() { stop_requested_.store(true, std::memory_order_relaxed); }

void Engine::run() {
  for (auto& c : conns_) open(*c);
  const timeval now{0, 0};
  event_add(tick_, &now);
  event_base_dispatch(base_);
  publish();
}

void Engine::open(Conn& c) {
  const int64_t now = monotonicNs();
  c.connected = c.connecting = false;
  c.close_after = !o_.keepalive;
  c.out.clear();
  c.parser.reset();
  c.fd = resolved_ ? ::socket(addr_.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0) : -1;
  if (c.fd < 0) {
    countError(kConnect, now);
    c.retry_at_ns = now + kConnectBackoffNs;
    return;
  }
  const int one = 1;
  setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  c.ev = event_new(base_, c.fd, EV_READ | EV_WRITE | EV_PERSIST, &Engine::onSocket, &c);
  if (::connect(c.fd, reinterpret_cast<const sockaddr*>(&addr_), addr_len_) == 0) {
    connected(c);
    return;
  }
  if (errno != EINPROGRESS) {
    countError(kConnect, now);
    closeConn(c, std::nullopt);
    c.retry_at_ns = now + kConnectBackoffNs;
    return;
  }
  c.connecting = true;
  event_add(c.ev, nullptr);
}

void Engine::connected(Conn& c) {
  c.connecting = false;
  c.connected = true;
  c.want_write = false;
  event_del(c.ev);
  event_assign(c.ev, base_, c.fd, EV_READ | EV_PERSIST, &Engine::onSocket, &c);
  event_add(c.ev, nullptr);
  markIdle(c);
  dispatch();
}

// Ends a connection; its requests in flight count as `in_flight_error`.
void Engine::closeConn(Conn& c, std::optional<ErrorClass> in_flight_error) {
  for (const Pending& p : c.inflight) {
    if (in_flight_error) countError(*in_flight_error, p.intended_ns);
    ++done_;
  }
  c.inflight.clear();
  if (c.ev != nullptr) event_free(c.ev);
  c.ev = nullptr;
  if (c.fd >= 0) ::close(c.fd);
  c.fd = -1;
  c.connected = c.connecting = false;
  c.retry_at_ns = 0;
}

// The end of a run: -n requests done; or, with a duration, once it is over
// and every request sent in it has been answered or has failed (open loop:
// every request due in it too, while a connection is up to send it), so
// the slowest requests of the run are counted rather than dropped. A
// request still in flight --timeout past the end has timed out, so no run
// lasts longer than the duration and the timeout.
bool Engine::finished() const {
  if (stopping_) return true;
  if (plan_.requests > 0) return done_ >= plan_.requests;
  const int64_t now = monotonicNs();
  if (now < plan_.end_ns) return false;
  const bool due_unsent = pacer_ && pacer_->nextDue() < plan_.end_ns &&
                          std::any_of(conns_.begin(), conns_.end(), [](const auto& c) { return c->connected; });
  return (sent_ == done_ && !due_unsent) || now >= plan_.end_ns + timeoutNs();
}

int64_t Engine::timeoutNs() const { return static_cast<int64_t>(o_.timeout_s * 1e9); }

const std::string& Engine::nextRequest() {
  if (zipf_) {  // the rank replaces "{}" in the URL's path, or follows it after a '/'
    const std::string rank = std::to_string(zipf_->next() - 1);
    std::string target = o_.path;
    if (const size_t at = target.find("{}"); at != std::string::npos) {
      target.replace(at, 2, rank);
    } else {
      if (target.empty() || target.back() != '/') target.push_back('/');
      target += rank;
    }
    buildRequest(target, scratch_);
    return scratch_;
  }
  if (!path_requests_.empty()) return path_requests_[path_index_++ % path_requests_.size()];
  return request_;
}

void Engine::buildRequest(const std::string& target, std::string& out) const {
  out.assign(o_.method).append(" ").append(target).append(o_.http10 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n");
  out.append("Host: ").append(o_.authority).append("\r\n");
  bool agent = false;
  for (const std::string& h : o_.headers) {
    out.append(h).append("\r\n");
    agent = agent || strncasecmp(h.c_str(), "user-agent:", 11) == 0;
  }
  if (!agent) out.append("User-Agent: weir-bench\r\n");
  if (!o_.body.empty()) out.append("Content-Length: ").append(std::to_string(o_.body.size())).append("\r\n");
  if (!o_.keepalive && !o_.http10) out.append("Connection: close\r\n");
  out.append("\r\n").append(o_.body);
}

bool Engine::sendOne(Conn& c, int64_t intended, int64_t now) {
  const std::string& req = nextRequest();
  c.inflight.push_back({intended, now});
  ++sent_;
  if (!c.out.empty()) {  // still writing the previous one (pipelining)
    c.out.append(req);
    return true;
  }
  const ssize_t n = ::send(c.fd, req.data(), req.size(), MSG_NOSIGNAL);
  if (n == static_cast<ssize_t>(req.size())) return true;
  if (n < 0 && errno != EAGAIN && errno != EINTR) return false;
  c.out.assign(req, n > 0 ? static_cast<size_t>(n) : 0);
  if (!c.want_write) {
    c.want_write = true;
    event_del(c.ev);
    event_assign(c.ev, base_, c.fd, EV_READ | EV_WRITE | EV_PERSIST, &Engine::onSocket, &c);
    event_add(c.ev, nullptr);
  }
  return true;
}

bool Engine::flush(Conn& c) {
  while (!c.out.empty()) {
    const ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN || errno == EINTR;
    c.out.erase(0, static_cast<size_t>(n));
  }
  c.want_write = false;
  event_del(c.ev);
  event_assign(c.ev, base_, c.fd, EV_READ | EV_PERSIST, &Engine::onSocket, &c);
  event_add(c.ev, nullptr);
  return true;
}

void Engine::markIdle(Conn& c) {
  if (c.in_idle || !c.connected || c.inflight.size() >= o_.pipeline) return;
  if (c.close_after && !c.inflight.empty()) return;
  idle_.push_back(&c);
  c.in_idle = true;
}

void Engine::dispatch() {
  if (stopping_) return;
  const int64_t now = monotonicNs();
  // Closed loop: until the end. Open loop: every request due before it,
  // even if it goes out late.
  auto may_send = [&] {
    if (plan_.requests > 0 && sent_ >= plan_.requests) return false;
    return pacer_ ? pacer_->nextDue() < plan_.end_ns : now < plan_.end_ns;
  };
  while (!idle_.empty() && may_send()) {
    Conn* c = idle_.back();
    if (!c->connected || c->inflight.size() >= o_.pipeline || (c->close_after && !c->inflight.empty())) {
      idle_.pop_back();
      c->in_idle = false;
      continue;
    }
    int64_t intended = now;
    if (pacer_) {
      intended = pacer_->take(now);
      if (intended < 0) break;
    }
    if (!sendOne(*c, intended, now)) {
      idle_.pop_back();
      c->in_idle = false;
      closeConn(*c, kReset);
      open(*c);
    }
  }
  armTimers(now);
}

// The open-loop timer, moved to the next request's due time.
void Engine::armTimers(int64_t now) {
  if (!pacer_ || idle_.empty() || stopping_) return;
  const int64_t due = pacer_->nextDue();
  if (due >= plan_.end_ns) return;
  const timeval tv = toTimeval(due - now);
  event_add(due_, &tv);
}

void Engine::countError(ErrorClass e, int64_t intended_ns) {
  if (intended_ns >= plan_.warmup_end_ns) ++result_.errors[e];
}

void Engine::completed(Conn& c, int status, int64_t now) {
  const Pending p = c.inflight.front();
  c.inflight.pop_front();
  ++done_;
  if (p.intended_ns < plan_.warmup_end_ns) return;
  result_.latency.record(static_cast<uint64_t>(std::max<int64_t>(0, now - p.intended_ns) / 1000));
  result_.service.record(static_cast<uint64_t>(std::max<int64_t>(0, now - p.sent_ns) / 1000));
  ++result_.requests;
  if (status >= 500) {
    ++result_.errors[kStatus5xx];
  } else if (status >= 400) {
    ++result_.errors[kStatus4xx];
  }
  result_.last_response_ns = now;
}

// Parses `len` bytes read; false when the connection had to end.
bool Engine::feed(Conn& c, const char* data, size_t len, int64_t now) {
  result_.bytes += len;
  while (len > 0) {
    if (c.inflight.empty()) {  // bytes nobody asked for
      countError(kMalformed, now);
      closeConn(c, std::nullopt);
      return false;
    }
    c.parser.setNoBodyExpected(o_.method == "HEAD");
    const http::Parser::Step step = c.parser.execute(data, len);
    if (step.flags & http::Parser::kError) {
      countError(kMalformed, c.inflight.front().intended_ns);
      c.inflight.pop_front();
      ++done_;
      closeConn(c, kReset);
      return false;
    }
    data += step.consumed;
    len -= step.consumed;
    if (step.flags & http::Parser::kMessageComplete) {
      const http::ResponseHead& r = c.parser.response();
      const bool interim = r.status >= 100 && r.status < 200;
      if (!interim) {
        if (!r.keep_alive) c.close_after = true;
        completed(c, r.status, now);
      }
      c.parser.reset();
      if (!interim && c.close_after && c.inflight.empty()) {
        closeConn(c, std::nullopt);
        return false;
      }
    } else if (step.consumed == 0) {
      return true;
    }
  }
  return true;
}

// The peer closed (or reset): a body delimited by the close ends here;
// anything else in flight was cut.
void Engine::ended(Conn& c, bool reset) {
  const int64_t now = monotonicNs();
  if (!reset && !c.inflight.empty() && c.parser.started() &&
      (c.parser.finish().flags & http::Parser::kMessageComplete)) {
    completed(c, c.parser.response().status, now);
  }
  closeConn(c, kReset);
}

void Engine::onReadable(Conn& c) {
  static thread_local char buf[65536];
  const int64_t now = monotonicNs();
  for (;;) {
    const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
    if (n > 0) {
      if (!feed(c, buf, static_cast<size_t>(n), now)) break;
      if (static_cast<size_t>(n) < sizeof buf) break;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
    ended(c, n < 0);
    break;
  }
  if (c.fd < 0) {
    if (!finished()) open(c);
  } else {
    markIdle(c);
  }
  dispatch();
  if (finished()) event_base_loopbreak(base_);
}

void Engine::onWritable(Conn& c) {
  if (c.connecting) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      countError(kConnect, monotonicNs());
      closeConn(c, std::nullopt);
      c.retry_at_ns = monotonicNs() + kConnectBackoffNs;
      return;
    }
    connected(c);
    return;
  }
  if (!flush(c)) {
    closeConn(c, kReset);
    if (!finished()) open(c);
  }
}

void Engine::onSocket(evutil_socket_t, short what, void* arg) {
  auto* c = static_cast<Conn*>(arg);
  Engine* self = c->engine;
  if (what & EV_WRITE) {
    self->onWritable(*c);
    if (c->fd < 0 || c->connecting) return;
  }
  if (what & EV_READ) self->onReadable(*c);
}

void Engine::publish() {
  std::lock_guard<std::mutex> lock(mu_);
  shared_ = result_;
}

void Engine::onTick(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Engine*>(arg);
  const int64_t now = monotonicNs();
  if (self->stop_requested_.load(std::memory_order_relaxed)) self->stopping_ = true;
  const int64_t timeout_ns = self->timeoutNs();
  for (auto& c : self->conns_) {
    if (c->fd >= 0 && !c->inflight.empty() && now - c->inflight.front().sent_ns > timeout_ns) {
      self->closeConn(*c, kTimeout);
    }
  }
  if (self->finished()) {
    event_base_loopbreak(self->base_);
    return;
  }
  for (auto& c : self->conns_) {  // reconnect: after a timeout at once, after a failed connect a little later
    if (c->fd < 0 && c->retry_at_ns <= now) self->open(*c);
  }
  // A snapshot for the progress line, about five times a second.
  if (++self->ticks_ % 40 == 0) self->publish();
  self->dispatch();
  const timeval tv = toTimeval(kTickNs);
  event_add(self->tick_, &tv);
}

void Engine::snapshot(EngineResult& into) {
  std::lock_guard<std::mutex> lock(mu_);
  into = shared_;
}

}  // namespace weir::loadgen
