#include "weir/upstream/health_service.h"

#include <algorithm>
#include <random>
#include <string>

#include "upstream/health/server_checker.h"
#include "weir/core/deadline.h"
#include "weir/core/loop_thread.h"

namespace weir::upstream {
namespace {

// How late an ejection may end, at most, past its time.
constexpr std::chrono::milliseconds kExpiryPeriod{100};

size_t countChecked(const std::vector<HealthTarget>& targets) {
  size_t n = 0;
  for (const HealthTarget& t : targets) {
    if (t.pool->health_check.enabled) n += t.view.servers.size();
  }
  return n;
}

bool sameCheck(const config::HealthCheckConfig& a, const config::HealthCheckConfig& b) {
  if (a.enabled != b.enabled || a.type != b.type || a.path != b.path || a.host != b.host || a.interval != b.interval ||
      a.timeout != b.timeout || a.rise != b.rise || a.fall != b.fall || a.expect.size() != b.expect.size()) {
    return false;
  }
  for (size_t i = 0; i < a.expect.size(); ++i) {
    if (a.expect[i].first != b.expect[i].first || a.expect[i].last != b.expect[i].last) return false;
  }
  return true;
}

}  // namespace

std::vector<HealthTarget> healthTargets(const config::ConfigPtr& config, const std::vector<PoolView>& views) {
  std::vector<HealthTarget> out;
  for (size_t i = 0; i < config->pools.size() && i < views.size(); ++i) {
    out.push_back({std::shared_ptr<const config::PoolConfig>(config, &config->pools[i]), views[i]});
  }
  return out;
}

struct HealthService::Impl {
  Impl(std::vector<HealthTarget> t, uint64_t seed) : rng(seed) { setTargets(std::move(t)); }

  void setTargets(std::vector<HealthTarget> t) {
    targets = std::move(t);
    passive.clear();
    for (const HealthTarget& target : targets) passive.emplace_back(target.pool->passive, target.view.servers.size());
  }

  // A checker with the pool configuration it was built from.
  struct Checker {
    std::shared_ptr<const config::PoolConfig> pool;
    std::string address;
    std::unique_ptr<ServerChecker> checker;
  };

  // Health thread: everything below is created and destroyed on it.
  void begin() {
    buildCheckers({});
    expiry = std::make_unique<core::Deadline>(loop.base(), &Impl::onExpiry, this);
    expiry->set(kExpiryPeriod);
  }

  // Keeps the checkers in `old` whose server and check stay the same.
  void buildCheckers(std::vector<Checker> old) {
    checkers.clear();
    for (const HealthTarget& t : targets) {
      if (!t.pool->health_check.enabled) continue;
      for (size_t i = 0; i < t.view.servers.size() && i < t.pool->servers.size(); ++i) {
        const std::string& address = t.pool->servers[i].address;
        auto same = std::find_if(old.begin(), old.end(), [&](const Checker& c) {
          return c.checker && &c.checker->server() == t.view.servers[i].get() && c.address == address &&
                 sameCheck(c.pool->health_check, t.pool->health_check);
        });
        if (same != old.end()) {
          checkers.push_back(std::move(*same));
          continue;
        }
        auto checker = std::make_unique<ServerChecker>(loop.base(), *t.pool, i, t.view.servers[i], t.view.health, rng);
        checker->start();
        checkers.push_back({t.pool, address, std::move(checker)});
      }
    }
  }

  void replace(std::vector<HealthTarget> next) {
    std::vector<Checker> old = std::move(checkers);
    std::vector<HealthTarget> previous = std::move(targets);
    setTargets(std::move(next));
    buildCheckers(std::move(old));
    // Servers still marked down by checks that no longer run.
    const int64_t now = monotonicMs();
    for (const HealthTarget& t : targets) {
      if (t.pool->health_check.enabled) continue;
      for (const ServerStatePtr& s : t.view.servers) {
        if (s->activeDown()) s->setActiveDown(false, "health check removed", now);
      }
    }
  }

  void end() {
    checkers.clear();
    expiry.reset();
  }

  static void onExpiry(void* arg) {
    auto* self = static_cast<Impl*>(arg);
    self->expireEjections();
    self->expiry->set(kExpiryPeriod);
  }

  void expireEjections() {
    const int64_t now = monotonicMs();
    for (size_t i = 0; i < targets.size(); ++i) {
      const HealthTarget& t = targets[i];
      for (const ServerStatePtr& s : t.view.servers) passive[i].expire(*s, *t.view.health, now);
    }
  }

  std::vector<HealthTarget> targets;
  std::vector<PassiveHealth> passive;  // per target
  std::mt19937_64 rng;
  std::vector<Checker> checkers;
  std::unique_ptr<core::Deadline> expiry;
  core::LoopThread loop{"weir-health"};  // declared last: stopped first, before the members it uses go
};

HealthService::HealthService(std::vector<HealthTarget> targets, uint64_t seed)
    : impl_(std::make_unique<Impl>(std::move(targets), seed)) {
  checked_ = countChecked(impl_->targets);
}

void HealthService::replaceTargets(std::vector<HealthTarget> targets) {
  checked_ = countChecked(targets);
  if (!impl_->loop.running()) {
    impl_->setTargets(std::move(targets));
    return;
  }
  Impl* impl = impl_.get();
  auto shared = std::make_shared<std::vector<HealthTarget>>(std::move(targets));
  impl_->loop.post([impl, shared] { impl->replace(std::move(*shared)); });
}

HealthService::~HealthService() { stop(); }

void HealthService::start() {
  Impl* impl = impl_.get();
  impl->loop.start([impl] { impl->begin(); }, [impl] { impl->end(); });
}

void HealthService::stop() { impl_->loop.stop(); }

}  // namespace weir::upstream
