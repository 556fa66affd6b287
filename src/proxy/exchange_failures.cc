// How an exchange fails: upstream failures (retry or answer 502/504),
// errors weir answers itself, a refused or timed-out request, a client
// that went away. Kept apart from the exchange's normal path.
#include <cstring>

#include "proxy/downstream.h"
#include "proxy/exchange.h"
#include "weir/log/log.h"
#include "weir/proxy/exchange_hooks.h"
#include "weir/proxy/proxy_worker.h"
#include "weir/proxy/retry_policy.h"
#include "weir/proxy/runtime.h"

namespace weir::proxy {

void Exchange::upstreamFailed(FailureKind kind, int err, std::string_view what) {
  if (!active_ || !upstream_.active()) return;
  if (head_sent_) {
    logUpstreamError(what, err);
    abortResponse(kind == FailureKind::kResponseTimeout ? "upstream_timeout" : "upstream_failed");
    return;
  }
  const http::RequestHead& req = client_.request();
  AttemptFailure f{kind, upstream_.reused(), upstream_.sentAny(), response_parser_.started()};
  const unsigned max_attempts = 1 + rt_->config->pools[pool_].retries;
  logUpstreamError(what, err);
  switch (mayRetry(f, req, upstream_.attempts(), max_attempts, replayed_)) {
    case RetryDecision::kNextServer:
      response_parser_.reset();
      response_parser_.setNoBodyExpected(req.method == HTTP_HEAD);
      if (upstream_.connect()) {
        if (head_released_) {
          flushUpstream();
        } else if (headMayGo()) {
          releaseHead();
        }
        return;
      }
      break;
    case RetryDecision::kSameServerFresh:
      replayed_ = true;
      response_parser_.reset();
      response_parser_.setNoBodyExpected(req.method == HTTP_HEAD);
      if (upstream_.reconnectSameServer()) {
        evbuffer_drain(upstream_.output(), evbuffer_get_length(upstream_.output()));
        head_released_ = false;
        if (headMayGo()) releaseHead();
        return;
      }
      break;
    case RetryDecision::kNo:
      break;
  }
  const int status = kind == FailureKind::kResponseTimeout || kind == FailureKind::kSendTimeout ? 504 : 502;
  if (hooks_ != nullptr && hooks_->upstreamFailed(*this, status)) return;
  error_ = status == 504 ? "upstream_timeout" : "upstream_error";
  respondError(status, status == 504 ? "upstream timed out" : "upstream failed before responding");
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
void Exchange::answer(int status, bool close, bool linger) {
  scratch_.clear();
  http::writeErrorResponse(status, close, scratch_);
  evbuffer_add(client_.stream().output(), scratch_.data(), scratch_.size());
  status_ = status;
  head_sent_ = true;
  const size_t body = http::reasonPhrase(status).size() + 5;  // "404 Not Found\n"
  head_bytes_ = scratch_.size() - body;
  body_bytes_ = body;
  logAccess();
  active_ = false;
  client_.exchangeFinished(close, linger);
}

void Exchange::reject(int status, std::string_view reason) {
  resetFields();
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

// The client closed or reset while the exchange went on: as nginx does, the
// upstream connection is closed too, and the request is logged as 499 when
// no response had started.
void Exchange::clientGone(std::string_view why) {
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
