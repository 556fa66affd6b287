#include "weir/core/preflight.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

namespace weir::core {
namespace {

std::string parentDirectory(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

long unprivilegedPortStart() {
  std::ifstream in("/proc/sys/net/ipv4/ip_unprivileged_port_start");
  long value = 1024;
  if (!(in >> value)) return 1024;
  return value;
}

bool hasEffectiveCapability(int capability) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("CapEff:", 0) != 0) continue;
    unsigned long long bits = std::strtoull(line.c_str() + 7, nullptr, 16);
    return (bits >> capability) & 1u;
  }
  return false;
}

}  // namespace

Status checkLogPath(const std::string& path) {
  if (path.empty() || path == "/dev/stdout" || path == "/dev/stderr") return Ok{};
  // O_NONBLOCK: a FIFO without a reader must not hang the check.
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd >= 0) {
    ::close(fd);
    return Ok{};
  }
  int err = errno;
  if (err != ENOENT) return Error{path + ": cannot open for appending: " + std::strerror(err)};
  // Missing: weir creates it at start, if the directory lets it.
  std::string dir = parentDirectory(path);
  struct stat info {};
  if (::stat(dir.c_str(), &info) != 0) return Error{path + ": cannot create: " + dir + ": " + std::strerror(errno)};
  if (!S_ISDIR(info.st_mode)) return Error{path + ": cannot create: " + dir + ": " + std::strerror(ENOTDIR)};
  if (::access(dir.c_str(), W_OK | X_OK) != 0) return Error{path + ": cannot create: " + std::strerror(errno)};
  return Ok{};
}

Status checkBindPermission(const SocketAddress& addr) {
  long first_free = unprivilegedPortStart();
  if (addr.port() >= first_free || ::geteuid() == 0 || hasEffectiveCapability(CAP_NET_BIND_SERVICE)) return Ok{};
  return Error{addr.toString() + ": ports below " + std::to_string(first_free) +
               " need root or CAP_NET_BIND_SERVICE"};
}

}  // namespace weir::core
