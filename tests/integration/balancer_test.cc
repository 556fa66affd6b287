// Smooth weighted round robin and route matching (first match wins).
#include "harness.h"

namespace weir::itest {
namespace {

class Balancer : public ::testing::Test {
 protected:
  void startWeighted() {
    for (const char* n : {"a", "b", "c"}) {
      origins_.push_back(std::make_unique<Origin>(n));
      ASSERT_TRUE(origins_.back()->ok()) << origins_.back()->error();
    }
    weir_ = std::make_unique<Weir>(R"(workers: 1
pools:
  app:
    servers:
      - address: ${A}
        weight: 5
      - address: ${B}
        weight: 1
      - address: ${C}
        weight: 1
routes:
  - pool: app
)",
                                   std::map<std::string, std::string>{{"A", origins_[0]->address()},
                                                                      {"B", origins_[1]->address()},
                                                                      {"C", origins_[2]->address()}});
    ASSERT_TRUE(weir_->ok()) << weir_->error();
  }
  std::vector<std::unique_ptr<Origin>> origins_;
  std::unique_ptr<Weir> weir_;
};

TEST_F(Balancer, SmoothWeightedOrderWithNewConnections) {
  ASSERT_NO_FATAL_FAILURE(startWeighted());
  std::string seq;
  for (int i = 0; i < 14; ++i) {
    CurlResult r = curl(weir_->url("/"));
    ASSERT_EQ(r.status, 200) << r.describe();
    seq += r.header("X-Origin").value_or("?");
  }
  EXPECT_EQ(seq, "aabacaaaabacaa");
}

TEST_F(Balancer, SmoothWeightedOrderOnOneConnection) {
  ASSERT_NO_FATAL_FAILURE(startWeighted());
  RawClient c(weir_->port());
  std::string seq;
  for (int i = 0; i < 14; ++i) {
    ASSERT_TRUE(c.send(get("/")));
    auto r = c.readResponse(Ms(3000));
    ASSERT_TRUE(r) << c.lastError();
    seq += r->header("X-Origin").value_or("?");
  }
  EXPECT_EQ(seq, "aabacaaaabacaa");
}

TEST(BalancerEqual, EqualWeightsAlternate) {
  Origin a("a"), b("b");
  ASSERT_TRUE(a.ok() && b.ok()) << a.error() << b.error();
  Weir weir(poolConfig({a.address(), b.address()}));
  ASSERT_TRUE(weir.ok()) << weir.error();
  std::string seq;
  for (int i = 0; i < 6; ++i) {
    auto r = rawRequest(weir.port(), get("/"));
    ASSERT_TRUE(r);
    seq += r->header("X-Origin").value_or("?");
  }
  EXPECT_TRUE(seq == "ababab" || seq == "bababa") << seq;
}

TEST(Routing, HostAndPathMatchingFirstMatchWins) {
  Origin a("a"), b("b"), c("c");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  Weir weir(R"(pools:
  a: { servers: [ { address: "${A}" } ] }
  b: { servers: [ { address: "${B}" } ] }
  c: { servers: [ { address: "${C}" } ] }
routes:
  - match: { host: "*.example.com", path_prefix: /api/ }
    pool: b
  - match: { path_prefix: /api/ }
    pool: c
  - match: { path_prefix: /ap }   # also matches /api/..., where the route above wins
    pool: b
  - pool: a
)",
            {{"A", a.address()}, {"B", b.address()}, {"C", c.address()}});
  ASSERT_TRUE(weir.ok()) << weir.error();
  struct Case {
    std::string host, path, origin;
  };
  std::vector<Case> cases = {
      {"foo.example.com", "/api/x", "b"}, {"other.test", "/api/x", "c"}, {"foo.example.com", "/x", "a"},
      {"other.test", "/api/v2/x", "c"},   {"other.test", "/", "a"},       {"example.com", "/api/x", "c"},
      {"other.test", "/apple", "b"},
  };
  for (const auto& k : cases) {
    auto r = rawRequest(weir.port(), get(k.path, "", k.host));
    ASSERT_TRUE(r) << k.host << k.path;
    EXPECT_EQ(r->header("X-Origin").value_or("?"), k.origin) << "Host " << k.host << " path " << k.path;
  }
}

}  // namespace
}  // namespace weir::itest
