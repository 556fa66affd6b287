// The cache key: normalisation, the method class, the hash, shard choice.
// (The collision path, where equal hashes must not serve each other's
// objects, is in cache_store_test.cc.)
#include "weir/cache/key.h"

#include <gtest/gtest.h>
#include <xxhash.h>

#include <set>

namespace weir::cache {
namespace {

TEST(CacheKeyTest, GetAndHeadShareOneClass) {
  const CacheKey get = CacheKey::forRequest("GET", "http", "example.com", "/a");
  const CacheKey head = CacheKey::forRequest("HEAD", "http", "example.com", "/a");
  EXPECT_EQ(get, head);
  EXPECT_EQ(get.str(), "GET http example.com /a");
  EXPECT_EQ(get.hash(), head.hash());
}

TEST(CacheKeyTest, OtherMethodsAreTheirOwnClassAsGiven) {
  const CacheKey post = CacheKey::forRequest("POST", "http", "example.com", "/a");
  EXPECT_EQ(post.str(), "POST http example.com /a");
  EXPECT_FALSE(post == CacheKey::forRequest("GET", "http", "example.com", "/a"));
  EXPECT_FALSE(CacheKey::forRequest("get", "http", "example.com", "/a") ==
               CacheKey::forRequest("GET", "http", "example.com", "/a"))
      << "methods are case-sensitive";
}

TEST(CacheKeyTest, HostLowerCasedAndDefaultPortDropped) {
  EXPECT_EQ(normalizeHost("http", "Example.COM"), "example.com");
  EXPECT_EQ(normalizeHost("http", "example.com:80"), "example.com");
  EXPECT_EQ(normalizeHost("HTTP", "example.com:80"), "example.com");
  EXPECT_EQ(normalizeHost("http", "example.com:443"), "example.com:443");
  EXPECT_EQ(normalizeHost("https", "example.com:443"), "example.com");
  EXPECT_EQ(normalizeHost("https", "example.com:80"), "example.com:80");
  EXPECT_EQ(normalizeHost("http", "example.com:8080"), "example.com:8080");
  EXPECT_EQ(normalizeHost("http", "example.com:"), "example.com") << "an empty port is the default";
  EXPECT_EQ(normalizeHost("http", "[::1]:80"), "[::1]");
  EXPECT_EQ(normalizeHost("http", "[::1]"), "[::1]");
  EXPECT_EQ(normalizeHost("http", "[::1]:8080"), "[::1]:8080");
  EXPECT_EQ(CacheKey::forRequest("GET", "HTTP", "EXAMPLE.com:80", "/a"),
            CacheKey::forRequest("GET", "http", "example.com", "/a"));
}

TEST(CacheKeyTest, SchemeSeparatesAndTargetIsKeptAsGiven) {
  EXPECT_FALSE(CacheKey::forRequest("GET", "http", "h", "/a") == CacheKey::forRequest("GET", "https", "h", "/a"));
  EXPECT_FALSE(CacheKey::forRequest("GET", "http", "h", "/A") == CacheKey::forRequest("GET", "http", "h", "/a"));
  EXPECT_FALSE(CacheKey::forRequest("GET", "http", "h", "/a?x=1") == CacheKey::forRequest("GET", "http", "h", "/a"));
  EXPECT_EQ(CacheKey::forRequest("GET", "http", "h", "/a/../b?Q").str(), "GET http h /a/../b?Q");
}

TEST(CacheKeyTest, HashIsXxh3Of128BitsOverTheFullString) {
  const CacheKey k = CacheKey::forRequest("GET", "https", "example.com", "/x?y");
  const XXH128_hash_t h = XXH3_128bits(k.str().data(), k.str().size());
  EXPECT_EQ(k.hash().low, h.low64);
  EXPECT_EQ(k.hash().high, h.high64);
  EXPECT_EQ(hashKeyString(k.str()), k.hash());
}

TEST(CacheKeyTest, ShardIndexIsInRangeAndSpread) {
  std::set<size_t> seen;
  for (int i = 0; i < 256; ++i) {
    const CacheKey k = CacheKey::forRequest("GET", "http", "h", "/" + std::to_string(i));
    const size_t s = k.shardIndex(16);
    ASSERT_LT(s, 16u);
    seen.insert(s);
  }
  EXPECT_EQ(seen.size(), 16u);
  EXPECT_EQ(CacheKey::forRequest("GET", "http", "h", "/").shardIndex(1), 0u);
}

TEST(CacheKeyTest, InjectedHashIsKeptAndEqualityStillComparesTheString) {
  const CacheKey a = CacheKey::withHashForTesting("GET http h /a", Hash128{1, 2});
  const CacheKey b = CacheKey::withHashForTesting("GET http h /b", Hash128{1, 2});
  EXPECT_EQ(a.hash(), b.hash());
  EXPECT_FALSE(a == b);
}

}  // namespace
}  // namespace weir::cache
