// Cache-Control parsing (RFC 9111 5.2), one test per rule.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "serialized_head.h"
#include "weir/cache/cache_control.h"
#include "weir/http/token.h"

namespace weir::cache {
namespace {

using http::testing::parseRequest;
using http::testing::parseResponse;

// RFC 9111 5.2.2: the response directives.
TEST(CachePolicyCacheControl, ResponseDirectives) {
  CacheControl cc = parseCacheControl(
      "no-store, no-cache, private, public, max-age=60, s-maxage=30, must-revalidate, proxy-revalidate, "
      "no-transform, must-understand, immutable, stale-while-revalidate=5, stale-if-error=7");
  EXPECT_TRUE(cc.no_store);
  EXPECT_TRUE(cc.no_cache);
  EXPECT_TRUE(cc.no_cache_fields.empty());
  EXPECT_TRUE(cc.private_);
  EXPECT_TRUE(cc.private_fields.empty());
  EXPECT_TRUE(cc.public_);
  EXPECT_TRUE(cc.max_age.present);
  EXPECT_EQ(cc.max_age.seconds, 60);
  EXPECT_EQ(cc.s_maxage.seconds, 30);
  EXPECT_TRUE(cc.must_revalidate);
  EXPECT_TRUE(cc.proxy_revalidate);
  EXPECT_TRUE(cc.no_transform);
  EXPECT_TRUE(cc.must_understand);
  EXPECT_TRUE(cc.immutable);
  EXPECT_EQ(cc.stale_while_revalidate.seconds, 5);
  EXPECT_EQ(cc.stale_if_error.seconds, 7);
  EXPECT_FALSE(cc.conflicting);
}

// RFC 9111 5.2.1: the request directives.
TEST(CachePolicyCacheControl, RequestDirectives) {
  CacheControl cc = parseCacheControl("max-age=10, max-stale=20, min-fresh=30, no-cache, no-store, no-transform, "
                                      "only-if-cached");
  EXPECT_EQ(cc.max_age.seconds, 10);
  EXPECT_TRUE(cc.max_stale);
  EXPECT_TRUE(cc.max_stale_value.present);
  EXPECT_EQ(cc.max_stale_value.seconds, 20);
  EXPECT_EQ(cc.min_fresh.seconds, 30);
  EXPECT_TRUE(cc.no_cache);
  EXPECT_TRUE(cc.no_store);
  EXPECT_TRUE(cc.no_transform);
  EXPECT_TRUE(cc.only_if_cached);
}

// RFC 9111 5.2.1.2: max-stale without a value accepts any staleness.
TEST(CachePolicyCacheControl, MaxStaleWithoutAValueAcceptsAnyStaleness) {
  CacheControl bare = parseCacheControl("max-stale");
  EXPECT_TRUE(bare.max_stale);
  EXPECT_FALSE(bare.max_stale_value.present);
  // The first occurrence counts.
  CacheControl bare_first = parseCacheControl("max-stale, max-stale=5");
  EXPECT_TRUE(bare_first.max_stale);
  EXPECT_FALSE(bare_first.max_stale_value.present);
  CacheControl valued_first = parseCacheControl("max-stale=5, max-stale");
  EXPECT_EQ(valued_first.max_stale_value.seconds, 5);
  // An invalid value makes the directive invalid, not "any staleness".
  EXPECT_FALSE(parseCacheControl("max-stale=soon").max_stale);
}

// RFC 9111 5.2: directive names are case-insensitive.
TEST(CachePolicyCacheControl, NamesAreCaseInsensitive) {
  CacheControl cc = parseCacheControl("No-Store, MAX-AGE=5, S-MaxAge=6, Private");
  EXPECT_TRUE(cc.no_store);
  EXPECT_EQ(cc.max_age.seconds, 5);
  EXPECT_EQ(cc.s_maxage.seconds, 6);
  EXPECT_TRUE(cc.private_);
}

// RFC 9111 5.2: arguments may be a token or a quoted-string; recipients
// accept both ("max-age=\"5\"").
TEST(CachePolicyCacheControl, ArgumentsMayBeQuoted) {
  CacheControl cc = parseCacheControl("max-age=\"60\", s-maxage=\"1\\2\"");
  EXPECT_EQ(cc.max_age.seconds, 60);
  EXPECT_EQ(cc.s_maxage.seconds, 12);  // quoted-pair unescaped
}

// RFC 9111 5.2.2.4 and 5.2.2.7: the field-list forms keep their names, and
// a comma inside the quotes does not start a directive.
TEST(CachePolicyCacheControl, QuotedFieldListsWithCommas) {
  CacheControl cc = parseCacheControl("private=\"Set-Cookie, X-User\", no-cache=\"Authorization\", max-age=9");
  EXPECT_TRUE(cc.private_);
  EXPECT_EQ(cc.private_fields, (std::vector<std::string>{"set-cookie", "x-user"}));
  EXPECT_TRUE(cc.no_cache);
  EXPECT_EQ(cc.no_cache_fields, std::vector<std::string>{"authorization"});
  EXPECT_EQ(cc.max_age.seconds, 9);
  // "max-age=1" inside the quotes is a field name, not a directive.
  CacheControl inside = parseCacheControl("no-cache=\"a, max-age=1\"");
  EXPECT_FALSE(inside.max_age.present);
  EXPECT_EQ(inside.no_cache_fields, (std::vector<std::string>{"a", "max-age=1"}));
}

// RFC 9111 1.2.2: delta-seconds is a non-negative integer; anything else
// makes the directive invalid.
TEST(CachePolicyCacheControl, InvalidDeltaSecondsMakesTheDirectiveInvalid) {
  for (const char* v : {"max-age=-1", "max-age=1.5", "max-age=", "max-age", "max-age=abc", "max-age=5s",
                        "max-age=\"\"", "max-age=6 0", "max-age=\"12"}) {
    EXPECT_FALSE(parseCacheControl(v).max_age.present) << v;
  }
  // The other directives still count.
  CacheControl cc = parseCacheControl("max-age=x, s-maxage=4");
  EXPECT_FALSE(cc.max_age.present);
  EXPECT_EQ(cc.s_maxage.seconds, 4);
}

// RFC 9111 1.2.2: a value too large to represent is taken as 2^31.
TEST(CachePolicyCacheControl, OverflowingDeltaSecondsSaturateAt2To31) {
  EXPECT_EQ(parseCacheControl("max-age=2147483647").max_age.seconds, 2147483647);
  EXPECT_EQ(parseCacheControl("max-age=2147483648").max_age.seconds, kDeltaSecondsMax);
  EXPECT_EQ(parseCacheControl("max-age=2147483649").max_age.seconds, kDeltaSecondsMax);
  EXPECT_EQ(parseCacheControl("max-age=99999999999999999999999999").max_age.seconds, kDeltaSecondsMax);
  EXPECT_EQ(parseCacheControl("max-age=0000000000000000000000000007").max_age.seconds, 7);
}

// RFC 9111 4.2.1: of repeated directives the first is used; when they
// disagree weir considers the response stale.
TEST(CachePolicyCacheControl, DuplicatesUseTheFirstAndConflictsAreFlagged) {
  CacheControl same = parseCacheControl("max-age=60, max-age=60");
  EXPECT_EQ(same.max_age.seconds, 60);
  EXPECT_FALSE(same.conflicting);
  CacheControl differ = parseCacheControl("max-age=60, max-age=120");
  EXPECT_EQ(differ.max_age.seconds, 60);
  EXPECT_TRUE(differ.conflicting);
  EXPECT_TRUE(parseCacheControl("s-maxage=1, s-maxage=2").conflicting);
  // An invalid duplicate is absent, so no conflict.
  EXPECT_FALSE(parseCacheControl("max-age=60, max-age=x").conflicting);
  // Other directives just keep their first value.
  CacheControl fresh = parseCacheControl("min-fresh=1, min-fresh=2");
  EXPECT_EQ(fresh.min_fresh.seconds, 1);
  EXPECT_FALSE(fresh.conflicting);
}

// RFC 9111 5.2.3: unknown directives are ignored.
TEST(CachePolicyCacheControl, UnknownDirectivesAreIgnored) {
  CacheControl cc = parseCacheControl("community=\"UCI\", foo, bar=baz, max-age=3, ,,");
  EXPECT_EQ(cc.max_age.seconds, 3);
  EXPECT_FALSE(cc.no_store);
  CacheControl empty = parseCacheControl("");
  EXPECT_FALSE(empty.max_age.present);
  EXPECT_FALSE(empty.no_cache);
}

// RFC 9110 5.3: several Cache-Control lines are one list, joined.
TEST(CachePolicyCacheControl, SeveralFieldLinesAreJoined) {
  http::ResponseHead res = parseResponse(
      "HTTP/1.1 200 OK\r\nCache-Control: public\r\ncache-control: max-age=30\r\nCACHE-CONTROL: "
      "no-cache=\"a,b\"\r\nContent-Length: 0\r\n\r\n");
  CacheControl cc = responseCacheControl(res);
  EXPECT_TRUE(cc.public_);
  EXPECT_EQ(cc.max_age.seconds, 30);
  EXPECT_EQ(cc.no_cache_fields, (std::vector<std::string>{"a", "b"}));
}

// Optional whitespace around the list's commas (and, leniently, around '=').
TEST(CachePolicyCacheControl, WhitespaceAroundElements) {
  CacheControl cc = parseCacheControl("  max-age = 5 ,\tno-store\t,public  ");
  EXPECT_EQ(cc.max_age.seconds, 5);
  EXPECT_TRUE(cc.no_store);
  EXPECT_TRUE(cc.public_);
}

// RFC 9111 5.4: Pragma: no-cache counts as Cache-Control: no-cache only
// when the request has no Cache-Control.
TEST(CachePolicyCacheControl, PragmaNoCacheWithoutCacheControlIsNoCache) {
  http::RequestHead only_pragma = parseRequest("GET / HTTP/1.1\r\nHost: a\r\nPragma: no-cache\r\n\r\n");
  EXPECT_TRUE(pragmaNoCache(only_pragma));
  EXPECT_TRUE(requestCacheControl(only_pragma).no_cache);
  http::RequestHead upper = parseRequest("GET / HTTP/1.1\r\nHost: a\r\npragma: foo, NO-CACHE\r\n\r\n");
  EXPECT_TRUE(requestCacheControl(upper).no_cache);
  http::RequestHead both =
      parseRequest("GET / HTTP/1.1\r\nHost: a\r\nPragma: no-cache\r\nCache-Control: max-age=5\r\n\r\n");
  EXPECT_TRUE(pragmaNoCache(both));
  EXPECT_FALSE(requestCacheControl(both).no_cache);
  EXPECT_EQ(requestCacheControl(both).max_age.seconds, 5);
  http::RequestHead other = parseRequest("GET / HTTP/1.1\r\nHost: a\r\nPragma: x-foo\r\n\r\n");
  EXPECT_FALSE(requestCacheControl(other).no_cache);
}

// Whatever the bytes, parsing ends and gives defined values (no directive
// is made up from a fragment of another).
TEST(CachePolicyCacheControl, JunkIsSurvived) {
  const std::string alphabet = "max-age=\"\\, \t0123456789private;no-cache=\xff";
  uint64_t state = 12345;
  for (int round = 0; round < 20000; ++round) {
    std::string text;
    const int length = static_cast<int>(state % 40);
    for (int i = 0; i < length; ++i) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      text.push_back(alphabet[(state >> 33) % alphabet.size()]);
    }
    CacheControl cc = parseCacheControl(text);
    if (cc.max_age.present) {
      EXPECT_GE(cc.max_age.seconds, 0) << text;
      EXPECT_LE(cc.max_age.seconds, kDeltaSecondsMax) << text;
    }
    EXPECT_FALSE(cc.no_store) << text;
  }
}

}  // namespace
}  // namespace weir::cache
