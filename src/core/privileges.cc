#include "weir/core/privileges.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace weir::core {
namespace {

Error failed(const std::string& step, int error) {
  return Error{"cannot run as user " + step + ": " + std::strerror(error)};
}

}  // namespace

Status dropPrivileges(const RunAs& target) {
  const std::string who = "\"" + target.user + "\"";
  if (::initgroups(target.user.c_str(), target.gid) != 0) return failed(who + ": initgroups", errno);
  if (::setgid(target.gid) != 0) return failed(who + ": setgid(" + std::to_string(target.gid) + ")", errno);
  if (::setuid(target.uid) != 0) return failed(who + ": setuid(" + std::to_string(target.uid) + ")", errno);
  bool ids_took = ::getuid() == target.uid && ::geteuid() == target.uid && ::getgid() == target.gid &&
                  ::getegid() == target.gid;
  if (!ids_took) return Error{"cannot run as user " + who + ": the user and group ids did not change"};
  if (target.uid != 0 && ::setuid(0) == 0) {
    return Error{"cannot run as user " + who + ": root could be regained after setuid"};
  }
  return Ok{};
}

Status chownLogFile(const std::string& path, const RunAs& target) {
  if (path.empty() || path == "/dev/stdout" || path == "/dev/stderr") return Ok{};
  // O_PATH: look at what the path names without opening it for I/O (a FIFO
  // would block), and change the very file that was checked.
  int fd = ::open(path.c_str(), O_PATH | O_CLOEXEC);
  if (fd < 0) return Error{path + ": cannot give it to user \"" + target.user + "\": " + std::strerror(errno)};
  struct stat info {};
  Status out = Ok{};
  if (::fstat(fd, &info) == 0 && S_ISREG(info.st_mode) && (info.st_uid != target.uid || info.st_gid != target.gid)) {
    if (::fchownat(fd, "", target.uid, target.gid, AT_EMPTY_PATH) != 0) {
      out = Error{path + ": cannot give it to user \"" + target.user + "\": " + std::strerror(errno)};
    }
  }
  ::close(fd);
  return out;
}

}  // namespace weir::core
