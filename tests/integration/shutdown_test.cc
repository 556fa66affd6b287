// Signals (graceful shutdown on SIGTERM/SIGINT/SIGQUIT, log reopening on
// SIGUSR1, signals logged and ignored, fatal signals named on stderr),
// starting twice on one address, and client-side timeouts.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

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

// SIGQUIT is nginx's graceful stop: the same drain as SIGTERM, exit 0.
TEST_F(Shutdown, SigquitDrainsLikeSigterm) {
  ASSERT_NO_FATAL_FAILURE(startProxy("", "timeouts: { drain: 10s }"));
  RawClient c(weir().port());
  ASSERT_TRUE(c.send(get("/bytes/10?delay=1500")));
  std::this_thread::sleep_for(Ms(300));
  weir().process().signal(SIGQUIT);
  std::this_thread::sleep_for(Ms(300));
  EXPECT_FALSE(portAccepts(weir().port())) << "weir still accepts connections after SIGQUIT";
  auto r = c.readResponse(Ms(5000));
  ASSERT_TRUE(r) << "in-flight request lost on SIGQUIT: " << c.lastError();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, pattern(10));
  c.close();
  auto code = weir().process().waitExit(Ms(5000));
  ASSERT_TRUE(code) << "weir did not exit after SIGQUIT";
  EXPECT_EQ(*code, 0) << "SIGQUIT must stop weir gracefully, not dump core";
  EXPECT_TRUE(weir().waitForLogLine(weir().errorLogPath(), [](const std::string& l) {
    return l.find("SIGQUIT: draining") != std::string::npos;
  }));
}

// Sends `sig`, then checks that weir still runs and serves and that the
// error log has a line naming the signal.
void expectSignalLoggedAndIgnored(Weir& weir, int sig, const std::string& name) {
  SCOPED_TRACE(name);
  weir.process().signal(sig);
  auto line = weir.waitForLogLine(weir.errorLogPath(), [&](const std::string& l) {
    return l.find(name + " received") != std::string::npos && l.find("ignoring") != std::string::npos;
  });
  EXPECT_TRUE(line) << "no error-log line naming " << name;
  EXPECT_TRUE(weir.process().running()) << name << " stopped weir";
  EXPECT_EQ(curl(weir.url("/")).status, 200) << "weir does not serve after " << name;
}

// Signals whose default is to terminate and that weir has no use for.
TEST_F(Shutdown, UnusedSignalsDoNotKill) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  expectSignalLoggedAndIgnored(weir(), SIGALRM, "SIGALRM");
  expectSignalLoggedAndIgnored(weir(), SIGVTALRM, "SIGVTALRM");
  expectSignalLoggedAndIgnored(weir(), SIGPROF, "SIGPROF");
  expectSignalLoggedAndIgnored(weir(), SIGPOLL, "SIGPOLL");  // also known as SIGIO
  expectSignalLoggedAndIgnored(weir(), SIGPWR, "SIGPWR");
  expectSignalLoggedAndIgnored(weir(), SIGRTMIN + 2, "SIGRTMIN+2");
  EXPECT_EQ(weir().errorLog().find("draining"), std::string::npos) << "an unused signal started a drain";
}

// A fatal signal still ends weir with its default action, but leaves one
// line on stderr that names it. (prlimit --core=0: no core file.)
TEST(ShutdownFatal, FatalSignalIsNamedOnStderr) {
  if (::access("/usr/bin/prlimit", X_OK) != 0) GTEST_SKIP() << "needs /usr/bin/prlimit (util-linux)";
  for (auto [sig, name] : {std::pair{SIGSEGV, "SIGSEGV"}, std::pair{SIGABRT, "SIGABRT"}}) {
    SCOPED_TRACE(name);
    Origin origin("a");
    ASSERT_TRUE(origin.ok()) << origin.error();
    uint16_t port = freePort();
    std::string config = testDir() + "/fatal-" + name + ".yaml";
    writeFile(config, "workers: 1\nlisteners: [{ address: 127.0.0.1:" + std::to_string(port) +
                          " }]\naccess_log: off\nerror_log: { path: " + testDir() + "/fatal-error.log }\n" +
                          poolConfig({origin.address()}));
    Process p({"/usr/bin/prlimit", "--core=0", WEIR_BIN, "-c", config}, std::string("weir-") + name);
    ASSERT_TRUE(waitForPort(port, Ms(5000))) << p.stderrText();
    p.signal(sig);
    auto code = p.waitExit(Ms(5000));
    ASSERT_TRUE(code) << "weir kept running after " << name;
    EXPECT_EQ(*code, 128 + sig) << "the default action (termination by the signal) must still happen";
    std::string err = p.stderrText();
    EXPECT_NE(err.find("fatal signal " + std::string(name)), std::string::npos) << "stderr: " << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << "one line expected, stderr: " << err;
  }
}

// Log rotation: after the file is moved away, SIGUSR1 makes weir write to a
// new file at the configured path, and nothing more to the moved one.
TEST_F(Shutdown, Sigusr1ReopensTheLogFiles) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  const std::string log = weir().accessLogPath();
  ASSERT_EQ(curl(weir().url("/before-rotation")).status, 200);
  ASSERT_TRUE(weir().waitForLogLine(log, [](const std::string& l) { return l.find("/before-rotation") != std::string::npos; }));
  const std::string rotated = log + ".1";
  ASSERT_EQ(std::rename(log.c_str(), rotated.c_str()), 0);
  weir().process().signal(SIGUSR1);
  // The reopen happens on the log thread; retry the request until the new
  // file shows it.
  std::optional<std::string> line;
  for (int i = 0; i < 20 && !line; ++i) {
    ASSERT_EQ(curl(weir().url("/after-rotation")).status, 200);
    line = weir().waitForLogLine(log, [](const std::string& l) { return l.find("/after-rotation") != std::string::npos; },
                                 Ms(250));
  }
  ASSERT_TRUE(line) << "no access-log line in a new " << log << " after SIGUSR1";
  EXPECT_EQ(readFile(log).find("/before-rotation"), std::string::npos);
  EXPECT_NE(readFile(rotated).find("/before-rotation"), std::string::npos);
  EXPECT_TRUE(weir().process().running()) << "SIGUSR1 stopped weir";
}

// SO_REUSEPORT would let a second weir on the same address take half the
// connections silently; it must refuse to start instead.
TEST_F(Shutdown, SecondInstanceOnTheSameAddressRefusesToStart) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  Process second({WEIR_BIN, "-c", weir().configPath()}, "weir-second");
  auto code = second.waitExit(Ms(5000));
  ASSERT_TRUE(code) << "a second weir kept running on port " << weir().port();
  EXPECT_EQ(*code, 1);
  EXPECT_NE(readFile(second.stderrPath()).find("Address already in use"), std::string::npos)
      << readFile(second.stderrPath());
  EXPECT_EQ(curl(weir().url("/")).status, 200);
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
