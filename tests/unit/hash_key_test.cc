// The request key consistent_hash pools balance by.
#include "weir/proxy/hash_key.h"

#include <gtest/gtest.h>

namespace weir::proxy {
namespace {

http::RequestHead request(std::string path, std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
  http::RequestHead r;
  r.path = std::move(path);
  for (const auto& [name, value] : fields) r.fields.add(name, value);
  return r;
}

config::HashConfig keyOf(config::HashConfig::Source source, std::string name = "") {
  config::HashConfig h;
  h.source = source;
  h.name = std::move(name);
  return h;
}

std::string keyFor(const config::HashConfig& h, const http::RequestHead& r, std::string_view ip = "10.0.0.7") {
  std::string_view key;
  if (!requestKey(h, r, ip, key)) return "<none>";
  return std::string(key);
}

using S = config::HashConfig::Source;

TEST(HashKeyTest, HeaderByNameCaseInsensitively) {
  const auto r = request("/a", {{"Host", "x"}, {"x-user", "alice"}});
  EXPECT_EQ(keyFor(keyOf(S::kHeader, "X-User"), r), "alice");
  EXPECT_EQ(keyFor(keyOf(S::kHeader, "X-Other"), r), "<none>");
  EXPECT_EQ(keyFor(keyOf(S::kHeader, "X-User"), request("/a", {{"X-User", ""}})), "<none>") << "empty is no key";
}

TEST(HashKeyTest, CookieFromAnyCookieField) {
  const auto r = request("/", {{"Cookie", "a=1; session=abc; b=2"}});
  EXPECT_EQ(keyFor(keyOf(S::kCookie, "session"), r), "abc");
  EXPECT_EQ(keyFor(keyOf(S::kCookie, "sess"), r), "<none>");
  EXPECT_EQ(keyFor(keyOf(S::kCookie, "b"), request("/", {{"Cookie", "a=1"}, {"cookie", "b=2"}})), "2");
}

TEST(HashKeyTest, QueryParameterPathAndUri) {
  const auto r = request("/cart/view?item=9&user=42", {});
  EXPECT_EQ(keyFor(keyOf(S::kQuery, "user"), r), "42");
  EXPECT_EQ(keyFor(keyOf(S::kQuery, "use"), r), "<none>");
  EXPECT_EQ(keyFor(keyOf(S::kQuery, "user"), request("/cart", {})), "<none>");
  EXPECT_EQ(keyFor(keyOf(S::kPath), r), "/cart/view");
  EXPECT_EQ(keyFor(keyOf(S::kUri), r), "/cart/view?item=9&user=42");
  EXPECT_EQ(keyFor(keyOf(S::kClientIp), r), "10.0.0.7");
}

TEST(HashKeyTest, SameKeySameHash) {
  EXPECT_EQ(hashKey("alice"), hashKey(std::string("alice")));
  EXPECT_NE(hashKey("alice"), hashKey("bob"));
}

}  // namespace
}  // namespace weir::proxy
