// Failover against real processes: a backend killed under load, backups,
// every server down, what may be replayed, and the retry budget.
#include <signal.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "harness.h"

namespace weir::itest {
namespace {

// Keep-alive GET load from `clients` threads until `stop` or `limit`, with
// every outcome counted: a status other than 200 or a broken connection is
// an error the test can name.
struct LoadResult {
  long ok = 0;
  long bad_status = 0;
  long broken = 0;  // connect, send or read failures
  std::map<std::string, long> by_origin;
  std::map<int, long> by_status;
  std::string first_error;
};

class Load {
 public:
  Load(uint16_t port, int clients, std::string target = "/", std::string extra = "")
      : port_(port), target_(std::move(target)), extra_(std::move(extra)) {
    for (int i = 0; i < clients; ++i) threads_.emplace_back([this] { run(); });
  }
  ~Load() { stop(); }
  LoadResult stop() {
    stop_ = true;
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
    std::lock_guard<std::mutex> lock(mu_);
    return result_;
  }
  long requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return result_.ok + result_.bad_status + result_.broken;
  }

 private:
  void run() {
    const auto limit = Clock::now() + Ms(20000);
    while (!stop_ && Clock::now() < limit) {
      RawClient c(port_);
      if (!c.connected()) {
        note(nullptr, "connect: " + c.lastError());
        continue;
      }
      while (!stop_ && Clock::now() < limit) {
        if (!c.send(get(target_, extra_))) {
          note(nullptr, "send: " + c.lastError());
          break;
        }
        auto r = c.readResponse(Ms(5000));
        note(r ? &*r : nullptr, r ? "" : "read: " + c.lastError());
        if (!r || r->header("Connection").value_or("") == "close") break;
      }
    }
  }
  void note(const HttpResponse* r, const std::string& error) {
    std::lock_guard<std::mutex> lock(mu_);
    if (r == nullptr) {
      ++result_.broken;
      if (result_.first_error.empty()) result_.first_error = error;
      return;
    }
    ++result_.by_status[r->status];
    if (r->status == 200) {
      ++result_.ok;
      ++result_.by_origin[r->header("X-Origin").value_or("?")];
    } else {
      ++result_.bad_status;
      if (result_.first_error.empty()) result_.first_error = "status " + std::to_string(r->status);
    }
  }

  uint16_t port_;
  std::string target_;
  std::string extra_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  LoadResult result_;
  std::vector<std::thread> threads_;
};

std::string describe(const LoadResult& r) {
  std::ostringstream s;
  s << "ok " << r.ok << ", bad status " << r.bad_status << ", broken " << r.broken << "; by origin:";
  for (const auto& [name, n] : r.by_origin) s << ' ' << name << '=' << n;
  s << "; by status:";
  for (const auto& [code, n] : r.by_status) s << ' ' << code << '=' << n;
  if (!r.first_error.empty()) s << "; first error: " << r.first_error;
  return s.str();
}

// A weir-origin on a fixed port, so that one killed can come back where it was.
std::unique_ptr<Process> originOn(uint16_t port, const std::string& name, const std::string& label,
                                  const std::vector<std::string>& extra = {}) {
  std::vector<std::string> argv{ORIGIN_BIN, "--listen", "127.0.0.1:" + std::to_string(port), "--name", name};
  argv.insert(argv.end(), extra.begin(), extra.end());
  auto p = std::make_unique<Process>(argv, label);
  EXPECT_TRUE(waitForPort(port, Ms(3000))) << "origin " << name << " did not start on " << port;
  return p;
}

long countLines(const std::string& text, const std::function<bool(const std::string&)>& pred) {
  long n = 0;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) n += pred(line) ? 1 : 0;
  return n;
}

bool contains(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

TEST(Failover, BackendKilledUnderLoadCausesNoClientErrorAndIsEjected) {
  Origin a("a");
  const uint16_t b_port = freePort();
  auto b = originOn(b_port, "b", "origin-b");
  ASSERT_TRUE(a.ok()) << a.error();
  Weir weir("workers: 2\n" + poolConfig({a.address(), "127.0.0.1:" + std::to_string(b_port)}));
  ASSERT_TRUE(weir.ok()) << weir.error();
  Load load(weir.port(), 8);
  std::this_thread::sleep_for(Ms(700));
  b->signal(SIGKILL);
  b->waitExit(Ms(2000));
  const long at_kill = load.requests();
  auto ejected = weir.waitForLogLine(
      weir.errorLogPath(),
      [&](const std::string& l) { return contains(l, std::to_string(b_port) + " is now down (passive"); }, Ms(3000));
  ASSERT_TRUE(ejected) << "passive health did not eject the dead server\n" << tailFile(weir.errorLogPath());
  // Once ejected, the dead server gets no more connection attempts (past
  // the ones already under way when the ejection was decided).
  std::this_thread::sleep_for(Ms(200));
  const size_t settled = weir.errorLog().size();
  std::this_thread::sleep_for(Ms(1000));
  LoadResult r = load.stop();
  EXPECT_EQ(r.bad_status + r.broken, 0) << describe(r);
  EXPECT_GT(r.ok - at_kill, 100) << "traffic went on after the kill: " << describe(r);
  const std::string after = weir.errorLog().substr(settled);
  EXPECT_EQ(countLines(after,
                       [&](const std::string& l) {
                         return contains(l, "upstream 127.0.0.1:" + std::to_string(b_port) + ": connect failed");
                       }),
            0)
      << after;
}

TEST(Failover, InFlightIdempotentRequestsAreReplayedOnAnotherServer) {
  // b accepts and resets after reading each request: a GET sent there is
  // replayed on a; a POST is answered 502 and reaches no other server.
  FakeUpstream b(FakeUpstream::Mode::kResetAfterRequest);
  Origin a("a");
  ASSERT_TRUE(a.ok()) << a.error();
  Weir weir(R"(pools:
  app:
    passive: false
    servers:
      - { address: "${B}", weight: 1000 }
      - { address: "${A}" }
routes: [{ pool: app }]
)",
            {{"A", a.address()}, {"B", b.address()}});
  ASSERT_TRUE(weir.ok()) << weir.error();
  a.mark();
  auto got = rawRequest(weir.port(), get("/hello"));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(got->header("X-Origin").value_or(""), "a");
  auto put = rawRequest(weir.port(),
                        "PUT /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nhello world");
  ASSERT_TRUE(put);
  EXPECT_EQ(put->status, 200) << "a PUT with a small body is kept whole and replayed";
  EXPECT_EQ(put->body, "hello world");
  EXPECT_EQ(a.delta().requests, 2);

  a.mark();
  const int accepted_before = b.accepted();
  auto post = rawRequest(weir.port(), "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 502) << "a POST that reached a server is not replayed";
  EXPECT_EQ(a.delta().requests, 0) << "the POST reached no other server";
  EXPECT_EQ(b.accepted(), accepted_before + 1);
}

TEST(Failover, BackupsTakeOverWhileNoPrimaryIsUpAndHandBack) {
  const uint16_t a_port = freePort();
  auto a = originOn(a_port, "a", "origin-a");
  Origin b("b");
  ASSERT_TRUE(b.ok()) << b.error();
  Weir weir(R"(pools:
  app:
    health_check: { type: tcp, interval: 100ms, timeout: 100ms, rise: 1, fall: 1 }
    servers:
      - { address: "127.0.0.1:${APORT}" }
      - { address: "${B}", backup: true }
routes: [{ pool: app }]
)",
            {{"APORT", std::to_string(a_port)}, {"B", b.address()}});
  ASSERT_TRUE(weir.ok()) << weir.error();
  for (int i = 0; i < 10; ++i) {
    CurlResult r = curl(weir.url("/"));
    ASSERT_EQ(r.status, 200) << r.describe();
    EXPECT_EQ(r.header("X-Origin").value_or(""), "a") << "the backup takes nothing while the primary is up";
  }
  a->signal(SIGKILL);
  a->waitExit(Ms(2000));
  ASSERT_TRUE(weir.waitForLogLine(
      weir.errorLogPath(), [&](const std::string& l) { return contains(l, std::to_string(a_port) + " is now down"); },
      Ms(3000)));
  for (int i = 0; i < 10; ++i) {
    CurlResult r = curl(weir.url("/"));
    ASSERT_EQ(r.status, 200) << r.describe();
    EXPECT_EQ(r.header("X-Origin").value_or(""), "b");
  }
  a = originOn(a_port, "a", "origin-a2");
  ASSERT_TRUE(weir.waitForLogLine(
      weir.errorLogPath(), [&](const std::string& l) { return contains(l, std::to_string(a_port) + " is now up"); },
      Ms(3000)));
  for (int i = 0; i < 10; ++i) {
    CurlResult r = curl(weir.url("/"));
    ASSERT_EQ(r.status, 200) << r.describe();
    EXPECT_EQ(r.header("X-Origin").value_or(""), "a") << "handed back as soon as the primary is up";
  }
}

TEST(Failover, TheOnlyPrimaryKilledUnderLoadFailsOverToTheBackupWithoutErrors) {
  const uint16_t a_port = freePort();
  auto a = originOn(a_port, "a", "origin-a");
  Origin b("b");
  ASSERT_TRUE(b.ok()) << b.error();
  Weir weir("workers: 2\npools:\n  app:\n    servers:\n      - { address: \"127.0.0.1:" + std::to_string(a_port) +
            "\" }\n      - { address: \"" + b.address() + "\", backup: true }\nroutes: [{ pool: app }]\n");
  ASSERT_TRUE(weir.ok()) << weir.error();
  Load load(weir.port(), 8);
  std::this_thread::sleep_for(Ms(500));
  a->signal(SIGKILL);
  a->waitExit(Ms(2000));
  std::this_thread::sleep_for(Ms(1000));
  LoadResult r = load.stop();
  EXPECT_EQ(r.bad_status + r.broken, 0) << describe(r);
  EXPECT_GT(r.by_origin["a"], 0) << describe(r);
  EXPECT_GT(r.by_origin["b"], 100) << "the backup took over: " << describe(r);
}

TEST(Failover, AllServersDownIs503WithRetryAfterLoggedOncePerSecond) {
  const uint16_t a_port = freePort();
  auto a = originOn(a_port, "a", "origin-a");
  Weir weir(R"(pools:
  app:
    health_check: { type: tcp, interval: 100ms, timeout: 100ms, rise: 1, fall: 1 }
    servers: [{ address: "127.0.0.1:${APORT}" }]
routes: [{ pool: app }]
)",
            {{"APORT", std::to_string(a_port)}});
  ASSERT_TRUE(weir.ok()) << weir.error();
  ASSERT_EQ(curl(weir.url("/")).status, 200);
  a->signal(SIGKILL);
  a->waitExit(Ms(2000));
  ASSERT_TRUE(weir.waitForLogLine(
      weir.errorLogPath(), [&](const std::string& l) { return contains(l, std::to_string(a_port) + " is now down"); },
      Ms(3000)));
  const auto start = Clock::now();
  int answered = 0;
  for (int i = 0; i < 30; ++i) {
    auto r = rawRequest(weir.port(), get("/"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 503);
    EXPECT_EQ(r->header("Retry-After").value_or(""), "1");
    EXPECT_LT(r->body.size(), 100u);
    ++answered;
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::this_thread::sleep_for(Ms(300));
  const std::string log = weir.errorLog();
  const long lines = countLines(log, [](const std::string& l) { return contains(l, "pool app: no server is up"); });
  EXPECT_GE(lines, 1) << log;
  EXPECT_NE(log.find("pool app: no server is up; answering 503 (1 such answers so far)"), std::string::npos)
      << "the first answer is logged, and counted: " << log;
  EXPECT_LE(lines, 1 + static_cast<long>(seconds)) << answered << " answers in " << seconds << " s\n" << log;
  EXPECT_EQ(countLines(weir.accessLog(), [](const std::string& l) { return contains(l, "\" 503 "); }), 30);
}

TEST(Failover, RetryBudgetKeepsAFailingPoolNearTheClientRate) {
  Origin a("a"), b("b");
  ASSERT_TRUE(a.ok() && b.ok()) << a.error() << b.error();
  Weir weir(poolConfig({a.address(), b.address()}, "retries: 1\nretry_on: [503]\npassive: false\n"));
  ASSERT_TRUE(weir.ok()) << weir.error();
  a.mark();
  b.mark();
  Load load(weir.port(), 40, "/status/503");
  std::this_thread::sleep_for(Ms(2000));
  LoadResult r = load.stop();
  const long sent = r.ok + r.bad_status + r.broken;
  const long reached = a.delta().requests + b.delta().requests;
  ASSERT_GT(sent, 200) << describe(r);
  EXPECT_EQ(r.by_status[503], sent) << "the original 503 reaches the client: " << describe(r);
  const double ratio = static_cast<double>(reached) / static_cast<double>(sent);
  std::printf("retry budget: %ld client requests, %ld upstream requests (%.3fx)\n", sent, reached, ratio);
  EXPECT_GT(ratio, 1.02) << "some requests were retried";
  EXPECT_LE(ratio, 1.3) << reached << " upstream requests for " << sent << " client requests";
}

TEST(Failover, StatusRetryGoesToAnotherServer) {
  FakeUpstream bad(FakeUpstream::Mode::kScripted,
                   "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\nX-Origin: bad\r\n\r\nbusy");
  Origin a("a");
  ASSERT_TRUE(a.ok()) << a.error();
  Weir weir(R"(pools:
  app:
    retry_on: [503]
    servers:
      - { address: "${BAD}", weight: 1000 }
      - { address: "${A}" }
routes: [{ pool: app }]
)",
            {{"A", a.address()}, {"BAD", bad.address()}});
  ASSERT_TRUE(weir.ok()) << weir.error();
  auto r = rawRequest(weir.port(), get("/x"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("X-Origin").value_or(""), "a");
  auto post = rawRequest(weir.port(), "POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 503) << "a POST is not repeated; its 503 goes to the client as it is";
  EXPECT_EQ(post->body, "busy");
}

}  // namespace
}  // namespace weir::itest

namespace weir::itest {
namespace {

// Which origin serves each user, one request per user.
std::map<std::string, std::string> placement(uint16_t port, int users, int* errors) {
  std::map<std::string, std::string> out;
  for (int u = 0; u < users; ++u) {
    const std::string user = "user-" + std::to_string(u);
    auto r = rawRequest(port, get("/", "X-User: " + user + "\r\n"));
    if (!r || r->status != 200) {
      ++*errors;
      continue;
    }
    out[user] = r->header("X-Origin").value_or("?");
  }
  return out;
}

TEST(ConsistentHash, KeysStayMoveOnlyOffADownServerSpreadAndComeBack) {
  Origin a("a"), b("b");
  ASSERT_TRUE(a.ok() && b.ok());
  const uint16_t c_port = freePort();
  auto c = originOn(c_port, "c", "origin-c");
  Weir weir(R"(pools:
  app:
    balancer: consistent_hash
    hash: { key: "header:X-User" }
    health_check: { type: tcp, interval: 100ms, timeout: 100ms, rise: 1, fall: 1 }
    servers:
      - { address: "${A}" }
      - { address: "${B}" }
      - { address: "127.0.0.1:${CPORT}" }
routes: [{ pool: app }]
)",
            {{"A", a.address()}, {"B", b.address()}, {"CPORT", std::to_string(c_port)}});
  ASSERT_TRUE(weir.ok()) << weir.error();
  int errors = 0;
  const auto first = placement(weir.port(), 60, &errors);
  EXPECT_EQ(placement(weir.port(), 60, &errors), first) << "the same key goes to the same server";
  std::map<std::string, int> share;
  for (const auto& [user, origin] : first) ++share[origin];
  EXPECT_EQ(share.size(), 3u) << "keys spread over every server";

  c->signal(SIGKILL);
  c->waitExit(Ms(2000));
  ASSERT_TRUE(weir.waitForLogLine(
      weir.errorLogPath(), [&](const std::string& l) { return contains(l, std::to_string(c_port) + " is now down"); },
      Ms(3000)));
  const auto without_c = placement(weir.port(), 60, &errors);
  std::map<std::string, int> moved_to;
  for (const auto& [user, origin] : first) {
    if (origin == "c") {
      ++moved_to[without_c.at(user)];
    } else {
      EXPECT_EQ(without_c.at(user), origin) << user << " moved though its server stayed up";
    }
  }
  EXPECT_EQ(moved_to.count("c"), 0u);
  if (share["c"] >= 6) {
    EXPECT_EQ(moved_to.size(), 2u) << "the down server's keys spread over the others";
  }

  c = originOn(c_port, "c", "origin-c2");
  ASSERT_TRUE(weir.waitForLogLine(
      weir.errorLogPath(), [&](const std::string& l) { return contains(l, std::to_string(c_port) + " is now up"); },
      Ms(3000)));
  EXPECT_EQ(placement(weir.port(), 60, &errors), first) << "keys come back when the server recovers";
  EXPECT_EQ(errors, 0);
  // No key: round robin over all three.
  std::set<std::string> seen;
  for (int i = 0; i < 6; ++i) {
    auto r = rawRequest(weir.port(), get("/"));
    ASSERT_TRUE(r);
    seen.insert(r->header("X-Origin").value_or("?"));
  }
  EXPECT_EQ(seen.size(), 3u);
}

TEST(SlowStart, ARecoveredServerRampsUpToItsShare) {
  Origin a("a");
  ASSERT_TRUE(a.ok());
  const uint16_t b_port = freePort();
  auto b = originOn(b_port, "b", "origin-b");
  Weir weir(R"(pools:
  app:
    slow_start: 3s
    health_check: { type: tcp, interval: 100ms, timeout: 100ms, rise: 1, fall: 1 }
    servers:
      - { address: "${A}" }
      - { address: "127.0.0.1:${BPORT}" }
routes: [{ pool: app }]
)",
            {{"A", a.address()}, {"BPORT", std::to_string(b_port)}});
  ASSERT_TRUE(weir.ok()) << weir.error();
  b->signal(SIGKILL);
  b->waitExit(Ms(2000));
  ASSERT_TRUE(weir.waitForLogLine(
      weir.errorLogPath(), [&](const std::string& l) { return contains(l, std::to_string(b_port) + " is now down"); },
      Ms(3000)));
  b = originOn(b_port, "b", "origin-b2");
  ASSERT_TRUE(weir.waitForLogLine(
      weir.errorLogPath(), [&](const std::string& l) { return contains(l, std::to_string(b_port) + " is now up"); },
      Ms(3000)));
  const auto up = Clock::now();
  auto shareOfB = [&](Ms window) {
    RawClient client(weir.port());
    long total = 0, on_b = 0;
    const auto end = Clock::now() + window;
    while (Clock::now() < end && total < 20000) {
      if (!client.send(get("/"))) break;
      auto r = client.readResponse(Ms(3000));
      if (!r) break;
      ++total;
      on_b += r->header("X-Origin").value_or("") == "b" ? 1 : 0;
    }
    return total > 0 ? static_cast<double>(on_b) / static_cast<double>(total) : -1.0;
  };
  const double early = shareOfB(Ms(600));
  std::this_thread::sleep_until(up + Ms(3200));
  const double late = shareOfB(Ms(600));
  EXPECT_GT(early, 0.0) << "a ramping server gets some traffic";
  EXPECT_LT(early, 0.25) << "in its first 0.6 s of 3 s, well under its full half";
  EXPECT_GT(late, 0.4) << "after the ramp, its full share";
}

TEST(LeastRequest, SendsMostTrafficAwayFromASlowServer) {
  Origin fast("fast");
  ASSERT_TRUE(fast.ok());
  const uint16_t slow_port = freePort();
  auto slow = originOn(slow_port, "slow", "origin-slow", {"--delay", "20"});
  const std::string servers = "      - { address: \"" + fast.address() + "\" }\n      - { address: \"127.0.0.1:" +
                              std::to_string(slow_port) + "\" }\n";
  auto run = [&](const std::string& balancer) {
    Weir weir("workers: 2\npools:\n  app:\n    balancer: " + balancer + "\n    servers:\n" + servers +
              "routes: [{ pool: app }]\n");
    EXPECT_TRUE(weir.ok()) << weir.error();
    Load load(weir.port(), 16);
    std::this_thread::sleep_for(Ms(1500));
    return load.stop();
  };
  const LoadResult least = run("least_request");
  const LoadResult rr = run("round_robin");
  EXPECT_EQ(least.bad_status + least.broken, 0) << describe(least);
  const auto share = [](const LoadResult& r) {
    const long slow_n = r.by_origin.count("slow") ? r.by_origin.at("slow") : 0;
    return r.ok > 0 ? static_cast<double>(slow_n) / static_cast<double>(r.ok) : 1.0;
  };
  EXPECT_GT(share(least), 0.0) << "the slow server still takes some: " << describe(least);
  EXPECT_LT(share(least), 0.15) << "least_request: " << describe(least);
  EXPECT_GT(share(rr), 0.3) << "round_robin gives it about its turn: " << describe(rr);
}

}  // namespace
}  // namespace weir::itest
