// Invalidation after unsafe requests (RFC 9111 4.4), one test per rule.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "serialized_head.h"
#include "weir/cache/policy.h"

namespace weir::cache {
namespace {

using http::testing::parseRequest;
using http::testing::parseResponse;
using Targets = std::vector<std::string>;

Targets targets(const std::string& method, const std::string& target, int status, const std::string& fields = "",
                const std::string& host = "Example.com", std::string_view scheme = "http") {
  http::RequestHead req =
      parseRequest(method + " " + target + " HTTP/1.1\r\nHost: " + host + "\r\nContent-Length: 0\r\n\r\n");
  http::ResponseHead res =
      parseResponse("HTTP/1.1 " + std::to_string(status) + " X\r\n" + fields + "Content-Length: 0\r\n\r\n");
  return invalidationTargets(req, res, scheme);
}

// RFC 9111 4.4: a non-error response to an unsafe method invalidates the
// target URI.
TEST(CachePolicyInvalidation, UnsafeMethodsInvalidateTheTarget) {
  for (const char* method : {"POST", "PUT", "DELETE", "PATCH"}) {
    EXPECT_EQ(targets(method, "/a/b?x=1", 200), Targets{"/a/b?x=1"}) << method;
  }
  EXPECT_EQ(targets("POST", "/a", 204), Targets{"/a"});
  EXPECT_EQ(targets("POST", "/a", 303), Targets{"/a"});
}

// A field value may hold spaces and tabs; a URI reference may not (RFC 3986
// 2): such a Location names nothing to invalidate. (Found by the
// cache_policy fuzz target.)
TEST(CachePolicyInvalidation, LocationWithWhitespaceIsSkipped) {
  EXPECT_EQ(targets("POST", "/items", 201, "Location: /items/7 extra\r\n"), Targets{"/items"});
  EXPECT_EQ(targets("POST", "/items", 201, "Location: /a\tb\r\nContent-Location: /items/8\r\n"),
            (Targets{"/items", "/items/8"}));
}

// RFC 9111 4.4: "including methods whose safety is unknown".
TEST(CachePolicyInvalidation, MethodsNotKnownSafeAreUnsafe) {
  EXPECT_EQ(targets("PURGE", "/a", 200), Targets{"/a"});
  EXPECT_EQ(targets("MKCOL", "/a", 201), Targets{"/a"});
  EXPECT_FALSE(isSafeMethod("PROPPATCH"));
}

// RFC 9110 9.2.1: safe methods invalidate nothing.
TEST(CachePolicyInvalidation, SafeMethodsInvalidateNothing) {
  for (const char* method : {"GET", "HEAD", "OPTIONS", "TRACE"}) {
    EXPECT_TRUE(isSafeMethod(method)) << method;
    EXPECT_TRUE(targets(method, "/a", 200, "Location: /b\r\n").empty()) << method;
  }
}

// RFC 9111 4.4: only a non-error status (2xx, 3xx) invalidates.
TEST(CachePolicyInvalidation, ErrorStatusesInvalidateNothing) {
  for (int status : {400, 404, 409, 500, 503}) {
    EXPECT_TRUE(targets("POST", "/a", status, "Location: /b\r\n").empty()) << status;
  }
}

// RFC 9111 4.4: Location and Content-Location of the same host too.
TEST(CachePolicyInvalidation, LocationAndContentLocationOfTheSameHost) {
  EXPECT_EQ(targets("POST", "/items", 201, "Location: /items/7\r\nContent-Location: /items/7?v=1\r\n"),
            (Targets{"/items", "/items/7", "/items/7?v=1"}));
  EXPECT_EQ(targets("PUT", "/a", 200, "Location: http://example.com/b\r\n"), (Targets{"/a", "/b"}));
  EXPECT_EQ(targets("PUT", "/a", 200, "Location: HTTP://EXAMPLE.COM:80/b\r\n"), (Targets{"/a", "/b"}));
  EXPECT_EQ(targets("PUT", "/a", 200, "Location: http://example.com:/b\r\n"), (Targets{"/a", "/b"}));
  EXPECT_EQ(targets("PUT", "/a", 200, "Location: //example.com/b\r\n"), (Targets{"/a", "/b"}));
  EXPECT_EQ(targets("PUT", "/a", 200, "Location: http://example.com\r\n"), (Targets{"/a", "/"}));
}

// RFC 9111 4.4: never for another host (the authority compared with the
// default port dropped).
TEST(CachePolicyInvalidation, OtherHostsAreNeverInvalidated) {
  for (const char* other : {"http://evil.example/b", "//evil.example/b", "http://example.com:8080/b",
                            "https://example.com:80/b", "http://user@example.com/b", "ftp://example.com/b",
                            "mailto:a@example.com", "urn:isbn:1"}) {
    EXPECT_EQ(targets("POST", "/a", 200, std::string("Location: ") + other + "\r\n"), Targets{"/a"}) << other;
  }
  // The request's port counts too.
  EXPECT_EQ(targets("POST", "/a", 200, "Location: http://example.com:8080/b\r\n", "example.com:8080"),
            (Targets{"/a", "/b"}));
  EXPECT_EQ(targets("POST", "/a", 200, "Location: http://example.com/b\r\n", "example.com:8080"), Targets{"/a"});
  // https: 443 is the default.
  EXPECT_EQ(targets("POST", "/a", 200, "Location: https://example.com:443/b\r\n", "example.com", "https"),
            (Targets{"/a", "/b"}));
  EXPECT_EQ(targets("POST", "/a", 200, "Location: https://example.com/b\r\n", "example.com:443", "https"),
            (Targets{"/a", "/b"}));
}

// RFC 3986 5.2: relative references resolve against the target, and come
// back in weir's normal form (http/target.h), without fragments.
TEST(CachePolicyInvalidation, RelativeReferencesAreResolvedAndNormalised) {
  EXPECT_EQ(targets("POST", "/a/b/c", 200, "Location: d\r\n"), (Targets{"/a/b/c", "/a/b/d"}));
  EXPECT_EQ(targets("POST", "/a/b/c", 200, "Location: ../d\r\n"), (Targets{"/a/b/c", "/a/d"}));
  EXPECT_EQ(targets("POST", "/a/b/c?q", 200, "Location: ?r=1\r\n"), (Targets{"/a/b/c?q", "/a/b/c?r=1"}));
  EXPECT_EQ(targets("POST", "/a", 200, "Location: /%7Eb/./c#frag\r\n"), (Targets{"/a", "/~b/c"}));
  EXPECT_EQ(targets("POST", "/a", 200, "Location: http://example.com//x//y\r\n"), (Targets{"/a", "/x/y"}));
}

TEST(CachePolicyInvalidation, DuplicatesAndUnusableValuesAreDropped) {
  EXPECT_EQ(targets("POST", "/a", 200, "Location: /a\r\nContent-Location: http://example.com/a\r\n"), Targets{"/a"});
  EXPECT_EQ(targets("POST", "/a", 200, "Location: /b%zz\r\n"), Targets{"/a"});
  EXPECT_EQ(targets("POST", "/a", 200, "Location: #only-a-fragment\r\n"), Targets{"/a"});
  // The request target in normal form is the key's.
  EXPECT_EQ(targets("DELETE", "/x/../%61", 200), Targets{"/a"});
}

}  // namespace
}  // namespace weir::cache
