// What starting weir (and reloading or upgrading it) needs besides the
// config loader: the checks of weir -t, the connection budget derived from
// the descriptor limit, the pid file's path, and giving up root.
#pragma once

#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "weir/cache/store.h"
#include "weir/common/result.h"
#include "weir/config/config.h"
#include "weir/core/fd_limit.h"
#include "weir/log/log.h"

namespace weir::control {

log::Level logLevel(config::LogLevel l);
// The access log's path, "" when it is off.
std::string accessLogPath(const config::Config& c);

// weir -t, beyond loading: what would stop a start, found without binding.
Status checkStartable(const config::Config& c, const std::string& file);

// pid_file as configured; unset, the environment's WEIR_PID_FILE (an
// absolute path; the systemd unit sets it), else /run/weir.pid for root
// and "" (none) for anyone else.
std::string resolvedPidFile(const config::Config& c);
// The same from a pid_file: setting alone (nullopt: not set).
std::string resolvedPidFile(const std::optional<std::string>& configured);

// The process's cache for `c` (its cache: section), when a route uses it;
// nullptr otherwise. The error is the store's.
Result<std::unique_ptr<cache::Store>> makeCache(const config::Config& c);
// A reload: a cache made if the file now needs one and none exists, or the
// existing one resized to the new max_size and max_object_size (the
// eviction policy and the shard count stay until a restart or an upgrade).
Status updateCache(const config::Config& c, std::unique_ptr<cache::Store>& cache);

// limits.connections, or what the descriptor limit allows.
struct ConnectionBudget {
  core::FileLimit limit;
  uint64_t reserve = 0;
  uint64_t derived = 0;
  uint64_t cap = 0;
};
ConnectionBudget connectionBudget(const config::Config& c);
// The info line (and warnings) about the budget, once the error log is open.
void logBudget(const ConnectionBudget& b, const config::Config& c);

// user/group: listeners are bound and logs open; give up root before any
// worker serves. `files` (log and pid files) are handed to that user first,
// so that reopening them and a binary upgrade still work. False if weir
// must not go on.
bool dropRoot(const config::Config& c, const std::vector<std::string>& files);

}  // namespace weir::control
