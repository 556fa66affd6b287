// libFuzzer target for the configuration loader, weir::config::loadString.
//
// Input: the YAML text. The loader promises never to throw and to report
// every problem as one "NAME:LINE:COL: key.path: message" line (config.h).
// Besides memory errors and undefined behaviour, it stops on:
// - an exception escaping loadString;
// - an error that is empty or does not start with the file name;
// - a loaded Config that breaks what config.h documents: at least one
//   listener, pool and route; every pool with a server; weights 1..1000;
//   every route pointing at an existing pool (pool_index and name agree);
//   path prefixes empty or starting with '/'; a known log format; workers in
//   1..256; resolved socket addresses.
//
// Name resolution: this target is linked with -Wl,--wrap=getaddrinfo (see
// CMakeLists.txt), and __wrap_getaddrinfo below fails every lookup, so a
// host name that is not an IP literal is reported as unknown and the fuzzer
// never queries DNS or reads /etc/hosts. IP literals and "*" never reach
// getaddrinfo (resolve() handles them itself), so they load as usual.
#include <netdb.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "weir/config/config.h"
#include "fuzz_check.h"

extern "C" int __wrap_getaddrinfo(const char* /*node*/, const char* /*service*/, const addrinfo* /*hints*/,
                                  addrinfo** res) {
  if (res != nullptr) *res = nullptr;
  return EAI_NONAME;
}

namespace {

constexpr const char* kName = "fuzz.yaml";

using weir::fuzz::check;

bool resolved(const weir::SocketAddress& a) {
  return (a.family() == AF_INET || a.family() == AF_INET6) && a.length > 0;
}

void checkConfig(const weir::config::Config& c) {
  check(c.source == kName, "source is not the name given");
  check(c.workers >= 1 && c.workers <= 256, "workers outside 1..256");
  check(!c.listeners.empty(), "no listener");
  for (const auto& l : c.listeners) {
    check(resolved(l.addr), "listener address not resolved");
    check(l.backlog >= 1 && l.backlog <= 65535, "listener backlog outside 1..65535");
  }
  check(!c.pools.empty(), "no pool");
  for (const auto& p : c.pools) {
    check(!p.name.empty(), "pool without a name");
    check(!p.servers.empty(), "pool without servers");
    for (const auto& s : p.servers) {
      check(resolved(s.addr), "server address not resolved");
      check(s.addr.port() != 0, "server port 0");
      check(s.weight >= 1 && s.weight <= 1000, "server weight outside 1..1000");
    }
  }
  check(!c.routes.empty(), "no route");
  for (const auto& r : c.routes) {
    check(r.pool_index < c.pools.size(), "route pool_index out of range");
    check(c.pools[r.pool_index].name == r.pool, "route pool_index names another pool");
    check(c.poolIndex(r.pool) == static_cast<int>(r.pool_index), "route pool is not the first of its name");
    check(r.path_prefix.empty() || r.path_prefix[0] == '/', "path_prefix does not start with /");
  }
  check(c.access_log.format == "combined" || c.access_log.format == "json", "unknown access log format");
}

// loadString, with any exception turned into an abort (it must never throw).
weir::Result<weir::config::ConfigPtr> loadOrAbort(const std::string& yaml) {
  try {
    return weir::config::loadString(yaml, kName);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "loadString threw: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "loadString threw a non-standard exception\n");
  }
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string yaml(reinterpret_cast<const char*>(data), size);
  weir::Result<weir::config::ConfigPtr> loaded = loadOrAbort(yaml);
  if (loaded) {
    check(*loaded != nullptr, "loaded a null config");
    checkConfig(**loaded);
  } else {
    const std::string& message = loaded.error().message;
    check(!message.empty(), "empty error message");
    check(message.rfind(std::string(kName) + ":", 0) == 0, "error message does not start with the file name");
  }
  return 0;
}
