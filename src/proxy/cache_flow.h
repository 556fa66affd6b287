// The cache's part in one exchange on a route with cache: true, plugged in
// through ExchangeHooks: look the request up (a fresh hit is answered from
// the store, zero-copy), else fetch it, and store what RFC 9111 allows
// while it is relayed; unsafe methods invalidate what they changed. Every
// response on the route carries Cache-Status (RFC 9211).
//
// Coalescing: a request that finds the object being filled by another
// request (on any worker) waits for it instead of going to the origin, and
// streams the object as its bytes are committed. The filler's thread only
// posts a wake-up to the waiter's own loop (at most one outstanding per
// waiter); the waiter reads what is committed, by reference. A waiter is
// released to fetch for itself when the response turns out not storable,
// when the fill fails before its head (one of the released waiters becomes
// the new filler, the others wait for it, once), and after cache.lock_timeout
// without a head. A fill cut after the waiter began to stream cuts the
// waiter's response too.
//
// Owned by its Exchange, reset for each exchange; loop thread only.
#pragma once

#include <event2/event.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "weir/cache/cache_control.h"
#include "weir/cache/cache_status.h"
#include "weir/cache/key.h"
#include "weir/cache/store.h"
#include "weir/config/config.h"
#include "weir/core/worker.h"
#include "weir/stats/types.h"
#include "weir/proxy/exchange_hooks.h"

namespace weir::proxy {

class CacheFlow final : public ExchangeHooks {
 public:
  CacheFlow() = default;
  ~CacheFlow() override;
  CacheFlow(const CacheFlow&) = delete;
  CacheFlow& operator=(const CacheFlow&) = delete;

  // A new exchange on a cached route; abandons a fill still held. `slots`:
  // this worker's cache counters of the route (null: metrics off).
  void reset(cache::Store* store, stats::Slot* slots);
  // The exchange is being logged: counts its result; returns the
  // Cache-Status value it sent (for the access log).
  std::string_view finished();

  bool lookup(Exchange& ex, const http::RequestHead& req) override;
  void responseHead(Exchange& ex, const http::ResponseHead& resp, std::string& extra) override;
  void responseBody(Exchange& ex, const char* data, size_t len) override;
  void responseEnd(Exchange& ex, bool complete) override;
  bool upstreamFailed(Exchange& ex, int status) override;
  bool upstreamRequest(Exchange& ex, std::string_view& fields) override;
  bool answerInstead(Exchange& ex, const http::ResponseHead& resp) override;
  void ownResponse(Exchange& ex, int status, std::string& extra) override;
  void clientWritable(Exchange& ex) override;
  bool continueWithoutClient(Exchange& ex) override;

 private:
  // Answers from `object` (a hit, a refreshed or a stale object): Age,
  // Cache-Status as status_ says, the client's preconditions and Range.
  bool serveObject(Exchange& ex, const cache::ObjectPtr& object, int64_t now);
  bool serveHit(Exchange& ex, const cache::ObjectPtr& object, int64_t now);
  bool purgeRequest(Exchange& ex, const http::RequestHead& req, const std::vector<Cidr>& allow);
  // Stale objects (RFC 5861): at once while a revalidation runs, and in
  // place of a failed fetch.
  bool whileRevalidating(Exchange& ex, const cache::ObjectPtr& object, int64_t now, bool start_background);
  bool ifErrorAllowed(Exchange& ex, int64_t now) const;
  // The request's own directives let a stale object go out at once (no
  // no-cache, max-age or min-fresh).
  bool requestAcceptsStale() const;
  bool serveStale(Exchange& ex, int fwd_status, std::string_view detail);
  bool refreshed(Exchange& ex, const http::ResponseHead& resp, int64_t now);
  void endFill();
  // The request's variant key when `object` varies and is another variant
  // than the request's (then true); false when `object` answers it.
  bool otherVariant(const http::RequestHead& req, const cache::Object& object, cache::CacheKey* key);
  void addInternalTags(std::vector<std::string>& tags) const;
  cache::StoredExtras extrasFor(const http::RequestHead& req, const http::ResponseHead& resp,
                                const config::Config& config);
  // True when the exchange is handled (it waits for another fill).
  bool startFill(Exchange& ex, const cache::CacheKey& key, bool replace);
  bool wait(Exchange& ex, cache::ObjectPtr object);
  void onFill();
  void pump();
  void release(cache::AbandonReason reason);
  void stopWaiting();
  static void onLockTimeout(evutil_socket_t, short, void* arg);
  void decideStore(Exchange& ex, const http::ResponseHead& resp, int64_t now);
  void invalidate(Exchange& ex, const http::RequestHead& req, const http::ResponseHead& resp);
  void statusField(std::string& extra);
  void countRefusal(size_t reason);
  void countFillFailure(cache::AbandonReason reason);
  void countWait(stats::CacheWait outcome);

  cache::Store* store_ = nullptr;
  cache::FillHandle fill_;
  cache::CacheControl request_cc_;
  cache::CacheStatus status_;
  std::string detail_;    // Cache-Status detail (why not stored), owned here
  int64_t request_time_ = 0;
  stats::Slot* slots_ = nullptr;
  stats::CacheResult result_ = stats::CacheResult::kMiss;
  std::string sent_status_;  // the Cache-Status value sent
  std::string own_extra_;    // fields for weir's own answer (a 416's Content-Range)
  // The stale object this request may be answered with if its fetch fails
  // (the fill's previous object, or the one a waited-for fill revalidates).
  cache::ObjectPtr stale_;
  std::string validators_;   // the conditional fields sent to revalidate stale_ ("" for none)
  bool refetch_ = false;     // the upstream request refetches stale_ (see upstreamRequest)
  // Variants (Vary): the URL's key, and when the request is for a variant
  // stored under a key of its own, that variant's secondary key.
  cache::CacheKey url_key_;   // what a purge of the URL names (the route's query options applied)
  cache::CacheKey base_key_;  // url_key_, or with the route's key headers and cookies
  std::string secondary_;
  bool variant_ = false;
  bool vary_retried_ = false;  // a waiter went on to its own variant once

  // Coalescing (see above); loop thread only, except WaitLink::pending.
  struct WaitLink {
    std::atomic<bool> pending{false};  // a wake-up is posted and not yet run
    CacheFlow* flow = nullptr;         // null once the wait ended
    core::Worker* worker = nullptr;
  };
  Exchange* ex_ = nullptr;
  cache::CacheKey key_;
  cache::ObjectPtr waiting_;  // the object another request fills
  cache::SubscriptionId subscription_ = 0;
  std::shared_ptr<WaitLink> link_;
  event* lock_timer_ = nullptr;
  uint64_t sent_ = 0;       // body bytes handed to the client
  bool sending_ = false;    // the head went out
  bool raced_ = false;      // released once already: the next release fetches
  std::vector<cache::ChunkSpan> spans_;
};

}  // namespace weir::proxy
