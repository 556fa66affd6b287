#include "weir/upstream/server_state.h"

#include <time.h>

#include <algorithm>
#include <set>

#include "weir/log/log.h"

namespace weir::upstream {
namespace {

std::atomic<uint64_t> g_health_epoch{1};

}  // namespace

int64_t monotonicMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

uint64_t healthEpoch() { return g_health_epoch.load(std::memory_order_acquire); }

ServerState::ServerState(std::string pool, std::string name) : pool_(std::move(pool)), name_(std::move(name)) {}

double ServerState::rampFactor(int64_t now, int64_t slow_start_ms) const {
  if (slow_start_ms <= 0) return 1.0;
  const int64_t since = upSince();
  if (since == kUpSinceStart || now - since >= slow_start_ms) return 1.0;
  if (now <= since) return kMinRamp;
  const double f = static_cast<double>(now - since) / static_cast<double>(slow_start_ms);
  return std::max(kMinRamp, f);
}

// Writers hold mu_ so that the usable bit, the reason and the log line
// agree; readers of usable_ do not take it.
bool ServerState::update(const char* source, const std::string& why, int64_t now) {
  const bool now_usable = !active_down_.load(std::memory_order_relaxed) &&
                          ejected_until_.load(std::memory_order_relaxed) == 0;
  const bool was = usable_.load(std::memory_order_relaxed);
  reason_ = why;
  since_ = now;
  if (now_usable == was) return false;
  if (now_usable) up_since_.store(now, std::memory_order_relaxed);
  usable_.store(now_usable, std::memory_order_relaxed);
  ++transitions_;
  g_health_epoch.fetch_add(1, std::memory_order_release);
  WEIR_ERROR("pool %s server %s is now %s (%s: %s)", pool_.c_str(), name_.c_str(), now_usable ? "up" : "down", source,
             why.c_str());
  return true;
}

bool ServerState::setActiveDown(bool down, const std::string& why, int64_t now) {
  std::lock_guard<std::mutex> lock(mu_);
  if (active_down_.load(std::memory_order_relaxed) == down) return false;
  active_down_.store(down, std::memory_order_relaxed);
  return update("health check", why, now);
}

// True when the ejection began or ended, whether or not usability changed:
// a server that active checks hold down is still ejected and un-ejected,
// and its callers count ejections (PoolHealth::ejected) by this result.
bool ServerState::setEjectedUntil(int64_t until, const std::string& why, int64_t now) {
  std::lock_guard<std::mutex> lock(mu_);
  if ((ejected_until_.load(std::memory_order_relaxed) != 0) == (until != 0)) {
    ejected_until_.store(until, std::memory_order_relaxed);
    return false;
  }
  ejected_until_.store(until, std::memory_order_relaxed);
  update("passive", why, now);
  return true;
}

ServerState::Status ServerState::status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {usable(), activeDown(), ejectedUntil(), since_, reason_, transitions_,
          ejections_.load(std::memory_order_relaxed)};
}

// ---- passive health ---------------------------------------------------------

int64_t PassiveHealth::ejectionMs(uint32_t n) const {
  int64_t ms = cfg_.ejection.count();
  const int64_t cap = std::max<int64_t>(cfg_.max_ejection.count(), ms);
  for (uint32_t i = 1; i < n && ms < cap; ++i) ms *= 2;
  return std::min(ms, cap);
}

int32_t PassiveHealth::maxEjected() const {
  return static_cast<int32_t>(pool_size_ * cfg_.max_ejected_percent / 100);
}

void PassiveHealth::onSuccess(ServerState& s) const {
  if (s.consecutive_failures_.load(std::memory_order_relaxed) != 0) {
    s.consecutive_failures_.store(0, std::memory_order_relaxed);
  }
  if (s.probation_.load(std::memory_order_relaxed)) s.probation_.store(false, std::memory_order_relaxed);
}

bool PassiveHealth::onFailure(ServerState& s, PoolHealth& pool, const std::string& why, int64_t now) const {
  if (!cfg_.enabled || s.ejected()) return false;
  const uint32_t run = s.consecutive_failures_.fetch_add(1, std::memory_order_relaxed) + 1;
  // A server just back from an ejection that fails before it served one
  // response goes straight back out.
  const bool probation = s.probation_.load(std::memory_order_relaxed);
  if (run < cfg_.consecutive_failures && !probation) return false;
  // Reserve a slot under max_ejected_percent; losing the race means another
  // worker ejected this or another server first.
  int32_t ejected = pool.ejected.load(std::memory_order_relaxed);
  do {
    if (ejected >= maxEjected()) return false;
  } while (!pool.ejected.compare_exchange_weak(ejected, ejected + 1, std::memory_order_relaxed));
  // A server that has stayed in for max_ejection since its last ejection
  // starts a new backoff series.
  const int64_t last_end = s.last_ejection_end_.load(std::memory_order_relaxed);
  if (last_end != 0 && now - last_end >= cfg_.max_ejection.count()) s.ejections_.store(0, std::memory_order_relaxed);
  const uint32_t n = s.ejections_.fetch_add(1, std::memory_order_relaxed) + 1;
  const int64_t ms = ejectionMs(n);
  std::string reason = why + "; " + std::to_string(probation ? 1 : run) + " failure" + (run == 1 || probation ? "" : "s") +
                       " in a row, ejected for " + std::to_string(ms / 1000) + "s";
  if (!s.setEjectedUntil(now + ms, reason, now)) {
    pool.ejected.fetch_sub(1, std::memory_order_relaxed);  // already ejected by another worker
    return false;
  }
  s.consecutive_failures_.store(0, std::memory_order_relaxed);
  s.probation_.store(false, std::memory_order_relaxed);
  s.ejections_total_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void PassiveHealth::expire(ServerState& s, PoolHealth& pool, int64_t now) const {
  const int64_t until = s.ejectedUntil();
  if (until == 0 || now < until) return;
  endEjection(s, pool, "ejection time over", now);
}

void PassiveHealth::endEjection(ServerState& s, PoolHealth& pool, const std::string& why, int64_t now) {
  if (!s.ejected()) return;
  if (s.setEjectedUntil(0, why, now)) {
    pool.ejected.fetch_sub(1, std::memory_order_relaxed);
    s.last_ejection_end_.store(now, std::memory_order_relaxed);
    s.probation_.store(true, std::memory_order_relaxed);
    s.consecutive_failures_.store(0, std::memory_order_relaxed);
  }
}

// ---- registry ----------------------------------------------------------------

PoolView HealthRegistry::view(const config::PoolConfig& pool) {
  PoolView v;
  PoolHealthPtr& ph = pools_[pool.name];
  if (!ph) ph = std::make_shared<PoolHealth>(pool.name);
  v.health = ph;
  v.slow_start_ms = pool.slow_start.count();
  for (const config::ServerConfig& server : pool.servers) {
    const std::string name = server.addr.toString();
    ServerStatePtr& st = servers_[pool.name + "\n" + name];
    if (!st) st = std::make_shared<ServerState>(pool.name, name);
    v.servers.push_back(st);
  }
  return v;
}

void HealthRegistry::retain(const config::Config& config) {
  std::set<std::string> pools;
  std::set<std::string> servers;
  for (const config::PoolConfig& pool : config.pools) {
    pools.insert(pool.name);
    for (const config::ServerConfig& server : pool.servers) servers.insert(pool.name + "\n" + server.addr.toString());
  }
  std::erase_if(pools_, [&](const auto& kv) { return pools.count(kv.first) == 0; });
  std::erase_if(servers_, [&](const auto& kv) { return servers.count(kv.first) == 0; });
}

}  // namespace weir::upstream
