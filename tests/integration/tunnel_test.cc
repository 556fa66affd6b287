// Tunnels after 101: half-close in each direction, the idle timeout, the
// log line at the end, and the grace they get when weir stops.
#include <csignal>

#include "harness.h"
#include "scripted_upstream.h"

namespace weir::itest {
namespace {

const std::string kUpgrade =
    "GET /chat HTTP/1.1\r\nHost: t\r\nUpgrade: raw\r\nConnection: Upgrade\r\n\r\n";
const std::string k101 = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: raw\r\nConnection: Upgrade\r\n\r\n";

// An upstream that upgrades, reads everything until the client's FIN, then
// answers with the count and `reply` bytes, then closes.
ScriptedUpstream::Script countThenReply(size_t reply) {
  return [reply](UpstreamConn& conn, int) {
    if (!conn.readHead() || !conn.send(k101)) return;
    std::string got = conn.readUntilEof(Ms(10000));
    if (!conn.eof()) return;
    conn.send("count:" + std::to_string(got.size()) + "\n" + std::string(reply, 'r'), Ms(10000));
  };
}

// Issue 5: half-closing a WebSocket lost data both ways (4.19 MB sent, 3.95
// MB arrived; the reply after the client's FIN never arrived).
TEST(Tunnel, HalfCloseDeliversBothDirections) {
  ScriptedUpstream up(countThenReply(4u << 20));
  Weir weir(poolConfig({up.address()}));
  ASSERT_TRUE(weir.ok()) << weir.error();
  RawClient c(weir.port());
  ASSERT_TRUE(c.send(kUpgrade));
  auto r = c.readResponse(Ms(3000));
  ASSERT_TRUE(r) << c.lastError();
  ASSERT_EQ(r->status, 101);
  const size_t sent = 4u << 20;
  std::string data = randomBytes(sent, 7);
  ASSERT_TRUE(c.send(data, Ms(10000)));
  c.shutdownWrite();
  std::string back = c.readUntilClose(Ms(10000));
  EXPECT_FALSE(c.timedOut());
  std::string expectHead = "count:" + std::to_string(sent) + "\n";
  ASSERT_GE(back.size(), expectHead.size()) << "reply after the client's FIN lost";
  EXPECT_EQ(back.substr(0, expectHead.size()), expectHead);
  EXPECT_EQ(back.size(), expectHead.size() + (4u << 20)) << "reply cut short";
}

TEST(Tunnel, IdleTimeoutClosesIt) {
  ScriptedUpstream up([](UpstreamConn& conn, int) {
    if (!conn.readHead() || !conn.send(k101)) return;
    conn.waitEof(Ms(8000));
  });
  Weir weir(poolConfig({up.address()}, "", "timeouts: { tunnel: 1s }"));
  ASSERT_TRUE(weir.ok()) << weir.error();
  RawClient c(weir.port());
  ASSERT_TRUE(c.send(kUpgrade));
  auto r = c.readResponse(Ms(3000));
  ASSERT_TRUE(r && r->status == 101);
  auto start = Clock::now();
  EXPECT_TRUE(c.waitClosed(Ms(4000))) << "an idle tunnel outlived timeouts.tunnel";
  auto took = std::chrono::duration_cast<Ms>(Clock::now() - start).count();
  EXPECT_GE(took, 800);
}

TEST(Tunnel, EndIsLoggedWithBytesEachWay) {
  ScriptedUpstream up(countThenReply(1000));
  Weir weir(poolConfig({up.address()}));
  ASSERT_TRUE(weir.ok()) << weir.error();
  RawClient c(weir.port());
  ASSERT_TRUE(c.send(kUpgrade));
  ASSERT_TRUE(c.readResponse(Ms(3000)));
  ASSERT_TRUE(c.send(std::string(500, 'c')));
  c.shutdownWrite();
  c.readUntilClose(Ms(5000));
  auto line = weir.waitForLogLine(weir.errorLogPath(), [](const std::string& l) {
    return l.find("tunnel") != std::string::npos && l.find("ended") != std::string::npos;
  });
  ASSERT_TRUE(line) << weir.errorLog();
  EXPECT_NE(line->find("500 bytes to the upstream"), std::string::npos) << *line;
  EXPECT_NE(line->find("1010 bytes to the client"), std::string::npos) << *line;  // "count:500\n" + 1000
  auto access = weir.waitForLogLine(weir.accessLogPath(), [](const std::string& l) {
    return l.find("/chat") != std::string::npos;
  });
  ASSERT_TRUE(access) << weir.accessLog();
  EXPECT_NE(access->find("\" 101 "), std::string::npos) << *access;
}

TEST(Tunnel, DrainClosesOpenTunnelsAfterAShortGrace) {
  ScriptedUpstream up([](UpstreamConn& conn, int) {
    if (!conn.readHead() || !conn.send(k101)) return;
    conn.waitEof(Ms(20000));
  });
  Weir weir(poolConfig({up.address()}, "", "timeouts: { drain: 2s }"));
  ASSERT_TRUE(weir.ok()) << weir.error();
  RawClient c(weir.port());
  ASSERT_TRUE(c.send(kUpgrade));
  ASSERT_TRUE(c.readResponse(Ms(3000)));
  auto start = Clock::now();
  weir.process().signal(SIGTERM);
  auto code = weir.process().waitExit(Ms(5000));
  ASSERT_TRUE(code) << "weir did not stop with a tunnel open";
  EXPECT_EQ(*code, 0);
  EXPECT_LT(std::chrono::duration_cast<Ms>(Clock::now() - start).count(), 3500);
  EXPECT_TRUE(c.waitClosed(Ms(1000)));
}

}  // namespace
}  // namespace weir::itest
