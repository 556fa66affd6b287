// What the admin endpoints say about the process itself: when it started,
// which configuration it runs (file, load time, XXH3 hash of the file's
// bytes), reload outcomes, and the kernel's figures for CPU, memory and
// descriptors.
//
// Threading: reloadSucceeded/reloadFailed from the thread that reloads (the
// main thread); snapshot() from any thread (the admin thread). A mutex
// guards the fields; nothing here is on the request path.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "weir/config/config.h"

namespace weir::stats {

class ProcessInfo {
 public:
  // The configuration the process started with; the start time is now.
  explicit ProcessInfo(const config::Config& loaded);

  // A reload published `loaded`.
  void reloadSucceeded(const config::Config& loaded);
  // A reload was refused; the running configuration stays. `why` is the
  // one-line error.
  void reloadFailed(const std::string& why);

  struct Snapshot {
    double start_time = 0;          // Unix seconds
    std::string config_file;
    uint64_t config_hash = 0;
    double config_loaded_at = 0;    // Unix seconds of the start or the last good reload
    std::vector<std::string> listeners;
    uint64_t reloads_ok = 0;
    uint64_t reloads_failed = 0;
    bool last_reload_ok = true;     // true until a reload fails
    double last_reload_at = 0;      // Unix seconds of the last reload attempt, 0: none
    std::string last_reload_error;
  };
  Snapshot snapshot() const;

 private:
  void adopt(const config::Config& c, double now);

  mutable std::mutex mu_;
  Snapshot s_;
};

// The kernel's figures, read from /proc/self at call time.
struct ProcessUsage {
  double cpu_seconds = 0;      // user + system
  uint64_t resident_bytes = 0;
  uint64_t open_fds = 0;
  uint64_t max_fds = 0;        // soft RLIMIT_NOFILE
};
ProcessUsage readProcessUsage();

// Seconds since the Unix epoch, now.
double unixNow();

// "0123456789abcdef": 16 lower-case hex digits.
std::string hashHex(uint64_t hash);

}  // namespace weir::stats
