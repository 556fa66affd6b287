#include "engine.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>

#include <algorithm>
#include <cstring>

#include "weir/http/parser.h"

namespace weir::loadgen {
namespace {

constexpr int64_t kTickNs = 5'000'000;            // timeouts, reconnects, the end
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

struct Engine::Conn {
  explicit Conn(Engine* e) : engine(e), parser(http::Parser::Kind::kResponse, http::ParserLimits{}) {}
  Engine* engine;
  bufferevent* bev = nullptr;
  bool connected = false;
  bool in_idle = false;
  bool close_after = false;  // the last response (or the options) ends the connection
  int64_t retry_at_ns = 0;
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
  for (unsigned i = 0; i < plan_.connections; ++i) conns_.push_back(std::make_unique<Conn>(this));
}

Engine::~Engine() {
  for (auto& c : conns_) {
    if (c->bev != nullptr) bufferevent_free(c->bev);
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
}

void Engine::open(Conn& c) {
  c.connected = false;
  c.close_after = !o_.keepalive;
  c.parser.reset();
  c.bev = bufferevent_socket_new(base_, -1, BEV_OPT_CLOSE_ON_FREE);
  bufferevent_setcb(c.bev, &Engine::onReadCb, nullptr, &Engine::onEventCb, &c);
  bufferevent_enable(c.bev, EV_READ | EV_WRITE);
  if (bufferevent_socket_connect_hostname(c.bev, nullptr, AF_UNSPEC, o_.host.c_str(), o_.port) != 0) {
    countError(kConnect, monotonicNs());
    closeConn(c, std::nullopt);
    c.retry_at_ns = monotonicNs() + kConnectBackoffNs;
  }
}

// Ends a connection; its requests in flight count as `in_flight_error`.
void Engine::closeConn(Conn& c, std::optional<ErrorClass> in_flight_error) {
  for (const Pending& p : c.inflight) {
    if (in_flight_error) countError(*in_flight_error, p.intended_ns);
    ++done_;
  }
  c.inflight.clear();
  if (c.bev != nullptr) bufferevent_free(c.bev);
  c.bev = nullptr;
  c.connected = false;
  c.retry_at_ns = 0;
}

bool Engine::finished() const {
  if (stopping_) return true;
  if (plan_.requests > 0) return done_ >= plan_.requests;
  return monotonicNs() >= plan_.end_ns;
}

std::string Engine::nextTarget() {
  if (zipf_) {
    std::string base = o_.path;
    if (base.empty() || base.back() != '/') base.push_back('/');
    return base + std::to_string(zipf_->next() - 1);
  }
  if (!o_.paths.empty()) return o_.paths[path_index_++ % o_.paths.size()];
  return o_.path;
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
  buildRequest(nextTarget(), scratch_);
  if (bufferevent_write(c.bev, scratch_.data(), scratch_.size()) != 0) return false;
  c.inflight.push_back({intended, now});
  ++sent_;
  return true;
}

void Engine::dispatch() {
  if (stopping_) return;
  const int64_t now = monotonicNs();
  auto may_send = [&] { return (plan_.requests == 0 || sent_ < plan_.requests) && now < plan_.end_ns; };
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
      closeConn(*c, kReset);
      continue;
    }
  }
  armTimers(now);
}

// The open-loop timer at the next request's due time, and the tick.
void Engine::armTimers(int64_t now) {
  if (!pacer_ || idle_.empty() || stopping_) return;
  const int64_t due = pacer_->nextDue();
  if (due >= plan_.end_ns) return;
  const timeval tv = toTimeval(due - now);
  event_add(due_, &tv);  // one timer, moved to the next due time
}

void Engine::countError(ErrorClass e, int64_t intended_ns) {
  if (intended_ns < plan_.warmup_end_ns) return;
  std::lock_guard<std::mutex> lock(mu_);
  ++result_.errors[e];
}

void Engine::completed(Conn& c, int status, int64_t now) {
  const Pending p = c.inflight.front();
  c.inflight.pop_front();
  ++done_;
  if (p.intended_ns < plan_.warmup_end_ns) return;
  std::lock_guard<std::mutex> lock(mu_);
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

// Every whole response in the input; false when the connection had to end.
bool Engine::parse(Conn& c, int64_t now) {
  evbuffer* in = bufferevent_get_input(c.bev);
  for (;;) {
    evbuffer_iovec seg;
    if (evbuffer_peek(in, -1, nullptr, &seg, 1) < 1 || seg.iov_len == 0) return true;
    if (c.inflight.empty()) {  // bytes nobody asked for
      countError(kMalformed, now);
      closeConn(c, std::nullopt);
      return false;
    }
    c.parser.setNoBodyExpected(o_.method == "HEAD");
    const http::Parser::Step step = c.parser.execute(static_cast<const char*>(seg.iov_base), seg.iov_len);
    if (step.flags & http::Parser::kError) {
      countError(kMalformed, c.inflight.front().intended_ns);
      c.inflight.pop_front();
      ++done_;
      closeConn(c, kReset);
      return false;
    }
    evbuffer_drain(in, step.consumed);
    {
      std::lock_guard<std::mutex> lock(mu_);
      result_.bytes += step.consumed;
    }
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
}

void Engine::onRead(Conn& c) {
  const int64_t now = monotonicNs();
  if (!parse(c, now)) {
    if (!finished()) open(c);
  } else if (c.inflight.size() < o_.pipeline && !c.in_idle && !(c.close_after && !c.inflight.empty())) {
    idle_.push_back(&c);
    c.in_idle = true;
  }
  if (finished()) {
    event_base_loopbreak(base_);
    return;
  }
  dispatch();
}

void Engine::onEvent(Conn& c, short what) {
  const int64_t now = monotonicNs();
  if (what & BEV_EVENT_CONNECTED) {
    c.connected = true;
    const int fd = bufferevent_getfd(c.bev);
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (!c.in_idle) {
      idle_.push_back(&c);
      c.in_idle = true;
    }
    dispatch();
    return;
  }
  if (!c.connected) {  // the connect failed
    countError(kConnect, now);
    closeConn(c, std::nullopt);
    c.retry_at_ns = now + kConnectBackoffNs;
    return;
  }
  // EOF or an error: a body delimited by the close ends here; anything
  // else in flight was cut.
  if ((what & BEV_EVENT_EOF) && !c.inflight.empty() && c.parser.started()) {
    if (parse(c, now) && (c.parser.finish().flags & http::Parser::kMessageComplete)) {
      completed(c, c.parser.response().status, now);
    }
  }
  if (c.bev != nullptr) closeConn(c, kReset);
  if (finished()) {
    event_base_loopbreak(base_);
    return;
  }
  open(c);
}

void Engine::onTick(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Engine*>(arg);
  const int64_t now = monotonicNs();
  if (self->stop_requested_.load(std::memory_order_relaxed)) self->stopping_ = true;
  if (self->finished()) {
    event_base_loopbreak(self->base_);
    return;
  }
  const auto timeout_ns = static_cast<int64_t>(self->o_.timeout_s * 1e9);
  for (auto& c : self->conns_) {
    if (c->bev == nullptr) {
      if (c->retry_at_ns <= now) self->open(*c);
      continue;
    }
    if (!c->inflight.empty() && now - c->inflight.front().sent_ns > timeout_ns) {
      self->closeConn(*c, kTimeout);
      self->open(*c);
    }
  }
  self->dispatch();
  const timeval tv = toTimeval(kTickNs);
  event_add(self->tick_, &tv);
}

void Engine::onReadCb(bufferevent*, void* arg) {
  auto* c = static_cast<Conn*>(arg);
  c->engine->onRead(*c);
}

void Engine::onEventCb(bufferevent*, short what, void* arg) {
  auto* c = static_cast<Conn*>(arg);
  c->engine->onEvent(*c, what);
}

void Engine::snapshot(EngineResult& into) {
  std::lock_guard<std::mutex> lock(mu_);
  into = result_;
}

}  // namespace weir::loadgen
