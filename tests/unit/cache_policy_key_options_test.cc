// A route's cache key options: query parameters dropped or sorted, request
// fields and cookies added.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "weir/cache/key_options.h"
#include "weir/http/parser.h"

namespace weir::cache {
namespace {

TEST(CachePolicyKeyOptions, IgnoredParametersLeaveTheKey) {
  EXPECT_EQ(keyTarget("/a?utm_source=x&id=1&fbclid=z&utm_medium=y", {"utm_*", "fbclid"}, false, false), "/a?id=1");
  EXPECT_EQ(keyTarget("/a?utm_source=x", {"utm_*"}, false, false), "/a") << "no '?' left";
  EXPECT_EQ(keyTarget("/a?utm=1", {"utm_*"}, false, false), "/a?utm=1") << "the prefix includes the '_'";
  EXPECT_EQ(keyTarget("/a?fbclid", {"fbclid"}, false, false), "/a") << "a parameter without a value";
  EXPECT_EQ(keyTarget("/a?x=1&&y=2&", {}, false, false), "/a?x=1&y=2") << "empty parameters dropped";
}

TEST(CachePolicyKeyOptions, TheWholeQueryCanBeIgnored) {
  EXPECT_EQ(keyTarget("/a?b=1&c=2", {}, true, false), "/a");
  EXPECT_EQ(keyTarget("/a", {}, true, false), "/a");
}

TEST(CachePolicyKeyOptions, SortingIsByNameAndStable) {
  EXPECT_EQ(keyTarget("/s?b=2&a=1&b=1", {}, false, true), "/s?a=1&b=2&b=1");
  EXPECT_EQ(keyTarget("/s?b=2&a=1", {}, false, false), "/s?b=2&a=1") << "unsorted by default";
}

TEST(CachePolicyKeyOptions, NamesMatchExactlyOrByPrefix) {
  EXPECT_TRUE(queryNameMatches("utm_source", "utm_*"));
  EXPECT_TRUE(queryNameMatches("utm_", "utm_*"));
  EXPECT_FALSE(queryNameMatches("UTM_source", "utm_*")) << "raw, case-sensitive";
  EXPECT_TRUE(queryNameMatches("id", "id"));
  EXPECT_FALSE(queryNameMatches("ids", "id"));
}

const http::RequestHead& request(http::Parser& p, const std::string& fields) {
  const std::string head = "GET / HTTP/1.1\r\nHost: h\r\n" + fields + "\r\n";
  p.execute(head.data(), head.size());
  return p.request();
}

TEST(CachePolicyKeyOptions, HeadersAndCookiesAreAddedByName) {
  http::Parser a(http::Parser::Kind::kRequest, {}), b(http::Parser::Kind::kRequest, {});
  EXPECT_EQ(keyParts(request(a, "x-tenant: acme\r\nCookie: theme=dark; variant=b\r\n"), {"X-Tenant"}, {"variant"}),
            "h:X-Tenant=acme\nc:variant=b\n");
  EXPECT_EQ(keyParts(request(b, "Cookie: variantx=1\r\n"), {"X-Tenant"}, {"variant"}), "h:X-Tenant\nc:variant\n")
      << "absent field and cookie";
}

TEST(CachePolicyKeyOptions, NoOptionsNoParts) {
  http::Parser a(http::Parser::Kind::kRequest, {});
  EXPECT_EQ(keyParts(request(a, "Cookie: a=1\r\n"), {}, {}), "");
}

}  // namespace
}  // namespace weir::cache
