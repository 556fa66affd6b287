#include "proxy/cache_flow.h"

#include <llhttp.h>

#include <string>

#include "proxy/exchange.h"
#include "weir/cache/policy.h"
#include "weir/http/forward.h"
#include "weir/proxy/runtime.h"

namespace weir::proxy {
namespace {

// The key of what a request names: GET and HEAD share one (plain HTTP
// until weir terminates TLS).
cache::CacheKey keyOf(const http::RequestHead& req, std::string_view path) {
  return cache::CacheKey::forRequest("GET", "http", req.authority, path);
}

cache::ReuseLimits limitsOf(const cache::ObjectMeta& m) {
  return {m.has(cache::ObjectMeta::kNoCache),
          m.has(cache::ObjectMeta::kMustRevalidate) || m.has(cache::ObjectMeta::kProxyRevalidate)};
}

int64_t ageOf(const cache::ObjectMeta& m, int64_t now) {
  return cache::currentAge(m.corrected_initial_age, m.response_time, now);
}

}  // namespace

void CacheFlow::reset(cache::Store* store) {
  fill_ = cache::FillHandle();  // the old handle, if still active, abandons its fill
  store_ = store;
  request_cc_ = {};
  status_ = {};
  detail_.clear();
}

bool CacheFlow::lookup(Exchange& ex, const http::RequestHead& req) {
  const int64_t now = ex.nowSeconds();
  request_time_ = now;
  if (req.method != HTTP_GET && req.method != HTTP_HEAD) {
    status_.fwd = cache::Fwd::kMethod;
    return false;
  }
  request_cc_ = cache::requestCacheControl(req);
  const cache::CacheKey key = keyOf(req, req.path);
  const cache::ObjectPtr object = store_->lookup(key);
  const cache::LookupDecision d =
      object ? cache::decideLookup(request_cc_, false, ageOf(object->meta(), now), object->meta().freshness_lifetime,
                                   limitsOf(object->meta()))
             : cache::decideMiss(request_cc_);
  status_.fwd = cache::fwdFor(d);
  switch (d) {
    case cache::LookupDecision::kServeFresh:
    case cache::LookupDecision::kServeStale:
      return serveHit(ex, object, now);
    case cache::LookupDecision::kGatewayTimeout:
      ex.respondError(504, "only-if-cached, and nothing usable is stored");
      return true;
    case cache::LookupDecision::kBypass:
      return false;
    case cache::LookupDecision::kOriginStale:
    case cache::LookupDecision::kOriginRequest:
    case cache::LookupDecision::kOriginMiss:
      // A HEAD has no body to store; its GET fills the entry.
      if (req.method == HTTP_GET) startFill(key, d != cache::LookupDecision::kOriginMiss);
      return false;
  }
  return false;
}

bool CacheFlow::serveHit(Exchange& ex, const cache::ObjectPtr& object, int64_t now) {
  const int64_t age = ageOf(object->meta(), now);
  status_.hit = true;
  status_.ttl = object->meta().freshness_lifetime - age;
  std::string extra = "Age: " + std::to_string(cache::ageFieldValue(age)) + "\r\n";
  statusField(extra);
  ex.serveStored(*object, extra);
  return true;
}

// The one filler per key is decided by the store. Without coalescing yet, a
// request that finds another fill in progress fetches for itself and does
// not store.
void CacheFlow::startFill(const cache::CacheKey& key, bool replace) {
  cache::BeginFill begin = store_->beginFill(key, replace);
  switch (begin.kind) {
    case cache::BeginFill::Kind::kFill:
      fill_ = std::move(begin.fill);
      break;
    case cache::BeginFill::Kind::kWait:
      status_.collapsed = false;
      break;
    case cache::BeginFill::Kind::kHit:  // stored meanwhile: this fetch goes on, unstored
    case cache::BeginFill::Kind::kRefused:
      break;
  }
}

void CacheFlow::responseHead(Exchange& ex, const http::ResponseHead& resp, std::string& extra) {
  invalidate(ex.request(), resp);
  if (fill_.active()) decideStore(ex, resp, ex.nowSeconds());
  statusField(extra);
}

void CacheFlow::decideStore(Exchange& ex, const http::ResponseHead& resp, int64_t now) {
  const config::Config& config = *ex.runtime().config;
  cache::StorableOptions opts;
  opts.allow_set_cookie = ex.route().cache_store_set_cookie;
  const cache::CacheControl cc = cache::responseCacheControl(resp);
  const cache::StoreDecision decision = cache::storable(ex.request(), request_cc_, resp, cc, opts);
  if (!decision.ok()) {
    detail_ = cache::refusalName(decision.refusal);
    fill_.abandon();
    return;
  }
  cache::FreshnessOptions fresh;
  fresh.response_time = now;
  fresh.heuristic_percent = static_cast<int>(config.cache.heuristic_fraction * 100 + 0.5);
  fresh.heuristic_max = std::chrono::duration_cast<std::chrono::seconds>(config.cache.heuristic_max).count();
  const cache::FreshnessLifetime life = cache::freshnessLifetime(resp, cc, fresh);
  cache::ObjectMeta meta;
  meta.status = resp.status;
  meta.request_time = request_time_;
  meta.response_time = now;
  meta.corrected_initial_age = cache::correctedInitialAge(cache::ageInputs(resp, request_time_, now));
  meta.freshness_lifetime = life.seconds;
  meta.body_length = resp.chunked || !resp.has_content_length ? -1 : static_cast<int64_t>(resp.content_length);
  if (cc.no_cache) meta.flags |= cache::ObjectMeta::kNoCache;
  if (cc.must_revalidate) meta.flags |= cache::ObjectMeta::kMustRevalidate;
  if (cc.proxy_revalidate || cc.s_maxage.present) meta.flags |= cache::ObjectMeta::kProxyRevalidate;
  std::string head;
  http::writeStoredResponseHead(resp, ex.runtime().forward, head);
  if (auto st = fill_.setHead(std::move(head), meta); !st) {
    detail_ = "too_large_or_no_space";
    return;
  }
  status_.stored = true;
  status_.ttl = life.seconds - meta.corrected_initial_age;
}

void CacheFlow::responseBody(Exchange&, const char* data, size_t len) {
  if (fill_.active()) (void)fill_.append(data, len);  // a failure abandons; the client still gets every byte
}

void CacheFlow::responseEnd(Exchange&, bool complete) {
  if (!fill_.active()) return;
  if (complete) {
    (void)fill_.complete();
  } else {
    fill_.abandon();
  }
}

bool CacheFlow::upstreamFailed(Exchange&, int) {
  fill_.abandon();
  return false;
}

// RFC 9111 4.4: a non-error answer to an unsafe method invalidates the
// target and the same-host Location and Content-Location.
void CacheFlow::invalidate(const http::RequestHead& req, const http::ResponseHead& resp) {
  for (const std::string& target : cache::invalidationTargets(req, resp)) store_->erase(keyOf(req, target));
}

void CacheFlow::statusField(std::string& extra) const {
  cache::CacheStatus status = status_;
  status.detail = detail_;
  std::string value;
  cache::appendCacheStatus(status, value);
  extra += "Cache-Status: " + value + "\r\n";
}

}  // namespace weir::proxy
