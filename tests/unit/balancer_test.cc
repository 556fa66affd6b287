#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "weir/config/config.h"
#include "weir/upstream/balancer.h"

namespace weir::upstream {
namespace {

config::PoolConfig poolWithWeights(const std::vector<uint32_t>& weights) {
  config::PoolConfig pool;
  pool.name = "p";
  for (size_t i = 0; i < weights.size(); ++i) {
    config::ServerConfig s;
    s.address = "127.0.0.1:" + std::to_string(9000 + i);
    s.weight = weights[i];
    pool.servers.push_back(s);
  }
  return pool;
}

std::unique_ptr<Picker> roundRobin(const std::vector<uint32_t>& weights) {
  const Balancer* b = findBalancer("round_robin");
  EXPECT_NE(b, nullptr);
  return b ? b->build(poolWithWeights(weights), HealthRegistry().view(poolWithWeights(weights)), 1) : nullptr;
}

// Picks `n` times with nothing tried, as letters: server 0 is 'a'.
std::string sequence(Picker& picker, int n, const TriedSet& tried = TriedSet()) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    int s = picker.pick(PickContext{}, tried);
    out.push_back(s < 0 ? '-' : static_cast<char>('a' + s));
  }
  return out;
}

TEST(BalancerTest, RegistryKnowsRoundRobinOnly) {
  EXPECT_NE(findBalancer("round_robin"), nullptr);
  EXPECT_EQ(findBalancer("least_conn_typo"), nullptr);
  EXPECT_EQ(findBalancer(""), nullptr);
  EXPECT_EQ(findBalancer("Round_Robin"), nullptr);
}

TEST(BalancerTest, RoundRobinWeightsAreSmooth) {
  std::unique_ptr<Picker> p = roundRobin({5, 1, 1});
  ASSERT_TRUE(p);
  EXPECT_EQ(sequence(*p, 21), "aabacaa" "aabacaa" "aabacaa");
}

TEST(BalancerTest, RoundRobinEqualWeightsAlternate) {
  std::unique_ptr<Picker> two = roundRobin({1, 1});
  EXPECT_EQ(sequence(*two, 6), "ababab");
  std::unique_ptr<Picker> three = roundRobin({3, 3, 3});
  EXPECT_EQ(sequence(*three, 9), "abcabcabc");
}

TEST(BalancerTest, RoundRobinSharesFollowWeights) {
  std::unique_ptr<Picker> p = roundRobin({3, 2, 5});
  std::map<char, int> counts;
  for (char c : sequence(*p, 1000)) ++counts[c];
  EXPECT_EQ(counts['a'], 300);
  EXPECT_EQ(counts['b'], 200);
  EXPECT_EQ(counts['c'], 500);
}

TEST(BalancerTest, RoundRobinNeverBurstsWithinACycle) {
  // 2:1 must interleave (a a b), never (a b a a b b ...) or long runs.
  std::unique_ptr<Picker> p = roundRobin({2, 1});
  EXPECT_EQ(sequence(*p, 9), "abaabaaba");
}

TEST(BalancerTest, RoundRobinSkipsTriedServers) {
  std::unique_ptr<Picker> p = roundRobin({1, 1, 1});
  TriedSet tried(3);
  tried.add(1);
  std::string seq = sequence(*p, 6, tried);
  EXPECT_EQ(seq.find('b'), std::string::npos) << seq;
  EXPECT_EQ(seq, "acacac");

  std::unique_ptr<Picker> w = roundRobin({5, 1, 1});
  TriedSet heavy(3);
  heavy.add(0);
  seq = sequence(*w, 4, heavy);
  EXPECT_EQ(seq, "bcbc");
}

TEST(BalancerTest, RoundRobinRetryPathTriesEveryServerOnce) {
  // What a retry loop does: pick, fail, mark tried, pick again.
  std::unique_ptr<Picker> p = roundRobin({5, 1, 1, 2});
  TriedSet tried(4);
  std::vector<int> picked;
  for (int i = 0; i < 4; ++i) {
    int s = p->pick(PickContext{}, tried);
    ASSERT_GE(s, 0);
    ASSERT_FALSE(tried.has(static_cast<size_t>(s))) << "picked a tried server " << s;
    tried.add(static_cast<size_t>(s));
    picked.push_back(s);
  }
  EXPECT_EQ(p->pick(PickContext{}, tried), -1);
  std::sort(picked.begin(), picked.end());
  EXPECT_EQ(picked, (std::vector<int>{0, 1, 2, 3}));
}

TEST(BalancerTest, RoundRobinAllTriedReturnsMinusOne) {
  std::unique_ptr<Picker> p = roundRobin({5, 1, 1});
  TriedSet all(3);
  for (size_t i = 0; i < 3; ++i) all.add(i);
  EXPECT_EQ(p->pick(PickContext{}, all), -1);
  EXPECT_EQ(p->pick(PickContext{}, all), -1);
  // Refusing does not disturb the rotation.
  EXPECT_EQ(sequence(*p, 7), "aabacaa");
}

TEST(BalancerTest, RoundRobinSingleServer) {
  std::unique_ptr<Picker> p = roundRobin({7});
  EXPECT_EQ(sequence(*p, 5), "aaaaa");
  TriedSet tried(1);
  tried.add(0);
  EXPECT_EQ(p->pick(PickContext{}, tried), -1);
  EXPECT_EQ(p->pick(PickContext{}, TriedSet(1)), 0);
}

TEST(BalancerTest, RoundRobinPickersHaveTheirOwnState) {
  const Balancer* b = findBalancer("round_robin");
  ASSERT_NE(b, nullptr);
  config::PoolConfig pool = poolWithWeights({1, 1, 1});
  std::unique_ptr<Picker> one = b->build(pool, HealthRegistry().view(pool), 1);
  std::unique_ptr<Picker> two = b->build(pool, HealthRegistry().view(pool), 1);
  EXPECT_EQ(sequence(*one, 2), "ab");
  EXPECT_EQ(sequence(*two, 3), "abc");  // starts from scratch
  EXPECT_EQ(sequence(*one, 2), "ca");
}

TEST(BalancerTest, RoundRobinLargePool) {
  std::vector<uint32_t> weights(100, 1);
  std::unique_ptr<Picker> p = roundRobin(weights);
  TriedSet tried(100);
  for (size_t i = 0; i < 100; ++i) {
    if (i != 77) tried.add(i);
  }
  EXPECT_EQ(p->pick(PickContext{}, tried), 77);
  std::vector<int> seen(100, 0);
  for (int i = 0; i < 300; ++i) ++seen[static_cast<size_t>(p->pick(PickContext{}, TriedSet(100)))];
  for (size_t i = 0; i < 100; ++i) EXPECT_EQ(seen[i], 3) << i;
}

TEST(BalancerTest, TriedSet) {
  TriedSet t(3);
  EXPECT_FALSE(t.has(0));
  t.add(2);
  t.add(130);  // grows past its initial size
  EXPECT_TRUE(t.has(2));
  EXPECT_TRUE(t.has(130));
  EXPECT_FALSE(t.has(1));
  EXPECT_FALSE(t.has(129));
  EXPECT_FALSE(t.has(10000));
  t.clear();
  EXPECT_FALSE(t.has(2));
  EXPECT_FALSE(t.has(130));
}

}  // namespace
}  // namespace weir::upstream
