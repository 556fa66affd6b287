#include "weir/control/startup.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "weir/core/preflight.h"
#include "weir/proxy/runtime.h"
#include "weir/core/privileges.h"

namespace weir::control {
namespace {

uint64_t idleUpstreamPerWorker(const config::Config& c) {
  uint64_t sum = 0;
  for (const auto& pool : c.pools) sum += pool.keepalive;
  return sum;
}

// The health thread holds at most one probe connection per checked server.
uint64_t probeConnections(const config::Config& c) {
  uint64_t n = 0;
  for (const auto& pool : c.pools) {
    if (pool.health_check.enabled) n += pool.servers.size();
  }
  return n;
}

}  // namespace

log::Level logLevel(config::LogLevel l) {
  switch (l) {
    case config::LogLevel::kDebug: return log::Level::kDebug;
    case config::LogLevel::kInfo: return log::Level::kInfo;
    case config::LogLevel::kWarn: return log::Level::kWarn;
    case config::LogLevel::kError: return log::Level::kError;
  }
  return log::Level::kInfo;
}

std::string accessLogPath(const config::Config& c) { return c.access_log.enabled ? c.access_log.path : ""; }

Status checkStartable(const config::Config& c, const std::string& file) {
  auto located = [&](const std::string& key, const Error& e) {
    return Error{file + ": " + key + ": " + e.message};
  };
  if (auto st = core::checkLogPath(accessLogPath(c)); !st) return located("access_log.path", st.error());
  if (auto st = core::checkLogPath(c.error_log.path); !st) return located("error_log.path", st.error());
  for (size_t i = 0; i < c.listeners.size(); ++i) {
    if (auto st = core::checkBindPermission(c.listeners[i].addr); !st) {
      return located("listeners[" + std::to_string(i) + "].address", st.error());
    }
  }
  if (c.admin.enabled) {
    if (auto st = core::checkBindPermission(c.admin.addr); !st) return located("admin.address", st.error());
  }
  return Ok{};
}

ConnectionBudget connectionBudget(const config::Config& c) {
  ConnectionBudget b;
  b.limit = core::raiseFileLimit();
  b.reserve = core::reservedDescriptors(c.workers, c.listeners.size(), idleUpstreamPerWorker(c)) +
              probeConnections(c);
  b.derived = core::connectionsForDescriptors(b.limit.soft, b.reserve);
  b.cap = c.limits.connections != 0 ? c.limits.connections : b.derived;
  return b;
}

void logBudget(const ConnectionBudget& b, const config::Config& c) {
  const auto& l = b.limit;
  if (!l.error.empty()) WEIR_WARN("cannot raise the descriptor limit (RLIMIT_NOFILE) to %llu: %s",
                                  static_cast<unsigned long long>(l.hard), l.error.c_str());
  std::string raised = l.soft == l.before ? "" : " (raised from " + std::to_string(l.before) + ")";
  if (c.limits.connections == 0) {
    WEIR_INFO("descriptor limit %llu%s: up to %llu client connections (limits.connections: auto, "
              "(%llu - %llu reserved) / 2)",
              static_cast<unsigned long long>(l.soft), raised.c_str(), static_cast<unsigned long long>(b.cap),
              static_cast<unsigned long long>(l.soft), static_cast<unsigned long long>(b.reserve));
  } else {
    WEIR_INFO("descriptor limit %llu%s: up to %llu client connections (limits.connections)",
              static_cast<unsigned long long>(l.soft), raised.c_str(), static_cast<unsigned long long>(b.cap));
  }
  if (l.soft <= b.reserve + 2) {
    WEIR_WARN("the descriptor limit %llu is too low for this configuration, which reserves %llu; raise it "
              "(ulimit -n, LimitNOFILE=)",
              static_cast<unsigned long long>(l.soft), static_cast<unsigned long long>(b.reserve));
  } else if (b.cap > b.derived) {
    WEIR_WARN("limits.connections %llu is more than the descriptor limit %llu allows (about %llu); weir may run "
              "out of descriptors",
              static_cast<unsigned long long>(b.cap), static_cast<unsigned long long>(l.soft),
              static_cast<unsigned long long>(b.derived));
  }
}

bool dropRoot(const config::Config& c, const std::vector<std::string>& files) {
  if (c.user.empty()) return true;
  // A binary upgrade's new process starts as the user the old one became.
  if (::geteuid() != 0 && ::geteuid() == c.uid) {
    WEIR_INFO("running as user %s (uid %u)", c.user.c_str(), static_cast<unsigned>(c.uid));
    return true;
  }
  if (::geteuid() != 0) {
    WEIR_WARN("user: \"%s\" is ignored: weir was not started as root (it keeps running as uid %u)", c.user.c_str(),
              static_cast<unsigned>(::geteuid()));
    return true;
  }
  core::RunAs target{c.user, c.group, c.uid, c.gid};
  for (const std::string& path : files) {
    if (auto st = core::chownLogFile(path, target); !st) {
      WEIR_WARN("%s (reopening it on SIGUSR1, or a binary upgrade, may fail)", st.error().message.c_str());
    }
  }
  if (auto st = core::dropPrivileges(target); !st) {
    WEIR_ERROR("%s", st.error().message.c_str());
    std::fprintf(stderr, "weir: %s\n", st.error().message.c_str());
    return false;
  }
  std::string group = c.group.empty() ? "" : " and group " + c.group;
  WEIR_INFO("running as user %s%s (uid %u, gid %u)", c.user.c_str(), group.c_str(), static_cast<unsigned>(c.uid),
            static_cast<unsigned>(c.gid));
  return true;
}

std::string resolvedPidFile(const config::Config& c) {
  return resolvedPidFile(c.pid_file_set ? std::optional<std::string>(c.pid_file) : std::nullopt);
}

std::string resolvedPidFile(const std::optional<std::string>& configured) {
  if (configured) return *configured;
  if (const char* env = std::getenv("WEIR_PID_FILE"); env != nullptr && env[0] == '/') return env;
  return ::geteuid() == 0 ? "/run/weir.pid" : "";
}

Result<std::unique_ptr<cache::Store>> makeCache(const config::Config& c) {
  if (!proxy::usesCache(c)) return std::unique_ptr<cache::Store>();
  cache::StoreOptions o;
  o.max_bytes = c.cache.max_size;
  o.max_object_size = c.cache.max_object_size;
  o.shards = c.cache.shards;
  o.workers = c.workers;
  o.eviction = c.cache.eviction == config::Eviction::kLru ? "lru" : "s3fifo";
  auto made = cache::Store::create(o);
  if (!made) return Error{"cache: " + made.error().message};
  return std::move(*made);
}

Status updateCache(const config::Config& c, std::unique_ptr<cache::Store>& cache) {
  if (!proxy::usesCache(c)) return Ok{};
  if (!cache) {
    auto made = makeCache(c);
    if (!made) return made.error();
    cache = std::move(*made);
    return Ok{};
  }
  cache->resize(c.cache.max_size);
  cache->setMaxObjectSize(c.cache.max_object_size);
  return Ok{};
}

}  // namespace weir::control
