// Basic proxying: bodies and status codes pass through, Host is kept,
// X-Forwarded-* and Via are added, hop-by-hop fields are removed.
#include "harness.h"

namespace weir::itest {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

std::vector<std::string> values(const Fields& fields, const std::string& name) { return fieldValues(fields, name); }

std::string joined(const Fields& fields, const std::string& name) {
  std::string out;
  for (const auto& v : values(fields, name)) out += (out.empty() ? "" : ", ") + v;
  return out;
}

// The request head weir sent upstream, as weir-origin's /headers reports it.
Fields upstreamFields(Weir& weir, const std::string& request, std::string* requestLine = nullptr) {
  auto r = rawRequest(weir.port(), request);
  EXPECT_TRUE(r) << "no response to " << request;
  if (!r) return {};
  EXPECT_EQ(r->status, 200) << r->rawHead << r->body;
  if (requestLine) *requestLine = r->body.substr(0, r->body.find("\r\n"));
  return parseFields(r->body);
}

using ProxyBasic = ProxyTest;

TEST_F(ProxyBasic, GetReturnsOriginResponse) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  CurlResult r = curl(weir().url("/"));
  ASSERT_EQ(r.exitCode, 0) << r.describe();
  EXPECT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.body, "hello from a\n");
  EXPECT_EQ(r.header("X-Origin").value_or("<missing>"), "a") << r.describe();
}

TEST_F(ProxyBasic, BytesBodyIntact) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  CurlResult r = curl(weir().url("/bytes/100000"));
  EXPECT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.body.size(), 100000u);
  EXPECT_TRUE(r.body == pattern(100000)) << "body differs from the origin's pattern";
}

TEST_F(ProxyBasic, StatusCodesPassThrough) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  for (int code : {201, 302, 404, 418, 500, 503}) {
    CurlResult r = curl(weir().url("/status/" + std::to_string(code)));
    EXPECT_EQ(r.status, code) << r.describe();
    EXPECT_EQ(r.header("X-Origin").value_or("<missing>"), "a") << "status " << code << " should come from the origin";
  }
}

TEST_F(ProxyBasic, HostHeaderPreserved) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  Fields f = upstreamFields(weir(), get("/headers", "", "example.test:8080"));
  EXPECT_EQ(values(f, "Host"), std::vector<std::string>{"example.test:8080"}) << "upstream head fields: " << f.size();
}

TEST_F(ProxyBasic, RequestLineAndQueryForwarded) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  std::string line;
  upstreamFields(weir(), get("/headers?a=1&b=%20x&c"), &line);
  EXPECT_EQ(line, "GET /headers?a=1&b=%20x&c HTTP/1.1");
  auto r = rawRequest(weir().port(), "DELETE /headers HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body.substr(0, r->body.find("\r\n")), "DELETE /headers HTTP/1.1");
}

TEST_F(ProxyBasic, ForwardedHeadersAdded) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  Fields f = upstreamFields(weir(), get("/headers", "", "front.example"));
  EXPECT_EQ(joined(f, "X-Forwarded-For"), "127.0.0.1");
  EXPECT_EQ(joined(f, "X-Forwarded-Proto"), "http");
  EXPECT_EQ(joined(f, "X-Forwarded-Host"), "front.example");
  EXPECT_NE(joined(f, "Via").find("1.1 weir"), std::string::npos) << "Via: " << joined(f, "Via");
}

TEST_F(ProxyBasic, ForwardedForAndViaAppended) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  Fields f = upstreamFields(weir(), get("/headers", "X-Forwarded-For: 10.1.2.3\r\nVia: 1.0 edge\r\n"));
  // The client is not in proxy_headers.trusted_clients: its claim is replaced.
  EXPECT_EQ(joined(f, "X-Forwarded-For"), "127.0.0.1");
  std::string via = joined(f, "Via");
  EXPECT_EQ(via.rfind("1.0 edge", 0), 0u) << "Via: " << via;
  EXPECT_NE(via.find(", 1.1 weir"), std::string::npos) << "Via: " << via;
}

TEST_F(ProxyBasic, HopByHopRequestHeadersStripped) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  Fields f = upstreamFields(weir(), get("/headers",
                                        "Connection: keep-alive, X-Foo\r\n"
                                        "X-Foo: 1\r\n"
                                        "Keep-Alive: 5\r\n"
                                        "Proxy-Connection: x\r\n"
                                        "TE: trailers\r\n"
                                        "Trailer: X-Checksum\r\n"
                                        "X-Keep: yes\r\n"));
  EXPECT_TRUE(values(f, "X-Foo").empty()) << "X-Foo is named by Connection";
  EXPECT_TRUE(values(f, "Keep-Alive").empty());
  EXPECT_TRUE(values(f, "Proxy-Connection").empty());
  EXPECT_TRUE(values(f, "TE").empty());
  EXPECT_TRUE(values(f, "Trailer").empty());
  EXPECT_FALSE(icontains(joined(f, "Connection"), "x-foo")) << "Connection: " << joined(f, "Connection");
  EXPECT_EQ(joined(f, "X-Keep"), "yes") << "end-to-end fields must be kept";
}

TEST_F(ProxyBasic, UpgradeHeaderStrippedWhenNotUpgrading) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  Fields f = upstreamFields(weir(), get("/headers", "Upgrade: h2c\r\n"));
  EXPECT_TRUE(values(f, "Upgrade").empty()) << "Upgrade without Connection: upgrade must not be forwarded";
}

TEST_F(ProxyBasic, ViaAddedToResponse) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  CurlResult r = curl(weir().url("/"));
  ASSERT_EQ(r.status, 200) << r.describe();
  EXPECT_NE(r.header("Via").value_or("").find("weir"), std::string::npos) << r.describe();
}

TEST(ProxyResponseHeaders, HopByHopResponseHeadersStripped) {
  FakeUpstream up(FakeUpstream::Mode::kScripted,
                  "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: X-Bar\r\nX-Bar: 1\r\n"
                  "Keep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nX-End: yes\r\n\r\nok");
  Weir weir(poolConfig({up.address()}));
  ASSERT_TRUE(weir.ok()) << weir.error();
  auto r = rawRequest(weir.port(), get("/"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ok");
  EXPECT_FALSE(r->hasHeader("X-Bar")) << r->rawHead;
  EXPECT_FALSE(r->hasHeader("Keep-Alive")) << r->rawHead;
  EXPECT_FALSE(r->hasHeader("Proxy-Connection")) << r->rawHead;
  EXPECT_FALSE(icontains(r->header("Connection").value_or(""), "x-bar")) << r->rawHead;
  EXPECT_EQ(r->header("X-End").value_or(""), "yes") << r->rawHead;
}

TEST(ProxyListeners, TwoListenersBothServe) {
  Origin origin("a");
  ASSERT_TRUE(origin.ok()) << origin.error();
  uint16_t second = freePort();
  Weir weir("listeners:\n  - address: 127.0.0.1:${PORT}\n  - address: 127.0.0.1:${P2}\n" +
                poolConfig({origin.address()}),
            {{"P2", std::to_string(second)}});
  ASSERT_TRUE(weir.ok()) << weir.error();
  ASSERT_TRUE(waitForPort(second, Ms(3000)));
  for (uint16_t port : {weir.port(), second}) {
    auto r = rawRequest(port, get("/"));
    ASSERT_TRUE(r) << "port " << port;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "hello from a\n");
  }
}

TEST(ProxyWorkers, TwoWorkersServeConcurrentConnections) {
  Origin origin("a", 2);
  ASSERT_TRUE(origin.ok()) << origin.error();
  Weir weir("workers: 2\n" + poolConfig({origin.address()}));
  ASSERT_TRUE(weir.ok()) << weir.error();
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 20; ++i) {
    clients.push_back(std::make_unique<RawClient>(weir.port()));
    ASSERT_TRUE(clients.back()->connected());
    ASSERT_TRUE(clients.back()->send(get("/bytes/" + std::to_string(1000 + i))));
  }
  for (int i = 0; i < 20; ++i) {
    auto r = clients[i]->readResponse(Ms(5000));
    ASSERT_TRUE(r) << "client " << i << ": " << clients[i]->lastError();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, pattern(1000 + i));
  }
}

TEST(ProxyHeadersConfig, DisabledForwardedHeadersAreNotAdded) {
  Origin origin("a");
  ASSERT_TRUE(origin.ok()) << origin.error();
  Weir weir(poolConfig({origin.address()}, "",
                       "proxy_headers: { x_forwarded_for: false, x_forwarded_proto: false, x_forwarded_host: false, "
                       "via: false }"));
  ASSERT_TRUE(weir.ok()) << weir.error();
  Fields f = upstreamFields(weir, get("/headers"));
  EXPECT_TRUE(values(f, "X-Forwarded-For").empty());
  EXPECT_TRUE(values(f, "X-Forwarded-Proto").empty());
  EXPECT_TRUE(values(f, "X-Forwarded-Host").empty());
  EXPECT_TRUE(values(f, "Via").empty());
}

TEST(ProxyLoad, ConcurrentKeepAliveClientsNoErrors) {
  Origin origin("a", 2);
  ASSERT_TRUE(origin.ok()) << origin.error();
  Weir weir("workers: 2\n" + poolConfig({origin.address()}, "keepalive: 32"));
  ASSERT_TRUE(weir.ok()) << weir.error();
  constexpr int kClients = 50, kRounds = 20;
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<RawClient>(weir.port()));
    ASSERT_TRUE(clients.back()->connected()) << "client " << i;
  }
  // Each round: every client sends, then every client reads, so all 50
  // requests are in flight together.
  for (int round = 0; round < kRounds; ++round) {
    for (int i = 0; i < kClients; ++i) {
      ASSERT_TRUE(clients[i]->send(get("/bytes/" + std::to_string(100 + i + round))));
    }
    for (int i = 0; i < kClients; ++i) {
      auto r = clients[i]->readResponse(Ms(5000));
      ASSERT_TRUE(r) << "round " << round << " client " << i << ": " << clients[i]->lastError();
      ASSERT_EQ(r->status, 200);
      ASSERT_EQ(r->body, pattern(100 + i + round)) << "round " << round << " client " << i;
    }
  }
}

}  // namespace
}  // namespace weir::itest
