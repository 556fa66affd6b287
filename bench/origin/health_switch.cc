#include "health_switch.h"

namespace weir::origin {

void HealthSwitch::recordProbe(std::string_view head) {
  std::lock_guard<std::mutex> lock(mu_);
  ++probes_;
  last_head_.assign(head);
}

std::string HealthSwitch::report() const {
  std::lock_guard<std::mutex> lock(mu_);
  return "status: " + std::to_string(status()) + "\nprobes: " + std::to_string(probes_) + "\nlast probe:\n" +
         last_head_;
}

}  // namespace weir::origin
