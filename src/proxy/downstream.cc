#include "proxy/downstream.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>

#include "proxy/flow.h"
#include "proxy/tunnel.h"
#include "weir/http/forward.h"
#include "weir/log/log.h"
#include "weir/proxy/proxy_worker.h"
#include "weir/proxy/runtime.h"

namespace weir::proxy {
namespace {

using http::Parser;

constexpr std::chrono::milliseconds kLingerTime{2000};
// How long an idle keep-alive connection stays open once draining begins.
constexpr std::chrono::milliseconds kDrainIdleGrace{1000};

std::string peerAddress(const sockaddr* sa) {
  char buf[INET6_ADDRSTRLEN] = "-";
  if (sa->sa_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, buf, sizeof buf);
  } else if (sa->sa_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, buf, sizeof buf);
  }
  return buf;
}

}  // namespace

Downstream::Downstream(ProxyWorker& owner, int fd, const sockaddr* peer, socklen_t len, uint64_t listener)
    : owner_(owner),
      snapshot_(owner.snapshot()),
      rt_(snapshot_->runtime.get()),
      listener_(listener),
      client_(owner.base(), this),
      client_addr_(peerAddress(peer)),
      trusted_(anyContains(rt_->config->proxy_headers.trusted_clients, peer)),
      parser_(Parser::Kind::kRequest, rt_->request_limits),
      exchange_(*this),
      timer_(owner.base(), &Downstream::onTimer, this) {
  std::memcpy(&peer_, peer, std::min<size_t>(len, sizeof peer_));
  client_.setLowWater(kLowWater);
  client_.setWriteTimeout(rt_->client_timeouts.send);
  client_.watchWhilePaused(true);
  client_.attach(fd);
}

Downstream::Downstream(ProxyWorker& owner, int fd, uint64_t listener, std::string_view for_address)
    : owner_(owner),
      snapshot_(owner.snapshot()),
      rt_(snapshot_->runtime.get()),
      listener_(listener),
      client_(owner.base(), this),
      client_addr_(for_address),
      background_(true),
      parser_(Parser::Kind::kRequest, rt_->request_limits),
      exchange_(*this),
      timer_(owner.base(), &Downstream::onTimer, this) {
  peer_.ss_family = AF_UNIX;
  client_.setLowWater(kLowWater);
  client_.setWriteTimeout(rt_->client_timeouts.send);
  client_.watchWhilePaused(true);
  client_.attach(fd);
}

Downstream::~Downstream() = default;

void Downstream::start() {
  state_ = State::kWaitRequest;
  // A new connection gets the header timeout: one that never sends a
  // request should not hold a slot for the whole idle timeout.
  armTimer(rt_->client_timeouts.header);
}

void Downstream::drain() {
  draining_ = true;
  if (state_ == State::kWaitRequest && evbuffer_get_length(client_.input()) == 0 && !waiting_for_output_) {
    // Idle, but a client may reuse a keep-alive connection at any moment:
    // closing it now would lose a request already on its way. It gets a
    // short grace; a request that comes is answered with Connection: close.
    armTimer(std::min(kDrainIdleGrace, rt_->client_timeouts.idle));
  } else if (state_ == State::kTunnel) {
    tunnel_->drain();
  } else if (state_ == State::kDiscard || state_ == State::kLingering) {
    closeAfterFlush(false);
  } else if (state_ == State::kOrphan) {
    exchange_.drainOrphan();
  }
}

bool Downstream::draining() const { return draining_ || owner_.draining(); }

// ---- stream events ------------------------------------------------------

void Downstream::onStreamRead(core::Stream&) {
  if (state_ == State::kTunnel) {
    tunnel_->clientEvent();
    return;
  }
  processInput();
}

void Downstream::onStreamWritable(core::Stream&) {
  switch (state_) {
    case State::kClosing:
      if (client_.outputLength() == 0) finishClosing();
      return;
    case State::kTunnel:
      tunnel_->clientEvent();
      return;
    case State::kExchange:
      exchange_.clientWritable();
      return;
    default:
      break;
  }
  if (waiting_for_output_ && client_.outputLength() <= kLowWater) {
    waiting_for_output_ = false;
    armTimer(rt_->client_timeouts.idle);
    processInput();
  }
}

void Downstream::onStreamError(core::Stream&) {
  if (state_ == State::kOrphan) return;  // the socket is closed; the exchange ends by itself
  const char* why = client_.errorCode() == ETIMEDOUT ? "send timed out" : "write failed";
  if (state_ == State::kTunnel) {
    tunnel_->clientError();
    return;
  }
  if (state_ == State::kExchange) {
    exchange_.clientGone(why);  // ends with exchangeAborted(), or orphans the exchange
    return;
  }
  if (client_.errorCode() == ETIMEDOUT) {
    WEIR_INFO("client %s: send timed out: nothing written or acknowledged for %lld ms", client_addr_.c_str(),
              static_cast<long long>(rt_->client_timeouts.send.count()));
  } else {
    WEIR_DEBUG("client %s: %s: %s", client_addr_.c_str(), why, std::strerror(client_.errorCode()));
  }
  close();
}

// Reading is paused while an exchange waits for its response (pipelined
// requests stay in the kernel); a close or reset then arrives here. As
// nginx does, the client is taken to have given up: the exchange ends at
// once and its upstream connection is closed (unless the cache reads the
// response on for others: Exchange::clientGone).
void Downstream::onStreamHangup(core::Stream&) {
  if (state_ == State::kOrphan) return;
  if (state_ == State::kTunnel) {
    tunnel_->clientEvent();
  } else if (state_ == State::kExchange) {
    exchange_.clientGone(client_.readError() != 0 ? "client reset the connection" : "client closed the connection");
  } else if (state_ == State::kWaitRequest && waiting_for_output_ && client_.readError() == 0) {
    // The client stopped sending but may still read what is queued.
    client_.resumeReading();
  } else if (state_ != State::kClosing) {
    close();
  }
}

// ---- input --------------------------------------------------------------

// One loop takes pipelined requests in turn: an exchange that ends at once
// (a 404, say) returns here instead of recursing into the next request.
void Downstream::processInput() {
  in_input_ = true;
  for (bool again = true; again;) {
    again = false;
    switch (state_) {
      case State::kWaitRequest:
        if (waiting_for_output_) break;
        [[fallthrough]];
      case State::kReadHead:
        again = readHead();
        break;
      case State::kExchange:
        if (!request_done_) {
          readBody();
        } else if (client_.errorCode() != 0) {
          exchange_.clientGone("client reset the connection");
        }
        break;
      case State::kDiscard:
        discardBody();
        again = state_ == State::kWaitRequest;
        break;
      case State::kLingering:
        evbuffer_drain(client_.input(), evbuffer_get_length(client_.input()));
        if (client_.eof() || client_.errorCode() != 0) close();
        break;
      default:
        break;
    }
  }
  in_input_ = false;
  if ((state_ == State::kWaitRequest && !waiting_for_output_) || state_ == State::kReadHead) {
    client_.resumeReading();
  }
}

bool Downstream::readHead() {
  evbuffer* in = client_.input();
  for (;;) {
    const char* data;
    size_t len;
    if (!firstSegment(in, data, len)) {
      if (client_.eof() || client_.errorCode() != 0) close();  // between requests, or a cut-off head
      return false;
    }
    if (state_ == State::kWaitRequest) beginRequest();
    Parser::Step step = parser_.execute(data, len);
    if (step.flags & Parser::kError) {
      rejectRequest(parser_.errorStatus(), parser_.errorReason());
      return false;
    }
    evbuffer_drain(in, step.consumed);
    if (step.flags & Parser::kHeadComplete) {
      request_done_ = (step.flags & Parser::kMessageComplete) != 0;
      state_ = State::kExchange;
      timer_.cancel();
      if (request_done_) {
        client_.pauseReading();  // pipelined requests wait in the kernel
      } else {
        armTimer(rt_->client_timeouts.body);
      }
      exchange_.start(request_done_);
      return true;
    }
    if (step.consumed == 0) return false;
  }
}

// Between requests: a reload since the last one applies from this request on.
void Downstream::takeSnapshot() {
  const SnapshotPtr& current = owner_.snapshot();
  if (current == snapshot_) return;
  snapshot_ = current;
  rt_ = snapshot_->runtime.get();
  trusted_ = anyContains(rt_->config->proxy_headers.trusted_clients, reinterpret_cast<const sockaddr*>(&peer_));
  parser_.setLimits(rt_->request_limits);
  client_.setWriteTimeout(rt_->client_timeouts.send);
}

void Downstream::beginRequest() {
  takeSnapshot();
  state_ = State::kReadHead;
  line_had_version_ = false;
  request_done_ = false;
  discarded_ = 0;
  event_base_gettimeofday_cached(owner_.base(), &started_);
  armTimer(rt_->client_timeouts.header);
}

// Body bytes go upstream only after the parser accepted them; the exchange
// flushes once per read.
void Downstream::readBody() {
  evbuffer* in = client_.input();
  bool progressed = false;
  while (!request_done_ && state_ == State::kExchange) {
    const char* data;
    size_t len;
    if (!firstSegment(in, data, len)) break;
    Parser::Step step = parser_.execute(data, len);
    if (step.flags & Parser::kError) {
      exchange_.requestFailed(parser_.errorStatus(), parser_.errorReason());
      return;
    }
    if (step.consumed > 0) {
      progressed = true;
      exchange_.requestBody(in, step.consumed);
      if (state_ != State::kExchange) return;
    }
    if (step.flags & Parser::kMessageComplete) {
      request_done_ = true;
      timer_.cancel();
      client_.pauseReading();
      exchange_.requestComplete();
      return;
    }
    if (step.consumed == 0) break;
  }
  if (state_ != State::kExchange) return;
  if (client_.eof() || client_.errorCode() != 0) {
    exchange_.clientGone("client closed before sending the whole request body");
    return;
  }
  if (progressed) {
    if (!body_paused_) armTimer(rt_->client_timeouts.body);
    exchange_.flushRequestBody();
  }
}

void Downstream::pauseBody() {
  if (body_paused_ || request_done_) return;
  body_paused_ = true;
  client_.pauseReading();
  timer_.cancel();  // the upstream is slow, not the client (upstream_send covers it)
}

void Downstream::resumeBody() {
  if (!body_paused_) return;
  body_paused_ = false;
  if (request_done_ || state_ != State::kExchange) return;
  armTimer(rt_->client_timeouts.body);
  client_.resumeReading();
}

// ---- after an exchange ------------------------------------------------------

bool Downstream::bodyDiscardable() const {
  if (request_done_) return true;
  const http::RequestHead& req = parser_.request();
  // Without a 100 Continue the client may never send the body it announced.
  if (req.expect_continue && !exchange_.hundredContinueSent()) return false;
  if (req.chunked) return parser_.bodyBytes() < kDiscardLimit;
  return req.content_length - parser_.bodyBytes() <= kDiscardLimit;
}

void Downstream::exchangeFinished(bool close, bool linger) {
  body_paused_ = false;
  if (state_ == State::kOrphan) {
    this->close();
    return;
  }
  if (close || draining()) {
    closeAfterFlush(linger);
    return;
  }
  if (!client_.flush()) {
    this->close();
    return;
  }
  if (!request_done_) {
    if (!bodyDiscardable()) {
      closeAfterFlush(false);
      return;
    }
    state_ = State::kDiscard;
    armTimer(rt_->client_timeouts.body);
    client_.resumeReading();
    discardBody();
    return;
  }
  nextRequest();
}

// What is left of a request body after its response: read and dropped, up
// to kDiscardLimit, so a small upload to a 404 does not cost the connection.
void Downstream::discardBody() {
  evbuffer* in = client_.input();
  while (state_ == State::kDiscard) {
    const char* data;
    size_t len;
    if (!firstSegment(in, data, len)) break;
    Parser::Step step = parser_.execute(data, len);
    if (step.flags & Parser::kError) {
      closeAfterFlush(false);
      return;
    }
    evbuffer_drain(in, step.consumed);
    discarded_ += step.consumed;
    if (step.flags & Parser::kMessageComplete) {
      request_done_ = true;
      nextRequest();
      return;
    }
    if (discarded_ > kDiscardLimit + 64 * 1024) {  // chunk framing on top of the body bytes
      closeAfterFlush(false);
      return;
    }
    if (step.consumed == 0) break;
  }
  if (state_ == State::kDiscard && (client_.eof() || client_.errorCode() != 0)) close();
  else if (state_ == State::kDiscard) armTimer(rt_->client_timeouts.body);
}

// The next pipelined request starts only while the answers already queued
// for this client stay under the high-water mark: a client that sends
// requests and never reads cannot make weir hold more than that.
void Downstream::nextRequest() {
  state_ = State::kWaitRequest;
  parser_.reset();
  request_done_ = false;
  if (client_.outputLength() > kHighWater) {
    // Not idle: the client has answers it does not read. The stream's write
    // timeout (send) bounds that wait, not client_idle.
    timer_.cancel();
    waiting_for_output_ = true;
    client_.pauseReading();
    return;
  }
  armTimer(rt_->client_timeouts.idle);
  if (in_input_) return;  // processInput() goes on with the next request
  processInput();
}

void Downstream::rejectRequest(int status, std::string_view reason) {
  WEIR_INFO("%d for client %s: %.*s", status, client_addr_.c_str(), static_cast<int>(reason.size()), reason.data());
  state_ = State::kExchange;
  line_had_version_ = parser_.notePartialRequestLine();
  exchange_.reject(status, reason);
}

void Downstream::startTunnel(upstream::ConnectionPtr upstream) {
  state_ = State::kTunnel;
  timer_.cancel();
  const int server = exchange_.server();
  tunnel_ = std::make_unique<Tunnel>(*this, std::move(upstream), server, std::string(exchange_.upstreamName()));
  tunnel_->start();
}

void Downstream::tunnelFinished() {
  exchange_.tunnelEnded(tunnel_->bytesToUpstream(), tunnel_->bytesToClient());
  closeAfterFlush(false);
}

void Downstream::exchangeOrphaned() {
  state_ = State::kOrphan;
  timer_.cancel();
  client_.abort();  // a reset: whatever the client still reads must not look complete
  evbuffer_drain(client_.output(), evbuffer_get_length(client_.output()));  // chunk references go now
  evbuffer_drain(client_.input(), evbuffer_get_length(client_.input()));
}

void Downstream::exchangeAborted(Abort how) {
  if (state_ == State::kOrphan) {
    close();
    return;
  }
  switch (how) {
    case Abort::kFlush:
      closeAfterFlush(false);
      return;
    case Abort::kReset:
      client_.flush();
      client_.abort();
      break;
    case Abort::kNow:
      break;
  }
  close();
}

// ---- closing --------------------------------------------------------------

void Downstream::closeAfterFlush(bool linger) {
  state_ = State::kClosing;
  linger_ = linger;
  timer_.cancel();
  client_.pauseReading();
  if (!client_.flush()) {
    close();
    return;
  }
  if (client_.outputLength() == 0) {
    finishClosing();
    return;
  }
  client_.setLowWater(0);  // told when everything is written (the write timeout bounds the wait)
}

void Downstream::finishClosing() {
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
void Downstream::startLingering() {
  state_ = State::kLingering;
  ::shutdown(client_.fd(), SHUT_WR);
  armTimer(kLingerTime);
  evbuffer_drain(client_.input(), evbuffer_get_length(client_.input()));
  if (client_.eof()) {
    close();
    return;
  }
  client_.resumeReading();
}

void Downstream::close() {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  timer_.cancel();
  exchange_.end();
  if (tunnel_) owner_.worker().deleteLater(std::move(tunnel_));
  client_.close();
  owner_.sessionClosed(this);
}

void Downstream::onTimer(void* arg) {
  auto* d = static_cast<Downstream*>(arg);
  switch (d->state_) {
    case State::kReadHead:
      WEIR_INFO("client %s: timed out sending the request head", d->client_addr_.c_str());
      d->rejectRequest(408, "request head timeout");
      break;
    case State::kExchange:
      if (!d->request_done_ && !d->body_paused_) d->exchange_.requestTimedOut();
      break;
    case State::kOrphan:  // never armed in this state
      break;
    default:
      d->close();
      break;
  }
}

}  // namespace weir::proxy
