// Named points where policies plug into an exchange without adding flags to
// its state machine: the cache (lookup before the upstream, fill from the
// response, serve stale when the upstream fails) and later others. Every
// hook has a default that changes nothing, so the plain proxy path pays one
// virtual call per point at most.
//
// Loop thread only; an implementation must not block and must not keep
// references to the request or response past the call.
#pragma once

#include <cstddef>
#include <string>

#include "weir/http/message.h"

namespace weir::proxy {

class Exchange;

class ExchangeHooks {
 public:
  virtual ~ExchangeHooks() = default;
  // Before an upstream is picked. True: the hook answered the request
  // itself (through the exchange) and no upstream is contacted.
  virtual bool lookup(Exchange& ex, const http::RequestHead& req) { return false; }
  // The request head for the upstream is being written. True: the cache
  // refetches what it holds (http::RequestContext::cache_refetch): the
  // client's validators and Range stay out, `fields` (validators of the
  // cache's own, each "Name: value\r\n") go in. `fields` must stay valid
  // until the exchange ends.
  virtual bool upstreamRequest(Exchange& ex, std::string_view& fields) { return false; }
  // The final response head from the upstream, before anything of it goes
  // to the client. True: the hook answered the client itself (a 304 that
  // revalidated what the cache holds, or a stale response served instead
  // of an upstream error) and the upstream response is dropped.
  virtual bool answerInstead(Exchange& ex, const http::ResponseHead& resp) { return false; }
  // The final response head from the upstream, before it is sent on.
  // Fields appended to `extra` (each "Name: value\r\n") go to the client
  // with it.
  virtual void responseHead(Exchange& ex, const http::ResponseHead& resp, std::string& extra) {}
  // Response body bytes as relayed (may be called many times).
  virtual void responseBody(Exchange& ex, const char* data, size_t len) {}
  // The response ended: `complete` is false when it was cut short.
  virtual void responseEnd(Exchange& ex, bool complete) {}
  // The client's output drained while no upstream is in use (the hook is
  // sending the response itself, e.g. streaming another fetch's object).
  virtual void clientWritable(Exchange& ex) {}
  // Weir answers the request itself (an error, only-if-cached's 504):
  // fields appended to `extra` go with it.
  virtual void ownResponse(Exchange& ex, int status, std::string& extra) {}
  // The client left after the response head went to it. True: the
  // exchange goes on reading the upstream without a client (the cache is
  // storing the response for others); asked again after each body read and
  // when the worker drains.
  virtual bool continueWithoutClient(Exchange& ex) { return false; }
  // The upstream failed before any response, or no server could be tried
  // (status is the error weir would send: 502, 503, 504). True: the hook
  // answered instead (serve stale).
  virtual bool upstreamFailed(Exchange& ex, int status) { return false; }
};

}  // namespace weir::proxy
