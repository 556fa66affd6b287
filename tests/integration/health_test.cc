// Active health checks against the real binary: weir-origin servers whose
// /healthz status the test switches (/_control/health?status=CODE), killed
// and restarted ones for type tcp, and what the probes send.
//
// Timing: interval 200ms, timeout 100ms, fall 2, rise 2. A server whose
// health turns bad is probed next within an interval (+10% jitter) and
// marked down at its second failing probe, so within about fall x interval;
// the bounds below add a timeout and scheduling slack (doubled under
// sanitizers). Measured times are printed as "[ timing ]" lines.
#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include "harness.h"

namespace weir::itest {
namespace {

constexpr Ms kInterval{200};
constexpr Ms kTimeout{100};
constexpr int kFall = 2;
constexpr int kRise = 2;

Ms slack() { return underSanitizer() ? Ms(1000) : Ms(500); }

std::string healthControl(Origin& o, const std::string& query = "") {
  auto r = rawRequest(o.port(), "GET /_control/health" + query + " HTTP/1.1\r\nHost: origin\r\nConnection: close\r\n\r\n",
                      Ms(3000));
  EXPECT_TRUE(r && r->status == 200) << "weir-origin " << o.name() << ": /_control/health" << query;
  return r ? r->body : "";
}

void setHealth(Origin& o, int status) { healthControl(o, "?status=" + std::to_string(status)); }

long probesSeen(Origin& o) {
  const std::string report = healthControl(o);
  const size_t at = report.find("probes: ");
  return at == std::string::npos ? -1 : std::stol(report.substr(at + 8));
}

std::string healthConfig(const std::vector<std::string>& servers, const std::string& check) {
  std::string y = "pools:\n  app:\n    servers:\n";
  for (const auto& s : servers) y += "      - address: " + s + "\n";
  // Passive ejection off: these tests watch what the active checks decide.
  y += "    passive: false\n    health_check:\n" + check;
  y += "routes:\n  - pool: app\n";
  return y;
}

std::string httpCheck(const std::string& extra = "") {
  return "      path: /healthz\n      interval: 200ms\n      timeout: 100ms\n      fall: 2\n      rise: 2\n" + extra;
}

Ms since(Clock::time_point t0) { return std::chrono::duration_cast<Ms>(Clock::now() - t0); }

// Requests through weir on one keep-alive connection (a new one when weir
// closes it), each remembering when it was answered and by whom.
class Traffic {
 public:
  struct Hit {
    Ms at;               // since the traffic's time origin
    std::string origin;  // X-Origin, "" on error
    int status = 0;      // 0: no response
  };

  Traffic(uint16_t port, Clock::time_point t0) : port_(port), t0_(t0) {}

  Hit one() {
    if (!client_ || !client_->connected() || client_->eof()) client_ = std::make_unique<RawClient>(port_);
    Hit h;
    if (client_->send(get("/"))) {
      if (auto r = client_->readResponse(Ms(3000))) {
        h.status = r->status;
        h.origin = r->header("X-Origin").value_or("");
        if (auto c = r->header("Connection"); c && lower(*c) == "close") client_.reset();
      } else {
        client_.reset();
      }
    } else {
      client_.reset();
    }
    h.at = since(t0_);
    hits_.push_back(h);
    std::this_thread::sleep_for(Ms(2));  // a steady trickle, not a load test
    return h;
  }

  // Sends until `done(hit)` or `limit` after the time origin; false on the limit.
  template <typename Pred>
  bool until(Ms limit, Pred done) {
    while (since(t0_) < limit) {
      if (done(one())) return true;
    }
    return false;
  }

  const std::vector<Hit>& hits() const { return hits_; }
  int errors() const {
    int n = 0;
    for (const Hit& h : hits_) n += h.status != 200;
    return n;
  }

 private:
  uint16_t port_;
  Clock::time_point t0_;
  std::unique_ptr<RawClient> client_;
  std::vector<Hit> hits_;
};

int countLines(const std::string& log, const std::string& needle) {
  int n = 0;
  for (size_t at = log.find(needle); at != std::string::npos; at = log.find(needle, at + 1)) ++n;
  return n;
}

class HealthCheck : public ::testing::Test {
 protected:
  void startPair(const std::string& check) {
    a_ = std::make_unique<Origin>("a");
    b_ = std::make_unique<Origin>("b");
    ASSERT_TRUE(a_->ok() && b_->ok()) << a_->error() << b_->error();
    weir_ = std::make_unique<Weir>(healthConfig({a_->address(), b_->address()}, check));
    ASSERT_TRUE(weir_->ok()) << weir_->error();
  }
  std::string downLine(const Origin& o) const { return "pool app server " + o.address() + " is now down"; }
  std::string upLine(const Origin& o) const { return "pool app server " + o.address() + " is now up"; }

  std::unique_ptr<Origin> a_, b_;
  std::unique_ptr<Weir> weir_;  // declared last: stopped first
};

// (1) b's health turns 503: b stops receiving traffic within fall x
// interval (+ timeout + slack) and a serves everything, with no client
// error; one error-log line says so. (2) Back to 200: b takes traffic again
// within rise x interval (+ slack), with an "up" line.
TEST_F(HealthCheck, ServerWhoseHealthTurns503StopsTakingTrafficAndComesBack) {
  ASSERT_NO_FATAL_FAILURE(startPair(httpCheck()));
  {  // both serve while healthy
    Traffic warm(weir_->port(), Clock::now());
    bool a = false, b = false;
    warm.until(Ms(2000), [&](const Traffic::Hit& h) {
      a |= h.origin == "a";
      b |= h.origin == "b";
      return a && b;
    });
    ASSERT_TRUE(a && b) << "both servers should take traffic while healthy";
  }

  const Ms down_bound = kFall * kInterval + kTimeout + slack();
  const auto flip = Clock::now();
  setHealth(*b_, 503);
  Traffic t(weir_->port(), flip);
  // Until b has had no request for 600 ms (3 intervals), within a bound.
  Ms last_b{0};
  t.until(down_bound + Ms(1500), [&](const Traffic::Hit& h) {
    if (h.origin == "b") last_b = h.at;
    return h.at - last_b > Ms(600);
  });
  std::printf("[ timing ] b's last request %lld ms after its health turned 503 (bound %lld ms)\n",
              static_cast<long long>(last_b.count()), static_cast<long long>(down_bound.count()));
  RecordProperty("down_after_ms", static_cast<int>(last_b.count()));
  EXPECT_LE(last_b, down_bound);
  EXPECT_EQ(t.errors(), 0) << "client requests failed while b went down";
  int a_after = 0, b_after = 0;
  for (const auto& h : t.hits()) {
    if (h.at <= last_b) continue;
    a_after += h.origin == "a";
    b_after += h.origin == "b";
  }
  EXPECT_GT(a_after, 20);
  EXPECT_EQ(b_after, 0);

  auto line = weir_->waitForLogLine(weir_->errorLogPath(),
                                    [&](const std::string& l) { return l.find(downLine(*b_)) != std::string::npos; });
  ASSERT_TRUE(line) << "no \"" << downLine(*b_) << "\" line";
  EXPECT_NE(line->find("(health check: status 503; 2 failures in a row)"), std::string::npos) << *line;
  EXPECT_NE(line->find("[error]"), std::string::npos) << *line;
  EXPECT_EQ(countLines(weir_->errorLog(), downLine(*b_)), 1);
  EXPECT_EQ(countLines(weir_->errorLog(), downLine(*a_)), 0);

  // A down server is still probed, at the same interval.
  const long probes_before = probesSeen(*b_);
  std::this_thread::sleep_for(Ms(1000));
  const long probes_in_a_second = probesSeen(*b_) - probes_before;
  EXPECT_GE(probes_in_a_second, 3);
  EXPECT_LE(probes_in_a_second, 7);

  const Ms up_bound = kRise * kInterval + slack();
  const auto heal = Clock::now();
  setHealth(*b_, 200);
  Traffic back(weir_->port(), heal);
  Ms first_b{-1};
  back.until(up_bound + Ms(1500), [&](const Traffic::Hit& h) {
    if (h.origin != "b") return false;
    first_b = h.at;
    return true;
  });
  ASSERT_GE(first_b.count(), 0) << "b took no traffic after its health returned to 200";
  std::printf("[ timing ] b's first request %lld ms after its health returned to 200 (bound %lld ms)\n",
              static_cast<long long>(first_b.count()), static_cast<long long>(up_bound.count()));
  RecordProperty("up_after_ms", static_cast<int>(first_b.count()));
  EXPECT_LE(first_b, up_bound);
  EXPECT_EQ(back.errors(), 0);
  line = weir_->waitForLogLine(weir_->errorLogPath(),
                               [&](const std::string& l) { return l.find(upLine(*b_)) != std::string::npos; });
  ASSERT_TRUE(line) << "no \"" << upLine(*b_) << "\" line";
  EXPECT_NE(line->find("(health check: status 200; 2 passes in a row)"), std::string::npos) << *line;
}

// (3) type tcp: a server whose port is closed (process killed) is marked
// down with "connect refused" and comes back once it listens again.
TEST_F(HealthCheck, TcpCheckMarksAKilledServerDownAndARestartedOneUp) {
  ASSERT_NO_FATAL_FAILURE(
      startPair("      type: tcp\n      interval: 200ms\n      timeout: 100ms\n      fall: 2\n      rise: 2\n"));
  const auto kill_at = Clock::now();
  b_->process().signal(SIGKILL);
  ASSERT_TRUE(b_->process().waitExit(Ms(2000)));
  auto line = weir_->waitForLogLine(
      weir_->errorLogPath(), [&](const std::string& l) { return l.find(downLine(*b_)) != std::string::npos; },
      kFall * kInterval + kTimeout + slack() + Ms(500));
  ASSERT_TRUE(line) << "b was not marked down after it was killed";
  std::printf("[ timing ] tcp: b marked down %lld ms after it was killed\n",
              static_cast<long long>(since(kill_at).count()));
  EXPECT_NE(line->find("(health check: connect refused; 2 failures in a row)"), std::string::npos) << *line;
  {
    Traffic t(weir_->port(), Clock::now());
    for (int i = 0; i < 20; ++i) EXPECT_EQ(t.one().origin, "a");
    EXPECT_EQ(t.errors(), 0);
  }

  const auto restart_at = Clock::now();
  ASSERT_TRUE(b_->restart()) << b_->error();
  line = weir_->waitForLogLine(
      weir_->errorLogPath(), [&](const std::string& l) { return l.find(upLine(*b_)) != std::string::npos; },
      kRise * kInterval + slack() + Ms(500));
  ASSERT_TRUE(line) << "b was not marked up after it was restarted";
  std::printf("[ timing ] tcp: b marked up %lld ms after it listened again\n",
              static_cast<long long>(since(restart_at).count()));
  EXPECT_NE(line->find("(health check: connected; 2 passes in a row)"), std::string::npos) << *line;
  Traffic t(weir_->port(), Clock::now());
  EXPECT_TRUE(t.until(Ms(2000), [](const Traffic::Hit& h) { return h.origin == "b"; }));
  EXPECT_EQ(t.errors(), 0);
}

// (4) Probes carry the configured path and Host, weir's User-Agent and
// Connection: close; without host, Host is the server's address.
TEST(HealthCheckProbe, CarriesTheConfiguredHostAndPath) {
  Origin a("a"), b("b");
  ASSERT_TRUE(a.ok() && b.ok()) << a.error() << b.error();
  Weir weir(R"(pools:
  app:
    servers: [ { address: "${A}" } ]
    health_check: { path: "/healthz/app?probe=1", host: app.internal, interval: 200ms, timeout: 100ms }
  other:
    servers: [ { address: "${B}" } ]
    health_check: { path: /healthz, interval: 200ms, timeout: 100ms }
routes:
  - match: { path_prefix: /other/ }
    pool: other
  - pool: app
)",
            {{"A", a.address()}, {"B", b.address()}});
  ASSERT_TRUE(weir.ok()) << weir.error();
  auto deadline = Clock::now() + Ms(2000);
  while ((probesSeen(a) < 1 || probesSeen(b) < 1) && Clock::now() < deadline) std::this_thread::sleep_for(Ms(20));
  ASSERT_GE(probesSeen(a), 1);
  ASSERT_GE(probesSeen(b), 1);

  const std::string ra = healthControl(a);
  const std::string head_a = ra.substr(ra.find("last probe:\n") + 12);
  EXPECT_EQ(head_a,
            "GET /healthz/app?probe=1 HTTP/1.1\r\nHost: app.internal\r\nUser-Agent: weir-health-check\r\n"
            "Connection: close\r\n\r\n");
  const std::string rb = healthControl(b);
  const std::string head_b = rb.substr(rb.find("last probe:\n") + 12);
  EXPECT_EQ(head_b, "GET /healthz HTTP/1.1\r\nHost: " + b.address() +
                        "\r\nUser-Agent: weir-health-check\r\nConnection: close\r\n\r\n");

  // One probe per interval, give or take the jitter.
  const long before = probesSeen(a);
  std::this_thread::sleep_for(Ms(1000));
  const long in_a_second = probesSeen(a) - before;
  EXPECT_GE(in_a_second, 3);
  EXPECT_LE(in_a_second, 7);
  EXPECT_EQ(countLines(weir.errorLog(), "is now down"), 0) << weir.errorLog();
}

// Servers start up: a (re)started weir does not refuse or mark anything
// down before its first probes, even when a server's health is already bad.
TEST(HealthCheckStart, ServersStartUpSoARestartDoesNotAnswer503BeforeTheFirstProbes) {
  Origin a("a"), b("b");
  ASSERT_TRUE(a.ok() && b.ok()) << a.error() << b.error();
  setHealth(b, 503);
  // The second probe of b comes at least 0.9 x 500 ms after the start: b is
  // up and taking requests until then.
  const std::string config = healthConfig(
      {a.address(), b.address()}, "      path: /healthz\n      interval: 500ms\n      timeout: 100ms\n      fall: 2\n");
  for (int run = 0; run < 2; ++run) {
    SCOPED_TRACE(run == 0 ? "first start" : "restart");
    Weir weir(config);
    ASSERT_TRUE(weir.ok()) << weir.error();
    const auto started = Clock::now();
    Traffic t(weir.port(), started);
    int from_b = 0;
    for (int i = 0; i < 10; ++i) from_b += t.one().origin == "b";
    EXPECT_LT(since(started), Ms(400)) << "too slow to tell";
    EXPECT_EQ(t.errors(), 0);
    EXPECT_GE(from_b, 4);  // round robin over two servers that are both up
    EXPECT_EQ(countLines(weir.errorLog(), "is now down"), 0);
    // And then the checks do their work.
    auto line = weir.waitForLogLine(weir.errorLogPath(), [&](const std::string& l) {
      return l.find("pool app server " + b.address() + " is now down (health check: status 503") != std::string::npos;
    }, Ms(2500));
    EXPECT_TRUE(line);
  }
}

}  // namespace
}  // namespace weir::itest
