// The descriptor limit (RLIMIT_NOFILE) and the connection cap derived from
// it. Main thread, at start-up.
#pragma once

#include <cstdint>
#include <string>

namespace weir::core {

struct FileLimit {
  uint64_t before = 0;  // soft limit found at start
  uint64_t soft = 0;    // soft limit now
  uint64_t hard = 0;
  std::string error;    // why raising failed, or ""
};

// Raises the soft RLIMIT_NOFILE to the hard limit: the soft one is often
// 1024 for compatibility with select(), which weir does not use.
FileLimit raiseFileLimit();

// Descriptors kept out of the client budget: standard streams, logs, the
// control loop and slack (32), and per worker its event loop, wake-up
// descriptor, one socket per listener and up to `idle_upstream` idle
// keep-alive upstream connections (the sum of the pools' keepalive).
uint64_t reservedDescriptors(unsigned workers, uint64_t listeners, uint64_t idle_upstream);

// limits.connections: auto. Each client connection may need an upstream
// connection too: (nofile - reserve) / 2, at least 1.
uint64_t connectionsForDescriptors(uint64_t nofile, uint64_t reserve);

}  // namespace weir::core
