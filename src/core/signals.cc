#include "weir/core/signals.h"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace weir::core {
namespace {

constexpr int kFatalSignals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGSYS, SIGTRAP};
constexpr size_t kAltStackBytes = 64 * 1024;

// Signals whose default action ends the process and that weir has no use
// for. A stray `kill -ALRM` or a profiler's leftover timer must not stop a
// proxy. SIGXCPU and SIGXFSZ are here too: ignored, the operation fails
// with an error weir reports instead.
constexpr int kUnusedSignals[] = {SIGALRM, SIGVTALRM, SIGPROF, SIGPOLL, SIGPWR, SIGSTKFLT, SIGXCPU, SIGXFSZ};

// Prepared before any handler runs: a fatal handler may only call
// async-signal-safe functions, so it writes a line built in advance.
struct FatalLine {
  char text[160];
  size_t length;
};
FatalLine g_fatal_lines[NSIG];

void onFatalSignal(int sig) {
  const FatalLine& line = g_fatal_lines[sig];
  [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, line.text, line.length);
  // SA_RESETHAND restored the default action. Returning re-runs a faulting
  // instruction; a signal sent with kill() needs raising again.
  ::raise(sig);
}

void installFatalHandlers() {
  for (int sig : kFatalSignals) {
    std::string name = signalName(sig);
    int n = std::snprintf(g_fatal_lines[sig].text, sizeof g_fatal_lines[sig].text,
                          "weir[%d]: fatal signal %s (%s); stopping\n", static_cast<int>(::getpid()),
                          name.c_str(), strsignal(sig));
    g_fatal_lines[sig].length = n < 0 ? 0 : std::min(static_cast<size_t>(n), sizeof g_fatal_lines[sig].text - 1);
    struct sigaction action {};
    action.sa_handler = onFatalSignal;
    action.sa_flags = SA_RESETHAND | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    sigaction(sig, &action, nullptr);
  }
}

}  // namespace

const std::vector<ControlSignal>& controlSignals() {
  static const std::vector<ControlSignal> all = [] {
    std::vector<ControlSignal> out = {
        {SIGTERM, SignalAction::kStop},
        {SIGINT, SignalAction::kStop},
        {SIGQUIT, SignalAction::kStop},
        {SIGUSR1, SignalAction::kReopenLogs},
        {SIGHUP, SignalAction::kReload},
        {SIGUSR2, SignalAction::kUpgrade},
    };
    for (int sig : kUnusedSignals) out.push_back({sig, SignalAction::kUnused});
    for (int sig = SIGRTMIN; sig <= SIGRTMAX; ++sig) out.push_back({sig, SignalAction::kUnused});
    return out;
  }();
  return all;
}

sigset_t controlSignalSet() {
  sigset_t set;
  sigemptyset(&set);
  for (const ControlSignal& s : controlSignals()) sigaddset(&set, s.number);
  return set;
}

void prepareSignals() {
  installFatalHandlers();
  std::signal(SIGPIPE, SIG_IGN);
  // Pending until the control loop is ready: a signal that arrives while
  // the configuration loads or listeners open must not kill the process.
  sigset_t set = controlSignalSet();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

std::string signalName(int sig) {
  if (sig >= SIGRTMIN && sig <= SIGRTMAX) {
    return sig == SIGRTMIN ? "SIGRTMIN" : "SIGRTMIN+" + std::to_string(sig - SIGRTMIN);
  }
  if (const char* abbrev = sigabbrev_np(sig)) return std::string("SIG") + abbrev;
  return "signal " + std::to_string(sig);
}

AltSignalStack::AltSignalStack() {
  memory_ = std::malloc(kAltStackBytes);
  if (memory_ == nullptr) return;
  stack_t stack{};
  stack.ss_sp = memory_;
  stack.ss_size = kAltStackBytes;
  if (sigaltstack(&stack, nullptr) != 0) {
    std::free(memory_);
    memory_ = nullptr;
  }
}

AltSignalStack::~AltSignalStack() {
  if (memory_ == nullptr) return;
  stack_t off{};
  off.ss_flags = SS_DISABLE;
  sigaltstack(&off, nullptr);
  std::free(memory_);
}

}  // namespace weir::core
