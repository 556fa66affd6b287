// The admin: section and routes[].name.
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <string>

#include "config_fixture.h"
#include "weir/config/config.h"

namespace weir::config {
namespace {

using testing::errorOf;
using testing::kBase;

bool allows(const AdminConfig& a, const char* v4) {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  inet_pton(AF_INET, v4, &in.sin_addr);
  return anyContains(a.allow, reinterpret_cast<const sockaddr*>(&in));
}

TEST(AdminConfig, OffUnlessConfigured) {
  Result<ConfigPtr> r = loadString(kBase, "t.yaml");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE((*r)->admin.enabled);
}

TEST(AdminConfig, AddressAndDefaultAllowIsLoopback) {
  Result<ConfigPtr> r = loadString(std::string(kBase) + "admin:\n  address: 127.0.0.1:9901\n", "t.yaml");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const AdminConfig& a = (*r)->admin;
  EXPECT_TRUE(a.enabled);
  EXPECT_EQ(a.addr.toString(), "127.0.0.1:9901");
  ASSERT_EQ(a.allow.size(), 2u);
  EXPECT_EQ(a.allow[0].toString(), "127.0.0.0/8");
  EXPECT_EQ(a.allow[1].toString(), "::1/128");
  EXPECT_TRUE(allows(a, "127.0.0.2"));
  EXPECT_FALSE(allows(a, "10.0.0.1"));
}

TEST(AdminConfig, AllowList) {
  Result<ConfigPtr> r =
      loadString(std::string(kBase) + "admin:\n  address: 9901\n  allow: [10.0.0.0/8, \"::1\"]\n", "t.yaml");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(allows((*r)->admin, "10.1.2.3"));
  EXPECT_FALSE(allows((*r)->admin, "127.0.0.1"));
}

TEST(AdminConfig, BadAllowEntryNamesItsPosition) {
  EXPECT_EQ(errorOf(std::string(kBase) + "admin:\n  address: 127.0.0.1:9901\n  allow: [127.0.0.0/8, 10.0.0.0/33]\n")
                .substr(0, 30),
            "t.yaml:11:24: admin.allow[1]: ");
}

TEST(AdminConfig, MustNotEqualADataListener) {
  EXPECT_EQ(errorOf(std::string(kBase) + "admin:\n  address: 127.0.0.1:8080\n"),
            "t.yaml:10:12: admin.address: the admin listener must not share an address with a data listener "
            "(127.0.0.1:8080 is listeners[0])");
  // A listener on every address of the port takes it too.
  const std::string wildcard =
      "listeners:\n  - address: 8080\npools:\n  app:\n    servers:\n      - address: 127.0.0.1:9001\nroutes:\n"
      "  - pool: app\nadmin:\n  address: 127.0.0.1:8080\n";
  EXPECT_NE(errorOf(wildcard).find("t.yaml:10:12: admin.address: the admin listener must not share"), std::string::npos)
      << errorOf(wildcard);
}

TEST(AdminConfig, AddressIsRequiredAndKeysChecked) {
  EXPECT_NE(errorOf(std::string(kBase) + "admin:\n  allow: []\n").find("address"), std::string::npos);
  EXPECT_NE(errorOf(std::string(kBase) + "admin:\n  address: 127.0.0.1:9901\n  alow: []\n").find("t.yaml:11:3"),
            std::string::npos)
      << errorOf(std::string(kBase) + "admin:\n  address: 127.0.0.1:9901\n  alow: []\n");
}

TEST(AdminConfig, HashIsXxh3OfTheBytes) {
  Result<ConfigPtr> a = loadString(kBase, "t.yaml");
  Result<ConfigPtr> b = loadString(std::string(kBase) + "# a comment changes the bytes\n", "t.yaml");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE((*a)->hash, 0u);
  EXPECT_NE((*a)->hash, (*b)->hash);
  EXPECT_EQ((*a)->hash, (*loadString(kBase, "other.yaml"))->hash);
}

TEST(RouteName, OptionalAndUnique) {
  const std::string pools = "listeners:\n  - address: 127.0.0.1:8080\npools:\n  app:\n    servers:\n"
                            "      - address: 127.0.0.1:9001\n";
  Result<ConfigPtr> r = loadString(pools + "routes:\n  - name: api\n    match: { path_prefix: /api/ }\n    pool: app\n"
                                           "  - pool: app\n",
                                   "t.yaml");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)->routes[0].name, "api");
  EXPECT_EQ((*r)->routes[1].name, "");
  EXPECT_EQ(errorOf(pools + "routes:\n  - name: x\n    match: { path_prefix: /a/ }\n    pool: app\n"
                            "  - name: x\n    pool: app\n"),
            "t.yaml:11:11: routes[1].name: duplicate route name \"x\" (same as routes[0])");
}

}  // namespace
}  // namespace weir::config
