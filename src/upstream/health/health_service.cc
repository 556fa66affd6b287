#include "weir/upstream/health_service.h"

#include <random>

#include "upstream/health/server_checker.h"
#include "weir/core/deadline.h"
#include "weir/core/loop_thread.h"

namespace weir::upstream {
namespace {

// How late an ejection may end, at most, past its time.
constexpr std::chrono::milliseconds kExpiryPeriod{100};

}  // namespace

std::vector<HealthTarget> healthTargets(const config::ConfigPtr& config, const std::vector<PoolView>& views) {
  std::vector<HealthTarget> out;
  for (size_t i = 0; i < config->pools.size() && i < views.size(); ++i) {
    out.push_back({std::shared_ptr<const config::PoolConfig>(config, &config->pools[i]), views[i]});
  }
  return out;
}

struct HealthService::Impl {
  Impl(std::vector<HealthTarget> t, uint64_t seed) : targets(std::move(t)), rng(seed) {
    for (const HealthTarget& target : targets) passive.emplace_back(target.pool->passive, target.view.servers.size());
  }

  // Health thread: everything below is created and destroyed on it.
  void begin() {
    for (const HealthTarget& t : targets) {
      if (!t.pool->health_check.enabled) continue;
      for (size_t i = 0; i < t.view.servers.size() && i < t.pool->servers.size(); ++i) {
        checkers.push_back(
            std::make_unique<ServerChecker>(loop.base(), *t.pool, i, t.view.servers[i], t.view.health, rng));
        checkers.back()->start();
      }
    }
    expiry = std::make_unique<core::Deadline>(loop.base(), &Impl::onExpiry, this);
    expiry->set(kExpiryPeriod);
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
  std::vector<std::unique_ptr<ServerChecker>> checkers;
  std::unique_ptr<core::Deadline> expiry;
  core::LoopThread loop{"weir-health"};  // declared last: stopped first, before the members it uses go
};

HealthService::HealthService(std::vector<HealthTarget> targets, uint64_t seed)
    : impl_(std::make_unique<Impl>(std::move(targets), seed)) {
  for (const HealthTarget& t : impl_->targets) {
    if (t.pool->health_check.enabled) checked_ += t.view.servers.size();
  }
}

HealthService::~HealthService() { stop(); }

void HealthService::start() {
  Impl* impl = impl_.get();
  impl->loop.start([impl] { impl->begin(); }, [impl] { impl->end(); });
}

void HealthService::stop() { impl_->loop.stop(); }

}  // namespace weir::upstream
