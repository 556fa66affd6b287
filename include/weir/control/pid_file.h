// The pid file (pid_file:) and, beside it, the result file through which
// `weir -s reload|upgrade` learns how the running process took the signal:
// PID_FILE.result holds one line, "STAMP reload ok", "STAMP reload failed
// MESSAGE", "STAMP upgrade ok NEWPID" or "STAMP upgrade failed MESSAGE",
// STAMP changing with every line (microseconds since the epoch).
//
// Both are rewritten in place (truncate and write), not renamed, so that a
// process that gave up root can still write the files it created as root
// in a directory it cannot write (/run): they are handed to the run-as user
// at start (dropRoot).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "weir/common/result.h"

namespace weir::control {

Status writePidFile(const std::string& path, pid_t pid);
// The pid in the file, or an error naming the file and what is wrong.
Result<pid_t> readPidFile(const std::string& path);
// Removes the file if it still names `pid` (a binary upgrade's new process
// has rewritten it otherwise).
void removePidFileIf(const std::string& path, pid_t pid);

std::string resultPath(const std::string& pid_file);
// Writes "STAMP what" (what: "reload ok", "upgrade failed ..."). Errors are
// logged, not returned: the result is a courtesy to weir -s.
void writeResult(const std::string& pid_file, const std::string& what);
// The whole line, or "" when there is none.
std::string readResult(const std::string& pid_file);

}  // namespace weir::control
