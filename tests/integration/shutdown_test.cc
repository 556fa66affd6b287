// Graceful shutdown on SIGTERM/SIGINT, and client-side timeouts.
#include <signal.h>

#include "harness.h"

namespace weir::itest {
namespace {

using Shutdown = ProxyTest;

TEST_F(Shutdown, SigtermLetsInFlightRequestFinish) {
  ASSERT_NO_FATAL_FAILURE(startProxy("", "timeouts: { drain: 10s }"));
  RawClient c(weir().port());
  ASSERT_TRUE(c.send(get("/bytes/10?delay=1500")));
  std::this_thread::sleep_for(Ms(300));
  auto sigAt = Clock::now();
  weir().process().signal(SIGTERM);
  std::this_thread::sleep_for(Ms(300));
  EXPECT_FALSE(portAccepts(weir().port())) << "weir still accepts connections after SIGTERM";
  auto r = c.readResponse(Ms(5000));
  ASSERT_TRUE(r) << "in-flight request lost on SIGTERM: " << c.lastError();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, pattern(10));
  c.close();
  auto code = weir().process().waitExit(Ms(5000));
  ASSERT_TRUE(code) << "weir did not exit after the in-flight request finished";
  EXPECT_EQ(*code, 0);
  EXPECT_LT(std::chrono::duration_cast<Ms>(Clock::now() - sigAt).count(), 8000);
}

TEST_F(Shutdown, IdleConnectionsDoNotDelayExit) {
  ASSERT_NO_FATAL_FAILURE(startProxy("", "timeouts: { drain: 20s }"));
  RawClient c(weir().port());
  ASSERT_TRUE(c.send(get("/")));
  ASSERT_TRUE(c.readResponse(Ms(3000)));
  auto start = Clock::now();
  weir().process().signal(SIGTERM);
  auto code = weir().process().waitExit(Ms(5000));
  ASSERT_TRUE(code) << "an idle keep-alive connection kept weir from exiting";
  EXPECT_EQ(*code, 0);
  EXPECT_LT(std::chrono::duration_cast<Ms>(Clock::now() - start).count(), 3000);
  EXPECT_TRUE(c.waitClosed(Ms(1000)));
}

TEST_F(Shutdown, DrainTimeoutBoundsShutdown) {
  ASSERT_NO_FATAL_FAILURE(startProxy("", "timeouts: { drain: 1s }"));
  RawClient c(weir().port());
  ASSERT_TRUE(c.send(get("/bytes/10?delay=8000")));
  std::this_thread::sleep_for(Ms(300));
  auto start = Clock::now();
  weir().process().signal(SIGTERM);
  auto code = weir().process().waitExit(Ms(5000));
  ASSERT_TRUE(code) << "weir ignored the 1 s drain timeout";
  EXPECT_EQ(*code, 0);
  auto took = std::chrono::duration_cast<Ms>(Clock::now() - start).count();
  EXPECT_GE(took, 700) << "weir did not wait for the in-flight request at all";
  EXPECT_LT(took, 3000);
}

TEST_F(Shutdown, SigintAlsoStopsGracefully) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  weir().process().signal(SIGINT);
  auto code = weir().process().waitExit(Ms(5000));
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0);
}

using ClientTimeouts = ProxyTest;

TEST_F(ClientTimeouts, IncompleteHeadClosedAfterClientHeaderTimeout) {
  ASSERT_NO_FATAL_FAILURE(startProxy("", "timeouts: { client_header: 1s }"));
  RawClient c(weir().port());
  auto start = Clock::now();
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: x\r\n"));
  EXPECT_TRUE(c.waitClosed(Ms(4000))) << "slow header not timed out";
  auto took = std::chrono::duration_cast<Ms>(Clock::now() - start).count();
  EXPECT_GE(took, 800);
  EXPECT_LT(took, 3000);
}

TEST_F(ClientTimeouts, IdleKeepAliveClosedAfterClientIdleTimeout) {
  ASSERT_NO_FATAL_FAILURE(startProxy("", "timeouts: { client_idle: 1s }"));
  RawClient c(weir().port());
  ASSERT_TRUE(c.send(get("/")));
  ASSERT_TRUE(c.readResponse(Ms(3000)));
  auto start = Clock::now();
  EXPECT_TRUE(c.waitClosed(Ms(4000))) << "idle keep-alive connection not closed";
  auto took = std::chrono::duration_cast<Ms>(Clock::now() - start).count();
  EXPECT_GE(took, 800);
  EXPECT_LT(took, 3000);
}

TEST_F(ClientTimeouts, StalledReaderClosedAfterSendTimeout) {
  ASSERT_NO_FATAL_FAILURE(startProxy("", "timeouts: { send: 1s }"));
  RawClient c(weir().port(), 16 * 1024);
  ASSERT_TRUE(c.send(get("/bytes/200000000")));
  std::this_thread::sleep_for(Ms(3500));  // never read: weir's writes stall
  uint64_t got = 0;
  auto deadline = Clock::now() + Ms(5000);
  while (!c.eof() && Clock::now() < deadline) {
    if (c.readSome(Ms(500)) < 0 && !c.eof()) break;
    got += c.buffer().size();
    c.buffer().clear();
  }
  EXPECT_TRUE(c.eof()) << "connection still open after " << got << " bytes: the send timeout was not applied";
  EXPECT_LT(got, 200000000u);
}

}  // namespace
}  // namespace weir::itest
