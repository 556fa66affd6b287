#include "weir/control/pid_file.h"

#include <fcntl.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "weir/log/log.h"

namespace weir::control {
namespace {

Status writeWhole(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Error{path + ": " + std::strerror(errno)};
  ssize_t n = ::write(fd, text.data(), text.size());
  int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size())) return Error{path + ": write: " + std::strerror(err)};
  return Ok{};
}

std::optional<std::string> readWhole(const std::string& path, int& err) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    err = errno;
    return std::nullopt;
  }
  std::string out;
  char buf[512];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0 && out.size() < 4096) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

}  // namespace

Status writePidFile(const std::string& path, pid_t pid) { return writeWhole(path, std::to_string(pid) + "\n"); }

Result<pid_t> readPidFile(const std::string& path) {
  int err = 0;
  auto text = readWhole(path, err);
  if (!text) return Error{"cannot read the pid file " + path + ": " + std::strerror(err)};
  char* end = nullptr;
  long pid = std::strtol(text->c_str(), &end, 10);
  if (end == text->c_str() || pid <= 0 || (*end != '\n' && *end != '\0')) {
    return Error{"the pid file " + path + " does not hold a process id"};
  }
  return static_cast<pid_t>(pid);
}

void removePidFileIf(const std::string& path, pid_t pid) {
  auto current = readPidFile(path);
  if (current && *current == pid) ::unlink(path.c_str());
}

std::string resultPath(const std::string& pid_file) { return pid_file + ".result"; }

void writeResult(const std::string& pid_file, const std::string& what) {
  if (pid_file.empty()) return;
  timeval tv{};
  gettimeofday(&tv, nullptr);
  const long long stamp = static_cast<long long>(tv.tv_sec) * 1000000 + tv.tv_usec;
  if (auto st = writeWhole(resultPath(pid_file), std::to_string(stamp) + " " + what + "\n"); !st) {
    WEIR_WARN("cannot write the result for weir -s: %s", st.error().message.c_str());
  }
}

std::string readResult(const std::string& pid_file) {
  int err = 0;
  auto text = readWhole(resultPath(pid_file), err);
  return text ? *text : "";
}

}  // namespace weir::control
