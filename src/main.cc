// weir: the command-line entry point.
#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

#include "weir/config/config.h"
#include "weir/core/server.h"
#include "weir/log/log.h"
#include "weir/proxy/proxy_worker.h"
#include "weir/proxy/runtime.h"

namespace {

constexpr const char* kUsage =
    "Usage: weir [-c FILE] [-t] [-h] [--version]\n"
    "\n"
    "A layer-7 load balancer and reverse proxy for HTTP.\n"
    "\n"
    "  -c, --config FILE  configuration file (default: conf/weir.yaml)\n"
    "  -t, --test         check the configuration, print the result and exit (0 ok, 1 error)\n"
    "  -h, --help         show this help\n"
    "      --version      print the version\n"
    "\n"
    "Signals: SIGTERM/SIGINT drain in-flight requests and exit.\n";

struct Args {
  std::string config = "conf/weir.yaml";
  bool test = false;
};

int parseArgs(int argc, char** argv, Args& args) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (a == "--version" || a == "-v") {
      std::printf("weir %s\n", WEIR_VERSION);
      return 0;
    }
    if (a == "-t" || a == "--test") {
      args.test = true;
    } else if ((a == "-c" || a == "--config") && i + 1 < argc) {
      args.config = argv[++i];
    } else {
      std::fprintf(stderr, "weir: unknown argument '%s'\n%s", a.c_str(), kUsage);
      return 2;
    }
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

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (int rc = parseArgs(argc, argv, args); rc >= 0) return rc;
  // Stop signals stay pending until the control loop handles them: one that
  // arrives while listeners are already open must not kill the process.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGUSR1}) sigaddset(&stop_signals, sig);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto cfg = weir::config::loadFile(args.config);
  if (!cfg) {
    std::fprintf(stderr, "%s\n", cfg.error().message.c_str());
    return 1;
  }
  std::string error;
  weir::proxy::RuntimePtr runtime = weir::proxy::buildRuntime(*cfg, error);
  if (!runtime) {
    std::fprintf(stderr, "%s: %s\n", args.config.c_str(), error.c_str());
    return 1;
  }
  if (args.test) {
    std::printf("%s: configuration ok\n", args.config.c_str());
    return 0;
  }

  const weir::config::Config& c = **cfg;
  weir::core::ServerOptions opts;
  opts.workers = c.workers;
  for (const auto& l : c.listeners) {
    opts.listeners.push_back(l.addr);
    opts.backlogs.push_back(l.backlog);
  }
  opts.drain_timeout = c.timeouts.drain;
  weir::core::Server server(opts);
  if (auto st = server.open(); !st) {
    std::fprintf(stderr, "weir: %s\n", st.error().message.c_str());
    return 1;
  }
  auto& writer = weir::log::Writer::instance();
  if (auto st = writer.open(c.access_log.enabled ? c.access_log.path : "", c.error_log.path,
                            logLevel(c.error_log.level));
      !st) {
    std::fprintf(stderr, "weir: %s\n", st.error().message.c_str());
    return 1;
  }
  int rc = server.run([&](weir::core::Worker& w) -> std::unique_ptr<weir::core::Worker::Hooks> {
    return std::make_unique<weir::proxy::ProxyWorker>(w, runtime);
  });
  writer.stop();
  return rc;
}
