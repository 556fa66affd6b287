// Pipelined requests on one client connection are answered in order.
#include "harness.h"

namespace weir::itest {
namespace {

using Pipelining = ProxyTest;

TEST_F(Pipelining, ThreeRequestsInOneWrite) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  RawClient c(weir().port());
  ASSERT_TRUE(c.send(get("/bytes/10") + get("/bytes/20?delay=100") + get("/bytes/30")));
  for (size_t n : {10u, 20u, 30u}) {
    auto r = c.readResponse(Ms(5000));
    ASSERT_TRUE(r) << "response of /bytes/" << n << ": " << c.lastError();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, pattern(n)) << "responses out of order or corrupt";
  }
}

TEST_F(Pipelining, SlowFirstResponseKeepsOrder) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  RawClient c(weir().port());
  ASSERT_TRUE(c.send(get("/bytes/11?delay=300") + get("/bytes/22") + get("/bytes/33?chunked=1")));
  for (size_t n : {11u, 22u, 33u}) {
    auto r = c.readResponse(Ms(5000));
    ASSERT_TRUE(r) << "response of /bytes/" << n << ": " << c.lastError();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, pattern(n)) << "responses out of order or corrupt";
  }
}

TEST_F(Pipelining, TwentyMixedRequests) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  RawClient c(weir().port());
  std::string all;
  for (int i = 0; i < 20; ++i) {
    std::string n = std::to_string(100 * i + 1);
    if (i % 5 == 3) {
      all += "HEAD /bytes/" + n + " HTTP/1.1\r\nHost: x\r\n\r\n";
    } else if (i % 2 == 1) {
      all += get("/bytes/" + n + "?chunked=1");
    } else {
      all += get("/bytes/" + n);
    }
  }
  ASSERT_TRUE(c.send(all));
  for (int i = 0; i < 20; ++i) {
    bool head = i % 5 == 3;
    auto r = c.readResponse(Ms(5000), head);
    ASSERT_TRUE(r) << "response " << i << ": " << c.lastError();
    EXPECT_EQ(r->status, 200) << "response " << i;
    EXPECT_EQ(r->body, head ? "" : pattern(100 * i + 1)) << "response " << i;
  }
}

TEST_F(Pipelining, PostBodiesPipelined) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  RawClient c(weir().port());
  std::string req = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nfirst" + get("/bytes/7") +
                    "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nsecond\r\n0\r\n\r\n";
  ASSERT_TRUE(c.send(req));
  std::vector<std::string> expected = {"first", pattern(7), "second"};
  for (const auto& body : expected) {
    auto r = c.readResponse(Ms(5000));
    ASSERT_TRUE(r) << "response for '" << body << "': " << c.lastError();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, body);
  }
}

TEST_F(Pipelining, LastRequestConnectionCloseEndsConnection) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  RawClient c(weir().port());
  ASSERT_TRUE(c.send(get("/bytes/5") + get("/bytes/6", "Connection: close\r\n") + get("/bytes/7")));
  auto r1 = c.readResponse(Ms(5000));
  auto r2 = c.readResponse(Ms(5000));
  ASSERT_TRUE(r1 && r2) << c.lastError();
  EXPECT_EQ(r1->body, pattern(5));
  EXPECT_EQ(r2->body, pattern(6));
  std::string rest = c.readUntilClose(Ms(3000));
  EXPECT_FALSE(c.timedOut()) << "connection not closed after the Connection: close request";
  EXPECT_EQ(rest, "") << "a request after Connection: close was answered";
}

}  // namespace
}  // namespace weir::itest
