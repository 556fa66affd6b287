#include "upstream/health/active_health.h"

#include "weir/log/log.h"

namespace weir::upstream {
namespace {

std::string inARow(uint32_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many) + " in a row";
}

}  // namespace

ActiveHealth::ActiveHealth(const config::HealthCheckConfig& hc, ServerStatePtr server, PoolHealthPtr pool)
    : server_(std::move(server)), pool_(std::move(pool)), counter_(hc.rise, hc.fall, !server_->activeDown()) {}

void ActiveHealth::record(bool passed, const std::string& detail, int64_t ejected_at_start, int64_t now) {
  const CheckCounter::Change change = counter_.record(passed);
  if (change == CheckCounter::Change::kWentDown) {
    server_->setActiveDown(true, detail + "; " + inARow(counter_.fall(), "failure", "failures"), now);
  } else if (change == CheckCounter::Change::kWentUp) {
    server_->setActiveDown(false, detail + "; " + inARow(counter_.rise(), "pass", "passes"), now);
  } else if (!passed && counter_.up()) {
    // Not logged above debug: one failure is not news until it is `fall`.
    WEIR_DEBUG("pool %s server %s failed a health check (%s), %u of %u to be marked down",
               server_->pool().c_str(), server_->name().c_str(), detail.c_str(), counter_.failures(),
               counter_.fall());
  } else if (passed && !counter_.up()) {
    WEIR_DEBUG("pool %s server %s passed a health check (%s), %u of %u to be marked up", server_->pool().c_str(),
               server_->name().c_str(), detail.c_str(), counter_.successes(), counter_.rise());
  }
  endEjectionAfterPasses(passed, ejected_at_start, now);
}

void ActiveHealth::endEjectionAfterPasses(bool passed, int64_t ejected_at_start, int64_t now) {
  if (!passed) {
    ejection_passes_ = 0;
    return;
  }
  // Only a probe that started under the ejection still on counts.
  if (ejected_at_start == 0 || server_->ejectedUntil() != ejected_at_start) return;
  if (ejection_ != ejected_at_start) {
    ejection_ = ejected_at_start;
    ejection_passes_ = 0;
  }
  if (++ejection_passes_ < counter_.rise()) return;
  ejection_passes_ = 0;
  PassiveHealth::endEjection(*server_, *pool_, "health check passed", now);
}

}  // namespace weir::upstream
