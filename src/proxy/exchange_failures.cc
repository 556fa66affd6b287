// How an exchange fails: upstream failures (retry or answer 502/504),
// errors weir answers itself, a refused or timed-out request, a client
// that went away. Kept apart from the exchange's normal path.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "proxy/downstream.h"
#include "proxy/exchange.h"
#include "weir/log/log.h"
#include "proxy/stats_points.h"
#include "weir/proxy/exchange_hooks.h"
#include "weir/proxy/proxy_worker.h"
#include "weir/proxy/retry_policy.h"
#include "weir/proxy/runtime.h"

namespace weir::proxy {

RetryState Exchange::retryState() const {
  const config::PoolConfig& pool = rt_->config->pools[pool_];
  return {upstream_.attempts(), 1 + pool.retries, replayed_, pool.retry_on, body_kept_};
}

// A response byte that reached the client (a relayed 1xx) rules out a retry.
bool Exchange::clientSawResponse() const { return interim_ > 0 && !client_.request().isHttp10(); }

void Exchange::upstreamFailed(FailureKind kind, int err, std::string_view what) {
  if (!active_ || !upstream_.active()) return;
  if (head_sent_) {
    logUpstreamError(what, err);
    abortResponse(kind == FailureKind::kResponseTimeout ? "upstream_timeout" : "upstream_failed");
    return;
  }
  const http::RequestHead& req = client_.request();
  AttemptFailure f{kind, upstream_.reused(), upstream_.sentAny(), clientSawResponse(), 0};
  logUpstreamError(what, err);
  // A kept-alive connection that ends before answering is most often the
  // server's idle close racing our reuse: not held against the server.
  if (!(kind == FailureKind::kResetBeforeResponse && f.reused_connection)) {
    upstream_.serverFailed(kind, err);
  }
  switch (mayRetry(f, req, retryState())) {
    case RetryDecision::kNextServer:
      if (retryNeedsBudget(f) && !upstream_.takeRetry()) break;
      if (retryElsewhere(f.request_bytes_sent, -1)) return;
      break;
    case RetryDecision::kSameServerFresh:
      replayed_ = true;
      response_parser_.reset();
      response_parser_.setNoBodyExpected(req.method == HTTP_HEAD);
      if (upstream_.reconnectSameServer()) {
        resendFromStart();
        return;
      }
      // The server is gone, not just its idle connection: another one.
      if (mayRetry({FailureKind::kConnect}, req, retryState()) == RetryDecision::kNextServer &&
          retryElsewhere(true, -1)) {
        return;
      }
      break;
    case RetryDecision::kNo:
      break;
  }
  const int status = kind == FailureKind::kResponseTimeout || kind == FailureKind::kSendTimeout ? 504 : 502;
  if (hooks_ != nullptr && hooks_->upstreamFailed(*this, status)) return;
  error_ = status == 504 ? "upstream_timeout" : "upstream_error";
  countError(*rt_, worker_, pool_, failureCause(kind, err));
  respondError(status, status == 504 ? "upstream timed out" : "upstream failed before responding");
}

// The new connection gets the request from its first byte: the head, then
// the body as forwarded so far (kept whole; see keepForReplay).
void Exchange::resendFromStart() {
  evbuffer_drain(upstream_.output(), evbuffer_get_length(upstream_.output()));
  if (!replay_body_.empty()) evbuffer_add(upstream_.output(), replay_body_.data(), replay_body_.size());
  head_released_ = false;
  body_dropped_ = false;
  if (headMayGo()) releaseHead();
}

// To another server of the pool (`first`, when already picked). `resend`:
// the failed server may have read part of the request, so it is sent again
// from the start; otherwise what was queued for it moves over unsent.
bool Exchange::retryElsewhere(bool resend, int first) {
  const http::RequestHead& req = client_.request();
  response_parser_.reset();
  response_parser_.setNoBodyExpected(req.method == HTTP_HEAD);
  interim_ = 0;
  if (!upstream_.connect(first)) return false;
  if (resend) {
    resendFromStart();
  } else if (head_released_) {
    flushUpstream();
  } else if (headMayGo()) {
    releaseHead();
  }
  return true;
}

// A whole response head whose status retry_on lists: dropped unseen and the
// request sent to another server, when that is safe, the budget allows it
// and a server is left (true: the exchange went on without this response);
// otherwise (false) the response goes to the client as it is.
bool Exchange::retryOnStatus(int status) {
  const http::RequestHead& req = client_.request();
  const AttemptFailure f{FailureKind::kStatus, upstream_.reused(), true, clientSawResponse(), status};
  if (!request_done_ || mayRetry(f, req, retryState()) != RetryDecision::kNextServer) return false;
  if (!upstream_.takeRetry()) return false;
  const int next = upstream_.pickServer();
  if (next < 0) return false;
  logUpstreamError("answered " + std::to_string(status) + "; trying another server", 0);
  if (retryElsewhere(true, next)) return true;
  if (hooks_ != nullptr && hooks_->upstreamFailed(*this, status)) return true;
  error_ = "upstream_error";
  countError(*rt_, worker_, pool_, upstreamStatusCause(status));
  respondError(status, "upstream answered " + std::to_string(status) + " and no other server could be reached");
  return true;
}

// No server of the pool is up (all down or ejected; backups too): 503 with
// Retry-After, counted, and logged once per pool per second, not per request.
void Exchange::allServersDown() {
  const config::PoolConfig& pool = rt_->config->pools[pool_];
  upstream::PoolHealth& ph = *rt_->pool_views[pool_].health;
  const uint64_t count = ph.all_down_answers.fetch_add(1, std::memory_order_relaxed) + 1;
  const int64_t now = upstream::monotonicMs();
  int64_t last = ph.all_down_logged.load(std::memory_order_relaxed);
  if (now - last >= 1000 && ph.all_down_logged.compare_exchange_strong(last, now, std::memory_order_relaxed)) {
    WEIR_ERROR("pool %s: no server is up; answering 503 (%llu such answers so far)", pool.name.c_str(),
               static_cast<unsigned long long>(count));
  }
  unsigned retry_after = 1;
  if (pool.health_check.enabled) {
    const int64_t ms = pool.health_check.interval.count() * pool.health_check.rise;
    retry_after = static_cast<unsigned>(std::max<int64_t>(1, (ms + 999) / 1000));
  }
  if (hooks_ != nullptr && hooks_->upstreamFailed(*this, 503)) return;
  upstream_.release(false);
  error_ = "no_server_up";
  countError(*rt_, worker_, pool_, stats::ErrorCause::kNoServerUp);
  const bool close = wantClose();
  answer(503, close, close && !request_done_, retry_after);
}

void Exchange::logUpstreamError(std::string_view what, int err) {
  const http::RequestHead& req = client_.request();
  WEIR_ERROR("upstream %.*s: %.*s%s%s (%s %s from %s)", static_cast<int>(upstream_.name().size()),
             upstream_.name().data(), static_cast<int>(what.size()), what.data(), err != 0 ? ": " : "",
             err != 0 ? std::strerror(err) : "", req.method_name.c_str(), req.target.c_str(),
             client_.address().c_str());
}

void Exchange::respondError(int status, std::string_view why) {
  if (head_sent_) {
    abortResponse("upstream_failed");
    return;
  }
  upstream_.release(false);
  const http::RequestHead& req = client_.request();
  const std::string_view host = req.authority;
  WEIR_LOG(status >= 500 ? log::Level::kWarn : log::Level::kInfo, "%d for %s %s (host %.*s) from %s: %.*s", status,
           req.method_name.c_str(), req.target.c_str(), static_cast<int>(host.size()), host.data(),
           client_.address().c_str(), static_cast<int>(why.size()), why.data());
  const bool close = wantClose();
  answer(status, close, close && !request_done_);
}

// Weir's own answer ends the exchange: written, logged, and the connection
// goes on or closes (lingering when the client may still be sending).
void Exchange::answer(int status, bool close, bool linger, unsigned retry_after) {
  std::string extra;
  if (hooks_ != nullptr) hooks_->ownResponse(*this, status, extra);
  scratch_.clear();
  http::writeErrorResponse(status, close, scratch_, retry_after, rt_->forward.request_id_header, request_id_.view(),
                           extra);
  const size_t body = http::reasonPhrase(status).size() + 5;  // "404 Not Found\n"
  // The answer to a HEAD has the head alone (its Content-Length says what a
  // GET would get): a body would be read as the start of the next response.
  const bool head_only = client_.request().method == HTTP_HEAD && !client_.request().method_name.empty();
  evbuffer_add(client_.stream().output(), scratch_.data(), scratch_.size() - (head_only ? body : 0));
  status_ = status;
  head_sent_ = true;
  head_bytes_ = scratch_.size() - body;
  body_bytes_ = head_only ? 0 : body;
  logAccess();
  active_ = false;
  client_.exchangeFinished(close, linger);
}

void Exchange::reject(int status, std::string_view reason) {
  resetFields();
  if (!rt_->forward.request_id_header.empty()) worker_.requestIds().next(request_id_);
  error_ = status == 408 ? "client_timeout" : "invalid_request";
  answer(status, true, true);
}

void Exchange::requestFailed(int status, std::string_view reason) {
  WEIR_INFO("%d for client %s: %.*s (%s %s)", status, client_.address().c_str(), static_cast<int>(reason.size()),
            reason.data(), client_.request().method_name.c_str(), client_.request().target.c_str());
  if (!active_) {
    client_.exchangeAborted(Downstream::Abort::kNow);
    return;
  }
  upstream_.release(false);  // it saw at most an incomplete request
  error_ = "invalid_request";
  if (head_sent_) {
    logAccess();
    active_ = false;
    client_.exchangeAborted(Downstream::Abort::kFlush);
    return;
  }
  answer(status, true, true);
}

void Exchange::requestTimedOut() {
  WEIR_INFO("client %s: timed out sending the request body (%s %s)", client_.address().c_str(),
            client_.request().method_name.c_str(), client_.request().target.c_str());
  if (!active_ || head_sent_) {
    if (active_) {
      error_ = "client_timeout";
      logAccess();
      upstream_.release(false);
      active_ = false;
    }
    client_.exchangeAborted(Downstream::Abort::kNow);
    return;
  }
  upstream_.release(false);
  error_ = "client_timeout";
  answer(408, true, false);
}

void Exchange::drainOrphan() {
  if (orphan_ && active_ && !hooks_->continueWithoutClient(*this)) abortResponse("client_closed");
}

// The client closed or reset while the exchange went on. As nginx does,
// the exchange ends at once, its upstream connection is closed, and the
// request is logged as 499 when no response had started; except for a
// response the cache is storing while other requests stream it, which is
// read to the end (and logged then).
void Exchange::clientGone(std::string_view why) {
  if (active_ && head_sent_ && request_done_ && !orphan_ && upstream_.active() && hooks_ != nullptr &&
      hooks_->continueWithoutClient(*this)) {
    // The cache is storing this response (others may be streaming it): read
    // it to the end without the client. Logged when it ends.
    WEIR_INFO("client %s: %.*s (%s %s); the response is read on for the cache", client_.address().c_str(),
              static_cast<int>(why.size()), why.data(), client_.request().method_name.c_str(),
              client_.request().target.c_str());
    orphan_ = true;
    error_ = "client_closed";
    if (client_paused_us_) {
      client_paused_us_ = false;
      upstream_.resumeReading();
    }
    client_.exchangeOrphaned();
    upstream_.stream().pokeRead();  // what the upstream already sent is read on now
    return;
  }
  if (active_) {
    const http::RequestHead& req = client_.request();
    WEIR_INFO("client %s: %.*s (%s %s); closing upstream %.*s", client_.address().c_str(),
              static_cast<int>(why.size()), why.data(), req.method_name.c_str(), req.target.c_str(),
              static_cast<int>(upstream_.name().size()), upstream_.name().data());
    if (!head_sent_) status_ = 499;
    error_ = "client_closed";
    if (hooks_ != nullptr) hooks_->responseEnd(*this, false);
    logAccess();
    upstream_.release(false);
    active_ = false;
  }
  client_.exchangeAborted(Downstream::Abort::kNow);
}

}  // namespace weir::proxy
