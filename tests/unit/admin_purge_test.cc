// The admin purge call's parsing: query parameters and what each answer is.
#include "admin/purge.h"

#include <gtest/gtest.h>

#include <string>

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
  EXPECT_EQ(purge("tag=a", nullptr).status, 501);
  EXPECT_EQ(purge("url=http%3A%2F%2Fh%2Fa&soft=1", nullptr).status, 501);
}

}  // namespace
}  // namespace weir::admin
