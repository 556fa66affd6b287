// What a shared cache may store (RFC 9111 3), one test per rule.
#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "serialized_head.h"
#include "weir/cache/policy.h"

namespace weir::cache {
namespace {

using http::testing::parseRequest;
using http::testing::parseResponse;

http::RequestHead request(const std::string& method, const std::string& fields = "") {
  return parseRequest(method + " /a HTTP/1.1\r\nHost: h\r\n" + fields + "\r\n");
}

http::ResponseHead response(int status, const std::string& fields = "") {
  return parseResponse("HTTP/1.1 " + std::to_string(status) + " X\r\n" + fields + "Content-Length: 0\r\n\r\n");
}

StoreRefusal refusal(const http::RequestHead& req, const http::ResponseHead& res, const StorableOptions& opts = {}) {
  return storable(req, res, opts).refusal;
}

StoreRefusal refusal(int status, const std::string& fields, const StorableOptions& opts = {}) {
  return refusal(request("GET"), response(status, fields), opts);
}

// RFC 9111 3: a final response to GET with explicit freshness.
TEST(CachePolicyStorable, AGetWithExplicitFreshnessIsStored) {
  EXPECT_TRUE(storable(request("GET"), response(200, "Cache-Control: max-age=60\r\n"), {}).ok());
  EXPECT_EQ(refusal(200, "Expires: Sun, 06 Nov 1994 08:49:37 GMT\r\n"), StoreRefusal::kNone);
  // The parsed-directives overload gives the same answers.
  http::RequestHead req = request("GET");
  http::ResponseHead res = response(200, "Cache-Control: no-store\r\n");
  EXPECT_EQ(storable(req, requestCacheControl(req), res, responseCacheControl(res), {}).refusal,
            StoreRefusal::kNoStore);
}

// RFC 9111 3: the method must be understood; weir stores GET only, and
// answers HEAD from a stored GET, so HEAD itself is not stored.
TEST(CachePolicyStorable, OnlyGetIsStored) {
  for (const char* method : {"HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
    EXPECT_EQ(refusal(request(method), response(200, "Cache-Control: max-age=60\r\n")), StoreRefusal::kMethod)
        << method;
  }
}

// RFC 9111 3: the status must be final; 304 updates a stored response
// rather than being stored (RFC 9111 4.3.4, part 2).
TEST(CachePolicyStorable, NonFinalStatusAnd304AreNotStored) {
  http::ResponseHead early;
  early.status = 103;
  EXPECT_EQ(refusal(request("GET"), early), StoreRefusal::kStatus);
  EXPECT_EQ(refusal(304, "Cache-Control: max-age=60\r\n"), StoreRefusal::kStatus);
}

// RFC 9111 3.3 and 3.4 (partial content): not stored in this part.
TEST(CachePolicyStorable, PartialContentIsNotStoredYet) {
  EXPECT_EQ(refusal(206, "Content-Range: bytes 0-0/10\r\nCache-Control: max-age=60\r\n"), StoreRefusal::kPartial);
  EXPECT_EQ(refusal(200, "Content-Range: bytes 0-0/10\r\nCache-Control: max-age=60\r\n"), StoreRefusal::kPartial);
}

// RFC 9111 5.2.1.5: request no-store.
TEST(CachePolicyStorable, RequestNoStoreIsNotStored) {
  EXPECT_EQ(refusal(request("GET", "Cache-Control: no-store\r\n"), response(200, "Cache-Control: max-age=60\r\n")),
            StoreRefusal::kRequestNoStore);
}

// RFC 9111 5.2.2.5: response no-store.
TEST(CachePolicyStorable, ResponseNoStoreIsNotStored) {
  EXPECT_EQ(refusal(200, "Cache-Control: max-age=60, no-store\r\n"), StoreRefusal::kNoStore);
  EXPECT_EQ(refusal(200, "Cache-Control: public\r\nCache-Control: NO-STORE\r\n"), StoreRefusal::kNoStore);
}

// RFC 9111 5.2.2.3 and 3: with must-understand, a cache that understands
// the status ignores no-store; one that does not must not store.
TEST(CachePolicyStorable, MustUnderstandOverridesNoStoreOnlyForUnderstoodStatuses) {
  EXPECT_EQ(refusal(200, "Cache-Control: must-understand, no-store, max-age=60\r\n"), StoreRefusal::kNone);
  EXPECT_EQ(refusal(404, "Cache-Control: must-understand, no-store\r\n"), StoreRefusal::kNone);
  EXPECT_EQ(refusal(299, "Cache-Control: must-understand, no-store, max-age=60\r\n"), StoreRefusal::kMustUnderstand);
  EXPECT_EQ(refusal(299, "Cache-Control: must-understand, max-age=60\r\n"), StoreRefusal::kMustUnderstand);
  EXPECT_EQ(refusal(206, "Cache-Control: must-understand, no-store\r\n"), StoreRefusal::kPartial);
  EXPECT_TRUE(understoodStatus(200));
  EXPECT_TRUE(understoodStatus(308));
  EXPECT_TRUE(understoodStatus(426));
  EXPECT_FALSE(understoodStatus(306));
  EXPECT_FALSE(understoodStatus(304));
  EXPECT_FALSE(understoodStatus(299));
  EXPECT_FALSE(understoodStatus(599));
}

// RFC 9111 5.2.2.7: a shared cache does not store a private response.
// weir treats the field-list form the same (see policy.h).
TEST(CachePolicyStorable, PrivateIsNotStoredByASharedCache) {
  EXPECT_EQ(refusal(200, "Cache-Control: private, max-age=60\r\n"), StoreRefusal::kPrivate);
  EXPECT_EQ(refusal(200, "Cache-Control: private=\"Set-Cookie\", max-age=60\r\n"), StoreRefusal::kPrivate);
  EXPECT_EQ(refusal(200, "Cache-Control: public, PRIVATE\r\n"), StoreRefusal::kPrivate);
}

// RFC 9111 3.5: an answer to a request with Authorization is stored only
// with must-revalidate, public or s-maxage.
TEST(CachePolicyStorable, AuthorizationNeedsMustRevalidatePublicOrSMaxage) {
  http::RequestHead auth = request("GET", "Authorization: Basic YTpi\r\n");
  EXPECT_EQ(refusal(auth, response(200, "Cache-Control: max-age=60\r\n")), StoreRefusal::kAuthorization);
  EXPECT_EQ(refusal(auth, response(200)), StoreRefusal::kAuthorization);
  EXPECT_EQ(refusal(auth, response(200, "Cache-Control: proxy-revalidate, max-age=60\r\n")),
            StoreRefusal::kAuthorization);
  for (const char* allows : {"public", "must-revalidate, max-age=60", "s-maxage=60"}) {
    EXPECT_EQ(refusal(auth, response(200, std::string("Cache-Control: ") + allows + "\r\n")), StoreRefusal::kNone)
        << allows;
  }
  EXPECT_EQ(refusal(auth, response(200, "Cache-Control: s-maxage=x\r\n")), StoreRefusal::kAuthorization);
}

// Set-Cookie: not stored unless the route allows it (StorableOptions).
TEST(CachePolicyStorable, SetCookieIsNotStoredUnlessAllowed) {
  EXPECT_EQ(refusal(200, "Set-Cookie: s=1\r\nCache-Control: max-age=60\r\n"), StoreRefusal::kSetCookie);
  StorableOptions allow;
  allow.allow_set_cookie = true;
  EXPECT_EQ(refusal(200, "Set-Cookie: s=1\r\nCache-Control: max-age=60\r\n", allow), StoreRefusal::kNone);
}

// RFC 9111 4.1: Vary: * never matches; other Vary is stored as variants (allow_vary).
TEST(CachePolicyStorable, VaryStarIsNeverStored) {
  StorableOptions vary_ok;
  vary_ok.allow_vary = true;
  EXPECT_EQ(refusal(200, "Vary: *\r\nCache-Control: max-age=60\r\n", vary_ok), StoreRefusal::kVaryStar);
  EXPECT_EQ(refusal(200, "Vary: Accept, *\r\nCache-Control: max-age=60\r\n", vary_ok), StoreRefusal::kVaryStar);
  EXPECT_EQ(refusal(200, "Vary: Accept\r\nVary: *\r\nCache-Control: max-age=60\r\n"), StoreRefusal::kVaryStar);
  EXPECT_EQ(refusal(200, "Vary: Accept, x y:z\r\nCache-Control: max-age=60\r\n", vary_ok), StoreRefusal::kVaryStar)
      << "a member that is not a field name can never match";
  EXPECT_EQ(refusal(200, "Vary: Accept-Encoding\r\nCache-Control: max-age=60\r\n"), StoreRefusal::kVary);
  EXPECT_EQ(refusal(200, "Vary: Accept-Encoding\r\nCache-Control: max-age=60\r\n", vary_ok), StoreRefusal::kNone);
  EXPECT_EQ(refusal(200, "Vary:\r\nCache-Control: max-age=60\r\n"), StoreRefusal::kNone);  // an empty list
}

// RFC 9111 3 and RFC 9110 15.1: without explicit freshness, only statuses
// that are heuristically cacheable are stored.
TEST(CachePolicyStorable, HeuristicallyCacheableStatusesNeedNoExplicitFreshness) {
  for (int status : {200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501}) {
    EXPECT_TRUE(heuristicallyCacheable(status)) << status;
    EXPECT_EQ(refusal(status, ""), StoreRefusal::kNone) << status;
  }
  EXPECT_TRUE(heuristicallyCacheable(206));
  for (int status : {201, 202, 302, 303, 307, 400, 403, 500, 502, 503}) {
    EXPECT_FALSE(heuristicallyCacheable(status)) << status;
    EXPECT_EQ(refusal(status, ""), StoreRefusal::kNoFreshness) << status;
  }
}

// RFC 9111 3: explicit freshness or public makes other statuses storable.
TEST(CachePolicyStorable, ExplicitFreshnessOrPublicMakesOtherStatusesStorable) {
  EXPECT_EQ(refusal(302, "Cache-Control: max-age=60\r\n"), StoreRefusal::kNone);
  EXPECT_EQ(refusal(302, "Cache-Control: s-maxage=60\r\n"), StoreRefusal::kNone);
  EXPECT_EQ(refusal(302, "Expires: Thu, 01 Jan 2099 00:00:00 GMT\r\n"), StoreRefusal::kNone);
  EXPECT_EQ(refusal(302, "Expires: 0\r\n"), StoreRefusal::kNone);  // stored, already stale
  EXPECT_EQ(refusal(302, "Cache-Control: public\r\n"), StoreRefusal::kNone);
  EXPECT_EQ(refusal(500, "Cache-Control: max-age=5\r\n"), StoreRefusal::kNone);
  EXPECT_EQ(refusal(299, "Cache-Control: max-age=5\r\n"), StoreRefusal::kNone);
  EXPECT_EQ(refusal(302, "Cache-Control: max-age=oops\r\n"), StoreRefusal::kNoFreshness);
}

// RFC 9111 5.2.2.4: no-cache does not forbid storing, only reuse without
// the origin.
TEST(CachePolicyStorable, NoCacheResponsesMayBeStored) {
  EXPECT_EQ(refusal(200, "Cache-Control: no-cache\r\n"), StoreRefusal::kNone);
  EXPECT_EQ(refusal(200, "Cache-Control: no-cache=\"Set-Cookie\", max-age=60\r\n"), StoreRefusal::kNone);
}

TEST(CachePolicyStorable, RefusalNamesAreStable) {
  const std::pair<StoreRefusal, const char*> names[] = {
      {StoreRefusal::kNone, ""},
      {StoreRefusal::kMethod, "method"},
      {StoreRefusal::kStatus, "status"},
      {StoreRefusal::kPartial, "partial"},
      {StoreRefusal::kRequestNoStore, "request_no_store"},
      {StoreRefusal::kMustUnderstand, "must_understand"},
      {StoreRefusal::kNoStore, "no_store"},
      {StoreRefusal::kPrivate, "private"},
      {StoreRefusal::kAuthorization, "authorization"},
      {StoreRefusal::kSetCookie, "set_cookie"},
      {StoreRefusal::kVaryStar, "vary_star"},
      {StoreRefusal::kVary, "vary"},
      {StoreRefusal::kNoFreshness, "no_freshness"},
  };
  for (const auto& [r, name] : names) EXPECT_STREQ(refusalName(r), name);
}

}  // namespace
}  // namespace weir::cache
