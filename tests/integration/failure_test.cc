// Upstream failures: 502 for refused or reset connections, 504 for a silent
// upstream, 404 without a route, and retries on the next server.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

namespace weir::itest {
namespace {

// A listening socket whose accept queue is full, so new SYNs are dropped and
// connect() hangs: stands in for an unreachable server on 127.0.0.1.
class Blackhole {
 public:
  Blackhole() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    ::listen(fd_, 0);
    socklen_t len = sizeof sa;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len);
    port_ = ntohs(sa.sin_port);
    for (int i = 0; i < 3; ++i) fillers_.push_back(std::make_unique<RawClient>(port_, 0, Ms(200)));
  }
  ~Blackhole() { ::close(fd_); }
  uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // True if a fresh connect() does not complete within 300 ms.
  bool connectHangs() const { return !RawClient(port_, 0, Ms(300)).connected(); }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
  std::vector<std::unique_ptr<RawClient>> fillers_;
};

bool mentions(const std::string& line, const std::string& what) { return line.find(what) != std::string::npos; }

TEST(Failure, RefusedUpstreamIs502WithErrorLog) {
  uint16_t dead = freePort();
  std::string deadAddr = "127.0.0.1:" + std::to_string(dead);
  Weir weir(poolConfig({deadAddr}));
  ASSERT_TRUE(weir.ok()) << weir.error();
  CurlResult r = curl(weir.url("/"));
  EXPECT_EQ(r.status, 502) << r.describe();
  EXPECT_FALSE(r.body.empty()) << "a 502 needs a short body";
  EXPECT_LT(r.timeTotal, 3.0);
  auto line = weir.waitForLogLine(weir.errorLogPath(), [&](const std::string& l) { return mentions(l, deadAddr); });
  EXPECT_TRUE(line) << "no error-log line naming " << deadAddr << "; error log:\n" << tailFile(weir.errorLogPath());
  auto access = weir.waitForLogLine(weir.accessLogPath(), [](const std::string& l) { return mentions(l, " 502 "); });
  EXPECT_TRUE(access) << "no access-log line with 502";
}

TEST(Failure, ResetBeforeResponseIs502) {
  FakeUpstream up(FakeUpstream::Mode::kResetAfterRequest);
  Weir weir(poolConfig({up.address()}));
  ASSERT_TRUE(weir.ok()) << weir.error();
  CurlResult r = curl(weir.url("/"));
  EXPECT_EQ(r.status, 502) << r.describe();
  EXPECT_FALSE(r.body.empty());
  EXPECT_LT(r.timeTotal, 3.0);
  EXPECT_GE(up.accepted(), 1);
  auto line = weir.waitForLogLine(weir.errorLogPath(), [&](const std::string& l) { return mentions(l, up.address()); });
  EXPECT_TRUE(line) << "no error-log line naming " << up.address();
}

TEST(Failure, SilentUpstreamIs504AfterResponseTimeout) {
  FakeUpstream up(FakeUpstream::Mode::kSilent);
  Weir weir(poolConfig({up.address()}, "", "timeouts: { upstream_response: 500ms }"));
  ASSERT_TRUE(weir.ok()) << weir.error();
  CurlResult r = curl(weir.url("/"), {}, 10);
  EXPECT_EQ(r.status, 504) << r.describe();
  EXPECT_FALSE(r.body.empty());
  EXPECT_GE(r.timeTotal, 0.4) << "answered before the timeout";
  EXPECT_LT(r.timeTotal, 2.0) << "the 500 ms response timeout was not applied";
  auto line = weir.waitForLogLine(weir.errorLogPath(), [&](const std::string& l) { return mentions(l, up.address()); });
  EXPECT_TRUE(line) << "no error-log line naming " << up.address();
}

TEST(Failure, ClientConnectionUsableAfter502) {
  uint16_t dead = freePort();
  Origin origin("a");
  ASSERT_TRUE(origin.ok()) << origin.error();
  Weir weir(R"(pools:
  dead:
    servers:
      - address: 127.0.0.1:${DEAD}
  live:
    servers:
      - address: ${LIVE}
routes:
  - match: { path_prefix: /dead/ }
    pool: dead
  - pool: live
)",
            {{"DEAD", std::to_string(dead)}, {"LIVE", origin.address()}});
  ASSERT_TRUE(weir.ok()) << weir.error();
  RawClient c(weir.port());
  ASSERT_TRUE(c.send(get("/dead/x")));
  auto r = c.readResponse(Ms(3000));
  ASSERT_TRUE(r) << c.lastError();
  EXPECT_EQ(r->status, 502);
  if (!c.eof()) {
    ASSERT_TRUE(c.send(get("/")));
    auto r2 = c.readResponse(Ms(3000));
    ASSERT_TRUE(r2) << "a 502 response must be complete, with framing: " << c.lastError();
    EXPECT_EQ(r2->status, 200);
  }
}

TEST(Failure, NoMatchingRouteIs404) {
  Origin origin("a");
  ASSERT_TRUE(origin.ok()) << origin.error();
  Weir weir(R"(pools:
  app:
    servers:
      - address: ${O}
routes:
  - match: { path_prefix: /api/ }
    pool: app
)",
            {{"O", origin.address()}});
  ASSERT_TRUE(weir.ok()) << weir.error();
  CurlResult miss = curl(weir.url("/other"));
  EXPECT_EQ(miss.status, 404) << miss.describe();
  EXPECT_FALSE(miss.body.empty());
  EXPECT_FALSE(miss.header("X-Origin")) << "the 404 must come from weir, not the origin";
  // The error-log line names the host and the path, so an operator can tell
  // which route is missing.
  const std::string host = "127.0.0.1:" + std::to_string(weir.port());
  auto line = weir.waitForLogLine(weir.errorLogPath(), [&](const std::string& l) {
    return l.find("404 for GET /other") != std::string::npos;
  });
  ASSERT_TRUE(line) << tailFile(weir.errorLogPath());
  EXPECT_NE(line->find("(host " + host + ")"), std::string::npos) << *line;
  EXPECT_NE(line->find("no route matches"), std::string::npos) << *line;
  CurlResult hit = curl(weir.url("/api/x"));
  EXPECT_EQ(hit.header("X-Origin").value_or("<missing>"), "a") << hit.describe();
}

TEST(Failure, RetryOnNextServerWhenConnectFails) {
  uint16_t dead = freePort();
  Origin origin("live");
  ASSERT_TRUE(origin.ok()) << origin.error();
  Weir weir(poolConfig({"127.0.0.1:" + std::to_string(dead), origin.address()}, "retries: 1"));
  ASSERT_TRUE(weir.ok()) << weir.error();
  for (int i = 0; i < 20; ++i) {
    CurlResult r = curl(weir.url("/"));
    ASSERT_EQ(r.status, 200) << "request " << i << ": " << r.describe();
    EXPECT_EQ(r.header("X-Origin").value_or(""), "live");
  }
  RawClient c(weir.port());
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(c.send(get("/")));
    auto r = c.readResponse(Ms(3000));
    ASSERT_TRUE(r) << "keep-alive request " << i << ": " << c.lastError();
    ASSERT_EQ(r->status, 200) << "keep-alive request " << i;
  }
}

TEST(Failure, NoRetryWhenRetriesIsZero) {
  uint16_t dead = freePort();
  Origin origin("live");
  ASSERT_TRUE(origin.ok()) << origin.error();
  Weir weir(poolConfig({"127.0.0.1:" + std::to_string(dead), origin.address()}, "retries: 0"));
  ASSERT_TRUE(weir.ok()) << weir.error();
  int ok = 0, bad = 0;
  for (int i = 0; i < 10; ++i) {
    auto r = rawRequest(weir.port(), get("/"));
    ASSERT_TRUE(r) << "request " << i;
    if (r->status == 200) ok++;
    if (r->status == 502) bad++;
  }
  EXPECT_GE(ok, 1);
  EXPECT_GE(bad, 1) << "with retries: 0 a request sent to the dead server must fail";
}

TEST(Failure, AllServersDeadIs502Quickly) {
  uint16_t d1 = freePort(), d2 = freePort();
  Weir weir(poolConfig({"127.0.0.1:" + std::to_string(d1), "127.0.0.1:" + std::to_string(d2)}, "retries: 1"));
  ASSERT_TRUE(weir.ok()) << weir.error();
  CurlResult r = curl(weir.url("/"));
  EXPECT_EQ(r.status, 502) << r.describe();
  EXPECT_LT(r.timeTotal, 3.0);
}

TEST(Failure, InvalidUpstreamResponseIs502) {
  FakeUpstream up(FakeUpstream::Mode::kScripted, "this is not http\r\n\r\n");
  Weir weir(poolConfig({up.address()}));
  ASSERT_TRUE(weir.ok()) << weir.error();
  CurlResult r = curl(weir.url("/"));
  EXPECT_EQ(r.status, 502) << r.describe();
  EXPECT_LT(r.timeTotal, 3.0);
}

TEST(Failure, TruncatedUpstreamBodyClosesClientConnection) {
  // The upstream promises 100 bytes, sends 10 and closes: the client cannot
  // get a complete response, so weir must close the client connection
  // rather than leave it hanging or reuse it.
  FakeUpstream up(FakeUpstream::Mode::kScripted,
                  "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n0123456789");
  Weir weir(poolConfig({up.address()}));
  ASSERT_TRUE(weir.ok()) << weir.error();
  RawClient c(weir.port());
  ASSERT_TRUE(c.send(get("/")));
  auto r = c.readResponse(Ms(3000));
  EXPECT_FALSE(r && r->status == 200 && r->body.size() == 100) << "a truncated body was passed off as complete";
  EXPECT_TRUE(c.eof() || c.waitClosed(Ms(3000))) << "client connection left hanging after a truncated upstream body";
}

TEST(Failure, ConnectTimeoutRetriedOnNextServer) {
  Blackhole hole;
  ASSERT_TRUE(hole.connectHangs()) << "cannot make connect() hang on this host";
  Origin origin("live");
  ASSERT_TRUE(origin.ok()) << origin.error();
  Weir weir(poolConfig({hole.address(), origin.address()}, "retries: 1",
                       "timeouts: { upstream_connect: 300ms, upstream_response: 10s }"));
  ASSERT_TRUE(weir.ok()) << weir.error();
  for (int i = 0; i < 4; ++i) {
    CurlResult r = curl(weir.url("/"), {}, 10);
    EXPECT_EQ(r.status, 200) << "request " << i << ": " << r.describe();
    EXPECT_LT(r.timeTotal, 1.5) << "request " << i << ": the 300 ms connect timeout was not applied";
  }
}

TEST(Failure, ConnectTimeoutWithoutAlternativeFailsFast) {
  Blackhole hole;
  ASSERT_TRUE(hole.connectHangs()) << "cannot make connect() hang on this host";
  Weir weir(poolConfig({hole.address()}, "retries: 0",
                       "timeouts: { upstream_connect: 300ms, upstream_response: 10s }"));
  ASSERT_TRUE(weir.ok()) << weir.error();
  CurlResult r = curl(weir.url("/"), {}, 10);
  EXPECT_TRUE(r.status == 502 || r.status == 504) << r.describe();
  EXPECT_LT(r.timeTotal, 1.5) << "the 300 ms connect timeout was not applied";
  auto line = weir.waitForLogLine(weir.errorLogPath(),
                                  [&](const std::string& l) { return mentions(l, hole.address()); });
  EXPECT_TRUE(line) << "no error-log line naming " << hole.address();
}

}  // namespace
}  // namespace weir::itest
