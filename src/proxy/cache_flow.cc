#include "proxy/cache_flow.h"

#include <llhttp.h>

#include <chrono>
#include <string>

#include "proxy/exchange.h"
#include "weir/cache/policy.h"
#include "weir/cache/preconditions.h"
#include "weir/cache/ranges.h"
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

CacheFlow::~CacheFlow() {
  stopWaiting();
  if (lock_timer_ != nullptr) event_free(lock_timer_);
}

void CacheFlow::reset(cache::Store* store, stats::Slot* slots) {
  stopWaiting();
  fill_ = cache::FillHandle();  // the old handle, if still active, abandons its fill
  store_ = store;
  slots_ = slots;
  result_ = stats::CacheResult::kMiss;
  sent_status_.clear();
  request_cc_ = {};
  status_ = {};
  detail_.clear();
  raced_ = false;
  own_extra_.clear();
}

bool CacheFlow::lookup(Exchange& ex, const http::RequestHead& req) {
  const int64_t now = ex.nowSeconds();
  request_time_ = now;
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
      // A HEAD has no body to store; its GET fills the entry.
      if (req.method == HTTP_GET) return startFill(ex, key, d != cache::LookupDecision::kOriginMiss);
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
  cache::BeginFill begin = store_->beginFill(key, replace);
  switch (begin.kind) {
    case cache::BeginFill::Kind::kFill:
      fill_ = std::move(begin.fill);
      return false;
    case cache::BeginFill::Kind::kWait:
      if (ex.request().hasBody()) {
        status_.collapsed = false;
        return false;
      }
      return wait(ex, std::move(begin.object));
    case cache::BeginFill::Kind::kHit:  // stored since the lookup (a waiter's second try): serve it
      result_ = stats::CacheResult::kHit;
      return serveHit(ex, begin.object, ex.nowSeconds());
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
    countRefusal(static_cast<size_t>(decision.refusal) - 1);
    fill_.abandon(cache::AbandonReason::kNotStorable);  // waiters fetch for themselves at once
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
  std::string head;
  http::writeStoredResponseHead(resp, ex.runtime().forward, head);
  if (auto st = fill_.setHead(std::move(head), meta); !st) {
    detail_ = cache::toString(fill_.failure());
    countFillFailure(fill_.failure());
    return;
  }
  status_.stored = true;
  status_.ttl = life.seconds - meta.corrected_initial_age;
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

void CacheFlow::statusField(std::string& extra) {
  cache::CacheStatus status = status_;
  status.detail = detail_;
  sent_status_.clear();
  cache::appendCacheStatus(status, sent_status_);
  extra.append("Cache-Status: ").append(sent_status_).append("\r\n");
}

void CacheFlow::ownResponse(Exchange&, int, std::string& extra) {
  fill_.abandon();
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
