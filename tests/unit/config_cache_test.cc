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
