#include "proxy/cache_flow.h"

#include <llhttp.h>

#include <algorithm>
#include <chrono>
#include <string>

#include "proxy/exchange.h"
#include "weir/cache/policy.h"
#include "weir/cache/preconditions.h"
#include "weir/cache/ranges.h"
#include "weir/cache/stale.h"
#include "weir/cache/key_options.h"
#include "weir/cache/vary.h"
#include "weir/http/forward.h"
#include "weir/http/parser.h"
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

// A soft purge makes an object stale from then on: its lifetime ends at
// the age it had then (so staleness counts from the purge).
int64_t lifetimeOf(const cache::Object& o) {
  const cache::ObjectMeta& m = o.meta();
  if (!o.markedStale()) return m.freshness_lifetime;
  const int64_t age_then = cache::currentAge(m.corrected_initial_age, m.response_time, o.markedStaleAt());
  return std::clamp<int64_t>(age_then, 0, m.freshness_lifetime);
}

int64_t secondsOf(config::Duration d) { return std::chrono::duration_cast<std::chrono::seconds>(d).count(); }

// How long a background revalidation may run before another may start
// for the same object (one that failed leaves the object as it was).
constexpr int64_t kRefreshRetrySeconds = 10;
// After a failed fetch of a stale object, the next requests get it stale
// (when stale-if-error allows) without trying the origin, for this long:
// an origin that is down sees one attempt per object per second, not one
// per request.
constexpr int64_t kStaleRetryMs = 1000;

// The conditional fields that revalidate `o` (RFC 9111 4.3.1): its ETag as
// If-None-Match and its Last-Modified as If-Modified-Since; "" without
// validators.
std::string validatorFields(const cache::Object& o) {
  const cache::StoredValidators v = cache::validatorsOf(o.head(), o.meta().response_time);
  std::string out;
  if (!v.etag.empty()) out.append("If-None-Match: ").append(v.etag).append("\r\n");
  if (v.last_modified) {
    out.append("If-Modified-Since: ");
    cache::appendHttpDate(*v.last_modified, out);
    out.append("\r\n");
  }
  return out;
}

// The request a background revalidation sends for `req`: a GET of the same
// target with the client's end-to-end fields, but none of its validators,
// ranges, cache directives, framing or request ID.
std::string backgroundRequest(const http::RequestHead& req, std::string_view request_id_header) {
  std::string out = "GET " + req.path + " HTTP/1.1\r\nHost: " + req.authority + "\r\n";
  const http::HeaderBlock& f = req.fields;
  for (size_t i = 0; i < f.size(); ++i) {
    switch (f.field(i).token) {
      case http::Token::kHost:
      case http::Token::kConnection:
      case http::Token::kKeepAlive:
      case http::Token::kTE:
      case http::Token::kUpgrade:
      case http::Token::kTransferEncoding:
      case http::Token::kContentLength:
      case http::Token::kExpect:
      case http::Token::kCacheControl:
      case http::Token::kPragma:
      case http::Token::kIfMatch:
      case http::Token::kIfNoneMatch:
      case http::Token::kIfModifiedSince:
      case http::Token::kIfUnmodifiedSince:
      case http::Token::kIfRange:
      case http::Token::kRange:
        continue;
      default:
        break;
    }
    if (!request_id_header.empty() && http::equalsIgnoreCase(f.name(i), request_id_header)) continue;
    out.append(f.name(i)).append(": ").append(f.value(i)).append("\r\n");
  }
  out += "Connection: close\r\n\r\n";
  return out;
}

// Reads a stored head (as writeStoredResponseHead makes it) back into a
// ResponseHead, for the policy functions. False when it does not parse.
bool parseStoredHead(const std::string& head, http::Parser& parser) {
  parser.setNoBodyExpected(true);
  const std::string whole = head + "\r\n";
  const http::Parser::Step step = parser.execute(whole.data(), whole.size());
  return (step.flags & http::Parser::kHeadComplete) != 0 && (step.flags & http::Parser::kError) == 0;
}

}  // namespace

CacheFlow::~CacheFlow() {
  stopWaiting();
  if (lock_timer_ != nullptr) event_free(lock_timer_);
}

void CacheFlow::reset(cache::Store* store, stats::Slot* slots) {
  stopWaiting();
  endFill();  // a fill still held ends: a stale object it would replace goes back
  store_ = store;
  slots_ = slots;
  result_ = stats::CacheResult::kMiss;
  sent_status_.clear();
  request_cc_ = {};
  status_ = {};
  detail_.clear();
  raced_ = false;
  own_extra_.clear();
  stale_.reset();
  validators_.clear();
  refetch_ = false;
  secondary_.clear();
  variant_ = vary_retried_ = false;
}

bool CacheFlow::otherVariant(const http::RequestHead& req, const cache::Object& object, cache::CacheKey* key) {
  if (!object.varies()) return false;
  std::string secondary = cache::secondaryKey(req, cache::namesOfSecondaryKey(object.vary()));
  if (secondary == object.vary()) return false;
  *key = cache::CacheKey::variant(base_key_, secondary);
  secondary_ = std::move(secondary);
  variant_ = true;
  return true;
}

bool CacheFlow::lookup(Exchange& ex, const http::RequestHead& req) {
  const int64_t now = ex.nowSeconds();
  request_time_ = now;
  const std::vector<Cidr>& purge_allow = ex.runtime().config->cache.purge_method_allow;
  if (!purge_allow.empty() && req.method_name == "PURGE") return purgeRequest(ex, req, purge_allow);
  if (req.method != HTTP_GET && req.method != HTTP_HEAD) {
    status_.fwd = cache::Fwd::kMethod;
    result_ = stats::CacheResult::kBypass;
    return false;
  }
  request_cc_ = cache::requestCacheControl(req);
  // RFC 9111 4.3.2: If-Match and If-Unmodified-Since are not for a cache to
  // answer: such a request goes to the origin, which decides.
  if (req.fields.find(http::Token::kIfMatch) >= 0 || req.fields.find(http::Token::kIfUnmodifiedSince) >= 0) {
    status_.fwd = cache::Fwd::kRequest;
    result_ = stats::CacheResult::kRequest;
    return false;
  }
  const config::CacheKeyConfig& kc = ex.route().cache_key;
  cache::CacheKey key = keyOf(
      req, kc.changesTarget() ? cache::keyTarget(req.path, kc.ignore_query, kc.ignore_all_query, kc.sort_query) : req.path);
  url_key_ = key;
  if (kc.addsParts()) {
    std::string parts(1, '\x02');  // never the first byte of a Vary secondary key
    parts += cache::keyParts(req, kc.headers, kc.cookies);
    key = cache::CacheKey::variant(key, parts);
  }
  base_key_ = key;
  cache::ObjectPtr object = store_->lookup(key);
  // The URL's first variant is stored under its own key and names the
  // fields it varies on; any other variant is stored under a key of its own.
  if (object && otherVariant(req, *object, &key)) object = store_->lookup(key);
  int64_t age = 0;
  if (object) age = ageOf(object->meta(), now);
  const cache::LookupDecision d =
      object ? cache::decideLookup(request_cc_, false, age, lifetimeOf(*object), limitsOf(object->meta()))
             : cache::decideMiss(request_cc_);
  status_.fwd = cache::fwdFor(d);
  switch (d) {
    case cache::LookupDecision::kServeFresh:
    case cache::LookupDecision::kServeStale:
      result_ = stats::CacheResult::kHit;
      return serveHit(ex, object, now);
    case cache::LookupDecision::kGatewayTimeout:
      result_ = stats::CacheResult::kUnavailable;
      detail_ = "only_if_cached";  // not forwarded: no fwd
      ex.respondError(504, "only-if-cached, and nothing usable is stored");
      return true;
    case cache::LookupDecision::kBypass:
      result_ = stats::CacheResult::kBypass;
      return false;
    case cache::LookupDecision::kOriginStale:
    case cache::LookupDecision::kOriginRequest:
    case cache::LookupDecision::kOriginMiss:
      result_ = d == cache::LookupDecision::kOriginStale     ? stats::CacheResult::kStale
                : d == cache::LookupDecision::kOriginRequest ? stats::CacheResult::kRequest
                                                             : stats::CacheResult::kMiss;
      if (d == cache::LookupDecision::kOriginStale && !ex.background() && whileRevalidating(ex, object, now, true)) {
        return true;
      }
      if (object) stale_ = object;  // served in place of a failed fetch, when allowed
      if (stale_ && d == cache::LookupDecision::kOriginStale && !ex.background() &&
          stale_->fetchFailedWithin(ex.nowMs(), kStaleRetryMs) && ifErrorAllowed(ex, now)) {
        return serveStale(ex, 0, "stale-if-error");
      }
      // A HEAD has no body to store; its GET fills the entry.
      if (req.method == HTTP_GET) return startFill(ex, key, d != cache::LookupDecision::kOriginMiss);
      return false;
  }
  return false;
}

// PURGE URL from an allowed network: what is stored for the URL (all its
// variants and key parts) goes, and weir answers {"purged": N}.
bool CacheFlow::purgeRequest(Exchange& ex, const http::RequestHead& req, const std::vector<Cidr>& allow) {
  status_.fwd = cache::Fwd::kMethod;
  result_ = stats::CacheResult::kBypass;
  if (!ex.clientIn(allow)) {
    ex.respondError(403, "PURGE from a network cache.purge_method_allow does not list");
    return true;
  }
  const config::CacheKeyConfig& kc = ex.route().cache_key;
  const cache::CacheKey key = keyOf(
      req, kc.changesTarget() ? cache::keyTarget(req.path, kc.ignore_query, kc.ignore_all_query, kc.sort_query) : req.path);
  const size_t n = (store_->erase(key) ? 1 : 0) + store_->purgeTag(cache::CacheKey::variantTag(key), false);
  ex.respondJson(200, "{\"purged\": " + std::to_string(n) + "}\n");
  return true;
}

bool CacheFlow::serveHit(Exchange& ex, const cache::ObjectPtr& object, int64_t now) {
  status_.hit = true;
  return serveObject(ex, object, now);
}

bool CacheFlow::serveObject(Exchange& ex, const cache::ObjectPtr& object, int64_t now) {
  const int64_t age = ageOf(object->meta(), now);
  status_.ttl = lifetimeOf(*object) - age;
  std::string extra = "Age: " + std::to_string(cache::ageFieldValue(age)) + "\r\n";
  statusField(extra);
  if (object->varies()) object->touchUsed(ex.nowMs());
  if (ex.background()) {  // weir's own revalidation: nobody reads the body
    ex.serveNotModified(*object, extra);
    return true;
  }
  const http::RequestHead& req = ex.request();
  const bool preconditions = cache::hasPreconditions(req);
  const bool ranged = req.fields.find(http::Token::kRange) >= 0;
  if (!preconditions && !ranged) {
    ex.serveStored(*object, extra);
    return true;
  }
  const cache::StoredValidators validators = cache::validatorsOf(object->head(), object->meta().response_time);
  // RFC 9111 4.3.2 (the cache answers them itself) for what a 2xx would
  // answer; RFC 9110 13.2.1: other statuses ignore preconditions.
  const int stored_status = object->meta().status;
  if (preconditions && stored_status >= 200 && stored_status < 300) {
    switch (cache::evaluatePreconditions(req, validators)) {
      case cache::Precondition::kNotModified:
        ex.serveNotModified(*object, extra);
        return true;
      case cache::Precondition::kFailed:
        ex.respondError(412, "a precondition failed against the stored response");
        return true;
      case cache::Precondition::kNone:
        break;
    }
  }
  const cache::RangeDecision range = cache::decideRange(req, object->meta().status, object->bodySize(), validators);
  switch (range.answer) {
    case cache::RangeAnswer::kPartial:
      ex.serveStoredPart(*object, extra, range.first, range.last);
      return true;
    case cache::RangeAnswer::kUnsatisfiable:
      own_extra_ = "Content-Range: bytes */" + std::to_string(object->bodySize()) + "\r\n";
      ex.respondError(416, "the range asks for bytes past the stored object's end");
      return true;
    case cache::RangeAnswer::kWhole:
      break;
  }
  ex.serveStored(*object, extra);
  return true;
}

// The one filler per key is decided by the store; the others wait for it.
// A request with a body of its own (a GET with one) does not wait: what it
// sent could not be forwarded later.
bool CacheFlow::startFill(Exchange& ex, const cache::CacheKey& key, bool replace) {
  variant_ = !(key == base_key_);  // otherVariant() chose it, and set secondary_
  cache::BeginFill begin = store_->beginFill(key, replace);
  switch (begin.kind) {
    case cache::BeginFill::Kind::kFill:
      fill_ = std::move(begin.fill);
      if (cache::ObjectPtr previous = fill_.previous()) {
        // A stale object refetched: revalidated when it has validators.
        stale_ = std::move(previous);
        refetch_ = true;
        validators_ = validatorFields(*stale_);
      }
      return false;
    case cache::BeginFill::Kind::kWait: {
      if (ex.background()) {  // another request fetches it already
        ex.respondError(409, "the object is being fetched already");
        return true;
      }
      if (ex.request().hasBody()) {
        status_.collapsed = false;
        return false;
      }
      // A revalidation in progress: its stale object may go out at once
      // (stale-while-revalidate), or when the revalidation fails.
      cache::ObjectPtr previous = begin.object->previous();
      cache::CacheKey other;
      if (previous && !otherVariant(ex.request(), *previous, &other)) {
        if (whileRevalidating(ex, previous, ex.nowSeconds(), false)) return true;
        stale_ = std::move(previous);
      }
      return wait(ex, std::move(begin.object));
    }
    case cache::BeginFill::Kind::kHit: {  // stored since the lookup (a waiter's second try)
      const int64_t now = ex.nowSeconds();
      const int64_t age = ageOf(begin.object->meta(), now);
      cache::CacheKey other;
      if (otherVariant(ex.request(), *begin.object, &other)) return startFill(ex, other, false);
      if (!cache::isFresh(lifetimeOf(*begin.object), age)) return false;  // put back stale: fetch, do not store
      result_ = stats::CacheResult::kHit;
      return serveHit(ex, begin.object, now);
    }
    case cache::BeginFill::Kind::kRefused:
      countRefusal(begin.refusal == cache::Refusal::kCollision ? stats::kCacheCollision
                   : begin.refusal == cache::Refusal::kTooLarge ? stats::kCacheTooLarge
                                                                 : stats::kCacheNoSpace);
      break;
  }
  return false;
}

// ---- coalescing ------------------------------------------------------------

bool CacheFlow::wait(Exchange& ex, cache::ObjectPtr object) {
  ex_ = &ex;
  key_ = object->key();
  link_ = std::make_shared<WaitLink>();
  link_->flow = this;
  link_->worker = &ex.loopWorker();
  // Runs on the filler's thread: one wake-up posted at a time; the waiter
  // reads whatever is committed when it runs.
  auto wake = [link = link_](const cache::FillEvent&) {
    if (link->pending.exchange(true, std::memory_order_acq_rel)) return;
    link->worker->post([link] {
      link->pending.store(false, std::memory_order_release);
      if (link->flow != nullptr) link->flow->onFill();
    });
  };
  cache::FillEvent now;
  subscription_ = object->subscribe(std::move(wake), &now);
  waiting_ = std::move(object);
  status_.collapsed = true;
  const config::CacheConfig& cc = ex.runtime().config->cache;
  if (lock_timer_ == nullptr) lock_timer_ = evtimer_new(ex.base(), &CacheFlow::onLockTimeout, this);
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(cc.lock_timeout).count();
  const timeval tv{static_cast<time_t>(us / 1000000), static_cast<suseconds_t>(us % 1000000)};
  evtimer_add(lock_timer_, &tv);
  onFill();  // the head, or the end, may be there already
  return true;
}

void CacheFlow::onFill() {
  if (!waiting_) return;
  const cache::FillEvent ev = waiting_->snapshot();
  if (!sending_) {
    if (ev.state == cache::FillState::kAbandoned) {
      release(ev.reason);
      return;
    }
    if (!ev.head_ready) return;  // still waiting for the head
    cache::CacheKey other;
    if (!vary_retried_ && otherVariant(ex_->request(), *waiting_, &other)) {
      // Another variant than this request's: wait for (or fetch) its own.
      vary_retried_ = true;
      stopWaiting();
      status_.collapsed.reset();
      if (!startFill(*ex_, other, false)) ex_->fetch();
      return;
    }
    evtimer_del(lock_timer_);
    sending_ = true;
    result_ = stats::CacheResult::kCollapsed;
    countWait(stats::CacheWait::kStreamed);
    const cache::ObjectMeta& meta = waiting_->meta();
    const int64_t age = ageOf(meta, ex_->nowSeconds());
    status_.fwd = cache::Fwd::kUriMiss;
    status_.ttl = meta.freshness_lifetime - age;
    std::string extra = "Age: " + std::to_string(cache::ageFieldValue(age)) + "\r\n";
    statusField(extra);
    if (!ex_->sendStoredHead(*waiting_, extra)) return;  // client gone: the exchange ended (and so did the wait)
    if (!ex_->storedBodyWanted()) {  // HEAD
      stopWaiting();
      ex_->finishStored();
      return;
    }
  }
  pump();
}

// Hands the client what was committed since the last call, by reference;
// the client's backlog is the only brake (clientWritable() resumes it).
void CacheFlow::pump() {
  if (ex_->clientBacklogged()) return;
  spans_.clear();
  const cache::FillEvent ev = waiting_->readFrom(sent_, &spans_);
  for (const cache::ChunkSpan& span : spans_) sent_ += span.length;
  if (!ex_->sendStoredBody(spans_)) return;
  spans_.clear();
  if (ev.state == cache::FillState::kComplete && sent_ >= ev.committed) {
    stopWaiting();
    ex_->finishStored();
  } else if (ev.state == cache::FillState::kAbandoned) {
    stopWaiting();
    ex_->abortStored("cache_fill_failed");
  }
}

// The fill goes on after its client left while other requests stream it
// (and they would be cut otherwise); the object is then stored for the next
// ones too. Only while someone waits: a client that asks and leaves cannot
// leave fetches behind that hold connection slots at no cost to itself.
// Bounded like any fill (max_object_size, the budget, the upstream's
// timeouts).
bool CacheFlow::continueWithoutClient(Exchange&) {
  if (!fill_.active()) return false;
  const cache::ObjectPtr object = fill_.object();
  return object->subscriberCount() > 0;
}

void CacheFlow::clientWritable(Exchange&) {
  if (waiting_ && sending_) pump();
}

// Nothing was sent yet: fetch for ourselves. When the fill failed for a
// reason that says nothing about the response (its upstream failed, its
// client left, it was replaced), race once to become the new filler, so
// that the waiters do not all go to the origin.
void CacheFlow::release(cache::AbandonReason reason) {
  stopWaiting();
  if (reason == cache::AbandonReason::kRestored) {
    // The revalidation failed and put the stale object back: served if
    // allowed, else fetched for this request alone (it is not storable
    // from here: the stale object is under the key again).
    if (ifErrorAllowed(*ex_, ex_->nowSeconds())) {
      serveStale(*ex_, 0, "stale-if-error");
      return;
    }
    status_.collapsed = false;
    countWait(stats::CacheWait::kReleased);
    // One of the waiters revalidates it again (its fetch's client may
    // just have left); the others wait for that one, once.
    if (!raced_) {
      raced_ = true;
      if (startFill(*ex_, key_, true)) return;
    }
    ex_->fetch();
    return;
  }
  const bool refill = !raced_ && reason != cache::AbandonReason::kNotStorable &&
                      reason != cache::AbandonReason::kTooLarge && reason != cache::AbandonReason::kNoSpace;
  status_.collapsed = false;
  if (reason != cache::AbandonReason::kNone) countWait(stats::CacheWait::kReleased);
  if (refill) {
    raced_ = true;
    if (startFill(*ex_, key_, false)) return;
  }
  ex_->fetch();
}

void CacheFlow::onLockTimeout(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<CacheFlow*>(arg);
  if (!self->waiting_ || self->sending_) return;
  if (self->waiting_->snapshot().head_ready) {  // its wake-up is queued: take it now
    self->onFill();
    return;
  }
  self->raced_ = true;  // the filler is still there: do not queue behind it again
  self->countWait(stats::CacheWait::kTimedOut);
  if (self->ifErrorAllowed(*self->ex_, self->ex_->nowSeconds())) {  // the revalidation is too slow: an error
    self->stopWaiting();
    self->serveStale(*self->ex_, 0, "stale-if-error");
    return;
  }
  self->release(cache::AbandonReason::kNone);
}

void CacheFlow::stopWaiting() {
  if (lock_timer_ != nullptr) evtimer_del(lock_timer_);
  if (!waiting_) return;
  if (subscription_ != 0) waiting_->unsubscribe(subscription_);
  subscription_ = 0;
  link_->flow = nullptr;  // a wake-up already posted finds nobody
  link_.reset();
  waiting_.reset();
  sending_ = false;
  sent_ = 0;
}

void CacheFlow::responseHead(Exchange& ex, const http::ResponseHead& resp, std::string& extra) {
  invalidate(ex, ex.request(), resp);
  if (fill_.active()) decideStore(ex, resp, ex.nowSeconds());
  statusField(extra);
}

void CacheFlow::decideStore(Exchange& ex, const http::ResponseHead& resp, int64_t now) {
  const config::Config& config = *ex.runtime().config;
  cache::StorableOptions opts;
  opts.allow_set_cookie = ex.route().cache_store_set_cookie;
  opts.allow_vary = true;
  const cache::CacheControl cc = cache::responseCacheControl(resp);
  const cache::StoreDecision decision = cache::storable(ex.request(), request_cc_, resp, cc, opts);
  if (!decision.ok()) {
    detail_ = cache::refusalName(decision.refusal);
    countRefusal(static_cast<size_t>(decision.refusal) - 1);
    // An error answer does not replace a stale object (it stays, for
    // stale-if-error and the next revalidation); waiters fetch for
    // themselves at once either way.
    if (resp.status >= 500 && fill_.restore()) return;
    fill_.abandon(cache::AbandonReason::kNotStorable);
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
  meta.body_length = resp.no_body                                 ? 0
                     : resp.chunked || !resp.has_content_length ? -1
                                                                : static_cast<int64_t>(resp.content_length);
  if (cc.no_cache) meta.flags |= cache::ObjectMeta::kNoCache;
  if (cc.must_revalidate) meta.flags |= cache::ObjectMeta::kMustRevalidate;
  if (cc.proxy_revalidate || cc.s_maxage.present) meta.flags |= cache::ObjectMeta::kProxyRevalidate;
  if (cc.stale_while_revalidate.present) meta.stale_while_revalidate = cc.stale_while_revalidate.seconds;
  if (cc.stale_if_error.present) meta.stale_if_error = cc.stale_if_error.seconds;
  std::string head;
  http::writeStoredResponseHead(resp, ex.runtime().forward, head);
  cache::StoredExtras extras = extrasFor(ex.request(), resp, config);
  if (variant_ && extras.vary != secondary_) {
    // The URL's Vary changed: this variant's key no longer says what the
    // response varies on. Its variants go; the next request starts over.
    detail_ = "vary_changed";
    fill_.abandon(cache::AbandonReason::kNotStorable);
    store_->erase(base_key_);
    store_->purgeTag(cache::CacheKey::variantTag(base_key_), false);
    return;
  }
  // A new first variant that varies on other fields than the one it
  // replaces (or not at all) leaves the other variants unreachable.
  const cache::ObjectPtr replaced = fill_.previous();
  const bool drop_variants =
      !variant_ && replaced && replaced->varies() &&
      (extras.vary.empty() || cache::namesOfSecondaryKey(extras.vary) != cache::namesOfSecondaryKey(replaced->vary()));
  if (auto st = fill_.setHead(std::move(head), meta, std::move(extras)); !st) {
    detail_ = cache::toString(fill_.failure());
    countFillFailure(fill_.failure());
    return;
  }
  status_.stored = true;
  status_.ttl = life.seconds - meta.corrected_initial_age;
  if (cache::ObjectPtr stored = fill_.object(); stored && stored->varies()) stored->touchUsed(ex.nowMs());
  const std::string tag = cache::CacheKey::variantTag(base_key_);
  if (drop_variants) store_->purgeTag(tag, false);
  // The first variant is not tagged: the others are kept below the bound.
  if (variant_) store_->trimTagged(tag, config.cache.max_variants > 1 ? config.cache.max_variants - 1 : 0);
}

cache::StoredExtras CacheFlow::extrasFor(const http::RequestHead& req, const http::ResponseHead& resp,
                                         const config::Config& config) {
  cache::StoredExtras extras;
  extras.tags = cache::responseTags(resp, config.cache.tag_headers);
  const std::vector<std::string> names = cache::varyNames(resp);
  if (!names.empty()) extras.vary = cache::secondaryKey(req, names);
  addInternalTags(extras.tags);
  return extras;
}

// Objects not stored under the URL's own key carry the tags that find
// them: the URL's (a purge of it) and, for a variant, its base key's.
void CacheFlow::addInternalTags(std::vector<std::string>& tags) const {
  if (variant_) tags.push_back(cache::CacheKey::variantTag(base_key_));
  if (!(base_key_ == url_key_)) tags.push_back(cache::CacheKey::variantTag(url_key_));
}

void CacheFlow::responseBody(Exchange&, const char* data, size_t len) {
  // A failure abandons the fill; the client still gets every byte.
  if (fill_.active() && !fill_.append(data, len)) countFillFailure(fill_.failure());
}

void CacheFlow::responseEnd(Exchange&, bool complete) {
  stopWaiting();
  if (!fill_.active()) return;
  if (complete) {
    (void)fill_.complete();
  } else {
    endFill();  // before the head, a stale object it would replace goes back
  }
}

// The fetch failed before a response (connect, reset, timeout, no server
// up): the stale object, when there is one and it may go out stale.
bool CacheFlow::upstreamFailed(Exchange& ex, int) {
  endFill();
  if (stale_) stale_->markFetchFailed(ex.nowMs());
  if (!ifErrorAllowed(ex, ex.nowSeconds())) return false;
  return serveStale(ex, 0, "stale-if-error");
}

// A fill that did not get a response to store: the stale object it would
// have replaced goes back (waiters hear kRestored); otherwise abandoned.
void CacheFlow::endFill() {
  if (!fill_.active()) return;
  if (!fill_.restore()) fill_.abandon();
}

bool CacheFlow::upstreamRequest(Exchange&, std::string_view& fields) {
  if (!refetch_) return false;
  fields = validators_;
  return true;
}

// Before the upstream's head goes anywhere: a 304 to the cache's own
// validators freshens the stale object and the client is answered from it;
// an error status in place of a stale object is replaced by that object
// when stale-if-error allows.
bool CacheFlow::answerInstead(Exchange& ex, const http::ResponseHead& resp) {
  if (!stale_) return false;
  const int64_t now = ex.nowSeconds();
  if (resp.status == 304 && fill_.active() && !validators_.empty()) return refreshed(ex, resp, now);
  if (cache::isStaleIfErrorStatus(resp.status) && ifErrorAllowed(ex, now)) {
    stale_->markFetchFailed(ex.nowMs());
    endFill();
    return serveStale(ex, resp.status, "stale-if-error");
  }
  return false;
}

// RFC 9111 4.3.4: the stored head updated with the 304's fields, new
// freshness from the result, the body kept (shared, not copied).
bool CacheFlow::refreshed(Exchange& ex, const http::ResponseHead& resp, int64_t now) {
  const config::Config& config = *ex.runtime().config;
  std::string update;
  http::writeStoredResponseHead(resp, ex.runtime().forward, update);
  std::string head = cache::updateStoredHead(stale_->head(), update);
  http::Parser parser(http::Parser::Kind::kResponse, ex.runtime().response_limits);
  cache::ObjectPtr object = fill_.object();
  // RFC 9111 4.3.4: a 304 with a strong ETag other than the stored one
  // is not about this object; the stored one is dropped and the client
  // told (weir has no body to send).
  const cache::StoredValidators stored = cache::validatorsOf(stale_->head(), stale_->meta().response_time);
  const int etag_at = resp.fields.find(http::Token::kETag);
  const bool other_etag = etag_at >= 0 && !stored.etag.empty() &&
                          !cache::weakMatch(resp.fields.value(static_cast<size_t>(etag_at)), stored.etag);
  if (other_etag) {
    fill_.abandon();
    ex.dropUpstream();
    detail_ = "304_for_another_representation";
    ex.respondError(502, "the origin's 304 names another representation than the stored one");
    return true;
  }
  const cache::CacheControl update_cc = cache::responseCacheControl(resp);
  if (update_cc.no_store || update_cc.private_) {  // no longer storable: the validated object once, not kept
    fill_.abandon(cache::AbandonReason::kNotStorable);
    object = stale_;
  } else if (parseStoredHead(head, parser)) {
    const http::ResponseHead& merged = parser.response();
    const cache::CacheControl cc = cache::responseCacheControl(merged);
    cache::FreshnessOptions fresh;
    fresh.response_time = now;
    fresh.heuristic_percent = static_cast<int>(config.cache.heuristic_fraction * 100 + 0.5);
    fresh.heuristic_max = std::chrono::duration_cast<std::chrono::seconds>(config.cache.heuristic_max).count();
    cache::ObjectMeta meta = stale_->meta();
    meta.request_time = request_time_;
    meta.response_time = now;
    meta.corrected_initial_age = cache::correctedInitialAge(cache::ageInputs(resp, request_time_, now));
    meta.freshness_lifetime = cache::freshnessLifetime(merged, cc, fresh).seconds;
    meta.flags = 0;
    if (cc.no_cache) meta.flags |= cache::ObjectMeta::kNoCache;
    if (cc.must_revalidate) meta.flags |= cache::ObjectMeta::kMustRevalidate;
    if (cc.proxy_revalidate || cc.s_maxage.present) meta.flags |= cache::ObjectMeta::kProxyRevalidate;
    meta.stale_while_revalidate = cc.stale_while_revalidate.present ? cc.stale_while_revalidate.seconds : -1;
    meta.stale_if_error = cc.stale_if_error.present ? cc.stale_if_error.seconds : -1;
    cache::StoredExtras extras;
    extras.tags = cache::responseTags(merged, config.cache.tag_headers);
    addInternalTags(extras.tags);
    extras.vary = stale_->vary();
    if (!fill_.refresh(std::move(head), meta, std::move(extras))) {
      object = stale_;  // no room for the new head: the validated body as it was
    }
  } else {
    endFill();
    object = stale_;
  }
  ex.dropUpstream();
  status_.hit = false;
  status_.fwd = cache::Fwd::kStale;
  status_.fwd_status = 304;
  result_ = stats::CacheResult::kRevalidated;
  return serveObject(ex, object, now);
}

bool CacheFlow::ifErrorAllowed(Exchange& ex, int64_t now) const {
  if (!stale_) return false;
  const cache::ObjectMeta& m = stale_->meta();
  const int64_t age = ageOf(m, now);
  const int64_t request_window = request_cc_.stale_if_error.present ? request_cc_.stale_if_error.seconds : -1;
  return cache::mayServeIfError(age - lifetimeOf(*stale_), m.stale_if_error, request_window,
                                secondsOf(ex.route().cache_stale_if_error), limitsOf(m));
}

bool CacheFlow::requestAcceptsStale() const {
  return !request_cc_.no_cache && !request_cc_.max_age.present && !request_cc_.min_fresh.present;
}

// stale-while-revalidate: `object` goes out now. With `start_background`,
// this request also starts the revalidation (once per object, see
// Object::claimRefresh).

bool CacheFlow::whileRevalidating(Exchange& ex, const cache::ObjectPtr& object, int64_t now, bool start_background) {
  if (!object || !requestAcceptsStale()) return false;
  const cache::ObjectMeta& m = object->meta();
  const int64_t age = ageOf(m, now);
  const int64_t window =
      m.stale_while_revalidate >= 0 ? m.stale_while_revalidate : secondsOf(ex.route().cache_stale_while_revalidate);
  if (!cache::mayServeWhileRevalidating(age - lifetimeOf(*object), window, limitsOf(m))) return false;
  if (start_background && object->claimRefresh(now, kRefreshRetrySeconds) &&
      !ex.startBackground(backgroundRequest(ex.request(), ex.runtime().forward.request_id_header))) {
    // As many background fetches as the worker allows are running (a slow
    // or hung origin): this request still gets the stale object at once,
    // and a later one may start the revalidation.
    object->releaseRefresh();
  }
  stale_ = object;
  return serveStale(ex, 0, "stale-while-revalidate");
}

bool CacheFlow::serveStale(Exchange& ex, int fwd_status, std::string_view detail) {
  ex.dropUpstream();
  status_.hit = false;
  status_.fwd = cache::Fwd::kStale;
  status_.fwd_status = fwd_status;
  status_.collapsed.reset();
  detail_ = detail;
  result_ = stats::CacheResult::kStaleServed;
  const cache::ObjectPtr object = stale_;
  return serveObject(ex, object, ex.nowSeconds());
}

// RFC 9111 4.4: a non-error answer to an unsafe method invalidates the
// target and the same-host Location and Content-Location.
void CacheFlow::invalidate(Exchange& ex, const http::RequestHead& req, const http::ResponseHead& resp) {
  const config::CacheKeyConfig& kc = ex.route().cache_key;
  for (const std::string& target : cache::invalidationTargets(req, resp)) {
    const cache::CacheKey key = keyOf(
        req, kc.changesTarget() ? cache::keyTarget(target, kc.ignore_query, kc.ignore_all_query, kc.sort_query) : target);
    store_->erase(key);
    store_->purgeTag(cache::CacheKey::variantTag(key), false);
  }
}

void CacheFlow::statusField(std::string& extra) {
  cache::CacheStatus status = status_;
  status.detail = detail_;
  sent_status_.clear();
  cache::appendCacheStatus(status, sent_status_);
  extra.append("Cache-Status: ").append(sent_status_).append("\r\n");
}

void CacheFlow::ownResponse(Exchange&, int, std::string& extra) {
  endFill();
  extra += own_extra_;
  statusField(extra);
}

// ---- metrics ---------------------------------------------------------------

static_assert(stats::kCachePolicyRefusals == static_cast<size_t>(cache::StoreRefusal::kNoFreshness),
              "stats names every policy refusal");

std::string_view CacheFlow::finished() {
  if (slots_ != nullptr) stats::bump(slots_[stats::cache_slots::kResults + static_cast<size_t>(result_)]);
  return sent_status_;
}

void CacheFlow::countRefusal(size_t reason) {
  if (slots_ != nullptr && reason < stats::kCacheRefusals) stats::bump(slots_[stats::cache_slots::kRefusals + reason]);
}

// Fills the store ended (kErased, kResized, kReplaced) are not refusals.
void CacheFlow::countFillFailure(cache::AbandonReason reason) {
  if (reason == cache::AbandonReason::kTooLarge) countRefusal(stats::kCacheTooLarge);
  if (reason == cache::AbandonReason::kNoSpace) countRefusal(stats::kCacheNoSpace);
}

void CacheFlow::countWait(stats::CacheWait outcome) {
  if (slots_ != nullptr) stats::bump(slots_[stats::cache_slots::kWaits + static_cast<size_t>(outcome)]);
}

}  // namespace weir::proxy
