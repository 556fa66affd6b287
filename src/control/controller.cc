#include "weir/control/controller.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>

#include "weir/control/pid_file.h"
#include "weir/control/startup.h"
#include "weir/core/signals.h"
#include "weir/log/log.h"

extern char** environ;

namespace weir::control {
namespace {

std::string describeExit(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("was killed by signal ") + strsignal(WTERMSIG(status));
  return "stopped";
}

// What a reload cannot change in a running process.
Status reloadable(const config::Config& now, const config::Config& next, const std::string& file) {
  auto refuse = [&](const std::string& key, const std::string& was, const std::string& is) {
    return Error{file + ": " + key + ": \"" + is + "\" differs from the running \"" + was +
                 "\"; a reload cannot change it: restart weir or upgrade it in place (weir -s upgrade), which "
                 "applies it"};
  };
  if (next.workers != now.workers) return refuse("workers", std::to_string(now.workers), std::to_string(next.workers));
  if (next.user != now.user) return refuse("user", now.user, next.user);
  if (next.group != now.group) return refuse("group", now.group, next.group);
  if (accessLogPath(next) != accessLogPath(now)) return refuse("access_log.path", accessLogPath(now), accessLogPath(next));
  if (next.error_log.path != now.error_log.path) return refuse("error_log.path", now.error_log.path, next.error_log.path);
  auto admin = [](const config::Config& c) {
    if (!c.admin.enabled) return std::string("off");
    std::string out = c.admin.addr.toString() + " allow";
    for (const auto& net : c.admin.allow) out += " " + net.toString();
    return out;
  };
  if (admin(next) != admin(now)) return refuse("admin", admin(now), admin(next));
  return Ok{};
}

}  // namespace

Controller::Controller(ProcessInfo info, config::ConfigPtr config, proxy::RuntimePtr runtime,
                       upstream::HealthRegistry& registry, upstream::HealthService& health,
                       stats::Registry* stats, std::unique_ptr<cache::Store>& cache)
    : info_(std::move(info)),
      config_(std::move(config)),
      runtime_(std::move(runtime)),
      registry_(registry),
      health_(health),
      stats_(stats),
      cache_(cache) {}

Controller::~Controller() {
  if (child_ev_ != nullptr) event_free(child_ev_);
  if (child_fd_ >= 0) ::close(child_fd_);
  if (info_.upgrade_fd >= 0) ::close(info_.upgrade_fd);
}

core::Server::HooksFactory Controller::workerFactory() {
  return [this](core::Worker& w) -> std::unique_ptr<core::Worker::Hooks> {
    auto pw = std::make_unique<proxy::ProxyWorker>(w, current());
    workers_.push_back(pw.get());
    return pw;
  };
}

proxy::RuntimePtr Controller::current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return runtime_;
}

void Controller::onStarted(core::Server&) {
  if (info_.upgrade_fd < 0) return;
  // Started by an upgrade: the pid file becomes this process's only now,
  // when it serves; then the old process may go.
  if (!pid_file_.empty()) {
    if (auto st = writePidFile(pid_file_, ::getpid()); !st) WEIR_WARN("%s", st.error().message.c_str());
  }
  static const char kReady[] = "ready\n";
  [[maybe_unused]] ssize_t n = ::write(info_.upgrade_fd, kReady, sizeof kReady - 1);
  ::close(info_.upgrade_fd);
  info_.upgrade_fd = -1;
  WEIR_INFO("took over from the previous process (binary upgrade)");
}

void Controller::reportUpgradeFailure(int upgrade_fd, const std::string& why) {
  if (upgrade_fd < 0) return;
  std::string line = "error: " + why + "\n";
  [[maybe_unused]] ssize_t n = ::write(upgrade_fd, line.data(), line.size());
}

// ---- reload -------------------------------------------------------------------

namespace {

// The workers that have taken a new runtime, counted down on their loops;
// shared with the posted tasks, which a worker that has ended drops.
class Countdown {
 public:
  explicit Countdown(size_t n) : left_(n) {}
  void done() {
    std::lock_guard<std::mutex> lock(mu_);
    if (left_ > 0 && --left_ == 0) cv_.notify_all();
  }
  bool wait(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [this] { return left_ == 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  size_t left_;
};

// How long a reload waits for every worker to take the new configuration
// before it reports itself done anyway (a loop is busy for microseconds).
constexpr std::chrono::milliseconds kApplyWait{1000};

}  // namespace

void Controller::onReload(core::Server& server) {
  WEIR_INFO("SIGHUP: reloading %s", info_.config_path.c_str());
  if (auto st = reload(server); !st) reloadFailed(st.error().message);
}

Status Controller::reload(core::Server& server) {
  auto loaded = config::loadFile(info_.config_path);
  if (!loaded) return loaded.error();
  const config::Config& next = **loaded;
  if (auto st = reloadable(*config_, next, info_.config_path); !st) return st;
  // A cache made here before the reload can still fail is harmless: unused
  // until a runtime names it.
  if (auto st = updateCache(next, cache_); !st) return st;
  std::string error;
  proxy::RuntimePtr rt = proxy::buildRuntime(*loaded, registry_, error, stats_, cache_.get());
  if (!rt) return Error{info_.config_path + ": " + error};
  std::vector<core::ListenerSpec> specs;
  for (const auto& l : next.listeners) specs.push_back({l.addr, l.backlog});
  if (auto st = server.updateListeners(specs); !st) return Error{info_.config_path + ": listeners: " + st.error().message};

  // Published: from here on nothing fails.
  {
    std::lock_guard<std::mutex> lock(mu_);
    runtime_ = rt;
  }
  config_ = *loaded;
  auto applied = std::make_shared<Countdown>(workers_.size());
  for (proxy::ProxyWorker* pw : workers_) {
    pw->worker().post([pw, rt, applied] {
      pw->setRuntime(rt);
      applied->done();
    });
  }
  health_.replaceTargets(upstream::healthTargets(config_, rt->pool_views));
  registry_.retain(next);
  ConnectionBudget budget = connectionBudget(next);
  server.setMaxConnections(budget.cap);
  server.setDrainTimeout(next.timeouts.drain);
  log::Writer::instance().setLevel(logLevel(next.error_log.level));
  const std::string pid_file = info_.upgrade_fd >= 0 || !next.pid_file_set ? pid_file_ : next.pid_file;
  if (pid_file != pid_file_) {
    if (!pid_file.empty()) {
      if (auto st = writePidFile(pid_file, ::getpid()); !st) WEIR_WARN("pid_file: %s", st.error().message.c_str());
    }
    if (!pid_file_.empty()) removePidFileIf(pid_file_, ::getpid());
    pid_file_ = pid_file;
  }
  // "reloaded" (and weir -s reload's answer) means every worker serves
  // the new configuration: a request sent after it gets the new routes.
  if (!applied->wait(kApplyWait)) {
    WEIR_WARN("reload: a worker had not taken the new configuration after %lld ms; it will on its next loop turn",
              static_cast<long long>(kApplyWait.count()));
  }
  ++generation_;
  WEIR_INFO("reloaded %s (configuration %llu): %zu listener%s, %zu pool%s, %zu route%s", info_.config_path.c_str(),
            static_cast<unsigned long long>(generation_), next.listeners.size(),
            next.listeners.size() == 1 ? "" : "s", next.pools.size(), next.pools.size() == 1 ? "" : "s",
            next.routes.size(), next.routes.size() == 1 ? "" : "s");
  writeResult(pid_file_, "reload ok");
  if (observer_) observer_(config_, "");
  return Ok{};
}

void Controller::reloadFailed(const std::string& why) {
  WEIR_ERROR("reload failed; the running configuration stays: %s", why.c_str());
  writeResult(pid_file_, "reload failed " + why);
  if (observer_) observer_(nullptr, why);
}

// ---- binary upgrade -----------------------------------------------------------

void Controller::onUpgrade(core::Server& server) {
  if (child_ > 0) {
    WEIR_WARN("SIGUSR2: a binary upgrade is already under way (new process %d); ignoring", static_cast<int>(child_));
    return;
  }
  server_ = &server;
  if (::access(info_.exe.c_str(), X_OK) != 0) {
    upgradeFailed(info_.exe + ": " + std::strerror(errno));
    return;
  }
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    upgradeFailed(std::string("pipe: ") + std::strerror(errno));
    return;
  }
  // Everything the child needs is built before fork(): between fork and
  // exec it may only call async-signal-safe functions.
  const std::vector<int> sockets = server.listeningSockets();
  std::string fd_list;
  for (int fd : sockets) fd_list += (fd_list.empty() ? "" : ",") + std::to_string(fd);
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view v = *e;
    if (v.starts_with(std::string(kListenFdsVar) + "=") || v.starts_with(std::string(kUpgradeFdVar) + "=") ||
        v.starts_with(std::string(kAdminFdVar) + "=") || v.starts_with("WEIR_PID_FILE=")) {
      continue;
    }
    env.emplace_back(v);
  }
  env.push_back(std::string(kListenFdsVar) + "=" + fd_list);
  env.push_back(std::string(kUpgradeFdVar) + "=" + std::to_string(pipe_fds[1]));
  env.push_back("WEIR_PID_FILE=" + pid_file_);
  if (admin_fd_ >= 0) env.push_back(std::string(kAdminFdVar) + "=" + std::to_string(admin_fd_));
  const int admin_fd = admin_fd_;
  // The new process starts with the control signals blocked, as weir
  // blocks them first thing: one arriving before it can handle them must
  // not kill it (nor reach this process's handlers before exec).
  const sigset_t blocked = core::controlSignalSet();
  std::vector<char*> envp;
  for (std::string& s : env) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = info_.argv;
  std::vector<char*> argv;
  for (std::string& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  const char* exe = info_.exe.c_str();

  pid_t pid = ::fork();
  if (pid == 0) {
    for (int fd : sockets) ::fcntl(fd, F_SETFD, 0);
    ::fcntl(pipe_fds[1], F_SETFD, 0);
    if (admin_fd >= 0) ::fcntl(admin_fd, F_SETFD, 0);
    ::sigprocmask(SIG_SETMASK, &blocked, nullptr);
    ::execve(exe, argv.data(), envp.data());
    static const char kExecFailed[] = "error: exec of the new binary failed\n";
    [[maybe_unused]] ssize_t n = ::write(pipe_fds[1], kExecFailed, sizeof kExecFailed - 1);
    ::_exit(127);
  }
  int err = errno;
  ::close(pipe_fds[1]);
  if (pid < 0) {
    ::close(pipe_fds[0]);
    upgradeFailed(std::string("fork: ") + std::strerror(err));
    return;
  }
  child_ = pid;
  child_fd_ = pipe_fds[0];
  child_said_.clear();
  ::fcntl(child_fd_, F_SETFL, ::fcntl(child_fd_, F_GETFL) | O_NONBLOCK);
  child_ev_ = event_new(server.controlBase(), child_fd_, EV_READ | EV_PERSIST, &Controller::onUpgradePipe, this);
  timeval tv{static_cast<time_t>(kUpgradeTimeout.count()), 0};
  event_add(child_ev_, &tv);
  WEIR_INFO("SIGUSR2: binary upgrade: started %s as process %d with %zu listening socket%s; waiting until it serves",
            exe, static_cast<int>(pid), sockets.size(), sockets.size() == 1 ? "" : "s");
}

void Controller::onUpgradePipe(evutil_socket_t fd, short what, void* arg) {
  auto* self = static_cast<Controller*>(arg);
  if (what & EV_TIMEOUT) {
    ::kill(self->child_, SIGKILL);
    int status = 0;
    ::waitpid(self->child_, &status, 0);
    self->upgradeFailed("the new process " + std::to_string(self->child_) + " did not report ready within " +
                        std::to_string(kUpgradeTimeout.count()) + " s; it was killed");
    return;
  }
  char buf[1024];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) {
    if (self->child_said_.size() < 16384) self->child_said_.append(buf, static_cast<size_t>(n));
  }
  if (self->child_said_.find("ready\n") != std::string::npos) {
    self->finishUpgrade();
    return;
  }
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  // EOF without "ready": the new process failed. Its exit follows at once.
  int status = 0;
  pid_t done = 0;
  for (int i = 0; i < 50 && done == 0; ++i) {
    done = ::waitpid(self->child_, &status, WNOHANG);
    if (done == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::string why = "the new process " + std::to_string(self->child_) + " ";
  why += done > 0 ? describeExit(status) : "closed its pipe";
  std::string said = self->child_said_;
  while (!said.empty() && (said.back() == '\n' || said.back() == '\r')) said.pop_back();
  if (said.starts_with("error: ")) said = said.substr(7);
  if (!said.empty()) why += ": " + said;
  if (done == 0) {
    ::kill(self->child_, SIGKILL);
    ::waitpid(self->child_, &status, 0);
  }
  self->upgradeFailed(why);
}

void Controller::finishUpgrade() {
  const pid_t child = child_;
  event_free(child_ev_);
  child_ev_ = nullptr;
  ::close(child_fd_);
  child_fd_ = -1;
  child_ = -1;
  upgraded_ = true;
  WEIR_INFO("binary upgrade: process %d serves; this process stops accepting and drains", static_cast<int>(child));
  // The new process answers the admin address alone from now on.
  if (stop_admin_) stop_admin_();
  writeResult(pid_file_, "upgrade ok " + std::to_string(child));
  server_->requestStop("binary upgrade");
}

void Controller::upgradeFailed(const std::string& why) {
  if (child_ev_ != nullptr) event_free(child_ev_);
  child_ev_ = nullptr;
  if (child_fd_ >= 0) ::close(child_fd_);
  child_fd_ = -1;
  child_ = -1;
  WEIR_ERROR("binary upgrade failed; this process goes on serving: %s", why.c_str());
  writeResult(pid_file_, "upgrade failed " + why);
}

}  // namespace weir::control
