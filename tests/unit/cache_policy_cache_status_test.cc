// Cache-Status (RFC 9211): its examples, and weir's own values.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "weir/cache/cache_status.h"
#include "weir/cache/policy.h"

namespace weir::cache {
namespace {

std::string value(const CacheStatus& s, std::string out = "") {
  appendCacheStatus(s, out);
  return out;
}

CacheStatus example() {
  CacheStatus s;
  s.cache = "ExampleCache";
  return s;
}

// RFC 9211 3 (Examples): hits, with ttl, and a stale hit's negative ttl.
TEST(CachePolicyCacheStatus, RfcExamplesOfHits) {
  CacheStatus s = example();
  s.hit = true;
  EXPECT_EQ(value(s), "ExampleCache; hit");
  s.ttl = 376;
  EXPECT_EQ(value(s), "ExampleCache; hit; ttl=376");
  s.ttl = -412;
  EXPECT_EQ(value(s), "ExampleCache; hit; ttl=-412");
}

// RFC 9211 3: misses, a validated miss, collapsed or not.
TEST(CachePolicyCacheStatus, RfcExamplesOfForwards) {
  CacheStatus s = example();
  s.fwd = Fwd::kUriMiss;
  EXPECT_EQ(value(s), "ExampleCache; fwd=uri-miss");
  s.collapsed = true;
  EXPECT_EQ(value(s), "ExampleCache; fwd=uri-miss; collapsed");
  s.collapsed = false;
  EXPECT_EQ(value(s), "ExampleCache; fwd=uri-miss; collapsed=?0");
  CacheStatus stale = example();
  stale.fwd = Fwd::kStale;
  stale.fwd_status = 304;
  EXPECT_EQ(value(stale), "ExampleCache; fwd=stale; fwd-status=304");
}

// RFC 9211 2 and 3: each cache appends its member to the list; a name that
// is not a token is a string.
TEST(CachePolicyCacheStatus, RfcExampleOfTwoLayers) {
  CacheStatus cdn;
  cdn.cache = "CDN Company Here";
  cdn.hit = true;
  cdn.ttl = 545;
  EXPECT_EQ(value(cdn, "OriginCache; hit; ttl=1100"), "OriginCache; hit; ttl=1100, \"CDN Company Here\"; hit; ttl=545");
  CacheStatus forward;
  forward.cache = "ForwardProxyCache";
  forward.fwd = Fwd::kUriMiss;
  forward.collapsed = true;
  forward.stored = true;
  EXPECT_EQ(value(forward), "ForwardProxyCache; fwd=uri-miss; collapsed; stored");
}

// RFC 9211 2.8: detail is a token or a string.
TEST(CachePolicyCacheStatus, DetailIsATokenOrAString) {
  CacheStatus s = example();
  s.hit = true;
  s.detail = "MEMORY";
  EXPECT_EQ(value(s), "ExampleCache; hit; detail=MEMORY");
  s.detail = "two words";
  EXPECT_EQ(value(s), "ExampleCache; hit; detail=\"two words\"");
}

// RFC 9211 2.7: key is a string, escaped as RFC 8941 3.3.3 says.
TEST(CachePolicyCacheStatus, KeyIsAnEscapedString) {
  CacheStatus s = example();
  s.fwd = Fwd::kUriMiss;
  s.key = "GET http://a/\"q\"\\";
  EXPECT_EQ(value(s), "ExampleCache; fwd=uri-miss; key=\"GET http://a/\\\"q\\\"\\\\\"");
}

// The values weir sends.
TEST(CachePolicyCacheStatus, WeirValues) {
  CacheStatus hit;
  hit.hit = true;
  hit.ttl = 42;
  EXPECT_EQ(value(hit), "weir; hit; ttl=42");
  CacheStatus stored;
  stored.fwd = Fwd::kUriMiss;
  stored.stored = true;
  stored.ttl = 60;
  EXPECT_EQ(value(stored), "weir; fwd=uri-miss; stored; ttl=60");
  CacheStatus refused;
  refused.fwd = Fwd::kUriMiss;
  refused.detail = refusalName(StoreRefusal::kNoStore);
  EXPECT_EQ(value(refused), "weir; fwd=uri-miss; detail=no_store");
  CacheStatus stale;
  stale.fwd = fwdFor(LookupDecision::kOriginStale);
  stale.stored = true;
  stale.ttl = 300;
  EXPECT_EQ(value(stale), "weir; fwd=stale; stored; ttl=300");
  CacheStatus request;
  request.fwd = fwdFor(LookupDecision::kOriginRequest);
  EXPECT_EQ(value(request), "weir; fwd=request");
  CacheStatus bypass;
  bypass.fwd = fwdFor(LookupDecision::kBypass);
  EXPECT_EQ(value(bypass), "weir; fwd=bypass");
}

// RFC 9211 2.1: hit and fwd exclude each other; hit wins.
TEST(CachePolicyCacheStatus, HitExcludesFwd) {
  CacheStatus s;
  s.hit = true;
  s.fwd = Fwd::kStale;
  s.fwd_status = 200;
  EXPECT_EQ(value(s), "weir; hit");
}

// RFC 8941: a token starts with a letter or '*'; others become strings,
// and what a string cannot carry is dropped.
TEST(CachePolicyCacheStatus, CacheNamesAreTokensOrStrings) {
  CacheStatus s;
  s.hit = true;
  s.cache = "cache-3.example.com:8080/edge";
  EXPECT_EQ(value(s), "cache-3.example.com:8080/edge; hit");
  s.cache = "*star";
  EXPECT_EQ(value(s), "*star; hit");
  s.cache = "3cache";
  EXPECT_EQ(value(s), "\"3cache\"; hit");
  s.cache = "192.0.2.1";
  EXPECT_EQ(value(s), "\"192.0.2.1\"; hit");
  s.cache = "a\"b\\c\x01\xc3\xa9";
  EXPECT_EQ(value(s), "\"a\\\"b\\\\c\"; hit");
  s.cache = "";
  EXPECT_EQ(value(s), "\"\"; hit");
}

// RFC 8941 3.3.1: integers have at most 15 digits.
TEST(CachePolicyCacheStatus, TtlIsClampedToAnSfInteger) {
  CacheStatus s;
  s.hit = true;
  s.ttl = int64_t{1} << 60;
  EXPECT_EQ(value(s), "weir; hit; ttl=999999999999999");
  s.ttl = -(int64_t{1} << 60);
  EXPECT_EQ(value(s), "weir; hit; ttl=-999999999999999");
  s.ttl = 0;
  EXPECT_EQ(value(s), "weir; hit; ttl=0");
}

TEST(CachePolicyCacheStatus, FwdNamesAreTheRegisteredOnes) {
  EXPECT_STREQ(fwdName(Fwd::kBypass), "bypass");
  EXPECT_STREQ(fwdName(Fwd::kMethod), "method");
  EXPECT_STREQ(fwdName(Fwd::kUriMiss), "uri-miss");
  EXPECT_STREQ(fwdName(Fwd::kVaryMiss), "vary-miss");
  EXPECT_STREQ(fwdName(Fwd::kMiss), "miss");
  EXPECT_STREQ(fwdName(Fwd::kRequest), "request");
  EXPECT_STREQ(fwdName(Fwd::kStale), "stale");
  EXPECT_STREQ(fwdName(Fwd::kPartial), "partial");
}

}  // namespace
}  // namespace weir::cache
