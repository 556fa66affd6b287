// Timeouts that must cut the right side: upstream_response only while weir
// waits for upstream bytes it is ready to read, send only for client writes
// that make no progress, client_body for a stalled upload, upstream_send for
// an upstream that stops reading, and per-pool overrides.
#include <sys/socket.h>

#include <atomic>

#include "harness.h"
#include "scripted_upstream.h"

namespace weir::itest {
namespace {

// Reads a /bytes response body, checking the pattern; `pace` is called after
// every read with the body bytes so far.
struct Download {
  uint64_t body = 0;
  bool complete = false;
  bool patternOk = true;
  std::string error;
};

Download download(RawClient& c, Ms limit, const std::function<void(uint64_t)>& pace) {
  Download d;
  ResponseParser p;
  p.onBody = [&](std::string_view data) {
    for (size_t i = 0; i < data.size() && d.patternOk; i += 4099) {
      if (data[i] != patternByte(d.body + i)) d.patternOk = false;
    }
    d.body += data.size();
  };
  auto end = Clock::now() + limit;
  while (!p.done() && !p.failed() && Clock::now() < end) {
    long n = c.readSome(Ms(200), 16 * 1024);
    size_t used = p.feed(c.buffer().data(), c.buffer().size());
    c.buffer().erase(0, used);
    if (n == 0 && c.eof()) {
      p.feedEof();
      break;
    }
    pace(d.body);
  }
  d.complete = p.done();
  d.error = p.failed() ? p.error() : (c.eof() && !p.done() ? "connection closed early" : "");
  return d;
}

using SlowClients = ProxyTest;

// Issue 5: while weir had stopped reading the upstream for a slow client,
// upstream_response still ran and cut the download, blaming the upstream.
TEST_F(SlowClients, PauseLongerThanUpstreamResponseStillGetsWholeBody) {
  ASSERT_NO_FATAL_FAILURE(startProxy("", "timeouts: { upstream_response: 1s }"));
  RawClient c(weir().port(), 16 * 1024);
  ASSERT_TRUE(c.send(get("/bytes/20000000")));
  bool paused = false;
  Download d = download(c, Ms(20000), [&](uint64_t got) {
    if (!paused && got > 1000000) {
      paused = true;
      std::this_thread::sleep_for(Ms(2500));
    }
  });
  EXPECT_TRUE(paused);
  EXPECT_TRUE(d.complete) << d.body << " body bytes, then: " << d.error;
  EXPECT_EQ(d.body, 20000000u);
  EXPECT_TRUE(d.patternOk);
  EXPECT_EQ(weir().errorLog().find("timed out waiting for the response"), std::string::npos) << weir().errorLog();
}

// Issue 5: send was re-armed only on upstream reads, so a client reading
// steadily at 200 KiB/s with send: 1s was cut (once the kernel buffers had
// filled). Here the client reads at 200 KiB/s for 4 s, then at full speed.
TEST_F(SlowClients, SteadySlowReaderIsNotCutBySendTimeout) {
  ASSERT_NO_FATAL_FAILURE(startProxy("", "timeouts: { send: 1s }"));
  RawClient c(weir().port(), 16 * 1024);
  ASSERT_TRUE(c.send(get("/bytes/30000000")));
  auto start = Clock::now();
  Download d = download(c, Ms(20000), [&](uint64_t got) {
    if (Clock::now() - start > Ms(4000)) return;
    auto due = start + Ms(static_cast<int64_t>(got * 1000 / (200 * 1024)));
    if (due > Clock::now()) std::this_thread::sleep_for(due - Clock::now());
  });
  EXPECT_TRUE(d.complete) << d.body << " body bytes, then: " << d.error;
  EXPECT_EQ(d.body, 30000000u);
}

// Issue 5: an upload slower than upstream_response got 504 while it was
// progressing; the response timer starts when the request has been sent.
TEST_F(SlowClients, SlowUploadLongerThanUpstreamResponseIsNotA504) {
  ASSERT_NO_FATAL_FAILURE(startProxy("", "timeouts: { upstream_response: 1s }"));
  RawClient c(weir().port());
  ASSERT_TRUE(c.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(c.send("5\r\npart" + std::to_string(i) + "\r\n"));
    std::this_thread::sleep_for(Ms(700));
  }
  ASSERT_TRUE(c.send("0\r\n\r\n"));
  auto r = c.readResponse(Ms(5000));
  ASSERT_TRUE(r) << c.lastError();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "part0part1part2");
}

TEST_F(SlowClients, StalledUploadGets408AfterClientBody) {
  ASSERT_NO_FATAL_FAILURE(startProxy("", "timeouts: { client_body: 1s }"));
  RawClient c(weir().port());
  ASSERT_TRUE(c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n0123456789"));
  auto start = Clock::now();
  auto r = c.readResponse(Ms(4000));
  ASSERT_TRUE(r) << c.lastError();
  EXPECT_EQ(r->status, 408);
  auto took = std::chrono::duration_cast<Ms>(Clock::now() - start).count();
  EXPECT_GE(took, 800);
  EXPECT_LT(took, 3000);
}

// An upstream that accepts a request and never reads its body: the pool's
// upstream_send ends the wait (the global timeouts stay long).
TEST(UpstreamTimeouts, PoolUpstreamSendEndsAStalledUpload) {
  std::atomic<bool> stop{false};
  ScriptedUpstream up([&](UpstreamConn&, int) {
    for (int i = 0; i < 200 && !stop; ++i) std::this_thread::sleep_for(Ms(50));  // never reads
  });
  Weir weir(poolConfig({up.address()}, "timeouts: { upstream_send: 1s }",
                       "timeouts: { upstream_response: 30s, client_body: 30s }"));
  ASSERT_TRUE(weir.ok()) << weir.error();
  RawClient c(weir.port());
  const size_t total = 64u << 20;
  ASSERT_TRUE(c.send("POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(total) + "\r\n\r\n"));
  std::string block(1 << 20, 'u');
  auto start = Clock::now();
  for (size_t sent = 0; sent < total; sent += block.size()) {
    if (!c.send(block, Ms(300))) break;  // weir stops reading once the upstream does
  }
  auto r = c.readResponse(Ms(5000));
  stop = true;
  ASSERT_TRUE(r) << c.lastError();
  EXPECT_EQ(r->status, 504);
  EXPECT_LT(std::chrono::duration_cast<Ms>(Clock::now() - start).count(), 6000);
  EXPECT_TRUE(weir.waitForLogLine(weir.errorLogPath(), [](const std::string& l) {
    return l.find("timed out sending the request") != std::string::npos;
  })) << weir.errorLog();
}

TEST(UpstreamTimeouts, PoolUpstreamResponseOverridesTheGlobalOne) {
  Origin o("a");
  ASSERT_TRUE(o.ok()) << o.error();
  Weir weir("pools:\n"
            "  fast:\n    servers:\n      - address: " + o.address() + "\n"
            "    timeouts: { upstream_response: 500ms }\n"
            "  patient:\n    servers:\n      - address: " + o.address() + "\n"
            "routes:\n  - match: { path_prefix: /fast/ }\n    pool: fast\n  - pool: patient\n"
            "timeouts: { upstream_response: 10s }\n");
  ASSERT_TRUE(weir.ok()) << weir.error();
  auto start = Clock::now();
  auto r1 = rawRequest(weir.port(), get("/fast/x?delay=2000"), Ms(5000));
  ASSERT_TRUE(r1);
  EXPECT_EQ(r1->status, 504);
  EXPECT_LT(std::chrono::duration_cast<Ms>(Clock::now() - start).count(), 1500);
  auto r2 = rawRequest(weir.port(), get("/bytes/4?delay=1000"), Ms(5000));
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->status, 200);
}

// README claim: idle upstream connections are closed after upstream_idle
// (here set per pool); a new request then opens a new connection.
TEST(UpstreamTimeouts, IdleUpstreamConnectionExpires) {
  const std::string ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  FakeUpstream quick(FakeUpstream::Mode::kScripted, ok);
  FakeUpstream slow(FakeUpstream::Mode::kScripted, ok);
  Weir weir("pools:\n"
            "  quick:\n    servers:\n      - address: " + quick.address() + "\n"
            "    timeouts: { upstream_idle: 1s }\n"
            "  slow:\n    servers:\n      - address: " + slow.address() + "\n"
            "routes:\n  - match: { path_prefix: /q/ }\n    pool: quick\n  - pool: slow\n");
  ASSERT_TRUE(weir.ok()) << weir.error();
  for (const char* path : {"/q/1", "/s/1"}) ASSERT_EQ(rawRequest(weir.port(), get(path))->status, 200);
  std::this_thread::sleep_for(Ms(2000));
  for (const char* path : {"/q/2", "/s/2"}) ASSERT_EQ(rawRequest(weir.port(), get(path))->status, 200);
  EXPECT_EQ(quick.accepted(), 2) << "the idle connection outlived upstream_idle: 1s";
  EXPECT_EQ(slow.accepted(), 1) << "the default (60 s) kept the connection";
}

}  // namespace
}  // namespace weir::itest
