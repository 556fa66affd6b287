// libFuzzer target for the cache policy (include/weir/cache/policy.h and
// its parsers): a request head, then a response head, each parsed with
// weir::http::Parser, then every policy function the proxy will call on
// them, with the times taken from the input's first 8 bytes.
//
// It stops when
// - a freshness lifetime or an age is negative, or a lifetime passes the
//   largest the directives can give (2^31 s, or heuristic_max);
// - a conflict between max-age values does not give a lifetime of 0;
// - storable() says yes to something other than a GET, to a status that is
//   not final, to no-store, private or Vary: *, or to a request with
//   Authorization and none of the directives that allow it (RFC 9111 3.5);
// - decideLookup() serves a request that said no-store or no-cache, or
//   serves stale what must-revalidate forbids;
// - a Cache-Status value has a byte outside printable ASCII;
// - an invalidation target is not an origin-form path, or a safe method
//   invalidates anything;
// - an HTTP-date written by appendHttpDate does not parse back to itself;
// - Vary: a secondary key's names differ from the response's Vary names,
//   or a name is not lower-case; a key target keeps an ignored parameter;
//   a 304's update of the stored head loses the status line or keeps a
//   field the 304 replaced; a response tag is empty, too long or repeated.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "weir/cache/cache_status.h"
#include "weir/cache/http_date.h"
#include "weir/cache/policy.h"
#include "weir/cache/preconditions.h"
#include "weir/cache/key_options.h"
#include "weir/cache/ranges.h"
#include "weir/cache/stale.h"
#include "weir/cache/vary.h"
#include "weir/http/parser.h"
#include "fuzz_check.h"

namespace {

using weir::http::Parser;

using weir::fuzz::check;

bool printable(std::string_view s) {
  for (char c : s) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

// Parses one head from the front of `stream`; false when it is not one.
bool parseHead(Parser& p, std::string_view& stream) {
  for (int steps = 0; steps < 8 && !stream.empty(); ++steps) {
    Parser::Step s = p.execute(stream.data(), stream.size());
    stream.remove_prefix(s.consumed);
    if (s.flags & Parser::kError) return false;
    if (s.flags & Parser::kHeadComplete) return true;
    if (s.consumed == 0) return false;
  }
  return false;
}

void checkDates(int64_t t) {
  t %= int64_t{1} << 40;  // years 0..~36800: the formats have four-digit years
  if (t < -62135596800 || t > 253402300799) return;
  std::string text;
  weir::cache::appendHttpDate(t, text);
  auto back = weir::cache::parseHttpDate(text, 0);
  check(back && *back == t, "appendHttpDate does not parse back");
}

void checkPreconditions(const weir::http::RequestHead& req, const weir::http::ResponseHead& res, int64_t now);

void checkPolicy(const weir::http::RequestHead& req, const weir::http::ResponseHead& res, int64_t now) {
  using namespace weir::cache;
  const CacheControl req_cc = requestCacheControl(req);
  const CacheControl res_cc = responseCacheControl(res);
  StorableOptions store_opts;
  store_opts.allow_set_cookie = now & 1;
  const StoreDecision d = storable(req, res, store_opts);
  if (d.ok()) {
    check(req.method_name == "GET", "stored a response to a method other than GET");
    check(res.status >= 200, "stored a non-final response");
    check(!res_cc.no_store || res_cc.must_understand, "stored a no-store response");
    check(!res_cc.private_, "stored a private response");
    check(!req_cc.no_store, "stored the answer to a no-store request");
    if (req.fields.find(weir::http::Token::kAuthorization) >= 0) {
      check(res_cc.public_ || res_cc.must_revalidate || res_cc.s_maxage.present, "stored an authorized response");
    }
  }
  FreshnessOptions fo;
  fo.response_time = now;
  const FreshnessLifetime life = freshnessLifetime(res, res_cc, fo);
  check(life.seconds >= 0, "negative lifetime");
  check(life.seconds <= kDeltaSecondsMax || life.source == FreshnessSource::kExpires, "lifetime past 2^31");
  if (life.source == FreshnessSource::kHeuristic) check(life.seconds <= fo.heuristic_max, "heuristic past its cap");
  if (res_cc.conflicting) check(life.seconds == 0, "conflicting max-age not stale");
  const AgeInputs in = ageInputs(res, now - 1, now);
  const int64_t initial = correctedInitialAge(in);
  check(initial >= 0, "negative corrected initial age");
  const int64_t age = currentAge(initial, now, now + 5);
  check(age >= initial, "age went back");
  const LookupDecision l = decideLookup(req_cc, pragmaNoCache(req), age, life.seconds, reuseLimits(res_cc));
  const bool served = l == LookupDecision::kServeFresh || l == LookupDecision::kServeStale;
  if (served) check(!req_cc.no_store && !req_cc.no_cache && !res_cc.no_cache, "served against no-store/no-cache");
  if (l == LookupDecision::kServeStale) check(!res_cc.must_revalidate, "served stale against must-revalidate");
  CacheStatus cs;
  cs.hit = served;
  cs.fwd = fwdFor(l);
  cs.stored = d.ok();
  cs.ttl = life.seconds - age;
  cs.detail = d.ok() ? "" : refusalName(d.refusal);
  std::string value;
  appendCacheStatus(cs, value);
  check(!value.empty() && printable(value), "Cache-Status not printable");
  for (const std::string& target : invalidationTargets(req, res, now & 2 ? "https" : "http")) {
    check(!isSafeMethod(req.method_name), "a safe method invalidated");
    check(!target.empty() && target[0] == '/' && printable(target), "invalidation target not origin-form");
  }
  checkPreconditions(req, res, now);
}

// The response as the cache stores its head, then the request's
// preconditions against it.
void checkPreconditions(const weir::http::RequestHead& req, const weir::http::ResponseHead& res, int64_t now) {
  using namespace weir::cache;
  namespace http = weir::http;
  std::string head = "HTTP/1.1 200 OK\r\n";
  for (size_t i = 0; i < res.fields.size(); ++i) {
    head.append(res.fields.name(i)).append(": ").append(res.fields.value(i)).append("\r\n");
  }
  const StoredValidators v = validatorsOf(head, now);
  const Precondition p = evaluatePreconditions(req, v);
  if (!hasPreconditions(req)) check(p == Precondition::kNone, "a precondition without precondition fields");
  if (req.fields.find(http::Token::kIfMatch) < 0 && req.fields.find(http::Token::kIfUnmodifiedSince) < 0) {
    check(p != Precondition::kFailed, "412 without If-Match or If-Unmodified-Since");
  }
  const uint64_t length = static_cast<uint64_t>(now & 0xffff);
  const RangeDecision r = decideRange(req, 200, length, v);
  if (r.answer == RangeAnswer::kPartial) check(r.first <= r.last && r.last < length, "a range outside the object");
  if (req.fields.find(http::Token::kRange) < 0) check(r.answer == RangeAnswer::kWhole, "a range without Range");
  for (size_t i = 0; i < req.fields.size(); ++i) {
    const std::string_view value = req.fields.value(i);
    if (strongMatch(value, v.etag)) check(weakMatch(value, v.etag), "a strong match that is not a weak one");
    check(weakMatch(value, v.etag) == weakMatch(v.etag, value), "weak comparison not symmetric");
  }
}

// Variants, key options, a 304's header update and tags.
void checkPart2(const weir::http::RequestHead& req, const weir::http::ResponseHead& res) {
  using namespace weir::cache;
  const std::vector<std::string> names = varyNames(res);
  if (!(names.size() == 1 && names[0] == "*")) {
    const std::string key = secondaryKey(req, names);
    check(namesOfSecondaryKey(key) == names, "a secondary key's names are not the response's");
    for (const std::string& n : names) {
      for (char c : n) check(!(c >= 'A' && c <= 'Z'), "a Vary name not lower-cased");
    }
  }
  const std::string target = keyTarget(req.path, {"utm_*", "id"}, false, true);
  const size_t q = target.find('?');
  check(target.substr(0, q) == req.path.substr(0, req.path.find('?')), "the path changed");
  if (q != std::string::npos) {
    const std::string query = "&" + target.substr(q + 1);  // every parameter after an '&'
    check(query.find("&utm_") == std::string::npos, "an ignored parameter kept");
    check(query.find("&id=") == std::string::npos && !query.ends_with("&id") && query.find("&id&") == std::string::npos,
          "an ignored parameter kept");
  }
  check(keyTarget(req.path, {}, true, false).find('?') == std::string::npos, "a query kept by ignore_query: true");
  std::string stored = "HTTP/1.1 200 OK\r\nX-Kept: 1\r\n";
  std::string update = "HTTP/1.1 304 Not Modified\r\n";
  for (size_t i = 0; i < res.fields.size(); ++i) {
    update.append(res.fields.name(i)).append(": ").append(res.fields.value(i)).append("\r\n");
  }
  const std::string merged = updateStoredHead(stored, update);
  check(merged.starts_with("HTTP/1.1 200 OK\r\n"), "the stored status line lost");
  check(merged.size() >= 17 && merged.ends_with("\r\n"), "a merged head not ending a line");
  const std::vector<std::string> tags = responseTags(res, {"Surrogate-Key", "Cache-Tag"});
  check(tags.size() <= kMaxTags, "too many tags");
  for (size_t i = 0; i < tags.size(); ++i) {
    check(!tags[i].empty() && tags[i].size() <= kMaxTagBytes, "an empty or long tag");
    for (size_t j = 0; j < i; ++j) check(tags[i] != tags[j], "a repeated tag");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 8) return 0;
  int64_t now = 0;
  std::memcpy(&now, data, sizeof now);
  checkDates(now);
  now = 1'700'000'000 + (now & 0xfffffff);  // around 2023, where real Date values are
  std::string_view stream(reinterpret_cast<const char*>(data + 8), size - 8);
  Parser req(Parser::Kind::kRequest, {});
  if (!parseHead(req, stream)) return 0;
  Parser res(Parser::Kind::kResponse, {});
  if (!parseHead(res, stream)) return 0;
  checkPolicy(req.request(), res.response(), now);
  checkPart2(req.request(), res.response());
  return 0;
}
