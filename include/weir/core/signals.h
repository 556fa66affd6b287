// How weir treats every signal (README "Signals"): the control loop
// (Server::run) takes the ones it uses or deliberately ignores, fatal ones
// leave one line on stderr before the default action, and none kills weir
// without a word (SIGKILL aside).
//
// Threading: prepareSignals() runs once at the top of main, before any
// thread exists, so every thread inherits the blocked mask; only the
// control thread unblocks the control signals (Server::run).
#pragma once

#include <csignal>
#include <string>
#include <vector>

namespace weir::core {

enum class SignalAction {
  kStop,                // SIGTERM, SIGINT, SIGQUIT: drain, then exit 0
  kReopenLogs,          // SIGUSR1
  kReload,              // SIGHUP: re-read the configuration
  kUpgrade,             // SIGUSR2: start the binary anew and hand it the listeners
  kUnused,              // others whose default would terminate: logged and ignored
};

// The signals the control loop handles, each with its action.
struct ControlSignal {
  int number;
  SignalAction action;
};
const std::vector<ControlSignal>& controlSignals();

// Fatal-signal handlers (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGSYS,
// SIGTRAP), SIGPIPE ignored, and every control signal blocked in the calling
// thread (and so in threads started later).
void prepareSignals();

// The control signals as a set, for pthread_sigmask.
sigset_t controlSignalSet();

// "SIGQUIT", "SIGRTMIN+3"; "signal 99" for numbers it does not know.
std::string signalName(int sig);

// An alternate stack for signal handlers on the calling thread, so that a
// stack overflow (SIGSEGV) still gets its line. Removed by the destructor,
// on the same thread.
class AltSignalStack {
 public:
  AltSignalStack();
  ~AltSignalStack();
  AltSignalStack(const AltSignalStack&) = delete;
  AltSignalStack& operator=(const AltSignalStack&) = delete;

 private:
  void* memory_ = nullptr;
};

}  // namespace weir::core
