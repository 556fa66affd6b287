// The admin purge call's parsing: query parameters and what each answer is.
#include "admin/purge.h"

#include <gtest/gtest.h>

#include <string>

#include "cache_test_util.h"

namespace weir::admin {
namespace {

TEST(AdminPurge, QueryParametersArePercentDecoded) {
  std::string v;
  ASSERT_TRUE(queryParam("a=1&url=http%3A%2F%2Fh%2Fx%20y+z&b=2", "url", v));
  EXPECT_EQ(v, "http://h/x y z");
  ASSERT_TRUE(queryParam("all", "all", v));
  EXPECT_EQ(v, "");
  EXPECT_FALSE(queryParam("urls=1", "url", v));
  EXPECT_FALSE(queryParam("url=%zz", "url", v)) << "a bad escape";
  EXPECT_FALSE(queryParam("url=%4", "url", v)) << "a cut escape";
}

TEST(AdminPurge, AnswersWithoutAStore) {
  EXPECT_EQ(purge("all=1", nullptr).body, "{\"purged\": 0}\n");
  EXPECT_EQ(purge("url=http%3A%2F%2Fh%2Fa", nullptr).status, 200);
  EXPECT_EQ(purge("url=%2Fa", nullptr).status, 400) << "not absolute";
  EXPECT_EQ(purge("url=ftp%3A%2F%2Fh%2Fa", nullptr).status, 400);
  EXPECT_EQ(purge("", nullptr).status, 400);
  EXPECT_EQ(purge("all=yes", nullptr).status, 400);
  EXPECT_EQ(purge("tag=a", nullptr).body, "{\"purged\": 0}\n");
  EXPECT_EQ(purge("tag=", nullptr).status, 400);
  EXPECT_EQ(purge("url=http%3A%2F%2Fh%2Fa&soft=1", nullptr).status, 200);
  EXPECT_EQ(purge("all=1&soft=yes", nullptr).status, 400);
}

// The URL's key is the one the proxy stores under: host lower-cased, the
// scheme's default port dropped (https's too: weir keys every request as
// http until it terminates TLS), the path in normal form, the query as sent.
TEST(AdminPurge, UrlsFindTheKeysTheProxyStores) {
  auto st = cache::cachetest::makeStore(1 << 20);
  auto put = [&](const std::string& path) {
    ASSERT_TRUE(cache::cachetest::store(*st, cache::CacheKey::forRequest("GET", "http", "h", path), "x").ok());
  };
  put("/a");
  put("/b/c?q=1");
  put("/d");
  EXPECT_EQ(purge("url=http%3A%2F%2FH%3A80%2Fa", st.get()).body, "{\"purged\": 1}\n");
  EXPECT_EQ(purge("url=https%3A%2F%2Fh%3A443%2Fb%2F.%2Fc%3Fq%3D1", st.get()).body, "{\"purged\": 1}\n");
  EXPECT_EQ(purge("url=http%3A%2F%2Fh%2Fd%3Fother", st.get()).body, "{\"purged\": 0}\n") << "the query counts";
  EXPECT_EQ(purge("prefix=http%3A%2F%2Fh%2F", st.get()).body, "{\"purged\": 1}\n");
}

}  // namespace
}  // namespace weir::admin
