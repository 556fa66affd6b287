// Active health checks, the parts without sockets: rise/fall counting,
// expect matching, status-line parsing, probe jitter, and what probe
// results do to the shared server state (transitions, passive ejections).
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "upstream/health/active_health.h"
#include "upstream/health/check_counter.h"
#include "upstream/health/probe.h"
#include "upstream/health/probe_response.h"
#include "upstream/health/probe_schedule.h"
#include "weir/config/config.h"
#include "weir/upstream/server_state.h"

namespace weir::upstream {
namespace {

using Change = CheckCounter::Change;

// ---- rise / fall --------------------------------------------------------------

TEST(HealthCheckCounter, UpServerGoesDownAfterFallConsecutiveFailures) {
  CheckCounter c(2, 3);
  EXPECT_TRUE(c.up());
  EXPECT_EQ(c.record(false), Change::kNone);
  EXPECT_EQ(c.record(false), Change::kNone);
  EXPECT_EQ(c.record(false), Change::kWentDown);
  EXPECT_FALSE(c.up());
  EXPECT_EQ(c.record(false), Change::kNone);  // already down: no second transition
  EXPECT_FALSE(c.up());
}

TEST(HealthCheckCounter, DownServerComesUpAfterRiseConsecutiveSuccesses) {
  CheckCounter c(2, 3, /*up=*/false);
  EXPECT_EQ(c.record(true), Change::kNone);
  EXPECT_EQ(c.record(true), Change::kWentUp);
  EXPECT_TRUE(c.up());
  EXPECT_EQ(c.record(true), Change::kNone);
}

TEST(HealthCheckCounter, AFailureRestartsTheRunTowardsRise) {
  CheckCounter c(3, 1, /*up=*/false);
  EXPECT_EQ(c.record(true), Change::kNone);
  EXPECT_EQ(c.record(true), Change::kNone);
  EXPECT_EQ(c.record(false), Change::kNone);  // down already; fall 1 does not matter
  EXPECT_EQ(c.record(true), Change::kNone);
  EXPECT_EQ(c.record(true), Change::kNone);
  EXPECT_EQ(c.record(true), Change::kWentUp);
}

TEST(HealthCheckCounter, AlternatingResultsNeverReachRiseOrFall) {
  for (bool start_up : {true, false}) {
    CheckCounter c(2, 2, start_up);
    for (int i = 0; i < 50; ++i) {
      EXPECT_EQ(c.record(i % 2 == 0), Change::kNone) << "result " << i;
      EXPECT_EQ(c.up(), start_up);
    }
  }
  // Two passes, then a failure, for fall 3 and rise 3: runs never get long.
  CheckCounter c(3, 3, /*up=*/true);
  for (int i = 0; i < 30; ++i) EXPECT_EQ(c.record(i % 3 != 2), Change::kNone);
  EXPECT_TRUE(c.up());
}

TEST(HealthCheckCounter, RiseAndFallOfOneActAtOnce) {
  CheckCounter c(1, 1);
  EXPECT_EQ(c.record(false), Change::kWentDown);
  EXPECT_EQ(c.record(true), Change::kWentUp);
  EXPECT_EQ(c.record(false), Change::kWentDown);
}

// ---- expect -----------------------------------------------------------------------

std::vector<config::HealthCheckConfig::StatusRange> expectFrom(const std::string& expect) {
  const std::string yaml =
      "listeners:\n  - address: 127.0.0.1:8080\n"
      "pools:\n  app:\n    servers:\n      - address: 127.0.0.1:9001\n"
      "    health_check:\n      expect: " + expect + "\n"
      "routes:\n  - pool: app\n";
  auto cfg = config::loadString(yaml, "t.yaml");
  EXPECT_TRUE(cfg.ok()) << cfg.error().message;
  return cfg.ok() ? (*cfg)->pools[0].health_check.expect : std::vector<config::HealthCheckConfig::StatusRange>{};
}

TEST(HealthCheckExpect, DefaultIs200To399) {
  config::HealthCheckConfig hc;
  for (int s : {200, 204, 301, 399}) EXPECT_TRUE(statusExpected(s, hc.expect)) << s;
  for (int s : {100, 199, 400, 404, 500, 503}) EXPECT_FALSE(statusExpected(s, hc.expect)) << s;
}

TEST(HealthCheckExpect, OneCode) {
  auto e = expectFrom("204");
  EXPECT_TRUE(statusExpected(204, e));
  EXPECT_FALSE(statusExpected(200, e));
  EXPECT_FALSE(statusExpected(205, e));
}

TEST(HealthCheckExpect, Range) {
  auto e = expectFrom("\"200-299\"");
  EXPECT_TRUE(statusExpected(200, e));
  EXPECT_TRUE(statusExpected(250, e));
  EXPECT_TRUE(statusExpected(299, e));
  EXPECT_FALSE(statusExpected(199, e));
  EXPECT_FALSE(statusExpected(300, e));
}

TEST(HealthCheckExpect, ListOfCodesAndRanges) {
  auto e = expectFrom("[200, \"301-302\", 418]");
  for (int s : {200, 301, 302, 418}) EXPECT_TRUE(statusExpected(s, e)) << s;
  for (int s : {201, 300, 303, 417, 419, 503}) EXPECT_FALSE(statusExpected(s, e)) << s;
}

// ---- status line ------------------------------------------------------------------------

using State = StatusLine::State;

TEST(HealthCheckStatusLine, Complete) {
  StatusLine l = parseStatusLine("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  EXPECT_EQ(l.state, State::kComplete);
  EXPECT_EQ(l.status, 200);
  EXPECT_EQ(parseStatusLine("HTTP/1.1 503 Service Unavailable\r\n").status, 503);
}

TEST(HealthCheckStatusLine, Http10AndNoReasonAndBareLf) {
  EXPECT_EQ(parseStatusLine("HTTP/1.0 204 No Content\r\n").status, 204);
  StatusLine no_reason = parseStatusLine("HTTP/1.1 200\r\n");
  EXPECT_EQ(no_reason.state, State::kComplete);
  EXPECT_EQ(no_reason.status, 200);
  EXPECT_EQ(parseStatusLine("HTTP/1.1 200 \r\n").status, 200);
  EXPECT_EQ(parseStatusLine("HTTP/1.1 302 Found\n").status, 302);
}

// Each prefix of the response is incomplete; the status is known only once
// the line has ended, whichever way the bytes were split across reads.
TEST(HealthCheckStatusLine, SplitAcrossReads) {
  const std::string full = "HTTP/1.1 404 Not Found\r\nX: y\r\n\r\n";
  const size_t end = full.find('\n');
  for (size_t n = 0; n <= end; ++n) {
    StatusLine l = parseStatusLine(std::string_view(full).substr(0, n));
    EXPECT_EQ(l.state, State::kIncomplete) << "first " << n << " bytes";
  }
  StatusLine l = parseStatusLine(std::string_view(full).substr(0, end + 1));
  EXPECT_EQ(l.state, State::kComplete);
  EXPECT_EQ(l.status, 404);
}

TEST(HealthCheckStatusLine, GarbageIsInvalidAtOnce) {
  for (const char* bad : {"SSH-2.0-OpenSSH_9.6\r\n", "<html>", "H", "http/1.1 200 OK\r\n", "HTTP/2 200\r\n",
                          "HTTP/1.x 200 OK\r\n", "HTTP/1.1  200 OK\r\n", "HTTP/1.1 20x OK\r\n",
                          "HTTP/1.1 2000 OK\r\n", "HTTP/1.1 20\r\n", "\r\n"}) {
    if (std::string_view(bad) == "H") {
      EXPECT_EQ(parseStatusLine(bad).state, State::kIncomplete);  // could still be HTTP/1.x
      continue;
    }
    EXPECT_EQ(parseStatusLine(bad).state, State::kInvalid) << bad;
  }
  EXPECT_EQ(parseStatusLine("X").state, State::kInvalid);
}

TEST(HealthCheckStatusLine, StatusOutsideHundredToFiveNinetyNineIsInvalid) {
  EXPECT_EQ(parseStatusLine("HTTP/1.1 099 Odd\r\n").state, State::kInvalid);
  EXPECT_EQ(parseStatusLine("HTTP/1.1 600 Odd\r\n").state, State::kInvalid);
  EXPECT_EQ(parseStatusLine("HTTP/1.1 100 Continue\r\n").status, 100);  // parsed; expect decides
}

TEST(HealthCheckStatusLine, NoLineEndWithinTheReadBoundIsInvalid) {
  std::string endless = "HTTP/1.1 200 " + std::string(kMaxStatusLine, 'k');
  EXPECT_EQ(parseStatusLine(std::string_view(endless).substr(0, kMaxStatusLine - 1)).state, State::kIncomplete);
  EXPECT_EQ(parseStatusLine(std::string_view(endless).substr(0, kMaxStatusLine)).state, State::kInvalid);
}

TEST(HealthCheckRequest, CarriesPathHostUserAgentAndClose) {
  EXPECT_EQ(probeRequest("/healthz?deep=1", "app.internal"),
            "GET /healthz?deep=1 HTTP/1.1\r\nHost: app.internal\r\nUser-Agent: weir-health-check\r\n"
            "Connection: close\r\n\r\n");
}

// ---- jitter ----------------------------------------------------------------------------------

TEST(HealthCheckJitter, FirstProbeWithinTheFirstInterval) {
  std::mt19937_64 rng(42);
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (int i = 0; i < 10000; ++i) {
    const int64_t d = firstProbeDelayMs(2000, rng);
    ASSERT_GE(d, 0);
    ASSERT_LT(d, 2000);
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
  EXPECT_LT(lo, 100);  // spread over the whole interval, not bunched
  EXPECT_GT(hi, 1900);
}

TEST(HealthCheckJitter, NextProbeWithinTenPercentOfTheInterval) {
  std::mt19937_64 rng(7);
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  double sum = 0;
  const int n = 10000;
  for (int i = 0; i < n; ++i) {
    const int64_t d = nextProbeDelayMs(200, rng);
    ASSERT_GE(d, 180);
    ASSERT_LE(d, 220);
    lo = std::min(lo, d);
    hi = std::max(hi, d);
    sum += static_cast<double>(d);
  }
  EXPECT_LE(lo, 182);
  EXPECT_GE(hi, 218);
  EXPECT_NEAR(sum / n, 200.0, 1.0);
}

TEST(HealthCheckJitter, TinyIntervalsStayPositive) {
  std::mt19937_64 rng(1);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(firstProbeDelayMs(1, rng), 0);
    EXPECT_GE(nextProbeDelayMs(1, rng), 1);
    EXPECT_GE(nextProbeDelayMs(5, rng), 1);
  }
}

TEST(HealthCheckJitter, SameSeedSameSchedule) {
  std::mt19937_64 a(99), b(99);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(nextProbeDelayMs(1000, a), nextProbeDelayMs(1000, b));
}

// ---- results on the shared state ------------------------------------------------------------------

struct Checked {
  explicit Checked(uint32_t rise = 2, uint32_t fall = 2) {
    hc.enabled = true;
    hc.rise = rise;
    hc.fall = fall;
  }
  config::HealthCheckConfig hc;
  ServerStatePtr server = std::make_shared<ServerState>("app", "127.0.0.1:9001");
  PoolHealthPtr pool = std::make_shared<PoolHealth>("app");
};

TEST(HealthCheckResults, FallFailuresMarkDownAndRisePassesMarkUp) {
  Checked c;
  ActiveHealth h(c.hc, c.server, c.pool);
  h.record(false, "status 503", 0, 100);
  EXPECT_TRUE(c.server->usable());
  h.record(false, "status 503", 0, 200);
  EXPECT_FALSE(c.server->usable());
  EXPECT_TRUE(c.server->activeDown());
  EXPECT_EQ(c.server->status().reason, "status 503; 2 failures in a row");
  EXPECT_EQ(c.server->status().transitions, 1u);
  h.record(true, "status 200", 0, 300);
  EXPECT_FALSE(c.server->usable());
  h.record(true, "status 200", 0, 400);
  EXPECT_TRUE(c.server->usable());
  EXPECT_EQ(c.server->status().reason, "status 200; 2 passes in a row");
  EXPECT_EQ(c.server->status().transitions, 2u);
  EXPECT_EQ(c.server->upSince(), 400);  // slow start counts from here
}

TEST(HealthCheckResults, StartsFromWhatTheStateSays) {
  Checked c;
  c.server->setActiveDown(true, "earlier", 1);  // as a reload would find it
  ActiveHealth h(c.hc, c.server, c.pool);
  EXPECT_FALSE(h.counter().up());
  h.record(true, "status 200", 0, 10);
  h.record(true, "status 200", 0, 20);
  EXPECT_TRUE(c.server->usable());
}

config::PassiveHealthConfig ejectOnFirstFailure() {
  config::PassiveHealthConfig p;
  p.consecutive_failures = 1;
  p.max_ejected_percent = 100;
  return p;
}

TEST(HealthCheckResults, RisePassesStartedDuringAnEjectionEndIt) {
  Checked c(/*rise=*/2);
  ActiveHealth h(c.hc, c.server, c.pool);
  PassiveHealth passive(ejectOnFirstFailure(), 2);
  ASSERT_TRUE(passive.onFailure(*c.server, *c.pool, "status 502", 1000));
  const int64_t ejection = h.probeStarts();
  ASSERT_NE(ejection, 0);

  h.record(true, "status 200", ejection, 1100);
  EXPECT_TRUE(c.server->ejected());  // one pass is not enough
  h.record(true, "status 200", ejection, 1200);
  EXPECT_FALSE(c.server->ejected());
  EXPECT_TRUE(c.server->usable());
  EXPECT_EQ(c.pool->ejected.load(), 0);
  EXPECT_EQ(c.server->status().reason, "health check passed");
}

TEST(HealthCheckResults, PassOfAProbeStartedBeforeTheEjectionDoesNotCount) {
  Checked c(/*rise=*/2);
  ActiveHealth h(c.hc, c.server, c.pool);
  PassiveHealth passive(ejectOnFirstFailure(), 2);
  const int64_t before = h.probeStarts();  // 0: not ejected when this probe started
  ASSERT_TRUE(passive.onFailure(*c.server, *c.pool, "status 502", 1000));
  const int64_t ejection = c.server->ejectedUntil();
  h.record(true, "status 200", before, 1050);
  h.record(true, "status 200", ejection, 1100);
  EXPECT_TRUE(c.server->ejected());
  h.record(true, "status 200", ejection, 1200);
  EXPECT_FALSE(c.server->ejected());
}

TEST(HealthCheckResults, AFailingProbeRestartsTheCountTowardsTheEnd) {
  Checked c(/*rise=*/2, /*fall=*/3);
  ActiveHealth h(c.hc, c.server, c.pool);
  PassiveHealth passive(ejectOnFirstFailure(), 2);
  ASSERT_TRUE(passive.onFailure(*c.server, *c.pool, "status 502", 1000));
  const int64_t ejection = c.server->ejectedUntil();
  h.record(true, "status 200", ejection, 1100);
  h.record(false, "timeout", ejection, 1200);
  h.record(true, "status 200", ejection, 1300);
  EXPECT_TRUE(c.server->ejected());
  h.record(true, "status 200", ejection, 1400);
  EXPECT_FALSE(c.server->ejected());
}

TEST(HealthCheckResults, PassesUnderAnEarlierEjectionDoNotCarryOver) {
  Checked c(/*rise=*/2);
  ActiveHealth h(c.hc, c.server, c.pool);
  PassiveHealth passive(ejectOnFirstFailure(), 2);
  ASSERT_TRUE(passive.onFailure(*c.server, *c.pool, "status 502", 1000));
  const int64_t first = c.server->ejectedUntil();
  h.record(true, "status 200", first, 1100);
  PassiveHealth::endEjection(*c.server, *c.pool, "ejection time over", first);
  ASSERT_TRUE(passive.onFailure(*c.server, *c.pool, "status 502", first + 10));  // probation: out again
  const int64_t second = c.server->ejectedUntil();
  ASSERT_NE(second, first);
  h.record(true, "status 200", second, first + 20);
  EXPECT_TRUE(c.server->ejected());
  h.record(true, "status 200", second, first + 30);
  EXPECT_FALSE(c.server->ejected());
}

}  // namespace
}  // namespace weir::upstream
