// The cache's part in one exchange on a route with cache: true, plugged in
// through ExchangeHooks: look the request up (a fresh hit is answered from
// the store, zero-copy), else fetch it, and store what RFC 9111 allows
// while it is relayed; unsafe methods invalidate what they changed. Every
// response on the route carries Cache-Status (RFC 9211).
//
// Coalescing is not here yet: a request that finds the object being filled
// by another fetches for itself (Cache-Status says collapsed=?0) and does
// not store.
//
// Owned by its Exchange, reset for each exchange; loop thread only.
#pragma once

#include <cstdint>
#include <string>

#include "weir/cache/cache_control.h"
#include "weir/cache/cache_status.h"
#include "weir/cache/key.h"
#include "weir/cache/store.h"
#include "weir/proxy/exchange_hooks.h"

namespace weir::proxy {

class CacheFlow final : public ExchangeHooks {
 public:
  // A new exchange on a cached route; abandons a fill still held.
  void reset(cache::Store* store);

  bool lookup(Exchange& ex, const http::RequestHead& req) override;
  void responseHead(Exchange& ex, const http::ResponseHead& resp, std::string& extra) override;
  void responseBody(Exchange& ex, const char* data, size_t len) override;
  void responseEnd(Exchange& ex, bool complete) override;
  bool upstreamFailed(Exchange& ex, int status) override;

 private:
  bool serveHit(Exchange& ex, const cache::ObjectPtr& object, int64_t now);
  void startFill(const cache::CacheKey& key, bool replace);
  void decideStore(Exchange& ex, const http::ResponseHead& resp, int64_t now);
  void invalidate(const http::RequestHead& req, const http::ResponseHead& resp);
  void statusField(std::string& extra) const;

  cache::Store* store_ = nullptr;
  cache::FillHandle fill_;
  cache::CacheControl request_cc_;
  cache::CacheStatus status_;
  std::string detail_;    // Cache-Status detail (why not stored), owned here
  int64_t request_time_ = 0;
};

}  // namespace weir::proxy
