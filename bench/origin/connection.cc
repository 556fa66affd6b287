#include "connection.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "origin_server.h"
#include "worker.h"

namespace weir::origin {
namespace {

constexpr size_t kNone = static_cast<size_t>(-1);
constexpr size_t kOutHigh = 1024 * 1024;        // stop producing above this much queued output
constexpr size_t kMaxHead = 64 * 1024;          // request line + header fields
constexpr uint64_t kMaxEcho = 64 * 1024 * 1024; // /echo bodies beyond this get 413
constexpr size_t kInitialInput = 16 * 1024;
constexpr size_t kMaxInput = kMaxHead + 64 * 1024;
constexpr size_t kMinReadSpace = 4096;
constexpr int kLingerMs = 2000;
// Produce/write rounds per callback, so one fast stream cannot starve the loop.
constexpr int kMaxRounds = 16;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

timeval millis(uint32_t ms) {
  return timeval{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
}

}  // namespace

Connection::Connection(Worker& worker, int fd)
    : worker_(worker), fd_(fd), head_start_(kNone) {}

Connection::~Connection() {
  if (read_ev_ != nullptr) event_free(read_ev_);
  if (write_ev_ != nullptr) event_free(write_ev_);
  if (timer_ev_ != nullptr) event_free(timer_ev_);
  if (out_ != nullptr) evbuffer_free(out_);
  if (echo_ != nullptr) evbuffer_free(echo_);
  close(fd_);
}

bool Connection::start() {
  event_base* base = worker_.base();
  read_ev_ = event_new(base, fd_, EV_READ | EV_PERSIST, onSocket, this);
  write_ev_ = event_new(base, fd_, EV_WRITE | EV_PERSIST, onSocket, this);
  timer_ev_ = evtimer_new(base, onTimer, this);
  out_ = evbuffer_new();
  echo_ = evbuffer_new();
  in_cap_ = kInitialInput;
  in_.reset(new char[in_cap_]);
  if (!read_ev_ || !write_ev_ || !timer_ev_ || !out_ || !echo_) return false;
  updateInterest();
  return reading_;
}

void Connection::onSocket(evutil_socket_t, short what, void* arg) {
  auto* self = static_cast<Connection*>(arg);
  if (what & EV_READ) {
    if (self->lingering_) {
      self->readWhileLingering();
    } else {
      self->readInput();
    }
  }
  self->drive();
}

void Connection::onTimer(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Connection*>(arg);
  if (self->lingering_) {
    self->dead_ = true;
  } else {
    self->beginResponse();  // a delayed response is due
  }
  self->drive();
}

// The one place that produces, writes, decides about closing and updates
// interest. Every callback ends here; it may delete the connection.
void Connection::drive() {
  for (int round = 0; round < kMaxRounds && !dead_ && !lingering_; ++round) {
    if (!ws_) parseHttp();
    if (ws_) parseWebSocket();  // also right after the handshake: frames may follow it
    if (pattern_.active() && pattern_.fill(out_, kOutHigh)) finishResponse();
    if (!writeOutput() || !hasMoreWork()) break;
  }
  if (!dead_) maybeClose();
  if (dead_) {
    destroy();
    return;
  }
  updateInterest();
}

// More can be produced right now without new input or a timer.
bool Connection::hasMoreWork() const {
  if (pattern_.active()) return true;
  // Pipelined requests left behind while a response was delayed, streaming
  // or blocked by a full output.
  return !ws_ && !active_ && !closing_ && (parse_blocked_ || in_pos_ < in_len_);
}

void Connection::readInput() {
  if (eof_) return;
  if (!ensureReadSpace()) {
    dead_ = true;  // cannot happen: the head limit and parse loop keep the buffer drained
    return;
  }
  ssize_t n = recv(fd_, in_.get() + in_len_, in_cap_ - in_len_, 0);
  if (n > 0) {
    grow_input_ = static_cast<size_t>(n) == in_cap_ - in_len_;
    in_len_ += static_cast<size_t>(n);
  } else if (n == 0) {
    eof_ = true;
  } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
    dead_ = true;
  }
}

void Connection::readWhileLingering() {
  char discard[16 * 1024];
  ssize_t n = recv(fd_, discard, sizeof discard, 0);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) dead_ = true;
}

// Drops parsed bytes (keeping an unfinished head, needed for /headers and the
// size limit) and grows the buffer when reads keep filling it.
bool Connection::ensureReadSpace() {
  size_t keep = head_start_ != kNone && head_start_ < in_pos_ ? head_start_ : in_pos_;
  if (keep > 0) {
    std::memmove(in_.get(), in_.get() + keep, in_len_ - keep);
    in_len_ -= keep;
    in_pos_ -= keep;
    if (head_start_ != kNone) head_start_ -= keep;
  }
  bool want_grow = grow_input_ || in_cap_ - in_len_ < kMinReadSpace;
  if (want_grow && in_cap_ < kMaxInput) {
    size_t cap = in_cap_ * 2 > kMaxInput ? kMaxInput : in_cap_ * 2;
    std::unique_ptr<char[]> bigger(new char[cap]);
    std::memcpy(bigger.get(), in_.get(), in_len_);
    in_ = std::move(bigger);
    in_cap_ = cap;
  }
  grow_input_ = false;
  return in_len_ < in_cap_;
}

void Connection::parseHttp() {
  parse_blocked_ = false;
  // Runs even without unparsed bytes: after a pause at the end of a head,
  // llhttp completes a bodiless request only when called again.
  while (!ws_ && !active_ && !closing_) {
    if (outLen() >= kOutHigh && in_pos_ < in_len_) {
      parse_blocked_ = true;
      return;
    }
    ParseResult r = parser_.execute(in_.get() + in_pos_, in_len_ - in_pos_);
    in_pos_ += r.consumed;
    if (!handleParseEvent(r.event)) break;
  }
  if (!closing_ && head_start_ != kNone && in_len_ - head_start_ > kMaxHead) {
    failRequest(431, "request head too large\n");
  }
}

// Returns false when parsing must stop for now.
bool Connection::handleParseEvent(ParseEvent event) {
  switch (event) {
    case ParseEvent::kNeedMore:
      return false;
    case ParseEvent::kMessageBegin:
      head_start_ = in_pos_;
      return true;
    case ParseEvent::kHeadersComplete:
      onHeadersComplete();
      return true;
    case ParseEvent::kMessageComplete:
      onRequestComplete();
      return true;
    case ParseEvent::kUpgrade:
      // Upgrade requests to anything but /ws are answered as plain HTTP.
      parser_.continueAfterUpgrade();
      return true;
    case ParseEvent::kError:
      failRequest(400, "bad request\n");
      return false;
  }
  return false;
}

void Connection::onHeadersComplete() {
  if (in_pos_ - head_start_ > kMaxHead) {
    failRequest(431, "request head too large\n");
    return;
  }
  const RequestInfo& req = parser_.request();
  target_ = parseTarget(req.url);
  if (target_.route == Route::kHeaders || target_.route == Route::kHealth) {
    raw_head_.assign(in_.get() + head_start_, in_pos_ - head_start_);
  }
  head_start_ = kNone;
  if (target_.route == Route::kEcho) {
    evbuffer_drain(echo_, evbuffer_get_length(echo_));
    parser_.captureBody(echo_, kMaxEcho);
  }
  bool has_body = req.chunked || req.content_length > 0;
  if (req.expect_continue && req.isHttp11() && has_body) {
    evbuffer_add(out_, kContinue.data(), kContinue.size());
  }
}

void Connection::onRequestComplete() {
  worker_.counters().requests.fetch_add(1, std::memory_order_relaxed);
  const RequestInfo& req = parser_.request();
  if (target_.route == Route::kWebSocket && isWebSocketUpgrade(req)) {
    writeWebSocketHandshake(out_, req, worker_.server().originHeader());
    ws_ = std::make_unique<WebSocketEcho>();
    return;
  }
  applyHealthSwitch();
  plan_ = planResponse(req, target_, planContext());
  if (plan_.delay_ms > 0) {
    active_ = true;
    timeval tv = millis(plan_.delay_ms);
    evtimer_add(timer_ev_, &tv);
    return;
  }
  beginResponse();
}

// /healthz is counted and its head kept (what weir's probes send);
// /_control/health?status=CODE switches what /healthz answers. The status
// parameter is the new value there, not the control response's status.
void Connection::applyHealthSwitch() {
  // --delay: a slow server for balancer tests; health probes stay fast.
  if (target_.delay_ms == 0 && target_.route != Route::kHealth) target_.delay_ms = worker_.server().delayMs();
  HealthSwitch& health = worker_.server().health();
  if (target_.route == Route::kHealth) health.recordProbe(raw_head_);
  if (target_.route == Route::kHealthControl && target_.status_override >= 200 && target_.status_override <= 599) {
    health.setStatus(target_.status_override);
    target_.status_override = 0;
  }
}

PlanContext Connection::planContext() const {
  PlanContext ctx;
  ctx.hello_body = worker_.server().helloBody();
  ctx.raw_head = raw_head_;
  ctx.echo_bytes = evbuffer_get_length(echo_);
  if (target_.route == Route::kHealth) ctx.health_status = worker_.server().health().status();
  if (target_.route == Route::kHealthControl) ctx.health_report = worker_.server().health().report();
  if (target_.route == Route::kStats) {
    // Reading other workers' counters is a cross-core miss: only for /stats.
    ctx.connections = worker_.server().totalConnections();
    ctx.requests = worker_.server().totalRequests();
  }
  return ctx;
}

void Connection::beginResponse() {
  writeHead(out_, plan_, worker_.server().originHeader());
  switch (plan_.body) {
    case BodyKind::kText:
      writeTextBody(out_, plan_);
      break;
    case BodyKind::kEcho:
      writeBufferBody(out_, echo_, plan_);
      break;
    case BodyKind::kPattern:
      if (plan_.send_body) {
        pattern_.start(plan_.length, plan_.framing == Framing::kChunked, plan_.trailer);
        if (!pattern_.fill(out_, kOutHigh)) {
          active_ = true;  // drive() keeps filling as the output drains
          return;
        }
      }
      break;
  }
  finishResponse();
}

void Connection::finishResponse() {
  active_ = false;
  evbuffer_drain(echo_, evbuffer_get_length(echo_));  // e.g. the part kept before a 413
  if (plan_.close) closing_ = true;
}

void Connection::failRequest(int status, std::string_view text) {
  head_start_ = kNone;
  plan_ = planError(status, text);
  beginResponse();
}

void Connection::parseWebSocket() {
  parse_blocked_ = false;
  if (closing_ || in_pos_ >= in_len_) return;
  in_pos_ += ws_->consume(in_.get() + in_pos_, in_len_ - in_pos_, out_);
  if (ws_->finished()) closing_ = true;
}

// Returns true when everything queued was written. A short write means the
// socket buffer is full, so wait for EV_WRITE instead of trying again.
bool Connection::writeOutput() {
  size_t pending = outLen();
  if (pending == 0) return true;
  int n = evbuffer_write(out_, fd_);
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) dead_ = true;
    return false;
  }
  return static_cast<size_t>(n) == pending;
}

void Connection::maybeClose() {
  // After EOF, nothing more can arrive: close once every parsed request is answered.
  if (eof_ && !active_ && !parse_blocked_) closing_ = true;
  if (closing_ && !active_ && outLen() == 0 && !lingering_) startLinger();
}

// Closing right away could turn unread client data into a RST that destroys
// the response still in flight; shut the write side and drain reads first.
void Connection::startLinger() {
  if (eof_) {
    dead_ = true;
    return;
  }
  shutdown(fd_, SHUT_WR);
  lingering_ = true;
  in_pos_ = in_len_ = 0;
  timeval tv = millis(kLingerMs);
  evtimer_add(timer_ev_, &tv);
}

void Connection::updateInterest() {
  bool want_read = lingering_ ||
                   (!closing_ && !eof_ && !active_ && !parse_blocked_ && outLen() < kOutHigh);
  // With work left over after kMaxRounds, EV_WRITE on a writable socket
  // brings drive() back on the next loop iteration.
  bool want_write = !lingering_ && (outLen() > 0 || hasMoreWork());
  if (want_read != reading_) {
    reading_ = want_read && event_add(read_ev_, nullptr) == 0;
    if (!want_read) event_del(read_ev_);
  }
  if (want_write != writing_) {
    writing_ = want_write && event_add(write_ev_, nullptr) == 0;
    if (!want_write) event_del(write_ev_);
  }
}

size_t Connection::outLen() const { return evbuffer_get_length(out_); }

void Connection::destroy() { worker_.release(this); }

}  // namespace weir::origin
