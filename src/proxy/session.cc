#include "weir/proxy/session.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "weir/log/log.h"
#include "weir/proxy/proxy_worker.h"
#include "weir/proxy/runtime.h"

namespace weir::proxy {
namespace {

using http::Parser;

// Above kHighWater bytes waiting for one side, reading from the other side
// stops; it resumes once the waiting bytes fall to kLowWater. Together with
// the stream's read size this bounds a connection's buffered body bytes.
constexpr size_t kHighWater = 512 * 1024;
constexpr size_t kLowWater = 128 * 1024;
constexpr std::chrono::milliseconds kLingerTime{2000};

std::string peerAddress(const sockaddr* sa) {
  char buf[INET6_ADDRSTRLEN] = "-";
  if (sa->sa_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, buf, sizeof buf);
  } else if (sa->sa_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, buf, sizeof buf);
  }
  return buf;
}

// Moves n bytes from `in` to `out`. Large runs relink evbuffer chains (no
// copy); a small run is copied into the room after the head already queued
// in `out`, so a small message leaves as one piece with one send().
constexpr size_t kCopyBelow = 2048;
void moveBytes(evbuffer* in, evbuffer* out, size_t n) {
  if (n < kCopyBelow) {
    evbuffer_iovec vec;
    if (evbuffer_peek(in, static_cast<ev_ssize_t>(n), nullptr, &vec, 1) == 1 && vec.iov_len >= n) {
      evbuffer_add(out, vec.iov_base, n);
      evbuffer_drain(in, n);
      return;
    }
  }
  evbuffer_remove_buffer(in, out, n);
}

// The first contiguous piece of a buffer.
bool firstSegment(evbuffer* buf, const char*& data, size_t& len) {
  evbuffer_iovec vec;
  if (evbuffer_peek(buf, -1, nullptr, &vec, 1) < 1 || vec.iov_len == 0) return false;
  data = static_cast<const char*>(vec.iov_base);
  len = vec.iov_len;
  return true;
}

}  // namespace

Session::Session(ProxyWorker& owner, int fd, const sockaddr* peer, socklen_t)
    : owner_(owner),
      rt_(&owner.runtime()),
      client_(owner.base(), this),
      client_addr_(peerAddress(peer)),
      trusted_client_(weir::anyContains(rt_->config->proxy_headers.trusted_clients, peer)),
      request_parser_(Parser::Kind::kRequest, rt_->request_limits),
      response_parser_(Parser::Kind::kResponse, rt_->response_limits),
      client_deadline_(owner.base(), &Session::onClientTimeout, this),
      upstream_deadline_(owner.base(), &Session::onUpstreamTimeout, this) {
  client_.setLowWater(kLowWater);
  client_.attach(fd);
}

Session::~Session() = default;

void Session::start() {
  state_ = State::kWaitRequest;
  // A new connection gets the header timeout: one that never sends a
  // request should not hold a slot for the whole idle timeout.
  armClientTimer(owner_.timeouts().client_header);
}

void Session::drain() {
  draining_ = true;
  if (state_ == State::kWaitRequest && evbuffer_get_length(client_.input()) == 0) close();
}

// ---- stream events ------------------------------------------------------

void Session::onStreamRead(core::Stream& s) {
  if (state_ == State::kClosed) return;
  if (state_ == State::kTunnel) {
    pumpTunnel();
  } else if (&s == &client_) {
    processClientInput();
  } else if (upstream_ && &s == &upstream_->stream()) {
    processUpstreamInput();
  }
}

void Session::onStreamWritable(core::Stream& s) {
  if (state_ == State::kClosed) return;
  if (&s == &client_) {
    onClientWritable();
    return;
  }
  if (!upstream_ || &s != &upstream_->stream()) return;
  if (!upstream_ready_) {
    onUpstreamConnected();
    return;
  }
  if (client_paused_for_upstream_ && s.outputLength() <= kLowWater) {
    client_paused_for_upstream_ = false;
    client_.resumeReading();
  }
}

void Session::onStreamError(core::Stream& s) {
  if (state_ == State::kClosed) return;
  if (&s == &client_) {
    close();
  } else if (upstream_ && &s == &upstream_->stream()) {
    if (state_ == State::kTunnel) {
      closeAfterFlush(false);
      return;
    }
    onUpstreamFailure(s.errorCode(), "connection failed");
  }
}

// ---- downstream ---------------------------------------------------------

void Session::processClientInput() {
  for (;;) {
    switch (state_) {
      case State::kWaitRequest:
      case State::kReadHead:
        if (!readRequestHead()) return;
        break;  // an exchange started: forward any body bytes already here
      case State::kProxying:
        if (client_.errorCode() != 0) {
          close();
          return;
        }
        if (!request_done_ && upstream_) forwardRequestBody();
        if (state_ == State::kProxying && client_.eof()) {
          client_eof_ = true;
          if (!request_done_) {
            WEIR_INFO("client %s closed before sending the whole request body", client_addr_.c_str());
            close();
          }
        }
        return;
      case State::kLingering:
        evbuffer_drain(client_.input(), evbuffer_get_length(client_.input()));
        if (client_.eof() || client_.errorCode() != 0) close();
        return;
      default:
        return;
    }
  }
}

bool Session::readRequestHead() {
  evbuffer* in = client_.input();
  for (;;) {
    const char* data;
    size_t len;
    if (!firstSegment(in, data, len)) {
      if (client_.eof() || client_.errorCode() != 0) close();  // between requests, or a cut-off head
      return false;
    }
    if (state_ == State::kWaitRequest) {
      state_ = State::kReadHead;
      event_base_gettimeofday_cached(owner_.base(), &started_);
      armClientTimer(owner_.timeouts().client_header);
    }
    Parser::Step step = request_parser_.execute(data, len);
    if (step.flags & Parser::kError) {
      respondError(request_parser_.errorStatus(), true, request_parser_.errorReason().data());
      return false;
    }
    evbuffer_drain(in, step.consumed);
    if (step.flags & Parser::kHeadComplete) {
      request_done_ = (step.flags & Parser::kMessageComplete) != 0;
      startExchange();
      return state_ == State::kProxying;
    }
    if (step.consumed == 0) return false;
  }
}

void Session::forwardRequestBody() {
  evbuffer* in = client_.input();
  evbuffer* out = upstream_->stream().output();
  while (!request_done_) {
    const char* data;
    size_t len;
    if (!firstSegment(in, data, len)) break;
    Parser::Step step = request_parser_.execute(data, len);
    if (step.flags & Parser::kError) {
      respondError(request_parser_.errorStatus(), true, request_parser_.errorReason().data());
      return;
    }
    if (step.consumed > 0) moveBytes(in, out, step.consumed);
    if (step.flags & Parser::kMessageComplete) request_done_ = true;
    if (step.consumed == 0) break;
  }
  if (request_done_) client_.pauseReading();  // pipelined requests wait in the kernel
  if (!upstream_->stream().flush()) {
    onUpstreamFailure(upstream_->stream().errorCode(), "write failed");
    return;
  }
  applyBackpressure();
}

void Session::onClientWritable() {
  if (state_ == State::kClosing) {
    if (client_.outputLength() == 0) finishClosing();
    return;
  }
  if (client_.outputLength() == 0 && state_ == State::kProxying) client_deadline_.cancel();
  if (upstream_paused_for_client_ && upstream_ && client_.outputLength() <= kLowWater) {
    upstream_paused_for_client_ = false;
    upstream_->stream().resumeReading();
  }
}

// ---- the exchange -------------------------------------------------------

void Session::startExchange() {
  const http::RequestHead& req = request_parser_.request();
  WEIR_DEBUG("session %p: %s %s (body %d, done %d)", static_cast<void*>(this), req.method_name.c_str(),
             req.target.c_str(), req.hasBody(), request_done_);
  client_deadline_.cancel();
  status_ = 0;
  response_bytes_ = 0;
  upstream_time_ = -1;
  server_ = -1;
  attempts_ = 0;
  response_head_sent_ = response_started_ = retried_stale_ = false;
  upstream_ready_ = false;
  plan_ = {};

  route_ = rt_->router.match(req.authority, req.path);
  if (route_ < 0) {
    respondError(404, !request_done_ || !req.keep_alive, "no route matches");
    return;
  }
  pool_ = rt_->config->routes[static_cast<size_t>(route_)].pool_index;
  tried_.clear();
  response_parser_.reset();
  response_parser_.setNoBodyExpected(req.method == HTTP_HEAD);
  state_ = State::kProxying;
  if (request_done_) client_.pauseReading();
  if (!connectUpstream()) return;
  sendRequestHead();
}

bool Session::connectUpstream() {
  const config::PoolConfig& pool = rt_->config->pools[pool_];
  const unsigned max_attempts = 1 + pool.retries;
  while (attempts_ < max_attempts) {
    int s = owner_.picker(pool_).pick({}, tried_);
    if (s < 0) break;
    tried_.add(static_cast<size_t>(s));
    ++attempts_;
    server_ = s;
    event_base_gettimeofday_cached(owner_.base(), &upstream_started_);
    upstream_ = owner_.connections(pool_).acquire(static_cast<size_t>(s), this);
    if (upstream_) {
      upstream_ready_ = true;
      armUpstreamTimer(owner_.timeouts().upstream_response);
      return true;
    }
    int err = openConnection(static_cast<size_t>(s));
    if (err == 0) return true;
    WEIR_ERROR("upstream %s: connect failed: %s (%s %s from %s)", upstreamName().data(), std::strerror(err),
               request_parser_.request().method_name.c_str(), request_parser_.request().target.c_str(),
               client_addr_.c_str());
    owner_.connections(pool_).discard(std::move(upstream_));
  }
  upstream_.reset();
  respondError(502, !request_done_ || !request_parser_.request().keep_alive, "no upstream server could be reached");
  return false;
}

int Session::openConnection(size_t server) {
  upstream_ = std::make_unique<upstream::Connection>(owner_.base(), static_cast<core::StreamHandler*>(this), server);
  upstream_->stream().setLowWater(kLowWater);
  upstream_ready_ = false;
  int err = upstream_->stream().connect(rt_->config->pools[pool_].servers[server].addr);
  if (err == 0) armUpstreamTimer(owner_.timeouts().upstream_connect);
  return err;
}

void Session::sendRequestHead() {
  scratch_.clear();
  http::writeRequestHead(request_parser_.request(), rt_->forward, {client_addr_, "http", trusted_client_}, scratch_);
  evbuffer_add(upstream_->stream().output(), scratch_.data(), scratch_.size());
  if (upstream_ready_ && !upstream_->stream().flush()) {
    onUpstreamFailure(upstream_->stream().errorCode(), "write failed");
  }
}

void Session::onUpstreamConnected() {
  upstream_ready_ = true;
  armUpstreamTimer(owner_.timeouts().upstream_response);
  applyBackpressure();
}

void Session::onUpstreamFailure(int err, const char* what) {
  if (!upstream_) return;
  const http::RequestHead& req = request_parser_.request();
  if (!upstream_ready_) {
    // Never connected, so nothing was sent: the request, and any body bytes
    // already queued, move to the next server.
    WEIR_ERROR("upstream %s: connect failed: %s (%s %s from %s)", upstreamName().data(),
               std::strerror(err), req.method_name.c_str(), req.target.c_str(), client_addr_.c_str());
    upstream::ConnectionPtr failed = std::move(upstream_);
    failed->stream().close();
    if (connectUpstream()) {
      evbuffer_add_buffer(upstream_->stream().output(), failed->stream().output());
      if (upstream_ready_ && !upstream_->stream().flush()) {
        owner_.connections(pool_).discard(std::move(failed));
        onUpstreamFailure(upstream_->stream().errorCode(), "write failed");
        return;
      }
    }
    owner_.connections(pool_).discard(std::move(failed));
    return;
  }
  if (!response_started_ && upstream_->reused() && !req.hasBody() && !retried_stale_) {
    // A kept-alive connection the server closed as we reused it. The request
    // had no body, so it is sent again once, on a fresh connection.
    retried_stale_ = true;
    size_t server = upstream_->server();
    owner_.connections(pool_).discard(std::move(upstream_));
    int cerr = openConnection(server);
    if (cerr != 0) {
      onUpstreamFailure(cerr, "connect failed");
      return;
    }
    sendRequestHead();
    return;
  }
  WEIR_ERROR("upstream %s: %s: %s (%s %s from %s)", upstreamName().data(), what,
             err != 0 ? std::strerror(err) : "closed", req.method_name.c_str(), req.target.c_str(),
             client_addr_.c_str());
  if (response_head_sent_) {
    close();  // the response is cut short; the client sees the connection end
    return;
  }
  respondError(502, !request_done_ || !req.keep_alive, "upstream failed before responding");
}

void Session::processUpstreamInput() {
  core::Stream& us = upstream_->stream();
  evbuffer* in = us.input();
  WEIR_DEBUG("session %p: upstream %s: %zu bytes in, eof=%d, head=%d", static_cast<void*>(this),
             upstreamName().data(), evbuffer_get_length(in), us.eof(), response_parser_.inHead());
  const bool got_data = evbuffer_get_length(in) > 0;
  response_started_ |= got_data;
  while (upstream_ && &upstream_->stream() == &us) {
    const char* data;
    size_t len;
    if (!firstSegment(in, data, len)) break;
    const bool in_head = response_parser_.inHead();
    Parser::Step step = response_parser_.execute(data, len);
    if (step.flags & Parser::kError) {
      WEIR_ERROR("upstream %s: invalid response: %s", upstreamName().data(),
                 response_parser_.errorReason().data());
      if (response_head_sent_) {
        close();
      } else {
        respondError(502, true, "invalid response from upstream");
      }
      return;
    }
    if (in_head) {
      evbuffer_drain(in, step.consumed);
      if ((step.flags & Parser::kHeadComplete) && !handleResponseHead()) return;
    } else {
      relayResponseBody(step.consumed);
    }
    if (step.flags & Parser::kMessageComplete) {
      if (response_parser_.response().status < 200) {  // interim: the real response follows
        bool head_request = request_parser_.request().method == HTTP_HEAD;
        response_parser_.reset();
        response_parser_.setNoBodyExpected(head_request);
        continue;
      }
      finishExchange();
      return;
    }
    if (step.consumed == 0) break;
  }
  if (!client_.flush()) {
    close();
    return;
  }
  applyBackpressure();
  if (us.eof() || us.errorCode() != 0) {
    onUpstreamEof();
    return;
  }
  // The response goes on: the timeout counts from this read. (A response
  // that completed above returned already, without touching the timer.)
  if (got_data && upstream_) armUpstreamTimer(owner_.timeouts().upstream_response);
}

bool Session::handleResponseHead() {
  const http::RequestHead& req = request_parser_.request();
  const http::ResponseHead& resp = response_parser_.response();
  if (resp.status == 101) {
    if (!req.upgrade) {
      WEIR_ERROR("upstream %s: 101 to a request that did not ask to upgrade", upstreamName().data());
      respondError(502, true, "unexpected 101 from upstream");
      return false;
    }
    plan_ = http::planResponse(req, resp, false);
  } else if (resp.status < 200) {
    if (!req.isHttp10()) {
      http::ResponsePlan interim;
      interim.body = http::BodyMode::kNone;
      scratch_.clear();
      http::writeResponseHead(req, resp, interim, rt_->forward, scratch_);
      evbuffer_add(client_.output(), scratch_.data(), scratch_.size());
      client_.flush();
    }
    return true;
  } else {
    bool want_close = draining() || !request_done_ || client_eof_ || req.upgrade;
    plan_ = http::planResponse(req, resp, want_close);
  }
  upstream_time_ = elapsedSince(upstream_started_);
  scratch_.clear();
  http::writeResponseHead(req, resp, plan_, rt_->forward, scratch_);
  evbuffer_add(client_.output(), scratch_.data(), scratch_.size());
  response_bytes_ += scratch_.size();
  status_ = resp.status;
  response_head_sent_ = true;
  if (plan_.body == http::BodyMode::kDechunk) response_parser_.setBodySink(this);
  if (plan_.upgrade) {
    startTunnel();
    return false;
  }
  return true;
}

void Session::relayResponseBody(size_t consumed) {
  if (consumed == 0) return;
  evbuffer* in = upstream_->stream().input();
  evbuffer* out = client_.output();
  switch (plan_.body) {
    case http::BodyMode::kAsIs:
      moveBytes(in, out, consumed);
      response_bytes_ += consumed;
      break;
    case http::BodyMode::kChunkWrap: {
      char size_line[24];
      int n = std::snprintf(size_line, sizeof size_line, "%zx\r\n", consumed);
      evbuffer_add(out, size_line, static_cast<size_t>(n));
      evbuffer_remove_buffer(in, out, consumed);
      evbuffer_add(out, "\r\n", 2);
      response_bytes_ += consumed + static_cast<size_t>(n) + 2;
      break;
    }
    case http::BodyMode::kDechunk:  // copied by onBodyData during execute()
    case http::BodyMode::kNone:
      evbuffer_drain(in, consumed);
      break;
  }
}

void Session::onBodyData(const char* data, size_t len) {
  evbuffer_add(client_.output(), data, len);
  response_bytes_ += len;
}

void Session::onUpstreamEof() {
  if (!upstream_ || state_ != State::kProxying) return;
  core::Stream& us = upstream_->stream();
  if (response_head_sent_) {
    Parser::Step step = response_parser_.finish();
    if (step.flags & Parser::kMessageComplete) {
      finishExchange();
      return;
    }
    WEIR_ERROR("upstream %s: closed in the middle of the response body (%s %s)", upstreamName().data(),
               request_parser_.request().method_name.c_str(), request_parser_.request().target.c_str());
    client_.flush();
    close();
    return;
  }
  onUpstreamFailure(us.errorCode(), us.errorCode() != 0 ? "read failed" : "closed before responding");
}

void Session::finishExchange() {
  upstream_deadline_.cancel();
  if (plan_.body == http::BodyMode::kChunkWrap) {
    evbuffer_add(client_.output(), "0\r\n\r\n", 5);
    response_bytes_ += 5;
  }
  logAccess(status_);
  const http::ResponseHead& resp = response_parser_.response();
  bool reusable = resp.keep_alive && request_done_ && upstream_ && !upstream_->stream().eof() &&
                  evbuffer_get_length(upstream_->stream().input()) == 0;
  releaseUpstream(reusable);
  endExchange(plan_.close || draining(), false);
}

// After a response is queued: close (flushing first), or take the next request.
void Session::endExchange(bool close_client, bool linger) {
  if (close_client) {
    closeAfterFlush(linger);
  } else if (!client_.flush()) {
    close();
  } else {
    nextRequest();
  }
}

void Session::nextRequest() {
  state_ = State::kWaitRequest;
  request_parser_.reset();
  request_done_ = false;
  route_ = -1;
  armClientTimer(owner_.timeouts().client_idle);
  if (evbuffer_get_length(client_.input()) > 0) {
    processClientInput();  // a pipelined request is already here
    if (state_ == State::kClosed) return;
  }
  if (state_ == State::kWaitRequest || state_ == State::kReadHead) client_.resumeReading();
}

void Session::respondError(int status, bool close_after, const char* why) {
  if (response_head_sent_) {
    close();
    return;
  }
  upstream_deadline_.cancel();
  releaseUpstream(false);
  const http::RequestHead& req = request_parser_.request();
  if (status >= 500) {
    WEIR_WARN("%d for %s %s from %s: %s", status, req.method_name.c_str(), req.target.c_str(),
              client_addr_.c_str(), why);
  } else {
    WEIR_INFO("%d for client %s: %s", status, client_addr_.c_str(), why);
  }
  bool close_now = close_after || draining();
  scratch_.clear();
  http::writeErrorResponse(status, close_now, scratch_);
  evbuffer_add(client_.output(), scratch_.data(), scratch_.size());
  response_bytes_ = scratch_.size();
  status_ = status;
  response_head_sent_ = true;
  logAccess(status);
  endExchange(close_now, status < 500 || !request_done_);
}

void Session::logAccess(int status) {
  if (!log::Writer::instance().accessEnabled()) return;
  const http::RequestHead& req = request_parser_.request();
  const bool json = rt_->access_log_json;
  std::string& l = owner_.accessLog().line();
  double total = elapsedSince(started_);
  char num[128];
  std::string_view upstream = server_ >= 0 ? upstreamName() : std::string_view("-");
  auto field = [&](http::Token t, std::string_view name) -> std::string_view {
    for (size_t i = 0; i < req.fields.size(); ++i) {
      if (req.fields.field(i).token == t && http::equalsIgnoreCase(req.fields.name(i), name)) return req.fields.value(i);
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
    l.append("{\"time\":\"").append(log::isoTime()).append("\",\"client\":\"").append(client_addr_);
    l.append("\",\"method\":\"");
    esc(req.method_name);
    l.append("\",\"target\":\"");
    esc(req.target);
    std::snprintf(num, sizeof num, "\",\"status\":%d,\"bytes\":%llu,\"upstream\":\"", status,
                  static_cast<unsigned long long>(response_bytes_));
    l.append(num).append(upstream);
    std::snprintf(num, sizeof num, "\",\"upstream_time\":%.3f,\"request_time\":%.3f}\n",
                  upstream_time_ < 0 ? 0.0 : upstream_time_, total);
    l.append(num);
  } else {
    l.append(client_addr_).append(" - - ").append(log::commonLogTime()).append(" \"");
    l.append(req.method_name).push_back(' ');
    l.append(req.target);
    std::snprintf(num, sizeof num, " HTTP/%u.%u\" %d %llu \"", req.version_major, req.version_minor, status,
                  static_cast<unsigned long long>(response_bytes_));
    l.append(num).append(field(http::Token::kOther, "referer")).append("\" \"");
    l.append(field(http::Token::kOther, "user-agent")).append("\" upstream=").append(upstream);
    if (upstream_time_ < 0) {
      std::snprintf(num, sizeof num, " upstream_time=- request_time=%.3f\n", total);
    } else {
      std::snprintf(num, sizeof num, " upstream_time=%.3f request_time=%.3f\n", upstream_time_, total);
    }
    l.append(num);
  }
  owner_.accessLog().commit();
}

// ---- tunnel -------------------------------------------------------------

void Session::startTunnel() {
  state_ = State::kTunnel;
  upstream_deadline_.cancel();
  armClientTimer(owner_.timeouts().client_idle);
  client_.resumeReading();
  upstream_->stream().resumeReading();
  pumpTunnel();
}

void Session::pumpTunnel() {
  if (state_ != State::kTunnel || !upstream_) return;
  core::Stream& us = upstream_->stream();
  evbuffer_add_buffer(us.output(), client_.input());
  evbuffer_add_buffer(client_.output(), us.input());
  bool ok = us.flush() && client_.flush();
  if (!ok || client_.eof() || us.eof() || client_.errorCode() != 0 || us.errorCode() != 0) {
    closeAfterFlush(false);
    return;
  }
  armClientTimer(owner_.timeouts().client_idle);
  applyBackpressure();
}

// ---- flow control, timers, closing ---------------------------------------

void Session::applyBackpressure() {
  if (upstream_ && upstream_->stream().outputLength() > kHighWater) {
    client_.pauseReading();
    client_paused_for_upstream_ = true;
  }
  if (client_.outputLength() > kHighWater && upstream_) {
    upstream_->stream().pauseReading();
    upstream_paused_for_client_ = true;
  }
  if (client_.outputLength() > 0) armClientTimer(owner_.timeouts().send);
}

void Session::onClientTimeout(void* arg) {
  auto* s = static_cast<Session*>(arg);
  switch (s->state_) {
    case State::kReadHead:
      WEIR_INFO("client %s: timed out sending the request head", s->client_addr_.c_str());
      s->respondError(408, true, "request head timeout");
      break;
    case State::kProxying:
      WEIR_INFO("client %s: send timed out", s->client_addr_.c_str());
      s->close();
      break;
    default:
      s->close();
      break;
  }
}

void Session::onUpstreamTimeout(void* arg) {
  auto* s = static_cast<Session*>(arg);
  if (s->state_ != State::kProxying || !s->upstream_) return;
  if (!s->upstream_ready_) {
    s->onUpstreamFailure(ETIMEDOUT, "connect timed out");
    return;
  }
  const http::RequestHead& req = s->request_parser_.request();
  WEIR_ERROR("upstream %s: timed out waiting for the response (%s %s from %s)", s->upstreamName().data(),
             req.method_name.c_str(), req.target.c_str(), s->client_addr_.c_str());
  if (s->response_head_sent_) {
    s->close();
    return;
  }
  s->respondError(504, !s->request_done_ || !req.keep_alive, "upstream timed out");
}

void Session::closeAfterFlush(bool linger) {
  state_ = State::kClosing;
  linger_ = linger;
  upstream_deadline_.cancel();
  releaseUpstream(false);
  client_.pauseReading();
  if (!client_.flush()) {
    close();
    return;
  }
  if (client_.outputLength() == 0) {
    finishClosing();
    return;
  }
  client_.setLowWater(0);
  armClientTimer(owner_.timeouts().send);
}

void Session::finishClosing() {
  if (linger_) {
    startLingering();
  } else {
    close();
  }
}

// Closing a socket that still has unread bytes sends a reset, which can
// destroy the error response before the client reads it. So after an error
// the write side is shut and what the client still sends is read and
// dropped, for a short while.
void Session::startLingering() {
  state_ = State::kLingering;
  ::shutdown(client_.fd(), SHUT_WR);
  client_deadline_.set(kLingerTime);
  evbuffer_drain(client_.input(), evbuffer_get_length(client_.input()));
  if (client_.eof()) {
    close();
    return;
  }
  client_.resumeReading();
}

void Session::close() {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  client_deadline_.cancel();
  upstream_deadline_.cancel();
  releaseUpstream(false);
  client_.close();
  owner_.sessionClosed(this);
}

void Session::releaseUpstream(bool reusable) {
  upstream_paused_for_client_ = false;
  client_paused_for_upstream_ = false;
  if (!upstream_) return;
  if (reusable) {
    upstream_->countRequest();
    owner_.connections(pool_).release(std::move(upstream_));
  } else {
    owner_.connections(pool_).discard(std::move(upstream_));
  }
}

bool Session::draining() const { return draining_ || owner_.draining(); }

std::string_view Session::upstreamName() const {
  if (server_ < 0) return "-";
  return rt_->server_names[pool_][static_cast<size_t>(server_)];
}

double Session::elapsedSince(const timeval& t) const {
  timeval now;
  event_base_gettimeofday_cached(owner_.base(), &now);
  return static_cast<double>(now.tv_sec - t.tv_sec) + static_cast<double>(now.tv_usec - t.tv_usec) / 1e6;
}

}  // namespace weir::proxy
