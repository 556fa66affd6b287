// weir-origin: a small, fast HTTP/1.1 origin server used as the upstream in
// Weir's integration tests, demo and benchmarks. See --help.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "origin_server.h"

namespace weir::origin {
namespace {

constexpr const char* kUsage =
    "usage: weir-origin --listen HOST:PORT [--listen HOST:PORT ...] [--threads N] [--name NAME]\n"
    "                   [--health-status CODE] [--delay MS]\n"
    "\n"
    "HTTP/1.1 origin server for tests and benchmarks (keep-alive, pipelining).\n"
    "  --listen HOST:PORT  address to listen on (repeatable; port 0 picks a free port)\n"
    "  --threads N         worker threads, each with its own SO_REUSEPORT socket (default 1)\n"
    "  --name NAME         sent as X-Origin and in the default body (default \"origin\")\n"
    "  --health-status CODE  what /healthz answers at start (default 200)\n"
    "  --delay MS          answer every request (but /healthz) after MS milliseconds, as ?delay=MS does\n"
    "\n"
    "Endpoints: / (hello), /bytes/N, /status/CODE, /echo, /headers, /stats, /ws, /close\n"
    "Health (for tests of health checks): /healthz and /healthz/... answer the\n"
    "  current health status and keep the request head; /_control/health?status=CODE\n"
    "  switches that status; /_control/health shows it, the number of /healthz\n"
    "  requests and the last one's head\n"
    "Query: chunked=1 delay=MS status=CODE close=1 cache=SECONDS continue=1 trailer=1\n"
    "Prints 'weir-origin NAME listening on HOST:PORT' per address when ready;\n"
    "exits 0 on SIGTERM or SIGINT.\n";

enum class ArgsResult { kRun, kHelp, kError };

// Accepts "--opt value" and "--opt=value".
bool takeValue(int argc, char** argv, int& i, std::string_view opt, std::string& value) {
  std::string_view arg = argv[i];
  if (arg == opt) {
    if (i + 1 >= argc) return false;
    value = argv[++i];
    return true;
  }
  if (arg.size() > opt.size() && arg.starts_with(opt) && arg[opt.size()] == '=') {
    value = arg.substr(opt.size() + 1);
    return true;
  }
  return false;
}

bool parseThreads(const std::string& s, unsigned& out) {
  char* end = nullptr;
  unsigned long v = std::strtoul(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || v == 0 || v > 1024) return false;
  out = static_cast<unsigned>(v);
  return true;
}

ArgsResult parseArgs(int argc, char** argv, ServerOptions& opts) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::string value;
    if (arg == "--help" || arg == "-h") return ArgsResult::kHelp;
    if (takeValue(argc, argv, i, "--listen", value)) {
      opts.listen.push_back(value);
    } else if (takeValue(argc, argv, i, "--threads", value)) {
      if (!parseThreads(value, opts.threads)) {
        std::fprintf(stderr, "weir-origin: invalid --threads '%s'\n", value.c_str());
        return ArgsResult::kError;
      }
    } else if (takeValue(argc, argv, i, "--name", value)) {
      opts.name = value;
    } else if (takeValue(argc, argv, i, "--delay", value)) {
      char* end = nullptr;
      unsigned long ms = std::strtoul(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || ms > 3600000) {
        std::fprintf(stderr, "weir-origin: invalid --delay '%s' (milliseconds, 0..3600000)\n", value.c_str());
        return ArgsResult::kError;
      }
      opts.delay_ms = static_cast<uint32_t>(ms);
    } else if (takeValue(argc, argv, i, "--health-status", value)) {
      char* end = nullptr;
      unsigned long code = std::strtoul(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || code < 200 || code > 599) {
        std::fprintf(stderr, "weir-origin: invalid --health-status '%s' (200..599)\n", value.c_str());
        return ArgsResult::kError;
      }
      opts.health_status = static_cast<int>(code);
    } else {
      std::fprintf(stderr, "weir-origin: unknown or incomplete argument '%s'\n", argv[i]);
      return ArgsResult::kError;
    }
  }
  if (opts.listen.empty()) {
    std::fprintf(stderr, "weir-origin: at least one --listen HOST:PORT is required\n");
    return ArgsResult::kError;
  }
  return ArgsResult::kRun;
}

int run(const ServerOptions& opts) {
  // Signals are taken synchronously by the main thread; workers inherit the mask.
  signal(SIGPIPE, SIG_IGN);
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  Server server(opts);
  std::string error;
  if (!server.bind(error) || !server.start(error)) {
    std::fprintf(stderr, "weir-origin: %s\n", error.c_str());
    return 1;
  }
  for (const std::string& addr : server.boundAddresses()) {
    std::printf("weir-origin %s listening on %s\n", opts.name.c_str(), addr.c_str());
  }
  std::fflush(stdout);
  int sig = 0;
  sigwait(&stop_signals, &sig);
  server.stop();
  return 0;
}

}  // namespace
}  // namespace weir::origin

int main(int argc, char** argv) {
  weir::origin::ServerOptions opts;
  switch (weir::origin::parseArgs(argc, argv, opts)) {
    case weir::origin::ArgsResult::kHelp:
      std::fputs(weir::origin::kUsage, stdout);
      return 0;
    case weir::origin::ArgsResult::kError:
      std::fputs(weir::origin::kUsage, stderr);
      return 2;
    case weir::origin::ArgsResult::kRun:
      break;
  }
  return weir::origin::run(opts);
}
