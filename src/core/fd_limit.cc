#include "weir/core/fd_limit.h"

#include <sys/resource.h>

#include <cerrno>
#include <cstring>

namespace weir::core {

FileLimit raiseFileLimit() {
  FileLimit out;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    out.error = std::string("getrlimit: ") + std::strerror(errno);
    return out;
  }
  out.before = out.soft = limit.rlim_cur;
  out.hard = limit.rlim_max;
  if (limit.rlim_cur == limit.rlim_max) return out;
  rlimit raised = limit;
  raised.rlim_cur = limit.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &raised) != 0) {
    out.error = std::string("setrlimit: ") + std::strerror(errno);
    return out;
  }
  out.soft = raised.rlim_cur;
  return out;
}

uint64_t reservedDescriptors(unsigned workers, uint64_t listeners, uint64_t idle_upstream) {
  return 32 + static_cast<uint64_t>(workers) * (2 + listeners + idle_upstream);
}

uint64_t connectionsForDescriptors(uint64_t nofile, uint64_t reserve) {
  if (nofile <= reserve + 2) return 1;
  return (nofile - reserve) / 2;
}

}  // namespace weir::core
