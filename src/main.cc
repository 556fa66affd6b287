// weir: the command-line entry point.
#include <unistd.h>

#include <cstdio>
#include <random>
#include <string>
#include <string_view>

#include "weir/admin/admin_server.h"
#include "weir/config/config.h"
#include "weir/core/fd_limit.h"
#include "weir/core/preflight.h"
#include "weir/core/privileges.h"
#include "weir/core/server.h"
#include "weir/core/signals.h"
#include "weir/log/log.h"
#include "weir/proxy/proxy_worker.h"
#include "weir/proxy/runtime.h"
#include "weir/upstream/health_service.h"

// The build sets it (CMake cache variable WEIR_DEFAULT_CONFIG).
#ifndef WEIR_DEFAULT_CONFIG
#define WEIR_DEFAULT_CONFIG "/etc/weir/weir.yaml"
#endif

namespace {

constexpr const char* kUsage =
    "Usage: weir [-c FILE] [-t] [-h] [-v]\n"
    "\n"
    "A layer-7 load balancer and reverse proxy for HTTP.\n"
    "\n"
    "  -c, --config FILE  configuration file (default: " WEIR_DEFAULT_CONFIG
    ");\n"
    "                     also --config=FILE\n"
    "  -t, --test         check the configuration and what starting needs (log files,\n"
    "                     user and group, privileged ports), print the result and\n"
    "                     exit: 0 ok, 1 with the error\n"
    "  -h, --help         show this help\n"
    "  -v, --version      print the version\n"
    "\n"
    "Signals:\n"
    "  SIGTERM, SIGINT, SIGQUIT  stop accepting, let requests in flight finish\n"
    "                            (timeouts.drain), exit 0\n"
    "  SIGUSR1                   reopen the log files (rotation)\n"
    "  SIGHUP                    logged and ignored (reload is not supported yet)\n"
    "  SIGUSR2                   logged and ignored (reserved for binary upgrade)\n";

struct Args {
  std::string config = WEIR_DEFAULT_CONFIG;
  bool test = false;
};

int usageError(const std::string& message) {
  std::fprintf(stderr, "weir: %s (see weir -h)\n", message.c_str());
  return 2;
}

// Returns -1 to go on, otherwise the exit code (0 after -h/-v, 2 on a
// mistake, reported on one line).
int parseArgs(int argc, char** argv, Args& args) {
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (a == "-v" || a == "--version") {
      std::printf("weir %s\n", WEIR_VERSION);
      return 0;
    }
    if (a == "-t" || a == "--test") {
      args.test = true;
      continue;
    }
    std::string_view value;
    if (a == "-c" || a == "--config") {
      // "weir -c -t" forgot the file name; it does not mean a file "-t".
      bool missing = i + 1 >= argc || (argv[i + 1][0] == '-' && argv[i + 1][1] != '\0');
      if (missing) return usageError("option " + std::string(a) + " needs a file name");
      value = argv[++i];
    } else if (a.starts_with("--config=")) {
      value = a.substr(9);
      if (value.empty()) return usageError("option --config needs a file name");
    } else if (a.starts_with("-")) {
      return usageError("unknown option '" + std::string(a) + "'");
    } else {
      return usageError("unexpected argument '" + std::string(a) + "'; give the configuration file with -c");
    }
    if (value.empty()) return usageError("option -c needs a file name");
    args.config = value;
  }
  return -1;
}

weir::log::Level logLevel(weir::config::LogLevel l) {
  switch (l) {
    case weir::config::LogLevel::kDebug: return weir::log::Level::kDebug;
    case weir::config::LogLevel::kInfo: return weir::log::Level::kInfo;
    case weir::config::LogLevel::kWarn: return weir::log::Level::kWarn;
    case weir::config::LogLevel::kError: return weir::log::Level::kError;
  }
  return weir::log::Level::kInfo;
}

std::string accessLogPath(const weir::config::Config& c) { return c.access_log.enabled ? c.access_log.path : ""; }

// weir -t, beyond loading: what would stop a start, found without binding.
weir::Status checkStartable(const weir::config::Config& c, const std::string& file) {
  auto located = [&](const std::string& key, const weir::Error& e) {
    return weir::Error{file + ": " + key + ": " + e.message};
  };
  if (auto st = weir::core::checkLogPath(accessLogPath(c)); !st) return located("access_log.path", st.error());
  if (auto st = weir::core::checkLogPath(c.error_log.path); !st) return located("error_log.path", st.error());
  for (size_t i = 0; i < c.listeners.size(); ++i) {
    if (auto st = weir::core::checkBindPermission(c.listeners[i].addr); !st) {
      return located("listeners[" + std::to_string(i) + "].address", st.error());
    }
  }
  if (c.admin.enabled) {
    if (auto st = weir::core::checkBindPermission(c.admin.addr); !st) return located("admin.address", st.error());
  }
  return weir::Ok{};
}

uint64_t idleUpstreamPerWorker(const weir::config::Config& c) {
  uint64_t sum = 0;
  for (const auto& pool : c.pools) sum += pool.keepalive;
  return sum;
}

// The health thread holds at most one probe connection per checked server.
uint64_t probeConnections(const weir::config::Config& c) {
  uint64_t n = 0;
  for (const auto& pool : c.pools) {
    if (pool.health_check.enabled) n += pool.servers.size();
  }
  return n;
}

// limits.connections, or what the descriptor limit allows; logged once the
// error log is open.
struct ConnectionBudget {
  weir::core::FileLimit limit;
  uint64_t reserve = 0;
  uint64_t derived = 0;
  uint64_t cap = 0;
};

ConnectionBudget connectionBudget(const weir::config::Config& c) {
  ConnectionBudget b;
  b.limit = weir::core::raiseFileLimit();
  b.reserve = weir::core::reservedDescriptors(c.workers, c.listeners.size(), idleUpstreamPerWorker(c)) +
              probeConnections(c);
  b.derived = weir::core::connectionsForDescriptors(b.limit.soft, b.reserve);
  b.cap = c.limits.connections != 0 ? c.limits.connections : b.derived;
  return b;
}

void logBudget(const ConnectionBudget& b, const weir::config::Config& c) {
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

// user/group: listeners are bound and logs open; give up root before any
// worker serves. False if weir must not go on.
bool dropRoot(const weir::config::Config& c) {
  if (c.user.empty()) return true;
  if (::geteuid() != 0) {
    WEIR_WARN("user: \"%s\" is ignored: weir was not started as root (it keeps running as uid %u)", c.user.c_str(),
              static_cast<unsigned>(::geteuid()));
    return true;
  }
  weir::core::RunAs target{c.user, c.group, c.uid, c.gid};
  for (const std::string& path : {accessLogPath(c), c.error_log.path}) {
    if (auto st = weir::core::chownLogFile(path, target); !st) {
      WEIR_WARN("%s (reopening it on SIGUSR1 may fail)", st.error().message.c_str());
    }
  }
  if (auto st = weir::core::dropPrivileges(target); !st) {
    WEIR_ERROR("%s", st.error().message.c_str());
    std::fprintf(stderr, "weir: %s\n", st.error().message.c_str());
    return false;
  }
  std::string group = c.group.empty() ? "" : " and group " + c.group;
  WEIR_INFO("running as user %s%s (uid %u, gid %u)", c.user.c_str(), group.c_str(), static_cast<unsigned>(c.uid),
            static_cast<unsigned>(c.gid));
  return true;
}

int serve(const weir::config::Config& c, const weir::proxy::RuntimePtr& runtime, weir::stats::Registry* stats) {
  ConnectionBudget budget = connectionBudget(c);
  weir::core::ServerOptions opts;
  opts.workers = c.workers;
  for (const auto& l : c.listeners) {
    opts.listeners.push_back(l.addr);
    opts.backlogs.push_back(l.backlog);
  }
  opts.drain_timeout = c.timeouts.drain;
  opts.max_connections = budget.cap;
  weir::core::Server server(opts);
  if (auto st = server.open(); !st) {
    std::fprintf(stderr, "weir: %s\n", st.error().message.c_str());
    return 1;
  }
  auto& writer = weir::log::Writer::instance();
  if (auto st = writer.open(accessLogPath(c), c.error_log.path, logLevel(c.error_log.level)); !st) {
    std::fprintf(stderr, "weir: %s\n", st.error().message.c_str());
    return 1;
  }
  logBudget(budget, c);
  // The admin listener (admin:) binds before privileges are dropped.
  weir::stats::ProcessInfo process(c);
  std::unique_ptr<weir::admin::AdminServer> admin;
  if (c.admin.enabled) {
    admin = std::make_unique<weir::admin::AdminServer>(
        weir::admin::AdminOptions{c.admin, stats, &process, [runtime] { return runtime; }, nullptr});
    if (auto st = admin->open(); !st) {
      WEIR_ERROR("%s", st.error().message.c_str());
      std::fprintf(stderr, "weir: %s\n", st.error().message.c_str());
      writer.stop();
      return 1;
    }
  }
  int rc = 1;
  if (dropRoot(c)) {
    // Probes and the end of ejections run on their own thread, from before
    // the first request until the workers are gone.
    weir::upstream::HealthService health(weir::upstream::healthTargets(runtime->config, runtime->pool_views),
                                         std::random_device{}());
    if (health.checkedServers() > 0) {
      WEIR_INFO("active health checks on %zu server%s", health.checkedServers(),
                health.checkedServers() == 1 ? "" : "s");
    }
    health.start();
    if (admin) admin->start();
    rc = server.run([&](weir::core::Worker& w) -> std::unique_ptr<weir::core::Worker::Hooks> {
      return std::make_unique<weir::proxy::ProxyWorker>(w, runtime);
    });
    if (admin) admin->stop();
    health.stop();
  }
  writer.stop();
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  weir::core::prepareSignals();
  weir::core::AltSignalStack alt_stack;
  Args args;
  if (int rc = parseArgs(argc, argv, args); rc >= 0) return rc;

  auto cfg = weir::config::loadFile(args.config);
  if (!cfg) {
    std::fprintf(stderr, "%s\n", cfg.error().message.c_str());
    return 1;
  }
  std::string error;
  weir::upstream::HealthRegistry registry;
  // Metrics only with an admin listener: without one, recording costs nothing.
  std::unique_ptr<weir::stats::Registry> stats;
  if ((*cfg)->admin.enabled) stats = std::make_unique<weir::stats::Registry>((*cfg)->workers);
  weir::proxy::RuntimePtr runtime = weir::proxy::buildRuntime(*cfg, registry, error, stats.get());
  if (!runtime) {
    std::fprintf(stderr, "%s: %s\n", args.config.c_str(), error.c_str());
    return 1;
  }
  if (args.test) {
    if (auto st = checkStartable(**cfg, args.config); !st) {
      std::fprintf(stderr, "%s\n", st.error().message.c_str());
      return 1;
    }
    std::printf("%s: configuration ok\n", args.config.c_str());
    return 0;
  }
  return serve(**cfg, runtime, stats.get());
}
