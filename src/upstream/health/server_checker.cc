#include "upstream/health/server_checker.h"

#include <algorithm>

#include "upstream/health/probe_schedule.h"

namespace weir::upstream {

ServerChecker::ServerChecker(event_base* base, const config::PoolConfig& pool, size_t index, ServerStatePtr server,
                             PoolHealthPtr health, std::mt19937_64& rng)
    : server_(server),
      base_(base),
      interval_ms_(pool.health_check.interval.count()),
      health_(pool.health_check, std::move(server), std::move(health)),
      rng_(rng),
      due_(base, &ServerChecker::onDue, this) {
  const config::HealthCheckConfig& hc = pool.health_check;
  const config::ServerConfig& sc = pool.servers[index];
  spec_.addr = sc.addr;
  spec_.http = hc.type == config::HealthCheckConfig::Type::kHttp;
  // The address as written ("app1:80"), not as resolved: a name is what a
  // virtual host on the server expects.
  if (spec_.http) spec_.request = probeRequest(hc.path, hc.host.empty() ? sc.address : hc.host);
  spec_.timeout = hc.timeout;
  spec_.expect = hc.expect;
}

void ServerChecker::start() { due_.set(std::chrono::milliseconds(firstProbeDelayMs(interval_ms_, rng_))); }

void ServerChecker::onDue(void* arg) { static_cast<ServerChecker*>(arg)->probe(); }

// The last probe is dropped here, outside its own callbacks.
void ServerChecker::probe() {
  started_ms_ = monotonicMs();
  ejected_at_start_ = health_.probeStarts();
  probe_ = std::make_unique<Probe>(base_, spec_, [this](const ProbeResult& r) { onResult(r); });
  probe_->start();
}

// The next probe is due an interval (with jitter) after this one started,
// so the rate does not drift with the servers' response times; timeout <=
// interval (config) keeps a slow probe from delaying it by more than the
// jitter.
void ServerChecker::onResult(const ProbeResult& r) {
  const int64_t now = monotonicMs();
  server_->countCheck(r.passed);
  health_.record(r.passed, r.detail, ejected_at_start_, now);
  const int64_t next = started_ms_ + nextProbeDelayMs(interval_ms_, rng_);
  due_.set(std::chrono::milliseconds(std::max<int64_t>(next - now, 0)));
}

}  // namespace weir::upstream
