// Shared server state: health transitions, slow-start ramp, and passive
// ejection (consecutive failures, backoff, max_ejected_percent, probation).
#include "weir/upstream/server_state.h"

#include <gtest/gtest.h>

namespace weir::upstream {
namespace {

config::PassiveHealthConfig passive(uint32_t failures = 5, int64_t ejection_ms = 10000, int64_t max_ms = 300000,
                                    uint32_t percent = 50) {
  config::PassiveHealthConfig c;
  c.consecutive_failures = failures;
  c.ejection = config::Duration(ejection_ms);
  c.max_ejection = config::Duration(max_ms);
  c.max_ejected_percent = percent;
  return c;
}

TEST(ServerStateTest, ActiveAndPassiveVerdictsCombineAndBumpTheEpoch) {
  ServerState s("app", "127.0.0.1:1");
  EXPECT_TRUE(s.usable()) << "servers start up";
  const uint64_t epoch = healthEpoch();
  EXPECT_TRUE(s.setActiveDown(true, "status 503", 1000));
  EXPECT_FALSE(s.usable());
  EXPECT_GT(healthEpoch(), epoch);
  EXPECT_FALSE(s.setActiveDown(true, "status 503", 1100)) << "no transition";
  EXPECT_FALSE(s.setEjectedUntil(5000, "x", 1200)) << "still down: usability did not change";
  EXPECT_FALSE(s.setActiveDown(false, "status 200", 1300)) << "ejected still";
  EXPECT_FALSE(s.usable());
  EXPECT_TRUE(s.setEjectedUntil(0, "over", 1400));
  EXPECT_TRUE(s.usable());
  const ServerState::Status st = s.status();
  EXPECT_EQ(st.transitions, 2u);
  EXPECT_EQ(st.reason, "over");
  EXPECT_EQ(st.since, 1400);
}

TEST(ServerStateTest, SlowStartRampsFromTheLastTimeTheServerCameUp) {
  ServerState s("app", "127.0.0.1:1");
  EXPECT_DOUBLE_EQ(s.rampFactor(0, 30000), 1.0) << "up since the start: no ramp";
  s.setActiveDown(true, "timeout", 1000);
  s.setActiveDown(false, "status 200", 10000);
  EXPECT_DOUBLE_EQ(s.rampFactor(10000, 30000), ServerState::kMinRamp);
  EXPECT_DOUBLE_EQ(s.rampFactor(11000, 30000), ServerState::kMinRamp) << "never below the floor";
  EXPECT_NEAR(s.rampFactor(25000, 30000), 0.5, 1e-9);
  EXPECT_NEAR(s.rampFactor(34000, 30000), 0.8, 1e-9);
  EXPECT_DOUBLE_EQ(s.rampFactor(40000, 30000), 1.0);
  EXPECT_DOUBLE_EQ(s.rampFactor(10000, 0), 1.0) << "slow_start off";
}

TEST(PassiveHealthTest, EjectsAfterConsecutiveFailuresOnly) {
  ServerState s("app", "a");
  PoolHealth pool("app");
  PassiveHealth p(passive(3), 4);
  EXPECT_FALSE(p.onFailure(s, pool, "connect refused", 0));
  EXPECT_FALSE(p.onFailure(s, pool, "connect refused", 0));
  p.onSuccess(s);  // the run starts again
  EXPECT_FALSE(p.onFailure(s, pool, "connect refused", 0));
  EXPECT_FALSE(p.onFailure(s, pool, "connect refused", 0));
  EXPECT_TRUE(p.onFailure(s, pool, "connect refused", 100));
  EXPECT_FALSE(s.usable());
  EXPECT_EQ(s.ejectedUntil(), 100 + 10000);
  EXPECT_EQ(pool.ejected.load(), 1);
  EXPECT_NE(s.status().reason.find("connect refused"), std::string::npos);
}

TEST(PassiveHealthTest, EjectionEndsWhenDueAndDoublesOnEachRepeatUpToTheMaximum) {
  ServerState s("app", "a");
  PoolHealth pool("app");
  PassiveHealth p(passive(1, 10000, 35000), 2);
  EXPECT_EQ(p.ejectionMs(1), 10000);
  EXPECT_EQ(p.ejectionMs(2), 20000);
  EXPECT_EQ(p.ejectionMs(3), 35000);
  EXPECT_EQ(p.ejectionMs(9), 35000);
  int64_t now = 0;
  for (int64_t expected : {10000, 20000, 35000, 35000}) {
    ASSERT_TRUE(p.onFailure(s, pool, "timeout", now));
    EXPECT_EQ(s.ejectedUntil() - now, expected);
    p.expire(s, pool, now + expected - 1);
    EXPECT_FALSE(s.usable()) << "not yet due";
    now += expected;
    p.expire(s, pool, now);
    EXPECT_TRUE(s.usable());
    EXPECT_EQ(pool.ejected.load(), 0);
  }
}

TEST(PassiveHealthTest, AServerBackFromEjectionIsReEjectedByItsFirstFailureUntilItSucceeds) {
  ServerState s("app", "a");
  PoolHealth pool("app");
  PassiveHealth p(passive(5), 2);
  for (int i = 0; i < 5; ++i) p.onFailure(s, pool, "reset before responding", 0);
  ASSERT_FALSE(s.usable());
  p.expire(s, pool, 10000);
  ASSERT_TRUE(s.usable());
  EXPECT_TRUE(p.onFailure(s, pool, "reset before responding", 10001)) << "on probation: one failure is enough";
  EXPECT_EQ(s.ejectedUntil(), 10001 + 20000);
  p.expire(s, pool, 30001);
  p.onSuccess(s);
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(p.onFailure(s, pool, "x", 30002));
  EXPECT_TRUE(p.onFailure(s, pool, "x", 30002)) << "after a success the full run is needed again";
}

TEST(PassiveHealthTest, TheBackoffStartsAgainAfterAServerStayedInForMaxEjection) {
  ServerState s("app", "a");
  PoolHealth pool("app");
  PassiveHealth p(passive(1, 1000, 60000), 2);
  ASSERT_TRUE(p.onFailure(s, pool, "x", 0));
  p.expire(s, pool, 1000);
  p.onSuccess(s);
  ASSERT_TRUE(p.onFailure(s, pool, "x", 2000));
  EXPECT_EQ(s.ejectedUntil(), 2000 + 2000) << "second in the series";
  p.expire(s, pool, 4000);
  p.onSuccess(s);
  ASSERT_TRUE(p.onFailure(s, pool, "x", 4000 + 60000));
  EXPECT_EQ(s.ejectedUntil(), 64000 + 1000) << "a new series";
}

TEST(PassiveHealthTest, NeverEjectsMoreThanMaxEjectedPercentOfThePool) {
  PoolHealth pool("app");
  PassiveHealth p(passive(1, 10000, 300000, 50), 5);
  EXPECT_EQ(p.maxEjected(), 2);
  ServerState a("app", "a"), b("app", "b"), c("app", "c");
  EXPECT_TRUE(p.onFailure(a, pool, "x", 0));
  EXPECT_TRUE(p.onFailure(b, pool, "x", 0));
  EXPECT_FALSE(p.onFailure(c, pool, "x", 0)) << "2 of 5 already out";
  EXPECT_TRUE(c.usable());
  p.expire(a, pool, 10000);
  EXPECT_TRUE(p.onFailure(c, pool, "x", 10000)) << "a slot came free";
  EXPECT_EQ(PassiveHealth(passive(1, 1, 1, 50), 1).maxEjected(), 0) << "a lone server is never ejected";
}

TEST(PassiveHealthTest, OffMeansNoEjection) {
  config::PassiveHealthConfig off = passive(1);
  off.enabled = false;
  PoolHealth pool("app");
  ServerState s("app", "a");
  PassiveHealth p(off, 2);
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(p.onFailure(s, pool, "x", 0));
  EXPECT_TRUE(s.usable());
}

TEST(PassiveHealthTest, APassingProbeEndsAnEjection) {
  PoolHealth pool("app");
  ServerState s("app", "a");
  PassiveHealth p(passive(1), 2);
  ASSERT_TRUE(p.onFailure(s, pool, "x", 0));
  PassiveHealth::endEjection(s, pool, "health check passed", 500);
  EXPECT_TRUE(s.usable());
  EXPECT_EQ(pool.ejected.load(), 0);
  EXPECT_EQ(s.upSince(), 500) << "slow start ramps from here";
}

TEST(HealthRegistryTest, StateIsKeptByPoolNameAndServerAddress) {
  HealthRegistry registry;
  config::PoolConfig pool;
  pool.name = "app";
  config::ServerConfig s;
  s.addr = *resolve(*splitHostPort("127.0.0.1:9001"), false);
  pool.servers.push_back(s);
  PoolView first = registry.view(pool);
  first.servers[0]->setActiveDown(true, "timeout", 1);
  PoolView again = registry.view(pool);
  EXPECT_EQ(first.servers[0].get(), again.servers[0].get());
  EXPECT_EQ(first.health.get(), again.health.get());
  pool.name = "other";
  PoolView other = registry.view(pool);
  EXPECT_NE(other.servers[0].get(), first.servers[0].get());
  EXPECT_TRUE(other.servers[0]->usable());
}

}  // namespace
}  // namespace weir::upstream
