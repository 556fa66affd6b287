// One request and its response: route the request, send it upstream (with
// retries the RetryPolicy allows), relay the response back with
// backpressure, end it cleanly or cut it short, and write its access-log line.
//
// What reaches an upstream: the request head is held until the framing of
// what follows is known good. A request with a chunked body is sent only once
// the body's first chunk-size line (and every other byte that arrived with
// the head) has been validated; body bytes are forwarded only after the
// parser accepted them, so a malformed chunk found later ends the upstream
// connection before the message is complete. An upstream therefore never
// receives a complete request that weir rejected. (With Expect: 100-continue
// the head goes at once: the client waits for the upstream's answer before
// sending the body.)
//
// Owned by its Downstream (one per client connection, reused for every
// request on it); loop thread only.
#pragma once

#include <sys/time.h>

#include <string>
#include <vector>

#include "proxy/cache_flow.h"
#include "proxy/upstream_attempt.h"
#include "weir/cache/object.h"
#include "weir/http/forward.h"
#include "weir/http/parser.h"
#include "weir/http/request_id.h"
#include "weir/proxy/exchange_hooks.h"
#include "weir/proxy/retry_policy.h"

struct event_base;

namespace weir::core {
class Worker;
}

namespace weir::proxy {

class Downstream;
class ProxyWorker;
struct Runtime;

class Exchange final : private http::BodySink {
 public:
  explicit Exchange(Downstream& client);
  ~Exchange() override;

  // A request head was parsed (its body, if any, follows through
  // requestBody()). Resets every per-exchange field first.
  void start(bool request_done);
  bool active() const { return active_; }
  bool responseHeadSent() const { return head_sent_; }
  bool hundredContinueSent() const { return continue_sent_; }

  // A request the parser refused (400, 408, 413, 414, 431, 501): answered
  // with `status` and Connection: close, and logged. It gets a new request
  // ID (when on): the client's fields of a refused head are not trusted.
  void reject(int status, std::string_view reason);

  // Validated request body bytes: the first n bytes of `in` move upstream.
  void requestBody(evbuffer* in, size_t n);
  // Sends what requestBody() queued (once per client read).
  void flushRequestBody();
  // The request body (or the bodiless request) is complete.
  void requestComplete();
  // The rest of the request was malformed or too large (status 400/413).
  void requestFailed(int status, std::string_view reason);
  // The request body did not arrive in time (client_body).
  void requestTimedOut();
  // The client's output fell to the low-water mark: resume the response.
  void clientWritable();
  // The client closed, reset, or stopped reading (why: for the log).
  void clientGone(std::string_view why);
  // The worker drains while this exchange reads on without its client
  // (see clientGone): it ends unless the cache still wants the rest.
  void drainOrphan();
  // Weir answers the request itself (no route, upstream errors).
  void respondError(int status, std::string_view why);
  // The tunnel that followed this exchange's 101 has ended: its log line.
  void tunnelEnded(uint64_t to_upstream, uint64_t to_client);
  // The client connection is closing: drop whatever is still in progress.
  void end();

  int server() const { return upstream_.server(); }
  std::string_view upstreamName() const { return upstream_.name(); }
  // "upstream NAME: what: reason (METHOD TARGET from CLIENT)" in the error log.
  void logUpstreamError(std::string_view what, int err);

  // --- for the cache (CacheFlow) ---
  const http::RequestHead& request() const;
  const Runtime& runtime() const { return *rt_; }
  const config::RouteConfig& route() const;
  // The loop's cached clock, in seconds since the epoch.
  int64_t nowSeconds() const;
  int64_t nowMs() const;
  // Answers from a stored object: its head, its Content-Length, `extra`
  // (Age, Cache-Status), the request ID and Connection, then (unless HEAD)
  // its body by reference, no byte copied. Ends the exchange.
  void serveStored(const cache::Object& object, std::string_view extra);
  // A 304 from a stored object (the client's preconditions say its copy is
  // current): the stored head without its representation metadata
  // (RFC 9110 15.4.5), then `extra`, the request ID and Connection; no
  // body. Ends the exchange.
  void serveNotModified(const cache::Object& object, std::string_view extra);
  // A 206 of bytes [first, last] of a complete stored object, with
  // Content-Range; the bytes by reference. Ends the exchange.
  void serveStoredPart(const cache::Object& object, std::string_view extra, uint64_t first, uint64_t last);
  // The same for an object still filling (a coalesced request), in steps:
  // the head (framed by the declared length; else chunked to HTTP/1.1
  // clients and close-delimited to HTTP/1.0), then committed spans as they
  // come (by reference), then the end or a cut. False from
  // sendStoredHead/sendStoredBody: the client is gone (the exchange ended).
  bool sendStoredHead(const cache::Object& object, std::string_view extra);
  bool sendStoredBody(const std::vector<cache::ChunkSpan>& spans);
  void finishStored();
  void abortStored(std::string_view error);
  bool storedBodyWanted() const { return plan_.body != http::BodyMode::kNone; }
  bool clientBacklogged() const;
  // What start() does after a lookup that did not answer: go upstream.
  void fetch();
  // The upstream's response is not relayed (the cache answers instead):
  // its connection is kept when nothing of a bodiless response is left.
  void dropUpstream();
  // The client's address is in one of `nets`.
  bool clientIn(const std::vector<Cidr>& nets) const;
  // Weir answers with a small JSON body of its own (a PURGE). Ends the
  // exchange.
  void respondJson(int status, std::string_view body);
  // The exchange is weir's own background revalidation (no real client).
  bool background() const;
  // Starts one (ProxyWorker::startBackground) for this exchange's client.
  bool startBackground(std::string_view request);
  // The client's listener (a background revalidation is made for it).
  uint64_t listener() const;
  core::Worker& loopWorker();
  event_base* base() const;

  // --- for UpstreamAttempt ---
  void upstreamConnected();
  void upstreamReadable();
  void upstreamWritable();
  void upstreamWriteFailed();
  void upstreamFailed(FailureKind kind, int err, std::string_view what);

 private:
  void onBodyData(const char* data, size_t len) override;
  bool connectAndSend();
  void writeRequestHead();
  bool headMayGo() const;
  void releaseHead();
  void flushUpstream();
  bool handleResponseHead();
  bool relayInterim();
  void relayBody(size_t consumed);
  void tapBody(evbuffer* in, size_t n);
  void upstreamEnded();
  void finishResponse();
  void abortResponse(std::string_view error);
  void answer(int status, bool close, bool linger, unsigned retry_after = 0);
  bool clientBodyEndsAtClose() const;
  void keepForReplay(evbuffer* in, size_t n);
  bool retryOnStatus(int status);
  bool retryElsewhere(bool resend, int first);
  void resendFromStart();
  RetryState retryState() const;
  bool clientSawResponse() const;
  void allServersDown();
  bool wantClose() const;
  void applyBackpressure();
  void resetFields();
  // `status_line` (without CRLF) replaces the stored one when not empty.
  void writeStoredHead(const cache::Object& object, int64_t length, std::string_view extra,
                       std::string_view status_line = {});
  void endStoredHead(std::string_view extra, int status);
  void addBodyReference(const cache::Chunk* chunk, size_t offset, size_t length);
  void chooseRequestId();
  void logAccess();
  void recordStats();  // metrics, when on (exchange_log.cc)
  double elapsed(const timeval& since) const;

  Downstream& client_;
  ProxyWorker& worker_;
  const Runtime* rt_ = nullptr;
  UpstreamAttempt upstream_;
  http::Parser response_parser_;
  ExchangeHooks* hooks_ = nullptr;  // &cache_flow_ on a cached route
  CacheFlow cache_flow_;
  std::string scratch_;
  std::string held_head_;  // the request head, until the framing after it is known good
  http::ResponsePlan plan_{};
  int route_ = -1;
  size_t pool_ = 0;
  int status_ = 0;
  unsigned interim_ = 0;         // 1xx responses relayed
  uint64_t head_bytes_ = 0;      // response head bytes sent to the client
  uint64_t body_bytes_ = 0;      // response body bytes sent to the client (framing included)
  uint64_t request_bytes_ = 0;   // request body bytes forwarded
  double header_time_ = -1;
  http::RequestId request_id_;   // empty when request IDs are off
  std::string_view error_;       // why the exchange did not end normally ("" if it did)
  bool active_ = false;
  bool request_done_ = false;
  bool head_released_ = false;
  bool head_sent_ = false;       // the final response head went to the client
  bool continue_sent_ = false;   // a 100 Continue went to the client
  bool replayed_ = false;
  bool body_kept_ = true;        // the body forwarded so far is all in replay_body_ (see keepForReplay)
  std::string replay_body_;
  bool body_dropped_ = false;    // the upstream stopped taking the body after it began to answer
  bool client_paused_us_ = false;  // upstream reading paused: the client output is full
  bool stored_until_close_ = false;  // a stored body of unknown length, ended by the close
  bool orphan_ = false;  // the client left; the response is read on for the cache (see clientGone)
};

}  // namespace weir::proxy
