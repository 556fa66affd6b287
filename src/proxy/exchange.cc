#include "proxy/exchange.h"

#include <algorithm>
#include <cstdio>

#include "proxy/downstream.h"
#include "proxy/flow.h"
#include "proxy/stats_points.h"
#include "weir/log/log.h"
#include "weir/proxy/hash_key.h"
#include "weir/proxy/proxy_worker.h"
#include "weir/proxy/runtime.h"

namespace weir::proxy {
namespace {

using http::Parser;

// An upstream may send a few interim (1xx) responses before the final one;
// an endless stream of them would keep the exchange alive for ever.
constexpr unsigned kMaxInterim = 16;

}  // namespace

Exchange::Exchange(Downstream& client)
    : client_(client),
      worker_(client.owner()),
      rt_(&client.runtime()),
      upstream_(*this, client.owner()),
      response_parser_(Parser::Kind::kResponse, client.runtime().response_limits) {}

Exchange::~Exchange() = default;

// Every per-exchange field, in one place: nothing of the previous exchange
// on this connection may leak into the next one.
void Exchange::resetFields() {
  if (rt_ != &client_.runtime()) {
    rt_ = &client_.runtime();
    response_parser_.setLimits(rt_->response_limits);
  }
  held_head_.clear();
  plan_ = {};
  hooks_ = nullptr;
  route_ = -1;
  pool_ = 0;
  status_ = 0;
  interim_ = 0;
  head_bytes_ = body_bytes_ = request_bytes_ = 0;
  header_time_ = -1;
  error_ = {};
  request_id_.clear();
  active_ = true;
  request_done_ = head_released_ = head_sent_ = continue_sent_ = false;
  replayed_ = body_dropped_ = client_paused_us_ = stored_until_close_ = orphan_ = false;
  body_kept_ = true;
  if (replay_body_.capacity() > 4096) {
    std::string().swap(replay_body_);  // an idle connection does not hold up to 64 KiB
  } else {
    replay_body_.clear();
  }
  response_parser_.reset();
  if (!upstream_.active()) upstream_.forget();
}

void Exchange::start(bool request_done) {
  resetFields();
  request_done_ = request_done;
  const http::RequestHead& req = client_.request();
  WEIR_DEBUG("exchange %p: %s %s from %s (body %d, complete %d)", static_cast<void*>(this), req.method_name.c_str(),
             req.target.c_str(), client_.address().c_str(), req.hasBody(), request_done);
  chooseRequestId();
  route_ = rt_->router.match(req.authority, req.path);
  if (route_ < 0) {
    error_ = "no_route";
    respondError(404, "no route matches");
    return;
  }
  pool_ = rt_->config->routes[static_cast<size_t>(route_)].pool_index;
  if (rt_->cache != nullptr && route().cache) {
    const stats::Series* series = rt_->stats ? rt_->stats->caches[static_cast<size_t>(route_)] : nullptr;
    cache_flow_.reset(rt_->cache, series != nullptr ? series->at(worker_.worker().index()) : nullptr);
    hooks_ = &cache_flow_;
  }
  if (hooks_ != nullptr && hooks_->lookup(*this, req)) return;
  fetch();
}

// To the upstream: pick a server, connect, send the head (when it may go).
void Exchange::fetch() {
  const http::RequestHead& req = client_.request();
  response_parser_.setNoBodyExpected(req.method == HTTP_HEAD);
  upstream::PickContext ctx;
  const config::HashConfig& hash = rt_->config->pools[pool_].hash;
  std::string_view key;
  if (hash.source != config::HashConfig::Source::kNone && requestKey(hash, req, client_.address(), key)) {
    ctx.has_key = true;
    ctx.key_hash = hashKey(key);
  }
  upstream_.reset(client_.snapshotPtr(), pool_, ctx);
  body_kept_ = isIdempotent(req) && (!req.has_content_length || req.content_length <= kReplayBodyLimit);
  writeRequestHead();
  if (!upstream_.connect()) {
    if (upstream_.noneEligible()) {
      allServersDown();
      return;
    }
    if (hooks_ != nullptr && hooks_->upstreamFailed(*this, 502)) return;
    error_ = "upstream_error";
    countError(*rt_, worker_, pool_, stats::ErrorCause::kNoServerReachable);
    respondError(502, "no upstream server could be reached");
    return;
  }
  if (headMayGo()) releaseHead();
}

// The client's ID when it sent one well-formed field, else a new one; before
// routing, so that every answer, weir's own 404 included, carries it.
void Exchange::chooseRequestId() {
  if (rt_->forward.request_id_header.empty()) return;
  http::chooseRequestId(client_.request().fields, rt_->forward.request_id_header, worker_.requestIds(), request_id_);
}

void Exchange::writeRequestHead() {
  held_head_.clear();
  http::RequestContext ctx{client_.address(), "http", client_.trustedClient(), request_id_.view()};
  if (hooks_ != nullptr) ctx.cache_refetch = hooks_->upstreamRequest(*this, ctx.cache_fields);
  http::writeRequestHead(client_.request(), rt_->forward, ctx, held_head_);
}

// See the header: the head waits until what follows it is known good.
bool Exchange::headMayGo() const {
  const http::RequestHead& req = client_.request();
  return request_done_ || !req.chunked || req.expect_continue || client_.parserChunkHeaders() > 0;
}

void Exchange::releaseHead() {
  head_released_ = true;
  evbuffer_prepend(upstream_.output(), held_head_.data(), held_head_.size());
  flushUpstream();
}

void Exchange::requestBody(evbuffer* in, size_t n) {
  request_bytes_ += n;
  keepForReplay(in, n);
  if (body_dropped_ || !upstream_.active()) {
    evbuffer_drain(in, n);
    return;
  }
  moveBytes(in, upstream_.output(), n);
  if (!head_released_ && headMayGo()) {
    head_released_ = true;
    evbuffer_prepend(upstream_.output(), held_head_.data(), held_head_.size());
  }
}

// An idempotent request's body, up to kReplayBodyLimit, is kept as it was
// forwarded, so that the request can be sent whole to another server after
// the first one failed before answering.
void Exchange::keepForReplay(evbuffer* in, size_t n) {
  if (!body_kept_) return;
  if (request_bytes_ > kReplayBodyLimit) {
    body_kept_ = false;
    replay_body_.clear();
    return;
  }
  const size_t at = replay_body_.size();
  replay_body_.resize(at + n);
  evbuffer_copyout(in, replay_body_.data() + at, n);
}

void Exchange::flushRequestBody() {
  if (active_) flushUpstream();
}

void Exchange::requestComplete() {
  request_done_ = true;
  if (!active_ || !upstream_.active()) return;
  if (!head_released_) {
    releaseHead();
  } else {
    flushUpstream();
  }
}

void Exchange::flushUpstream() {
  if (!upstream_.active() || !head_released_) return;
  if (!upstream_.flush()) {
    upstreamWriteFailed();
    return;
  }
  if (upstream_.ready() && request_done_ && evbuffer_get_length(upstream_.output()) == 0) upstream_.requestSent();
  applyBackpressure();
}

// The upstream stopped reading (it may have answered early and closed): stop
// sending and let the read side tell whether a response came.
void Exchange::upstreamWriteFailed() {
  if (!active_ || !upstream_.active()) return;
  body_dropped_ = true;
  evbuffer_drain(upstream_.output(), evbuffer_get_length(upstream_.output()));
  upstream_.requestSent();
  client_.resumeBody();
  upstream_.stream().pokeRead();
}

void Exchange::upstreamConnected() {
  if (request_done_ && evbuffer_get_length(upstream_.output()) == 0 && head_released_) upstream_.requestSent();
  applyBackpressure();
}

void Exchange::upstreamWritable() {
  if (!active_ || !upstream_.active()) return;
  if (evbuffer_get_length(upstream_.output()) <= kLowWater) client_.resumeBody();
  if (request_done_ && head_released_ && evbuffer_get_length(upstream_.output()) == 0) upstream_.requestSent();
}

void Exchange::applyBackpressure() {
  if (orphan_) return;  // no client: nothing to wait for
  if (upstream_.active() && evbuffer_get_length(upstream_.output()) > kHighWater) client_.pauseBody();
  if (upstream_.active() && !client_paused_us_ && client_.stream().outputLength() > kHighWater) {
    client_paused_us_ = true;
    upstream_.pauseReading();
  }
}

void Exchange::clientWritable() {
  if (hooks_ != nullptr && !upstream_.active()) hooks_->clientWritable(*this);
  if (client_paused_us_ && upstream_.active() && client_.stream().outputLength() <= kLowWater) {
    client_paused_us_ = false;
    upstream_.resumeReading();
  }
}

// ---- the response ---------------------------------------------------------

void Exchange::upstreamReadable() {
  if (!active_ || !upstream_.active()) return;
  evbuffer* in = upstream_.input();
  const bool got_data = evbuffer_get_length(in) > 0;
  while (active_ && upstream_.active()) {
    const char* data;
    size_t len;
    if (!firstSegment(in, data, len)) break;
    const bool in_head = response_parser_.inHead();
    Parser::Step step = response_parser_.execute(data, len);
    if (step.flags & Parser::kError) {
      std::string what = "invalid response: ";
      what += response_parser_.errorReason();
      upstreamFailed(FailureKind::kInvalidResponse, 0, what);
      return;
    }
    if (in_head) {
      evbuffer_drain(in, step.consumed);
      if ((step.flags & Parser::kHeadComplete) && !handleResponseHead()) return;
    } else {
      relayBody(step.consumed);
    }
    if (step.flags & Parser::kMessageComplete) {
      if (!head_sent_) {  // an interim response: the real one follows
        response_parser_.reset();
        response_parser_.setNoBodyExpected(client_.request().method == HTTP_HEAD);
        continue;
      }
      finishResponse();
      return;
    }
    if (step.consumed == 0) break;
  }
  if (!active_) return;
  if (orphan_) {
    if (!hooks_->continueWithoutClient(*this)) {  // the fill ended (too large, no room): nobody wants the rest
      abortResponse("client_closed");
      return;
    }
  } else if (!client_.stream().flush()) {
    clientGone("write failed");
    if (!orphan_) return;
  } else {
    applyBackpressure();
  }
  core::Stream& us = upstream_.stream();
  if (us.eof() || us.readError() != 0) {
    upstreamEnded();
    return;
  }
  if (got_data) upstream_.responseProgress();
}

bool Exchange::handleResponseHead() {
  const http::RequestHead& req = client_.request();
  const http::ResponseHead& resp = response_parser_.response();
  if (resp.status == 101 && !req.upgrade) {
    upstreamFailed(FailureKind::kInvalidResponse, 0,
                   "invalid response: 101 Switching Protocols to a request that did not ask to upgrade");
    return false;
  }
  if (resp.status < 200 && resp.status != 101) return relayInterim();
  upstream_.serverAnswered(resp.status);
  if (retryOnStatus(resp.status)) return false;
  if (hooks_ != nullptr && hooks_->answerInstead(*this, resp)) return false;
  plan_ = http::planResponse(req, resp, wantClose());
  header_time_ = elapsed(upstream_.startedAt());
  std::string extra;
  if (hooks_ != nullptr) hooks_->responseHead(*this, resp, extra);
  scratch_.clear();
  http::writeResponseHead(req, resp, plan_, rt_->forward, scratch_, request_id_.view());
  if (!extra.empty()) scratch_.insert(scratch_.size() - 2, extra);  // before the empty line
  evbuffer_add(client_.stream().output(), scratch_.data(), scratch_.size());
  head_bytes_ = scratch_.size();
  status_ = resp.status;
  head_sent_ = true;
  // The sink de-chunks for an HTTP/1.0 client, and shows the hooks (the
  // cache) the body without its chunk framing when chunks are relayed as
  // they are.
  if (plan_.body == http::BodyMode::kDechunk || (hooks_ != nullptr && resp.chunked)) {
    response_parser_.setBodySink(this);
  }
  if (plan_.upgrade) {
    client_.stream().flush();
    active_ = false;
    client_.startTunnel(upstream_.take());
    return false;
  }
  return true;
}

bool Exchange::relayInterim() {
  if (++interim_ > kMaxInterim) {
    upstreamFailed(FailureKind::kInvalidResponse, 0, "invalid response: too many interim (1xx) responses");
    return false;
  }
  const http::RequestHead& req = client_.request();
  if (req.isHttp10()) return true;  // HTTP/1.0 clients do not know 1xx
  http::ResponsePlan interim;
  interim.body = http::BodyMode::kNone;
  scratch_.clear();
  http::writeResponseHead(req, response_parser_.response(), interim, rt_->forward, scratch_, request_id_.view());
  evbuffer_add(client_.stream().output(), scratch_.data(), scratch_.size());
  if (response_parser_.response().status == 100) continue_sent_ = true;
  client_.stream().flush();
  return true;
}

// Reasons to close the client connection after this response. A request
// body still arriving does not force it when what is left can be read and
// dropped afterwards.
bool Exchange::wantClose() const {
  return client_.draining() || client_.stream().eof() || !client_.bodyDiscardable();
}

void Exchange::relayBody(size_t consumed) {
  if (consumed == 0) return;
  evbuffer* in = upstream_.input();
  if (orphan_) {  // no client: the cache sees the bytes, then they go
    if (plan_.body == http::BodyMode::kAsIs && !response_parser_.response().chunked) tapBody(in, consumed);
    if (plan_.body == http::BodyMode::kChunkWrap) tapBody(in, consumed);
    evbuffer_drain(in, consumed);
    return;
  }
  evbuffer* out = client_.stream().output();
  switch (plan_.body) {
    case http::BodyMode::kAsIs:
      if (!response_parser_.response().chunked) tapBody(in, consumed);  // else the sink saw it
      moveBytes(in, out, consumed);
      body_bytes_ += consumed;
      break;
    case http::BodyMode::kChunkWrap: {
      tapBody(in, consumed);
      char size_line[24];
      int n = std::snprintf(size_line, sizeof size_line, "%zx\r\n", consumed);
      evbuffer_add(out, size_line, static_cast<size_t>(n));
      evbuffer_remove_buffer(in, out, consumed);
      evbuffer_add(out, "\r\n", 2);
      body_bytes_ += consumed + static_cast<size_t>(n) + 2;
      break;
    }
    case http::BodyMode::kDechunk:  // copied by onBodyData during execute()
    case http::BodyMode::kNone:
      evbuffer_drain(in, consumed);
      break;
  }
}

void Exchange::onBodyData(const char* data, size_t len) {
  if (hooks_ != nullptr) hooks_->responseBody(*this, data, len);
  if (plan_.body != http::BodyMode::kDechunk || orphan_) return;  // relayed with its framing by relayBody (or no client)
  evbuffer_add(client_.stream().output(), data, len);
  body_bytes_ += len;
}

// The first `n` bytes of `in` (response body as the client gets it, before
// any framing weir adds) shown to the hooks, segment by segment, uncopied.
void Exchange::tapBody(evbuffer* in, size_t n) {
  if (hooks_ == nullptr || n == 0) return;
  constexpr int kVecs = 8;
  evbuffer_iovec vec[kVecs];
  evbuffer_ptr pos;
  size_t done = 0;
  while (done < n) {
    evbuffer_ptr_set(in, &pos, done, EVBUFFER_PTR_SET);
    const int got = evbuffer_peek(in, static_cast<ev_ssize_t>(n - done), &pos, vec, kVecs);
    if (got <= 0) return;
    for (int i = 0; i < std::min(got, kVecs) && done < n; ++i) {
      const size_t len = std::min(n - done, vec[i].iov_len);
      hooks_->responseBody(*this, static_cast<const char*>(vec[i].iov_base), len);
      done += len;
    }
  }
}

// The upstream closed or reset its connection. A body delimited by the
// close ends cleanly only on a FIN: a reset means it was cut short.
void Exchange::upstreamEnded() {
  core::Stream& us = upstream_.stream();
  const int err = us.readError();
  if (!head_sent_) {
    upstreamFailed(FailureKind::kResetBeforeResponse, err, err != 0 ? "read failed" : "closed before responding");
    return;
  }
  if (err == 0 && (response_parser_.finish().flags & Parser::kMessageComplete)) {
    finishResponse();
    return;
  }
  logUpstreamError(err != 0 ? "reset in the middle of the response body" : "closed in the middle of the response body",
                   err);
  abortResponse(err != 0 ? "upstream_reset" : "upstream_closed");
}

void Exchange::finishResponse() {
  if (plan_.body == http::BodyMode::kChunkWrap && !orphan_) {
    evbuffer_add(client_.stream().output(), "0\r\n\r\n", 5);
    body_bytes_ += 5;
  }
  if (hooks_ != nullptr) hooks_->responseEnd(*this, true);
  logAccess();
  const http::ResponseHead& resp = response_parser_.response();
  core::Stream& us = upstream_.stream();
  const bool reusable = resp.keep_alive && request_done_ && !body_dropped_ && !us.eof() && us.errorCode() == 0 &&
                        evbuffer_get_length(us.input()) == 0 && evbuffer_get_length(us.output()) == 0;
  upstream_.release(reusable);
  active_ = false;
  client_.exchangeFinished(plan_.close, false);
}

// A body the client reads until the connection closes (close-delimited, or
// de-chunked for an HTTP/1.0 client) can only be told incomplete by a
// reset; every other framing shows a cut by itself (bytes short of
// Content-Length, no terminating chunk).
bool Exchange::clientBodyEndsAtClose() const {
  return plan_.body == http::BodyMode::kDechunk ||
         (plan_.body == http::BodyMode::kAsIs && response_parser_.response().until_close);
}

void Exchange::abortResponse(std::string_view error) {
  const bool reset_client = clientBodyEndsAtClose();
  error_ = orphan_ ? std::string_view("client_closed") : error;  // the client's view: it left
  if (hooks_ != nullptr) hooks_->responseEnd(*this, false);
  logAccess();
  upstream_.release(false);
  active_ = false;
  client_.exchangeAborted(reset_client ? Downstream::Abort::kReset : Downstream::Abort::kFlush);
}

void Exchange::tunnelEnded(uint64_t to_upstream, uint64_t to_client) {
  status_ = 101;
  head_bytes_ = 0;
  body_bytes_ = to_client;
  request_bytes_ = to_upstream;
  logAccess();
}

void Exchange::end() {
  if (!active_) {
    // The last exchange ended; a fill it may still hold ends with the connection.
    if (hooks_ != nullptr) hooks_->responseEnd(*this, false);
    return;
  }
  if (hooks_ != nullptr) hooks_->responseEnd(*this, false);
  upstream_.release(false);
  active_ = false;
}

double Exchange::elapsed(const timeval& since) const {
  timeval now;
  event_base_gettimeofday_cached(worker_.base(), &now);
  return static_cast<double>(now.tv_sec - since.tv_sec) + static_cast<double>(now.tv_usec - since.tv_usec) / 1e6;
}

}  // namespace weir::proxy
