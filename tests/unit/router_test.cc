#include "weir/proxy/router.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "weir/config/config.h"

namespace weir::proxy {
namespace {

struct R {
  const char* host;
  const char* prefix;
};

config::Config configWith(const std::vector<R>& routes) {
  config::Config cfg;
  for (const R& r : routes) {
    config::RouteConfig rc;
    rc.host = r.host;
    rc.path_prefix = r.prefix;
    rc.pool = "p";
    cfg.routes.push_back(rc);
  }
  return cfg;
}

TEST(RouterTest, NoRoutesMatchesNothing) {
  Router router(configWith({}));
  EXPECT_EQ(router.match("example.com", "/"), -1);
  EXPECT_EQ(router.match("", ""), -1);
}

TEST(RouterTest, MatchesTheEffectiveAuthorityAndPathAsGiven) {
  Router router(configWith({{"api.example.com", "/api/"}, {"", "/api/"}, {"", ""}}));
  // The parser resolves absolute-form (RFC 9112 3.2.2) into RequestHead's
  // authority and path; the router takes them as they are.
  EXPECT_EQ(router.match("api.example.com", "/api/v1"), 0);
  EXPECT_EQ(router.match("other.example.com", "/api/v1?x=1"), 1);
  EXPECT_EQ(router.match("api.example.com", "/"), 2);
  // A string that looks like an absolute-form target is not parsed again.
  EXPECT_EQ(router.match("other.example.com", "http://api.example.com/api/v1"), 2);
}

TEST(RouterTest, CatchAllMatchesEverything) {
  Router router(configWith({{"", ""}}));
  EXPECT_EQ(router.match("example.com", "/"), 0);
  EXPECT_EQ(router.match("", "/x"), 0);
  EXPECT_EQ(router.match("[::1]:80", "*"), 0);
}

TEST(RouterTest, FirstMatchWins) {
  Router router(configWith({{"", "/api/"}, {"api.example.com", ""}, {"", ""}, {"", "/never"}}));
  EXPECT_EQ(router.match("api.example.com", "/api/users"), 0);
  EXPECT_EQ(router.match("api.example.com", "/other"), 1);
  EXPECT_EQ(router.match("www.example.com", "/other"), 2);
  EXPECT_EQ(router.match("www.example.com", "/never"), 2);  // shadowed by the catch-all
}

TEST(RouterTest, ExactHostIgnoresCaseAndPort) {
  Router router(configWith({{"www.example.com", ""}}));
  EXPECT_EQ(router.match("www.example.com", "/"), 0);
  EXPECT_EQ(router.match("WWW.Example.COM", "/"), 0);
  EXPECT_EQ(router.match("www.example.com:8080", "/"), 0);
  EXPECT_EQ(router.match("www.example.com.", "/"), 0);  // fully qualified
  EXPECT_EQ(router.match("example.com", "/"), -1);
  EXPECT_EQ(router.match("a.www.example.com", "/"), -1);
  EXPECT_EQ(router.match("www.example.co", "/"), -1);
  EXPECT_EQ(router.match("www.example.com.evil", "/"), -1);
  EXPECT_EQ(router.match("", "/"), -1);
}

TEST(RouterTest, ConfiguredHostIsCaseInsensitiveToo) {
  Router router(configWith({{"WWW.Example.Com", ""}}));
  EXPECT_EQ(router.match("www.example.com", "/"), 0);
}

TEST(RouterTest, WildcardMatchesSubdomainsOnly) {
  Router router(configWith({{"*.example.com", ""}}));
  EXPECT_EQ(router.match("a.example.com", "/"), 0);
  EXPECT_EQ(router.match("a.b.example.com", "/"), 0);
  EXPECT_EQ(router.match("A.EXAMPLE.com:443", "/"), 0);
  EXPECT_EQ(router.match("example.com", "/"), -1);
  EXPECT_EQ(router.match("example.com:80", "/"), -1);
  EXPECT_EQ(router.match("badexample.com", "/"), -1);
  EXPECT_EQ(router.match("a.example.com.evil", "/"), -1);
  EXPECT_EQ(router.match("a.example.org", "/"), -1);
}

TEST(RouterTest, WildcardBeforeExactHost) {
  Router router(configWith({{"*.example.com", ""}, {"example.com", ""}}));
  EXPECT_EQ(router.match("www.example.com", "/"), 0);
  EXPECT_EQ(router.match("example.com", "/"), 1);
}

TEST(RouterTest, PathPrefix) {
  Router router(configWith({{"", "/api/"}, {"", "/static"}}));
  EXPECT_EQ(router.match("h", "/api/"), 0);
  EXPECT_EQ(router.match("h", "/api/v1/users?id=3"), 0);
  EXPECT_EQ(router.match("h", "/api"), -1);  // shorter than the prefix
  EXPECT_EQ(router.match("h", "/API/"), -1);  // byte for byte
  EXPECT_EQ(router.match("h", "/static"), 1);
  EXPECT_EQ(router.match("h", "/static/app.js"), 1);
  EXPECT_EQ(router.match("h", "/staticfile"), 1);  // a prefix, not a path segment
  EXPECT_EQ(router.match("h", "/"), -1);
  EXPECT_EQ(router.match("h", ""), -1);
}

TEST(RouterTest, HostAndPrefixMustBothMatch) {
  Router router(configWith({{"api.example.com", "/v2/"}, {"*.example.com", "/v1/"}, {"", "/v1/"}}));
  EXPECT_EQ(router.match("api.example.com", "/v2/x"), 0);
  EXPECT_EQ(router.match("api.example.com", "/v1/x"), 1);
  EXPECT_EQ(router.match("other.example.com", "/v2/x"), -1);
  EXPECT_EQ(router.match("example.com", "/v1/x"), 2);
  EXPECT_EQ(router.match("elsewhere.org", "/v1/"), 2);
  EXPECT_EQ(router.match("elsewhere.org", "/v3/"), -1);
}

TEST(RouterTest, Ipv6HostLiteral) {
  Router router(configWith({{"[::1]", ""}}));
  EXPECT_EQ(router.match("[::1]", "/"), 0);
  EXPECT_EQ(router.match("[::1]:8080", "/"), 0);
  EXPECT_EQ(router.match("[::2]:8080", "/"), -1);
}

TEST(RouterTest, NormalizeHost) {
  std::string out = "junk";
  normalizeHost("Example.COM:8080", out);
  EXPECT_EQ(out, "example.com");
  normalizeHost("example.com.", out);
  EXPECT_EQ(out, "example.com");
  normalizeHost("[2001:DB8::1]:443", out);
  EXPECT_EQ(out, "[2001:db8::1]");
  normalizeHost("", out);
  EXPECT_EQ(out, "");
  normalizeHost("host", out);
  EXPECT_EQ(out, "host");
}

TEST(RouterTest, RoutesFromLoadedConfig) {
  const std::string yaml =
      "listeners:\n"
      "  - address: 127.0.0.1:8080\n"
      "pools:\n"
      "  api:\n"
      "    servers:\n"
      "      - address: 127.0.0.1:9001\n"
      "  www:\n"
      "    servers:\n"
      "      - address: 127.0.0.1:9002\n"
      "routes:\n"
      "  - match: { host: API.example.com }\n"
      "    pool: api\n"
      "  - match: { host: \"*.example.com\", path_prefix: /api/ }\n"
      "    pool: api\n"
      "  - match: { host: \"*\", path_prefix: /static/ }\n"
      "    pool: www\n"
      "  - pool: www\n";
  Result<config::ConfigPtr> loaded = config::loadString(yaml, "t.yaml");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  const config::Config& cfg = **loaded;
  ASSERT_EQ(cfg.routes.size(), 4u);
  Router router(cfg);
  EXPECT_EQ(router.match("api.example.com:443", "/anything"), 0);
  EXPECT_EQ(router.match("shop.example.com", "/api/cart"), 1);
  EXPECT_EQ(router.match("shop.example.com", "/static/a.css"), 2);
  EXPECT_EQ(router.match("other.org", "/static/a.css"), 2);
  EXPECT_EQ(router.match("example.com", "/api/cart"), 3);
  EXPECT_EQ(cfg.routes[static_cast<size_t>(router.match("shop.example.com", "/api/x"))].pool, "api");
  EXPECT_EQ(cfg.routes[static_cast<size_t>(router.match("other.org", "/"))].pool, "www");
}

}  // namespace
}  // namespace weir::proxy
