// weir: the command-line entry point.
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <random>
#include <optional>
#include <string>
#include <string_view>

#include "weir/admin/admin_server.h"
#include "weir/config/config.h"
#include "weir/control/controller.h"
#include "weir/control/pid_file.h"
#include "weir/control/startup.h"
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
    "Usage: weir [-c FILE] [-t] [-s SIGNAL] [-h] [-v]\n"
    "\n"
    "A layer-7 load balancer and reverse proxy for HTTP.\n"
    "\n"
    "  -c, --config FILE  configuration file (default: " WEIR_DEFAULT_CONFIG
    ");\n"
    "                     also --config=FILE\n"
    "  -t, --test         check the configuration and what starting needs (log files,\n"
    "                     user and group, privileged ports), print the result and\n"
    "                     exit: 0 ok, 1 with the error\n"
    "  -s SIGNAL          send SIGNAL to the running weir named by the pid file of\n"
    "                     the configuration (pid_file:) and exit: reload (SIGHUP;\n"
    "                     waits for the result: exit 1 with the error line when\n"
    "                     the running weir refuses the file), upgrade (SIGUSR2;\n"
    "                     waits until the new process serves), stop (SIGTERM),\n"
    "                     quit (SIGQUIT), reopen (SIGUSR1)\n"
    "  -h, --help         show this help\n"
    "  -v, --version      print the version\n"
    "\n"
    "Signals:\n"
    "  SIGTERM, SIGINT, SIGQUIT  stop accepting, let requests in flight finish\n"
    "                            (timeouts.drain), exit 0\n"
    "  SIGUSR1                   reopen the log files (rotation)\n"
    "  SIGHUP                    reload the configuration file; a bad file changes\n"
    "                            nothing (the error is logged)\n"
    "  SIGUSR2                   binary upgrade: start the binary again, hand it the\n"
    "                            listening sockets, then drain and exit once it serves\n";

struct Args {
  std::string config = WEIR_DEFAULT_CONFIG;
  bool test = false;
  std::string signal;  // -s
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
    if (a == "-s" || a == "--signal") {
      if (i + 1 >= argc) return usageError("option -s needs a signal: reload, upgrade, stop, quit or reopen");
      args.signal = argv[++i];
      if (args.signal != "reload" && args.signal != "upgrade" && args.signal != "stop" && args.signal != "quit" &&
          args.signal != "reopen") {
        return usageError("unknown signal '" + args.signal + "' for -s; expected reload, upgrade, stop, quit or reopen");
      }
      continue;
    }
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

// Says why a start failed: on stderr and, in a process started by a binary
// upgrade, to the process it was to replace.
int startFailed(int upgrade_fd, const std::string& message) {
  std::fprintf(stderr, "weir: %s\n", message.c_str());
  weir::control::Controller::reportUpgradeFailure(upgrade_fd, message);
  return 1;
}

// Set in a process started by a binary upgrade: the pipe to the old one.
int takeUpgradeFd() {
  const char* v = std::getenv(weir::control::kUpgradeFdVar);
  if (v == nullptr) return -1;
  int fd = std::atoi(v);
  ::unsetenv(weir::control::kUpgradeFdVar);
  if (fd < 3) return -1;
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  return fd;
}

std::string exePath(const char* argv0) {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n > 0) {
    std::string path(buf, static_cast<size_t>(n));
    // Replaced on disk since it started (a package upgrade): the path is
    // what the next start runs.
    if (path.ends_with(" (deleted)")) path.resize(path.size() - 10);
    return path;
  }
  return argv0;
}

int serve(const weir::config::ConfigPtr& cfg, const weir::proxy::RuntimePtr& runtime,
          weir::upstream::HealthRegistry& registry, weir::stats::Registry* stats,
          std::unique_ptr<weir::cache::Store>& cache, weir::control::ProcessInfo info) {
  using namespace weir;
  const config::Config& c = *cfg;
  control::ConnectionBudget budget = control::connectionBudget(c);
  core::ServerOptions opts;
  opts.workers = c.workers;
  for (const auto& l : c.listeners) opts.listeners.push_back({l.addr, l.backlog});
  opts.drain_timeout = c.timeouts.drain;
  opts.max_connections = budget.cap;
  std::vector<std::string> inherit_errors;
  opts.inherited = core::inheritedSockets(control::kListenFdsVar, inherit_errors);
  std::vector<core::InheritedSocket> inherited_admin = core::inheritedSockets(control::kAdminFdVar, inherit_errors);
  core::Server server(opts);
  if (auto st = server.open(); !st) return startFailed(info.upgrade_fd, st.error().message);
  auto& writer = log::Writer::instance();
  if (auto st = writer.open(control::accessLogPath(c), c.error_log.path, control::logLevel(c.error_log.level)); !st) {
    return startFailed(info.upgrade_fd, st.error().message);
  }
  for (const std::string& e : inherit_errors) WEIR_WARN("binary upgrade: %s", e.c_str());
  control::logBudget(budget, c);
  // A process started by an upgrade takes the pid file over once it serves.
  std::string pid_file = control::resolvedPidFile(c);
  if (info.upgrade_fd >= 0) {
    const char* inherited = std::getenv("WEIR_PID_FILE");
    pid_file = inherited != nullptr ? inherited : "";
    ::unsetenv("WEIR_PID_FILE");
  } else if (!pid_file.empty()) {
    if (auto st = control::writePidFile(pid_file, ::getpid()); !st) {
      WEIR_ERROR("pid_file: %s", st.error().message.c_str());
      writer.stop();
      return startFailed(info.upgrade_fd, "pid_file: " + st.error().message);
    }
    control::writeResult(pid_file, "started");
  }
  int rc = 1;
  std::vector<std::string> owned = {control::accessLogPath(c), c.error_log.path};
  if (!pid_file.empty() && info.upgrade_fd < 0) {
    owned.push_back(pid_file);
    owned.push_back(control::resultPath(pid_file));
  }
  // Probes and the end of ejections run on their own thread, from before
  // the first request until the workers are gone.
  upstream::HealthService health(upstream::healthTargets(cfg, runtime->pool_views), std::random_device{}());
  const int upgrade_fd = info.upgrade_fd;
  control::Controller controller(std::move(info), cfg, runtime, registry, health, stats, cache);
  controller.setPidFile(pid_file);
  stats::ProcessInfo process(c);
  controller.setReloadObserver([&process](const config::ConfigPtr& loaded, const std::string& why) {
    if (loaded) {
      process.reloadSucceeded(*loaded);
    } else {
      process.reloadFailed(why);
    }
  });
  // The admin listener (admin:) binds before privileges are dropped.
  std::unique_ptr<admin::AdminServer> admin;
  if (c.admin.enabled) {
    Status st = upgrade_fd >= 0 ? Status(Ok{}) : core::probeFree(c.admin.addr);
    if (st) {
      admin = std::make_unique<admin::AdminServer>(admin::AdminOptions{
          c.admin, stats, &process, [&controller] { return controller.current(); },
          [&server] { return !server.stopping(); }});
      st = admin->open(inherited_admin);
    }
    if (!st) {
      WEIR_ERROR("admin.address: %s", st.error().message.c_str());
      writer.stop();
      return startFailed(upgrade_fd, "admin.address: " + st.error().message);
    }
    controller.setAdmin(admin->listeningSocket(), [&admin] { admin->stop(); });
  } else {
    for (const core::InheritedSocket& s : inherited_admin) ::close(s.fd);
  }
  if (control::dropRoot(c, owned)) {
    if (health.checkedServers() > 0) {
      WEIR_INFO("active health checks on %zu server%s", health.checkedServers(),
                health.checkedServers() == 1 ? "" : "s");
    }
    health.start();
    if (admin) admin->start();
    rc = server.run(controller.workerFactory(), &controller);
    if (admin) admin->stop();
    health.stop();
    if (!controller.upgraded() && !controller.pidFile().empty()) {
      control::removePidFileIf(controller.pidFile(), ::getpid());
    }
  } else {
    control::Controller::reportUpgradeFailure(upgrade_fd, "cannot give up root (see the error log)");
  }
  writer.stop();
  return rc;
}

// weir -s: signals the running process, and for reload and upgrade waits
// for its answer in the result file. The file given with -c only names the
// pid file here; it need not load: the running process judges a reload
// (it logs and counts a refused one, and its answer, with the error line,
// is what this prints), and stop, quit and reopen must work whatever is on
// disk.
int signalCommand(const Args& args) {
  using namespace weir;
  std::string problem;  // why the file does not load, "" when it does
  std::optional<std::string> configured;
  if (auto cfg = config::loadFile(args.config); cfg) {
    if ((*cfg)->pid_file_set) configured = (*cfg)->pid_file;
  } else {
    problem = cfg.error().message;
    configured = config::peekPidFile(args.config);
  }
  // Said before giving up, so that a refused -s reload still shows the line.
  auto giveUp = [&](const std::string& why) {
    if (!problem.empty()) std::fprintf(stderr, "%s\n", problem.c_str());
    std::fprintf(stderr, "weir: %s\n", why.c_str());
    return 1;
  };
  const std::string pid_file = control::resolvedPidFile(configured);
  if (pid_file.empty()) {
    return giveUp("-s needs a pid file: " + args.config +
                  " has pid_file: off, or sets none and weir writes none by default unless it runs as root");
  }
  auto pid = control::readPidFile(pid_file);
  if (!pid) return giveUp(pid.error().message + " (is weir running with this configuration?)");
  const std::string& what = args.signal;
  int sig = what == "reload" ? SIGHUP : what == "upgrade" ? SIGUSR2 : what == "stop" ? SIGTERM
          : what == "quit"   ? SIGQUIT : SIGUSR1;
  const std::string before = control::readResult(pid_file);
  if (::kill(*pid, sig) != 0) {
    std::fprintf(stderr, "weir: cannot signal process %d (from %s): %s\n", static_cast<int>(*pid), pid_file.c_str(),
                 std::strerror(errno));
    return 1;
  }
  if (what != "reload" && what != "upgrade") return 0;
  const auto wait = what == "reload" ? std::chrono::seconds(15) : control::kUpgradeTimeout + std::chrono::seconds(5);
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (std::chrono::steady_clock::now() < deadline) {
    std::string now = control::readResult(pid_file);
    size_t space = now.find(' ');
    if (now != before && space != std::string::npos && now.back() == '\n') {
      now.pop_back();
      std::string result = now.substr(space + 1);
      if (result.starts_with(what + " ok")) {
        if (what == "upgrade") std::printf("weir: upgraded: process %s serves\n", result.substr(11).c_str());
        return 0;
      }
      if (result.starts_with(what + " failed ")) {
        std::fprintf(stderr, "weir: %s failed: %s\n", what.c_str(), result.substr(what.size() + 8).c_str());
        return 1;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::fprintf(stderr, "weir: process %d did not report the result of the %s within %lld s\n", static_cast<int>(*pid),
               what.c_str(), static_cast<long long>(wait.count()));
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  weir::core::prepareSignals();
  weir::core::AltSignalStack alt_stack;
  const int upgrade_fd = takeUpgradeFd();
  Args args;
  if (int rc = parseArgs(argc, argv, args); rc >= 0) return rc;
  if (!args.signal.empty()) return signalCommand(args);

  auto cfg = weir::config::loadFile(args.config);
  if (!cfg) {
    std::fprintf(stderr, "%s\n", cfg.error().message.c_str());
    weir::control::Controller::reportUpgradeFailure(upgrade_fd, cfg.error().message);
    return 1;
  }
  std::string error;
  weir::upstream::HealthRegistry registry;
  // Metrics only with an admin listener: without one, recording costs nothing.
  std::unique_ptr<weir::stats::Registry> stats;
  if ((*cfg)->admin.enabled) stats = std::make_unique<weir::stats::Registry>((*cfg)->workers);
  auto cache = weir::control::makeCache(**cfg);
  if (!cache) {
    std::fprintf(stderr, "%s: %s\n", args.config.c_str(), cache.error().message.c_str());
    return 1;
  }
  weir::proxy::RuntimePtr runtime = weir::proxy::buildRuntime(*cfg, registry, error, stats.get(), cache->get());
  if (!runtime) {
    std::fprintf(stderr, "%s: %s\n", args.config.c_str(), error.c_str());
    weir::control::Controller::reportUpgradeFailure(upgrade_fd, args.config + ": " + error);
    return 1;
  }
  if (args.test) {
    if (auto st = weir::control::checkStartable(**cfg, args.config); !st) {
      std::fprintf(stderr, "%s\n", st.error().message.c_str());
      return 1;
    }
    std::printf("%s: configuration ok\n", args.config.c_str());
    return 0;
  }
  weir::control::ProcessInfo info;
  info.config_path = args.config;
  info.exe = exePath(argv[0]);
  info.argv.assign(argv, argv + argc);
  info.upgrade_fd = upgrade_fd;
  return serve(*cfg, runtime, registry, stats.get(), *cache, std::move(info));
}
