// One downstream connection and the exchange in progress on it: read a
// request head, route it, send it upstream, relay the body both ways with
// backpressure, relay the response, then wait for the next request (or tunnel
// after a 101). One exchange at a time: pipelined requests wait in the input
// buffer and are answered in order.
//
// Bodies are never copied in user space when their framing is kept: the
// parser reports how many bytes of the input belong to the message, and
// those bytes move between evbuffers as chains. Only re-framed bodies
// (de-chunking for HTTP/1.0 clients) are copied.
//
// Owned by its ProxyWorker; loop thread only. Destroyed through the worker's
// deferred deletion after close().
#pragma once

#include <event2/event.h>
#include <event2/event_struct.h>

#include <string>

#include "weir/core/deadline.h"
#include "weir/core/stream.h"
#include "weir/core/worker.h"
#include "weir/http/forward.h"
#include "weir/http/parser.h"
#include "weir/upstream/balancer.h"
#include "weir/upstream/connection_pool.h"

namespace weir::proxy {

class ProxyWorker;
struct Runtime;

class Session final : public core::Deferred, private core::StreamHandler, private http::BodySink {
 public:
  Session(ProxyWorker& owner, int fd, const sockaddr* peer, socklen_t len);
  ~Session() override;

  void start();
  // Graceful stop: close now if idle, else after the current response.
  void drain();

 private:
  enum class State { kWaitRequest, kReadHead, kProxying, kTunnel, kClosing, kLingering, kClosed };

  // core::StreamHandler
  void onStreamRead(core::Stream& s) override;
  void onStreamWritable(core::Stream& s) override;
  void onStreamError(core::Stream& s) override;
  // http::BodySink: de-chunked response bytes for an HTTP/1.0 client
  void onBodyData(const char* data, size_t len) override;

  // Downstream side.
  void processClientInput();
  bool readRequestHead();
  void forwardRequestBody();
  void onClientWritable();

  // The exchange.
  void startExchange();
  bool connectUpstream();
  // A new connection to `server` in upstream_; 0 or the connect errno.
  int openConnection(size_t server);
  void sendRequestHead();
  void onUpstreamConnected();
  void onUpstreamFailure(int err, const char* what);
  void processUpstreamInput();
  bool handleResponseHead();
  void relayResponseBody(size_t consumed);
  void onUpstreamEof();
  void finishExchange();
  void respondError(int status, bool close, const char* why);
  void logAccess(int status);

  // Tunnel after 101.
  void startTunnel();
  void pumpTunnel();

  void endExchange(bool close_client, bool linger);
  void nextRequest();
  void finishClosing();
  bool draining() const;
  void closeAfterFlush(bool linger);
  void startLingering();
  void close();
  void releaseUpstream(bool reusable);
  void applyBackpressure();
  void armClientTimer(std::chrono::milliseconds d) { client_deadline_.set(d); }
  void armUpstreamTimer(std::chrono::milliseconds d) { upstream_deadline_.set(d); }
  static void onClientTimeout(void* arg);
  static void onUpstreamTimeout(void* arg);
  std::string_view upstreamName() const;
  double elapsedSince(const timeval& t) const;

  ProxyWorker& owner_;
  const Runtime* rt_;
  core::Stream client_;
  std::string client_addr_;
  bool trusted_client_;  // in proxy_headers.trusted_clients (fixed at accept)
  http::Parser request_parser_;
  http::Parser response_parser_;
  upstream::ConnectionPtr upstream_;
  upstream::TriedSet tried_;
  core::Deadline client_deadline_;    // header, idle, send and linger timeouts
  core::Deadline upstream_deadline_;  // connect and response timeouts
  std::string scratch_;
  State state_ = State::kWaitRequest;
  int route_ = -1;
  size_t pool_ = 0;
  int server_ = -1;
  unsigned attempts_ = 0;
  http::ResponsePlan plan_{};
  timeval started_{};
  timeval upstream_started_{};
  double upstream_time_ = -1;
  uint64_t response_bytes_ = 0;
  int status_ = 0;
  bool request_done_ = false;
  bool response_head_sent_ = false;
  bool response_started_ = false;  // any byte came back from the upstream
  bool draining_ = false;
  bool linger_ = false;            // after an error: drain what the client still sends
  bool upstream_ready_ = false;    // connected (or taken from the pool)
  bool client_eof_ = false;
  bool retried_stale_ = false;
  bool client_paused_for_upstream_ = false;
  bool upstream_paused_for_client_ = false;
};

}  // namespace weir::proxy
