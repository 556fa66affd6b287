// Keep-alive on both sides: upstream connections are pooled per worker and
// reused across client requests and client connections.
#include <iostream>

#include "harness.h"

namespace weir::itest {
namespace {

using KeepAlive = ProxyTest;

TEST_F(KeepAlive, SequentialRequestsOnOneClientConnectionReuseUpstream) {
  ASSERT_NO_FATAL_FAILURE(startProxy("keepalive: 8"));
  origin().mark();
  RawClient c(weir().port());
  ASSERT_TRUE(c.connected());
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(c.send(get("/"))) << "request " << i << ": " << c.lastError();
    auto r = c.readResponse(Ms(3000));
    ASSERT_TRUE(r) << "request " << i << ": " << c.lastError();
    ASSERT_EQ(r->status, 200);
    ASSERT_EQ(r->body, "hello from a\n");
  }
  OriginStats d = origin().delta();
  std::cout << "[info] origin saw " << d.connections << " connections, " << d.requests << " requests\n";
  EXPECT_GE(d.requests, 50);
  EXPECT_LE(d.connections, 2) << "upstream connections were not reused";
}

TEST_F(KeepAlive, SeparateClientConnectionsReuseUpstream) {
  ASSERT_NO_FATAL_FAILURE(startProxy("keepalive: 8"));
  origin().mark();
  for (int i = 0; i < 50; ++i) {
    RawClient c(weir().port());
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(c.send(get("/")));
    auto r = c.readResponse(Ms(3000));
    ASSERT_TRUE(r) << "connection " << i << ": " << c.lastError();
    ASSERT_EQ(r->status, 200);
  }
  OriginStats d = origin().delta();
  std::cout << "[info] origin saw " << d.connections << " connections, " << d.requests << " requests\n";
  EXPECT_GE(d.requests, 50);
  EXPECT_LE(d.connections, 2) << "upstream connections were not reused across client connections";
}

TEST_F(KeepAlive, ClientConnectionCloseHonoured) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  RawClient c(weir().port());
  ASSERT_TRUE(c.send(get("/", "Connection: close\r\n")));
  auto r = c.readResponse(Ms(3000));
  ASSERT_TRUE(r) << c.lastError();
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(c.waitClosed(Ms(2000))) << "weir kept the connection open after Connection: close";
}

TEST_F(KeepAlive, Http10ClientWithoutKeepAliveIsClosed) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  RawClient c(weir().port());
  ASSERT_TRUE(c.send("GET / HTTP/1.0\r\nHost: x\r\n\r\n"));
  auto r = c.readResponse(Ms(3000));
  ASSERT_TRUE(r) << c.lastError();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello from a\n");
  EXPECT_TRUE(c.waitClosed(Ms(2000))) << "an HTTP/1.0 connection without keep-alive must be closed";
}

TEST_F(KeepAlive, Http10KeepAliveClientKeepsConnection) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  RawClient c(weir().port());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(c.send("GET /bytes/100 HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n"));
    auto r = c.readResponse(Ms(3000));
    ASSERT_TRUE(r) << "request " << i << ": " << c.lastError();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, pattern(100));
    ASSERT_FALSE(r->closeDelimited) << "a keep-alive HTTP/1.0 response needs a Content-Length";
  }
}

TEST_F(KeepAlive, UpstreamClosingAfterResponseDoesNotBreakNextRequest) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  RawClient c(weir().port());
  for (int i = 0; i < 10; ++i) {
    std::string target = i % 2 == 0 ? "/bytes/50?close=1" : "/bytes/50";
    ASSERT_TRUE(c.send(get(target)));
    auto r = c.readResponse(Ms(3000));
    ASSERT_TRUE(r) << "request " << i << " (" << target << "): " << c.lastError();
    EXPECT_EQ(r->status, 200) << target;
    EXPECT_EQ(r->body, pattern(50));
  }
}

TEST_F(KeepAlive, IdlePooledConnectionClosedByOriginIsNotUsed) {
  // The origin closes each connection after its response (close=1); weir must
  // notice and open a new one instead of failing the next request.
  ASSERT_NO_FATAL_FAILURE(startProxy("keepalive: 8"));
  for (int i = 0; i < 5; ++i) {
    auto r = rawRequest(weir().port(), get("/?close=1"));
    ASSERT_TRUE(r) << "request " << i;
    EXPECT_EQ(r->status, 200);
    std::this_thread::sleep_for(Ms(50));
  }
}

TEST_F(KeepAlive, ClientAbortMidResponseDoesNotPoisonUpstreamPool) {
  ASSERT_NO_FATAL_FAILURE(startProxy("keepalive: 8"));
  for (int i = 0; i < 3; ++i) {
    RawClient c(weir().port());
    ASSERT_TRUE(c.send(get("/bytes/50000000")));
    ASSERT_TRUE(c.readAtLeast(100000, Ms(3000))) << "abort " << i << ": " << c.lastError();
  }  // closed with most of the body unread
  for (int i = 0; i < 10; ++i) {
    auto r = rawRequest(weir().port(), get("/bytes/" + std::to_string(1000 + i)));
    ASSERT_TRUE(r) << "request " << i << " after the aborted downloads";
    EXPECT_EQ(r->status, 200);
    EXPECT_TRUE(r->body == pattern(1000 + i)) << "request " << i << " got leftovers of an aborted response";
  }
}

}  // namespace
}  // namespace weir::itest
