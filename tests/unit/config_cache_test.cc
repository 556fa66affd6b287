// The cache section and routes[].cache: defaults, every key, and refused
// values with their file:line:col.
#include <gtest/gtest.h>

#include <string>

#include "config_fixture.h"
#include "weir/config/config.h"

namespace weir::config {
namespace {

using testing::errorOf;
using testing::kBase;  // the cache section starts on line 9
using testing::mustLoad;

TEST(ConfigCacheTest, DefaultsWithoutTheSection) {
  ConfigPtr c = mustLoad(std::string("workers: 2\n") + kBase);
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->cache.configured);
  EXPECT_EQ(c->cache.max_size, 256ull << 20);
  EXPECT_EQ(c->cache.max_object_size, 8ull << 20);
  EXPECT_EQ(c->cache.eviction, Eviction::kS3Fifo);
  EXPECT_FALSE(c->routes[0].cache);
  EXPECT_FALSE(c->routes[0].cache_store_set_cookie);
}

TEST(ConfigCacheTest, EveryKey) {
  ConfigPtr c = mustLoad(std::string(kBase) +
                         "cache:\n  max_size: 64MiB\n  max_object_size: 1MiB\n  eviction: lru\n  shards: 16\n"
                         "  lock_timeout: 2s\n  heuristic_fraction: 0.2\n  heuristic_max: 1h\n");
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->cache.configured);
  EXPECT_EQ(c->cache.max_size, 64ull << 20);
  EXPECT_EQ(c->cache.max_object_size, 1ull << 20);
  EXPECT_EQ(c->cache.eviction, Eviction::kLru);
  EXPECT_EQ(c->cache.shards, 16u);
  EXPECT_EQ(c->cache.lock_timeout, std::chrono::seconds(2));
  EXPECT_DOUBLE_EQ(c->cache.heuristic_fraction, 0.2);
  EXPECT_EQ(c->cache.heuristic_max, std::chrono::hours(1));
}

TEST(ConfigCacheTest, ShardsAreAutoUnlessGiven) {
  ConfigPtr c = mustLoad(std::string("workers: 3\n") + kBase + "cache: { max_size: 16MiB }\n");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->cache.shards, 0u);
}

TEST(ConfigCacheTest, ObjectLimitDefaultsToTheCacheSizeWhenTheCacheIsSmaller) {
  ConfigPtr c = mustLoad(std::string(kBase) + "cache: { max_size: 4MiB }\n");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->cache.max_object_size, 4ull << 20);
}

TEST(ConfigCacheTest, RouteCacheTrueOrAMap) {
  const std::string pools = "listeners: [{ address: 127.0.0.1:8080 }]\npools: { app: { servers: [{ address: 127.0.0.1:9001 }] } }\n";
  ConfigPtr c = mustLoad(pools +
                         "routes:\n"
                         "  - { match: { path_prefix: /a/ }, pool: app, cache: true }\n"
                         "  - { match: { path_prefix: /b/ }, pool: app, cache: { store_set_cookie: true } }\n"
                         "  - { match: { path_prefix: /c/ }, pool: app, cache: { enabled: false } }\n"
                         "  - { pool: app, cache: off }\n");
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->routes[0].cache);
  EXPECT_FALSE(c->routes[0].cache_store_set_cookie);
  EXPECT_TRUE(c->routes[1].cache);
  EXPECT_TRUE(c->routes[1].cache_store_set_cookie);
  EXPECT_FALSE(c->routes[2].cache);
  EXPECT_FALSE(c->routes[3].cache);
}

TEST(ConfigCacheTest, RefusedValuesSayWhereAndWhy) {
  const std::string base = kBase;
  EXPECT_EQ(errorOf(base + "cache:\n  max_size: 10KiB\n"), "t.yaml:10:13: cache.max_size: expected at least 1MiB");
  EXPECT_EQ(errorOf(base + "cache:\n  max_size: 2MiB\n  max_object_size: 4MiB\n"),
            "t.yaml:11:20: cache.max_object_size: is larger than max_size (2097152 bytes): no such object could be "
            "stored");
  EXPECT_EQ(errorOf(base + "cache:\n  eviction: lfu\n"),
            "t.yaml:10:13: cache.eviction: expected one of: s3fifo, lru (got \"lfu\")");
  EXPECT_EQ(errorOf(base + "cache:\n  shards: 12\n"),
            "t.yaml:10:11: cache.shards: expected a power of two (1, 2, 4, ... 1024)");
  EXPECT_NE(errorOf(base + "cache:\n  max_sise: 1GiB\n").find("t.yaml:10:3"), std::string::npos);
  EXPECT_NE(errorOf(base + "cache:\n  heuristic_fraction: 2\n").find("t.yaml:10:23"), std::string::npos);
}

// Issue 9's keys: stale windows and key options on the route; variants,
// tag fields and the PURGE method's networks in the section.
TEST(ConfigCacheTest, RevalidationStaleAndKeyOptions) {
  ConfigPtr c = mustLoad(std::string("listeners: [{ address: 127.0.0.1:8080 }]\n") +
                         "pools: { app: { servers: [{ address: 127.0.0.1:9001 }] } }\n"
                         "cache:\n  max_variants: 4\n  tag_headers: [X-Tags]\n  purge_method_allow: [10.0.0.0/8]\n"
                         "routes:\n"
                         "  - { match: { path_prefix: /a/ }, pool: app, cache: { stale_if_error: 1m, "
                         "stale_while_revalidate: 10s, key: { ignore_query: [utm_*, fbclid], sort_query: true, "
                         "headers: [X-Tenant], cookies: [ab] } } }\n"
                         "  - { pool: app, cache: { key: { ignore_query: true } } }\n");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->cache.max_variants, 4u);
  EXPECT_EQ(c->cache.tag_headers, (std::vector<std::string>{"X-Tags"}));
  EXPECT_EQ(c->cache.purge_method_allow.size(), 1u);
  const RouteConfig& a = c->routes[0];
  EXPECT_EQ(a.cache_stale_if_error, std::chrono::minutes(1));
  EXPECT_EQ(a.cache_stale_while_revalidate, std::chrono::seconds(10));
  EXPECT_EQ(a.cache_key.ignore_query, (std::vector<std::string>{"utm_*", "fbclid"}));
  EXPECT_TRUE(a.cache_key.sort_query);
  EXPECT_EQ(a.cache_key.headers, (std::vector<std::string>{"X-Tenant"}));
  EXPECT_EQ(a.cache_key.cookies, (std::vector<std::string>{"ab"}));
  EXPECT_TRUE(c->routes[1].cache_key.ignore_all_query);
  ConfigPtr d = mustLoad(std::string(kBase));
  EXPECT_EQ(d->cache.tag_headers, (std::vector<std::string>{"Surrogate-Key", "Cache-Tag"}));
  EXPECT_TRUE(d->cache.purge_method_allow.empty()) << "PURGE off by default";
  EXPECT_EQ(d->routes[0].cache_stale_if_error, std::chrono::seconds(0)) << "stale-if-error off by default";
}

TEST(ConfigCacheTest, RefusedIssue9Values) {
  const std::string base = kBase;
  EXPECT_NE(errorOf(base + "cache:\n  max_variants: 0\n").find("t.yaml:10:17"), std::string::npos);
  EXPECT_NE(errorOf(base + "cache:\n  tag_headers: [\"bad name\"]\n").find("expected a header name"), std::string::npos);
  const std::string pools = "listeners: [{ address: 127.0.0.1:8080 }]\npools: { app: { servers: [{ address: 127.0.0.1:9001 }] } }\n";
  EXPECT_NE(errorOf(pools + "routes:\n  - pool: app\n    cache: { key: { ignore_query: [\"a=b\"] } }\n")
                .find("query parameter names"),
            std::string::npos);
  EXPECT_NE(errorOf(pools + "routes:\n  - pool: app\n    cache: { key: { query: true } }\n").find("t.yaml:5:21"),
            std::string::npos)
      << errorOf(pools + "routes:\n  - pool: app\n    cache: { key: { query: true } }\n");
  EXPECT_NE(errorOf(pools + "routes:\n  - pool: app\n    cache: { stale_if_error: soon }\n").find("stale_if_error"),
            std::string::npos);
}

TEST(ConfigCacheTest, RouteCacheRefusesOtherValues) {
  const std::string pools = "listeners: [{ address: 127.0.0.1:8080 }]\npools: { app: { servers: [{ address: 127.0.0.1:9001 }] } }\n";
  EXPECT_NE(errorOf(pools + "routes:\n  - pool: app\n    cache: maybe\n").find("t.yaml:5:12: routes[0].cache: expected"),
            std::string::npos)
      << errorOf(pools + "routes:\n  - pool: app\n    cache: maybe\n");
  EXPECT_NE(errorOf(pools + "routes:\n  - pool: app\n    cache: { store_cookies: true }\n").find("t.yaml:5:14"),
            std::string::npos);
}

}  // namespace
}  // namespace weir::config
