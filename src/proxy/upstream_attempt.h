// The upstream side of one exchange: picking a server, getting a connection
// (an idle pooled one or a new one), the connect and response timers, and
// the stream events, which it turns into calls on its Exchange. It does not
// parse HTTP; the Exchange does.
//
// Timers: upstream_connect while connecting; upstream_response only while
// weir waits for upstream bytes it is ready to read (after the whole request
// was sent or once a response began, and never while reading is paused for
// a slow client); the stream's write timeout (upstream_send) for a request
// write that makes no progress.
//
// Owned by its Exchange; loop thread only.
#pragma once

#include <sys/time.h>

#include <string_view>

#include "weir/core/deadline.h"
#include "weir/core/stream.h"
#include "weir/proxy/retry_policy.h"
#include "weir/proxy/proxy_worker.h"
#include "weir/proxy/runtime.h"
#include "weir/upstream/balancer.h"
#include "weir/upstream/connection_pool.h"

namespace weir::proxy {

class Exchange;
class ProxyWorker;

class UpstreamAttempt final : private core::StreamHandler {
 public:
  UpstreamAttempt(Exchange& owner, ProxyWorker& worker);
  ~UpstreamAttempt();

  // For a new request to `pool`; `ctx` carries the request's hash key.
  void reset(SnapshotPtr snapshot, size_t pool, const upstream::PickContext& ctx);
  // A new request that may never use an upstream (a cache hit): nothing of
  // the last one's server is reported. Only while not active().
  void forget() {
    server_ = -1;
    connect_time_ = -1;
  }
  // Picks a server not tried yet and gets a connection to it (to `first`
  // when it is given, from pickServer()). Returns false when no server is
  // left or every connect failed at once;
  // error-log lines name each failure. Bytes already in output() move to the
  // new connection.
  bool connect(int first = -1);
  // The next server the balancer offers, marked tried, or -1.
  int pickServer();
  // No server was eligible for the first pick: all down (not a failure of
  // any one server).
  bool noneEligible() const { return none_eligible_; }
  // The retry budget allows one more retry now. Counts the exchange as
  // retrying (once) when it does, and a refusal when it does not. Asked
  // only for failures that say a server is overloaded (retryNeedsBudget).
  bool takeRetry();
  // Passive health: the current server failed (`err`: the errno, if any),
  // or answered with `status` (a failure when passive.on_status lists it).
  void serverFailed(FailureKind kind, int err);
  void serverAnswered(int status);
  // A new connection to the same server (replaying on a fresh connection).
  bool reconnectSameServer();

  bool active() const { return conn_ != nullptr; }
  bool ready() const { return ready_; }  // connected (or taken from the pool)
  bool reused() const { return conn_ && conn_->reused(); }
  core::Stream& stream() { return conn_->stream(); }
  evbuffer* output() { return conn_->stream().output(); }
  evbuffer* input() { return conn_->stream().input(); }
  // Writes what output() holds. False if the write failed: onUpstreamFailure
  // has then been called already.
  bool flush();
  // Any byte of this request has been handed to the socket.
  bool sentAny() const;
  unsigned attempts() const { return attempts_; }
  int server() const { return server_; }
  std::string_view name() const;
  const timeval& startedAt() const { return started_; }
  double connectTime() const { return connect_time_; }

  // The whole request has been written: the response timer starts.
  void requestSent();
  // The response is being read: re-arm the response timer for the next bytes.
  void responseProgress();
  void pauseReading();
  void resumeReading();
  // Ends the attempt: back to the pool when the connection can carry another
  // request, else closed.
  void release(bool reusable);
  // Hands the connection over (to a tunnel); the attempt becomes inactive.
  upstream::ConnectionPtr take();

 private:
  void onStreamRead(core::Stream& s) override;
  void onStreamWritable(core::Stream& s) override;
  void onStreamError(core::Stream& s) override;
  static void onTimer(void* arg);
  int open(size_t server);
  void armResponseTimer();
  void assign(int server);  // moves the in-flight count to `server` (-1: none)
  void endPoolRequest();
  upstream::PoolHealth& poolHealth() const;
  void recordFailure(const std::string& why);

  Exchange& owner_;
  ProxyWorker& worker_;
  SnapshotPtr snapshot_;  // the exchange's, kept while a connection may go back to its pool
  const Runtime* rt_ = nullptr;
  size_t pool_ = 0;
  const UpstreamTimeouts* timeouts_ = nullptr;
  upstream::ConnectionPtr conn_;
  upstream::TriedSet tried_;
  upstream::PickContext ctx_;
  int counted_server_ = -1;      // the server whose in-flight count this attempt holds
  bool pool_counted_ = false;    // counted in the pool's requests in flight
  bool retry_counted_ = false;   // counted in the pool's retries in flight
  bool none_eligible_ = false;
  core::Deadline timer_;
  timeval started_{};
  double connect_time_ = -1;
  int server_ = -1;
  unsigned attempts_ = 0;
  uint64_t written_before_ = 0;  // the connection's byte count when this request began
  bool ready_ = false;
  bool request_sent_ = false;
  bool response_started_ = false;
  bool paused_ = false;
};

}  // namespace weir::proxy
