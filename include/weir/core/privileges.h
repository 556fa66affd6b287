// Running as an unprivileged user after the privileged start-up steps
// (binding listeners, opening logs) are done, as config `user:`/`group:` ask.
//
// Main thread only, before any worker serves: the ids change for every
// thread of the process (glibc applies set*id calls process-wide), but a
// worker must never run a request as root.
#pragma once

#include <sys/types.h>

#include <string>

#include "weir/common/result.h"

namespace weir::core {

struct RunAs {
  std::string user;   // for initgroups() and messages
  std::string group;  // for messages; "" when it is the user's primary group
  uid_t uid = 0;
  gid_t gid = 0;
};

// Sets the supplementary groups (initgroups), then the group, then the user,
// in that order (a process that set its user first could no longer change
// its groups), and checks that real and effective ids are the target ones
// and that root cannot be regained. Needs root. The error names the step
// that failed and why.
Status dropPrivileges(const RunAs& target);

// Gives a log file weir opened as root to the target user, so that it can
// still reopen it (SIGUSR1) after the drop. Skips "", /dev/stdout,
// /dev/stderr and anything that is not a regular file.
Status chownLogFile(const std::string& path, const RunAs& target);

}  // namespace weir::core
