#include "proxy/upstream_attempt.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "proxy/exchange.h"
#include "proxy/flow.h"
#include "weir/proxy/proxy_worker.h"

namespace weir::proxy {

UpstreamAttempt::UpstreamAttempt(Exchange& owner, ProxyWorker& worker)
    : owner_(owner), worker_(worker), timer_(worker.base(), &UpstreamAttempt::onTimer, this) {}

UpstreamAttempt::~UpstreamAttempt() { release(false); }

void UpstreamAttempt::reset(SnapshotPtr snapshot, size_t pool, const upstream::PickContext& ctx) {
  release(false);
  snapshot_ = std::move(snapshot);
  rt_ = snapshot_->runtime.get();
  pool_ = pool;
  timeouts_ = &rt_->pool_timeouts[pool];
  tried_.clear();
  ctx_ = ctx;
  server_ = -1;
  attempts_ = 0;
  connect_time_ = -1;
  none_eligible_ = false;
}

upstream::PoolHealth& UpstreamAttempt::poolHealth() const { return *rt_->pool_views[pool_].health; }

int UpstreamAttempt::pickServer() {
  ctx_.now_ms = upstream::monotonicMs();
  const int s = snapshot_->pickers[pool_]->pick(ctx_, tried_);
  if (s < 0) {
    if (attempts_ == 0) none_eligible_ = true;
    return -1;
  }
  tried_.add(static_cast<size_t>(s));
  ++attempts_;
  if (!pool_counted_) {
    pool_counted_ = true;
    poolHealth().requests_in_flight.fetch_add(1, std::memory_order_relaxed);
  }
  return s;
}

bool UpstreamAttempt::takeRetry() {
  upstream::PoolHealth& ph = poolHealth();
  if (retry_counted_) return true;  // one retry in flight per request, however many servers it tries
  const int32_t requests = ph.requests_in_flight.load(std::memory_order_relaxed);
  const int32_t retries = ph.retries_in_flight.load(std::memory_order_relaxed);
  if (!retryBudgetAllows(requests, retries, rt_->config->pools[pool_].retry_budget)) {
    ph.retries_refused.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  retry_counted_ = true;
  ph.retries_in_flight.fetch_add(1, std::memory_order_relaxed);
  ph.retries.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void UpstreamAttempt::assign(int server) {
  if (counted_server_ == server) return;
  const auto& servers = rt_->pool_views[pool_].servers;
  if (counted_server_ >= 0) servers[static_cast<size_t>(counted_server_)]->requestEnded();
  counted_server_ = server;
  if (server >= 0) servers[static_cast<size_t>(server)]->requestStarted();
}

// The request is over for the pool: its in-flight counts are returned.
void UpstreamAttempt::endPoolRequest() {
  if (rt_ == nullptr) return;
  assign(-1);
  upstream::PoolHealth& ph = poolHealth();
  if (retry_counted_) ph.retries_in_flight.fetch_sub(1, std::memory_order_relaxed);
  if (pool_counted_) ph.requests_in_flight.fetch_sub(1, std::memory_order_relaxed);
  retry_counted_ = pool_counted_ = false;
}

void UpstreamAttempt::serverFailed(FailureKind kind, int err) {
  if (server_ >= 0) recordFailure(failureReason(kind, err));
}

void UpstreamAttempt::recordFailure(const std::string& why) {
  const upstream::PoolView& view = rt_->pool_views[pool_];
  rt_->passive[pool_].onFailure(*view.servers[static_cast<size_t>(server_)], *view.health, why,
                                upstream::monotonicMs());
}

void UpstreamAttempt::serverAnswered(int status) {
  if (server_ < 0) return;
  const auto& on_status = rt_->config->pools[pool_].passive.on_status;
  if (std::find(on_status.begin(), on_status.end(), status) != on_status.end()) {
    recordFailure("status " + std::to_string(status));
    return;
  }
  rt_->passive[pool_].onSuccess(*rt_->pool_views[pool_].servers[static_cast<size_t>(server_)]);
}

std::string_view UpstreamAttempt::name() const {
  if (server_ < 0 || rt_ == nullptr) return "-";
  return rt_->pool_views[pool_].servers[static_cast<size_t>(server_)]->name();
}

bool UpstreamAttempt::connect(int first) {
  // Bytes queued on a connection that failed (the held or sent head and
  // body) move to the next one: nothing of them reached the failed server.
  upstream::ConnectionPtr failed = std::move(conn_);
  if (failed) failed->stream().close();
  timer_.cancel();
  const unsigned max_attempts = 1 + rt_->config->pools[pool_].retries;
  while (!conn_) {
    if (first < 0 && attempts_ >= max_attempts) break;
    const int s = first >= 0 ? first : pickServer();
    first = -1;
    if (s < 0) break;
    server_ = s;
    assign(s);
    conn_ = snapshot_->connections[pool_]->acquire(rt_->pool_views[pool_].servers[static_cast<size_t>(s)].get(), this);
    if (conn_) {
      if (rt_->stats) stats::recordUpstreamReused(*rt_->stats, worker_.worker().index(), pool_, static_cast<size_t>(s));
      event_base_gettimeofday_cached(worker_.base(), &started_);
      ready_ = true;
      break;
    }
    int err = open(static_cast<size_t>(s));
    if (err == 0) break;
    owner_.logUpstreamError("connect failed", err);
    serverFailed(FailureKind::kConnect, err);
    snapshot_->connections[pool_]->discard(std::move(conn_));
  }
  if (!conn_) assign(-1);
  if (failed) {
    if (conn_) evbuffer_add_buffer(conn_->stream().output(), failed->stream().output());
    snapshot_->connections[pool_]->discard(std::move(failed));
  }
  if (!conn_) return false;
  written_before_ = conn_->stream().bytesWritten();
  request_sent_ = response_started_ = paused_ = false;
  conn_->stream().setWriteTimeout(timeouts_->send);
  return true;
}

bool UpstreamAttempt::reconnectSameServer() {
  if (server_ < 0) return false;
  if (conn_) snapshot_->connections[pool_]->discard(std::move(conn_));
  timer_.cancel();
  if (int err = open(static_cast<size_t>(server_)); err != 0) {
    owner_.logUpstreamError("connect failed", err);
    serverFailed(FailureKind::kConnect, err);
    snapshot_->connections[pool_]->discard(std::move(conn_));
    return false;
  }
  written_before_ = 0;
  request_sent_ = response_started_ = paused_ = false;
  conn_->stream().setWriteTimeout(timeouts_->send);
  return true;
}

int UpstreamAttempt::open(size_t server) {
  conn_ = std::make_unique<upstream::Connection>(worker_.base(), static_cast<core::StreamHandler*>(this),
                                                 rt_->pool_views[pool_].servers[server]);
  conn_->stream().setLowWater(kLowWater);
  if (rt_->stats) conn_->countCloseIn(stats::recordUpstreamOpened(*rt_->stats, worker_.worker().index(), pool_, server));
  ready_ = false;
  event_base_gettimeofday_cached(worker_.base(), &started_);
  int err = conn_->stream().connect(rt_->config->pools[pool_].servers[server].addr);
  if (err == 0) timer_.set(timeouts_->connect);
  return err;
}

bool UpstreamAttempt::flush() {
  if (!conn_) return false;
  return conn_->stream().flush();
}

bool UpstreamAttempt::sentAny() const { return conn_ && conn_->stream().bytesWritten() > written_before_; }

void UpstreamAttempt::armResponseTimer() {
  if (conn_ && ready_ && !paused_ && request_sent_) timer_.set(timeouts_->response);
}

void UpstreamAttempt::requestSent() {
  if (request_sent_) return;
  request_sent_ = true;
  armResponseTimer();
}

void UpstreamAttempt::responseProgress() {
  response_started_ = true;
  armResponseTimer();
}

void UpstreamAttempt::pauseReading() {
  if (!conn_) return;
  paused_ = true;
  conn_->stream().pauseReading();
  timer_.cancel();  // a slow client is not the upstream's fault
}

void UpstreamAttempt::resumeReading() {
  if (!conn_) return;
  paused_ = false;
  armResponseTimer();
  conn_->stream().resumeReading();
}

void UpstreamAttempt::release(bool reusable) {
  timer_.cancel();
  ready_ = false;
  endPoolRequest();
  if (!conn_) return;
  if (reusable) {
    conn_->countRequest();
    conn_->stream().setWriteTimeout(std::chrono::milliseconds(0));
    snapshot_->connections[pool_]->release(std::move(conn_));
  } else {
    snapshot_->connections[pool_]->discard(std::move(conn_));
  }
}

upstream::ConnectionPtr UpstreamAttempt::take() {
  timer_.cancel();
  ready_ = false;
  endPoolRequest();
  return std::move(conn_);
}

// ---- events -----------------------------------------------------------------

void UpstreamAttempt::onStreamRead(core::Stream&) { owner_.upstreamReadable(); }

void UpstreamAttempt::onStreamWritable(core::Stream&) {
  if (!ready_) {  // the connect completed
    ready_ = true;
    timer_.cancel();
    timeval now;
    event_base_gettimeofday_cached(worker_.base(), &now);
    connect_time_ = static_cast<double>(now.tv_sec - started_.tv_sec) +
                    static_cast<double>(now.tv_usec - started_.tv_usec) / 1e6;
    owner_.upstreamConnected();
    return;
  }
  owner_.upstreamWritable();
}

void UpstreamAttempt::onStreamError(core::Stream& s) {
  if (!ready_) {
    owner_.upstreamFailed(FailureKind::kConnect, s.errorCode(), "connect failed");
  } else if (s.errorCode() == ETIMEDOUT) {
    owner_.upstreamFailed(FailureKind::kSendTimeout, ETIMEDOUT, "timed out sending the request");
  } else {
    owner_.upstreamWriteFailed();
  }
}

void UpstreamAttempt::onTimer(void* arg) {
  auto* a = static_cast<UpstreamAttempt*>(arg);
  if (!a->conn_) return;
  if (!a->ready_) {
    a->owner_.upstreamFailed(FailureKind::kConnect, ETIMEDOUT, "connect timed out");
  } else {
    a->owner_.upstreamFailed(FailureKind::kResponseTimeout, 0, "timed out waiting for the response");
  }
}

}  // namespace weir::proxy
