// Reload (SIGHUP, weir -s reload), binary upgrade (SIGUSR2, weir -s
// upgrade) and the pid file, against the real binary.
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <set>
#include <thread>

#include "harness.h"

namespace weir::itest {
namespace {

// Keep-alive clients sending GETs in a loop until stopped (bounded by time
// and count). A failure is anything a client of a correct proxy would see
// go wrong: a refused connect, a request sent and no complete response, a
// status other than 200. A connection the proxy closes after a response
// that said "Connection: close" is reopened: that is not a failure.
class LoadLoop {
 public:
  LoadLoop(uint16_t port, int clients, std::string target = "/bytes/100") : port_(port), target_(std::move(target)) {
    for (int i = 0; i < clients; ++i) threads_.emplace_back([this] { run(); });
  }
  ~LoadLoop() { stop(); }
  void stop() {
    stop_.store(true);
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  long ok() const { return ok_.load(); }
  long failed() const { return failed_.load(); }
  std::string firstFailure() const {
    std::lock_guard<std::mutex> lock(mu_);
    return first_failure_;
  }
  std::set<std::string> origins() const {
    std::lock_guard<std::mutex> lock(mu_);
    return origins_;
  }

 private:
  void fail(const std::string& why) {
    failed_.fetch_add(1);
    std::lock_guard<std::mutex> lock(mu_);
    if (first_failure_.empty()) first_failure_ = why;
  }
  void run() {
    const auto deadline = Clock::now() + Ms(60000);
    std::unique_ptr<RawClient> c;
    for (long n = 0; !stop_.load() && Clock::now() < deadline && n < 200000; ++n) {
      if (!c) {
        c = std::make_unique<RawClient>(port_);
        if (!c->connected()) {
          fail("connect: " + c->lastError());
          c.reset();
          std::this_thread::sleep_for(Ms(5));
          continue;
        }
      }
      if (!c->send(get(target_))) {
        fail("send: " + c->lastError());
        c.reset();
        continue;
      }
      auto r = c->readResponse(Ms(5000));
      if (!r) {
        fail("no response: " + c->lastError() + (c->eof() ? " (closed)" : "") + (c->reset() ? " (reset)" : ""));
        c.reset();
        continue;
      }
      if (r->status != 200) {
        fail("status " + std::to_string(r->status));
      } else {
        ok_.fetch_add(1);
        if (auto o = r->header("X-Origin")) {
          std::lock_guard<std::mutex> lock(mu_);
          origins_.insert(*o);
        }
      }
      auto conn = r->header("Connection");
      if (conn && icontains(*conn, "close")) c.reset();
    }
  }

  uint16_t port_;
  std::string target_;
  std::atomic<bool> stop_{false};
  std::atomic<long> ok_{0};
  std::atomic<long> failed_{0};
  mutable std::mutex mu_;
  std::string first_failure_;
  std::set<std::string> origins_;
  std::vector<std::thread> threads_;
};

std::string poolsYaml(const std::vector<std::pair<std::string, int>>& servers, const std::string& poolExtra = "") {
  std::string out = "pid_file: ${TMP}/weir.pid\npools:\n  app:\n    servers:\n";
  for (const auto& [addr, weight] : servers) {
    out += "      - { address: " + addr + ", weight: " + std::to_string(weight) + " }\n";
  }
  out += poolExtra;
  out += "routes:\n  - pool: app\n";
  return out;
}

// weir -s SIGNAL -c FILE
RunResult signalCommand(Weir& w, const std::string& signal, Ms timeout = Ms(20000)) {
  return run({WEIR_BIN, "-c", w.configPath(), "-s", signal}, timeout, "weir-s-" + signal);
}

// weir -t FILE: the line a bad file is reported with.
std::string testLine(const std::string& config) {
  RunResult r = run({WEIR_BIN, "-t", "-c", config}, Ms(10000), "weir-t");
  std::string line = r.err;
  while (!line.empty() && line.back() == '\n') line.pop_back();
  return line;
}

// Waits for the error log to show `n` reloads done ("reloaded ...").
bool waitForReloads(Weir& w, size_t n, Ms timeout = Ms(5000)) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    std::string log = w.errorLog();
    size_t count = 0;
    for (size_t pos = 0; (pos = log.find("] reloaded ", pos)) != std::string::npos; ++pos) ++count;
    for (size_t pos = 0; (pos = log.find(": reloaded ", pos)) != std::string::npos; ++pos) ++count;
    if (count >= n) return true;
    std::this_thread::sleep_for(Ms(20));
  }
  return false;
}

std::string originOf(const CurlResult& r) { return r.header("X-Origin").value_or("?"); }

class Reload : public ::testing::Test {
 protected:
  void SetUp() override {
    a_ = std::make_unique<Origin>("a");
    b_ = std::make_unique<Origin>("b");
    ASSERT_TRUE(a_->ok()) << a_->error();
    ASSERT_TRUE(b_->ok()) << b_->error();
  }
  void start(const std::string& yaml) {
    weir_ = std::make_unique<Weir>(yaml);
    ASSERT_TRUE(weir_->ok()) << weir_->error();
  }
  // Rewrites the file and reloads with weir -s reload; returns its result.
  RunResult reloadWith(const std::string& yaml) {
    weir_->writeConfig(yaml);
    return signalCommand(*weir_, "reload");
  }
  std::unique_ptr<Origin> a_;
  std::unique_ptr<Origin> b_;
  std::unique_ptr<Weir> weir_;
};

TEST_F(Reload, GoodFileIsAppliedAndReloadExitsZero) {
  ASSERT_NO_FATAL_FAILURE(start(poolsYaml({{a_->address(), 1}})));
  EXPECT_EQ(originOf(curl(weir_->url("/"))), "a");
  RunResult r = reloadWith(poolsYaml({{b_->address(), 1}}));
  EXPECT_EQ(r.exitCode, 0) << r.err;
  for (int i = 0; i < 4; ++i) EXPECT_EQ(originOf(curl(weir_->url("/"))), "b");
  EXPECT_TRUE(weir_->process().running());
}

// A broken file changes nothing; weir -s reload fails with the line weir -t
// prints, and the error log has that line too.
TEST_F(Reload, BadFileKeepsTheRunningConfigAndSaysWhy) {
  ASSERT_NO_FATAL_FAILURE(start(poolsYaml({{a_->address(), 1}})));
  weir_->writeConfig(poolsYaml({{b_->address(), 1}}) + "timeouts: { client_idle: forever }\n");
  const std::string expected = testLine(weir_->configPath());
  ASSERT_NE(expected.find(weir_->configPath() + ":"), std::string::npos) << expected;
  RunResult r = signalCommand(*weir_, "reload");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find(expected), std::string::npos) << r.err;
  // weir -s reload reached the running process, which logged the line.
  auto line = weir_->waitForLogLine(weir_->errorLogPath(), [&](const std::string& l) {
    return l.find("reload failed") != std::string::npos && l.find(expected) != std::string::npos;
  });
  EXPECT_TRUE(line) << "no error-log line with: " << expected;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(originOf(curl(weir_->url("/"))), "a");
}

// A file that is not even YAML: weir -s still finds the pid file (its
// pid_file: line), the reload is refused with the syntax error's line, and
// weir -s stop works whatever is on disk.
TEST_F(Reload, SignalsReachWeirWhileTheFileIsNotYaml) {
  ASSERT_NO_FATAL_FAILURE(start(poolsYaml({{a_->address(), 1}})));
  weir_->writeConfig("pid_file: \"${TMP}/weir.pid\"  # here\npools: [\nroutes:\n");
  const std::string expected = testLine(weir_->configPath());
  ASSERT_NE(expected.find(weir_->configPath() + ":"), std::string::npos) << expected;
  RunResult r = signalCommand(*weir_, "reload");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("reload failed: " + expected), std::string::npos) << r.err;
  EXPECT_EQ(originOf(curl(weir_->url("/"))), "a");
  r = signalCommand(*weir_, "stop");
  EXPECT_EQ(r.exitCode, 0) << r.err;
  auto code = weir_->process().waitExit(Ms(10000));
  ASSERT_TRUE(code) << "weir -s stop did not stop weir";
  EXPECT_EQ(*code, 0);
}

// A file that loads but cannot start (a pool naming no server, an unknown
// route pool) is refused in the running process too (SIGHUP bypasses the
// check weir -s makes first).
TEST_F(Reload, InvalidFileBySighupIsRefused) {
  ASSERT_NO_FATAL_FAILURE(start(poolsYaml({{a_->address(), 1}})));
  weir_->writeConfig("pid_file: ${TMP}/weir.pid\npools:\n  app:\n    servers: []\nroutes:\n  - pool: app\n");
  const std::string expected = testLine(weir_->configPath());
  weir_->process().signal(SIGHUP);
  EXPECT_TRUE(weir_->waitForLogLine(weir_->errorLogPath(), [&](const std::string& l) {
    return l.find("reload failed") != std::string::npos && l.find(expected) != std::string::npos;
  })) << expected;
  EXPECT_EQ(originOf(curl(weir_->url("/"))), "a");
}

TEST_F(Reload, RemovedRouteStopsMatchingAndAddedOneStarts) {
  auto yaml = [&](const std::string& prefix, const std::string& pool) {
    return "pid_file: ${TMP}/weir.pid\npools:\n  pa: { servers: [{address: " + a_->address() +
           "}] }\n  pb: { servers: [{address: " + b_->address() + "}] }\nroutes:\n  - match: { path_prefix: " + prefix +
           " }\n    pool: " + pool + "\n";
  };
  ASSERT_NO_FATAL_FAILURE(start(yaml("/old/", "pa")));
  EXPECT_EQ(curl(weir_->url("/old/x")).status, 200);
  EXPECT_EQ(curl(weir_->url("/new/x")).status, 404);
  RunResult r = reloadWith(yaml("/new/", "pb"));
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(curl(weir_->url("/old/x")).status, 404);
  CurlResult n = curl(weir_->url("/new/x"));
  EXPECT_EQ(n.status, 200);
  EXPECT_EQ(originOf(n), "b");
}

// A keep-alive client connection survives the reload and its next request
// runs on the new configuration.
TEST_F(Reload, KeptListenerKeepsItsConnectionsAndTheyUseTheNewConfig) {
  ASSERT_NO_FATAL_FAILURE(start(poolsYaml({{a_->address(), 1}})));
  RawClient c(weir_->port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send(get("/")));
  auto first = c.readResponse(Ms(5000));
  ASSERT_TRUE(first);
  EXPECT_EQ(first->header("X-Origin").value_or(""), "a");
  RunResult r = reloadWith(poolsYaml({{b_->address(), 1}}));
  ASSERT_EQ(r.exitCode, 0) << r.err;
  ASSERT_TRUE(c.send(get("/")));
  auto second = c.readResponse(Ms(5000));
  ASSERT_TRUE(second) << "the kept connection was lost: " << c.lastError();
  EXPECT_EQ(second->header("X-Origin").value_or(""), "b");
}

// Connections waiting in the accept queue of a kept listener are not lost:
// the socket is never closed. Clients connect while reloads run back to
// back, each sends a request, and every one is answered.
TEST_F(Reload, ConnectionsArrivingDuringReloadsAreAllServed) {
  ASSERT_NO_FATAL_FAILURE(start(poolsYaml({{a_->address(), 1}})));
  std::atomic<bool> stop{false};
  std::thread reloader([&] {
    for (int i = 0; i < 20 && !stop.load(); ++i) {
      weir_->process().signal(SIGHUP);
      std::this_thread::sleep_for(Ms(25));
    }
  });
  int answered = 0;
  int total = 0;
  for (int i = 0; i < 150; ++i) {
    ++total;
    auto r = rawRequest(weir_->port(), get("/", "Connection: close\r\n"), Ms(5000));
    if (r && r->status == 200) ++answered;
  }
  stop.store(true);
  reloader.join();
  EXPECT_EQ(answered, total);
  EXPECT_TRUE(waitForReloads(*weir_, 1));
}

TEST_F(Reload, AddedListenerOpensAndRemovedOneStopsAcceptingAndDrains) {
  const uint16_t p2 = freePort();
  auto yaml = [&](const std::vector<std::string>& ports) {
    std::string out = "listeners:\n";
    for (const std::string& p : ports) out += "  - address: 127.0.0.1:" + p + "\n";
    return out + poolsYaml({{a_->address(), 1}});
  };
  const std::string second = std::to_string(p2);
  ASSERT_NO_FATAL_FAILURE(start(yaml({"${PORT}"})));
  const uint16_t p1 = weir_->port();
  EXPECT_FALSE(portAccepts(p2));
  ASSERT_EQ(reloadWith(yaml({"${PORT}", second})).exitCode, 0);
  EXPECT_TRUE(waitForPort(p2, Ms(3000)));
  EXPECT_EQ(rawRequest(p2, get("/"))->status, 200);

  // A keep-alive connection on p1 with a slow request in flight when p1 goes.
  RawClient c(p1);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send(get("/bytes/10?delay=600")));
  std::this_thread::sleep_for(Ms(100));
  ASSERT_EQ(reloadWith(yaml({second})).exitCode, 0);
  auto r = c.readResponse(Ms(5000));
  ASSERT_TRUE(r) << "the in-flight request on the removed listener was lost: " << c.lastError();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, pattern(10));
  EXPECT_TRUE(c.waitClosed(Ms(3000))) << "a connection of a removed listener must drain (close)";
  auto deadline = Clock::now() + Ms(3000);
  while (portAccepts(p1) && Clock::now() < deadline) std::this_thread::sleep_for(Ms(20));
  EXPECT_FALSE(portAccepts(p1)) << "the removed listener still accepts";
  EXPECT_EQ(rawRequest(p2, get("/"))->status, 200);
}

// A listener that cannot be bound fails the whole reload: the other
// changes of the same file are not applied either.
TEST_F(Reload, BindFailureFailsTheWholeReload) {
  ASSERT_NO_FATAL_FAILURE(start(poolsYaml({{a_->address(), 1}})));
  // A port held by a plain (non-SO_REUSEPORT) listening socket.
  int holder = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(holder, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  ASSERT_EQ(::listen(holder, 8), 0);
  socklen_t len = sizeof sa;
  getsockname(holder, reinterpret_cast<sockaddr*>(&sa), &len);
  const std::string busy = "127.0.0.1:" + std::to_string(ntohs(sa.sin_port));
  RunResult r = reloadWith("listeners:\n  - address: 127.0.0.1:${PORT}\n  - address: " + busy + "\n" +
                           poolsYaml({{b_->address(), 1}}));
  ::close(holder);
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find(busy), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("bind"), std::string::npos) << r.err;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(originOf(curl(weir_->url("/"))), "a") << "a failed reload was applied";
}

// An exchange in flight finishes on the snapshot it started with, even when
// the reload removes its pool and route.
TEST_F(Reload, ExchangeInFlightAcrossAReloadCompletes) {
  ASSERT_NO_FATAL_FAILURE(start(poolsYaml({{a_->address(), 1}})));
  RawClient c(weir_->port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send(get("/bytes/100000?delay=800")));
  std::this_thread::sleep_for(Ms(150));
  std::string other = "pid_file: ${TMP}/weir.pid\npools:\n  other: { servers: [{address: " + b_->address() +
                      "}] }\nroutes:\n  - match: { path_prefix: /elsewhere/ }\n    pool: other\n";
  ASSERT_EQ(reloadWith(other).exitCode, 0);
  auto r = c.readResponse(Ms(5000));
  ASSERT_TRUE(r) << c.lastError();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, pattern(100000));
  EXPECT_EQ(r->header("X-Origin").value_or(""), "a");
  EXPECT_EQ(curl(weir_->url("/")).status, 404);
}

// The server state of a server that stays survives: a server the health
// checks found down is still down right after a reload that changes its
// pool's weights, with no new transition; a server added starts up.
TEST_F(Reload, HealthStateOfAKeptServerSurvives) {
  const std::string checks =
      "    health_check: { path: /healthz, interval: 100ms, timeout: 100ms, rise: 2, fall: 2 }\n";
  ASSERT_NO_FATAL_FAILURE(start(poolsYaml({{a_->address(), 1}, {b_->address(), 1}}, checks)));
  ASSERT_EQ(curl("http://" + b_->address() + "/_control/health?status=503").status, 200);
  ASSERT_TRUE(weir_->waitForLogLine(weir_->errorLogPath(), [&](const std::string& l) {
    return l.find(b_->address() + " is now down") != std::string::npos;
  }, Ms(5000)));
  Origin c("c");
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(reloadWith(poolsYaml({{a_->address(), 3}, {b_->address(), 1}, {c.address(), 1}}, checks)).exitCode, 0);
  std::set<std::string> seen;
  for (int i = 0; i < 30; ++i) seen.insert(originOf(curl(weir_->url("/"))));
  EXPECT_EQ(seen.count("b"), 0u) << "the kept server came back up on reload";
  EXPECT_EQ(seen.count("a"), 1u);
  EXPECT_EQ(seen.count("c"), 1u) << "the new server did not start up";
  std::string log = weir_->errorLog();
  size_t downs = 0;
  for (size_t pos = 0; (pos = log.find(b_->address() + " is now down", pos)) != std::string::npos; ++pos) ++downs;
  EXPECT_EQ(downs, 1u) << "the kept server's state was reset and found down again";
}

// Idle upstream keep-alive connections to a server that stays are kept.
TEST_F(Reload, IdleUpstreamConnectionsToKeptServersAreKept) {
  ASSERT_NO_FATAL_FAILURE(start(poolsYaml({{a_->address(), 1}})));
  for (int i = 0; i < 3; ++i) ASSERT_EQ(curl(weir_->url("/")).status, 200);
  a_->mark();
  ASSERT_EQ(reloadWith(poolsYaml({{a_->address(), 5}, {b_->address(), 1}}, "    balancer: round_robin\n")).exitCode, 0);
  // Weight 5 of 6: the first requests go to a.
  int to_a = 0;
  for (int i = 0; i < 3; ++i) to_a += originOf(curl(weir_->url("/"))) == "a";
  ASSERT_GE(to_a, 1);
  OriginStats d = a_->delta();
  EXPECT_EQ(d.connections, 0) << "requests to a after the reload opened new connections instead of reusing";
}

TEST_F(Reload, ChangingTheWorkerCountIsRefusedWithAClearMessage) {
  ASSERT_NO_FATAL_FAILURE(start("workers: 2\n" + poolsYaml({{a_->address(), 1}})));
  RunResult r = reloadWith("workers: 3\n" + poolsYaml({{b_->address(), 1}}));
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("workers"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("upgrade"), std::string::npos) << "the message should say what applies it: " << r.err;
  EXPECT_EQ(originOf(curl(weir_->url("/"))), "a");
}

// Reloads under a real load loop: no-ops, weight changes, a server added
// and removed, one broken file. No client sees a failure.
TEST_F(Reload, UnderLoadNoRequestFails) {
  Origin c("c");
  ASSERT_TRUE(c.ok());
  const std::vector<std::string> variants = {
      poolsYaml({{a_->address(), 1}, {b_->address(), 1}}),
      poolsYaml({{a_->address(), 1}, {b_->address(), 1}}),
      poolsYaml({{a_->address(), 2}, {b_->address(), 1}}),
      poolsYaml({{a_->address(), 2}, {b_->address(), 1}, {c.address(), 1}}),
      poolsYaml({{a_->address(), 1}, {c.address(), 1}}),
      "pools: [ this is not valid\n",
      poolsYaml({{a_->address(), 1}, {b_->address(), 1}}),
  };
  ASSERT_NO_FATAL_FAILURE(start("workers: 2\n" + variants[0]));
  LoadLoop load(weir_->port(), 8);
  int reloads = 0;
  for (int round = 0; round < 3; ++round) {
    for (const std::string& v : variants) {
      weir_->writeConfig(v.starts_with("pools: [") ? v : "workers: 2\n" + v);
      weir_->process().signal(SIGHUP);
      ++reloads;
      std::this_thread::sleep_for(Ms(120));
    }
  }
  std::this_thread::sleep_for(Ms(200));
  load.stop();
  EXPECT_GT(load.ok(), 200);
  EXPECT_EQ(load.failed(), 0) << "first failure: " << load.firstFailure();
  EXPECT_TRUE(load.origins().count("c")) << "the added server never served";
  EXPECT_TRUE(weir_->process().running());
  std::string log = weir_->errorLog();
  EXPECT_NE(log.find("reload failed"), std::string::npos) << "the broken file was not refused";
}

// ---- pid file and weir -s -----------------------------------------------------

TEST_F(Reload, PidFileNamesTheProcessAndIsRemovedOnStop) {
  ASSERT_NO_FATAL_FAILURE(start(poolsYaml({{a_->address(), 1}})));
  const std::string pid_file = testDir() + "/weir.pid";
  // Written just after the listeners are bound: the port may accept first.
  for (int i = 0; i < 250 && readFile(pid_file).empty(); ++i) std::this_thread::sleep_for(Ms(20));
  EXPECT_EQ(readFile(pid_file), std::to_string(weir_->pid()) + "\n");
  RunResult r = signalCommand(*weir_, "quit");
  EXPECT_EQ(r.exitCode, 0) << r.err;
  auto code = weir_->process().waitExit(Ms(10000));
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0);
  EXPECT_FALSE(readFile(pid_file).size()) << "the pid file outlived the process";
}

TEST_F(Reload, SignalStopEndsWeirAndReopenKeepsItRunning) {
  ASSERT_NO_FATAL_FAILURE(start(poolsYaml({{a_->address(), 1}})));
  EXPECT_EQ(signalCommand(*weir_, "reopen").exitCode, 0);
  EXPECT_TRUE(weir_->waitForLogLine(weir_->errorLogPath(),
                                    [](const std::string& l) { return l.find("reopening") != std::string::npos; }));
  EXPECT_EQ(curl(weir_->url("/")).status, 200);
  EXPECT_EQ(signalCommand(*weir_, "stop").exitCode, 0);
  auto code = weir_->process().waitExit(Ms(10000));
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0);
}

TEST(ReloadCli, SignalWithoutAPidFileSaysSo) {
  Origin a("a");
  ASSERT_TRUE(a.ok());
  Weir w(poolConfig({a.address()}));
  ASSERT_TRUE(w.ok()) << w.error();
  RunResult r = signalCommand(w, "reload");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("pid_file"), std::string::npos) << r.err;
  r = run({WEIR_BIN, "-c", w.configPath(), "-s", "restart"}, Ms(5000), "weir-s-bad");
  EXPECT_EQ(r.exitCode, 2);
  EXPECT_NE(r.err.find("restart"), std::string::npos) << r.err;
}

// ---- binary upgrade --------------------------------------------------------------

pid_t readPid(const std::string& path) {
  std::string text = readFile(path);
  return text.empty() ? -1 : static_cast<pid_t>(std::atol(text.c_str()));
}

// The new process is not the test's child: stop it by the pid it wrote.
struct StopByPid {
  pid_t pid = -1;
  ~StopByPid() {
    if (pid <= 0) return;
    ::kill(pid, SIGTERM);
    for (int i = 0; i < 200 && ::kill(pid, 0) == 0; ++i) std::this_thread::sleep_for(Ms(25));
    if (::kill(pid, 0) == 0) ::kill(pid, SIGKILL);
  }
};

TEST_F(Reload, UpgradeUnderLoadLosesNothing) {
  ASSERT_NO_FATAL_FAILURE(start("workers: 2\n" + poolsYaml({{a_->address(), 1}, {b_->address(), 1}})));
  const std::string pid_file = testDir() + "/weir.pid";
  const pid_t old_pid = weir_->pid();
  LoadLoop load(weir_->port(), 8);
  std::this_thread::sleep_for(Ms(300));
  RunResult r = signalCommand(*weir_, "upgrade", Ms(40000));
  StopByPid next{readPid(pid_file)};
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(next.pid, old_pid);
  EXPECT_GT(next.pid, 0);
  auto code = weir_->process().waitExit(Ms(15000));
  EXPECT_TRUE(code) << "the old process did not exit after the upgrade";
  if (code) {
    EXPECT_EQ(*code, 0);
  }
  std::this_thread::sleep_for(Ms(300));
  load.stop();
  EXPECT_GT(load.ok(), 200);
  EXPECT_EQ(load.failed(), 0) << "first failure: " << load.firstFailure();
  EXPECT_EQ(curl(weir_->url("/")).status, 200) << "nothing serves after the upgrade";
  EXPECT_EQ(::kill(next.pid, 0), 0);
  std::string log = weir_->errorLog();
  EXPECT_NE(log.find("took over from the previous process"), std::string::npos);
  // The new process reloads like any other.
  weir_->writeConfig("workers: 2\n" + poolsYaml({{b_->address(), 1}}));
  EXPECT_EQ(signalCommand(*weir_, "reload").exitCode, 0);
  EXPECT_EQ(originOf(curl(weir_->url("/"))), "b");
}

// A new binary that cannot start (here: its configuration is broken) leaves
// the old process serving, and the error log says why.
// The admin socket is handed over like the data listeners (a process that
// gave up root could not bind it again), and once the new process serves
// only it answers there: every status.json after the upgrade names it.
TEST_F(Reload, UpgradeHandsTheAdminListenerOver) {
  const uint16_t admin_port = freePort();
  const std::string admin = "admin:\n  address: 127.0.0.1:" + std::to_string(admin_port) + "\n";
  ASSERT_NO_FATAL_FAILURE(start(admin + poolsYaml({{a_->address(), 1}})));
  const std::string status = "http://127.0.0.1:" + std::to_string(admin_port) + "/status.json";
  const std::string old_pid = "\"pid\":" + std::to_string(weir_->pid()) + ",";
  CurlResult before = curl(status);
  ASSERT_EQ(before.status, 200);
  EXPECT_NE(before.body.find(old_pid), std::string::npos) << before.body;
  RunResult r = signalCommand(*weir_, "upgrade", Ms(40000));
  StopByPid next{readPid(testDir() + "/weir.pid")};
  ASSERT_EQ(r.exitCode, 0) << r.err << weir_->errorLog();
  ASSERT_GT(next.pid, 0);
  const std::string new_pid = "\"pid\":" + std::to_string(next.pid) + ",";
  for (int i = 0; i < 20; ++i) {
    CurlResult after = curl(status);
    ASSERT_EQ(after.status, 200) << i;
    EXPECT_NE(after.body.find(new_pid), std::string::npos) << i << ": " << after.body.substr(0, 200);
  }
  EXPECT_EQ(curl("http://127.0.0.1:" + std::to_string(admin_port) + "/healthz").status, 200);
}

TEST_F(Reload, FailedUpgradeLeavesTheOldProcessServing) {
  ASSERT_NO_FATAL_FAILURE(start(poolsYaml({{a_->address(), 1}})));
  const std::string pid_file = testDir() + "/weir.pid";
  weir_->writeConfig(poolsYaml({{a_->address(), 1}}) + "limits: { headers: lots }\n");
  const std::string expected = testLine(weir_->configPath());
  // weir -s would refuse to read the broken file itself: signal directly.
  weir_->process().signal(SIGUSR2);
  EXPECT_TRUE(weir_->waitForLogLine(weir_->errorLogPath(), [&](const std::string& l) {
    return l.find("binary upgrade failed") != std::string::npos && l.find(expected) != std::string::npos;
  }, Ms(10000))) << expected;
  EXPECT_NE(readFile(pid_file + ".result").find("upgrade failed"), std::string::npos);
  EXPECT_EQ(readPid(pid_file), weir_->pid());
  EXPECT_TRUE(weir_->process().running());
  EXPECT_EQ(curl(weir_->url("/")).status, 200);
}

}  // namespace
}  // namespace weir::itest

namespace weir::itest {
namespace {

// The value of every sample of `name` in a Prometheus text page, summed.
double metricSum(const std::string& page, const std::string& name, const std::string& label_filter = "") {
  double sum = 0;
  size_t pos = 0;
  while (pos < page.size()) {
    size_t end = page.find('\n', pos);
    if (end == std::string::npos) end = page.size();
    std::string line = page.substr(pos, end - pos);
    pos = end + 1;
    if (!line.starts_with(name) || (line.size() > name.size() && line[name.size()] != '{' && line[name.size()] != ' '))
      continue;
    if (!label_filter.empty() && line.find(label_filter) == std::string::npos) continue;
    sum += std::atof(line.substr(line.rfind(' ') + 1).c_str());
  }
  return sum;
}

std::string metricLine(const std::string& page, const std::string& prefix) {
  size_t at = page.find("\n" + prefix);
  if (at == std::string::npos) return "";
  return page.substr(at + 1, page.find('\n', at + 1) - at - 1);
}

// Counters go on across a reload (series are kept by name), and reloads
// are counted with their result and the new file's hash.
TEST(ReloadMetrics, CountersSurviveAReloadAndReloadsAreCounted) {
  Origin a("a");
  ASSERT_TRUE(a.ok());
  const uint16_t admin_port = freePort();
  auto yaml = [&](int weight) {
    return "pid_file: ${TMP}/weir.pid\nadmin:\n  address: 127.0.0.1:" + std::to_string(admin_port) +
           "\npools:\n  app:\n    servers:\n      - { address: " + a.address() + ", weight: " +
           std::to_string(weight) + " }\nroutes:\n  - name: all\n    pool: app\n";
  };
  Weir w(yaml(1));
  ASSERT_TRUE(w.ok()) << w.error();
  const std::string metrics = "http://127.0.0.1:" + std::to_string(admin_port) + "/metrics";
  for (int i = 0; i < 3; ++i) ASSERT_EQ(curl(w.url("/")).status, 200);
  const std::string before = curl(metrics).body;
  EXPECT_EQ(metricSum(before, "weir_requests_total", "route=\"all\""), 3) << before;
  const std::string hash_before = metricLine(before, "weir_config_info");

  w.writeConfig(yaml(2));
  RunResult r = signalCommand(w, "reload");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  for (int i = 0; i < 2; ++i) ASSERT_EQ(curl(w.url("/")).status, 200);
  w.writeConfig("pools: [ broken\n");
  w.process().signal(SIGHUP);
  ASSERT_TRUE(w.waitForLogLine(w.errorLogPath(),
                               [](const std::string& l) { return l.find("reload failed") != std::string::npos; }));
  const std::string after = curl(metrics).body;
  EXPECT_EQ(metricSum(after, "weir_requests_total", "route=\"all\""), 5) << "counters reset on reload:\n" << after;
  EXPECT_EQ(metricSum(after, "weir_config_reloads_total", "result=\"success\""), 1);
  EXPECT_EQ(metricSum(after, "weir_config_reloads_total", "result=\"failure\""), 1);
  EXPECT_EQ(metricSum(after, "weir_config_last_reload_success"), 0);
  EXPECT_NE(metricLine(after, "weir_config_info"), hash_before) << "the config hash did not change with the file";
}

}  // namespace
}  // namespace weir::itest
