// The running process's control: what SIGHUP (reload) and SIGUSR2 (binary
// upgrade) do, the pid file, and the current configuration snapshot for
// whoever reads it from another thread (the admin listener).
//
// Reload: the file given with -c is loaded, validated and compiled into a
// new Runtime on the main thread, off the workers. If that fails, or the
// file changes something a reload cannot (workers, user, group, the log
// files' paths, the admin listener: a binary upgrade applies those),
// nothing changes and the
// reason is one error-log line. Otherwise the listeners are updated (a bind
// failure fails the whole reload), and the snapshot is published: each
// worker switches to it between requests, the health thread takes its
// targets, and server state of servers that stay carries over through the
// HealthRegistry.
//
// Upgrade: the binary at the path weir was started from is started again
// with the same arguments and environment, plus the listening sockets
// (inherited descriptors, named in WEIR_LISTEN_FDS) and a pipe
// (WEIR_UPGRADE_FD) on which it says "ready" once its workers serve, or why
// it failed. On "ready" this process stops accepting, drains and exits;
// the new one has rewritten the pid file. On a failure, or no word within
// kUpgradeTimeout, this process goes on serving and logs why.
//
// Threading: main thread only, except current().
#pragma once

#include <event2/event.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "weir/config/config.h"
#include "weir/core/server.h"
#include "weir/proxy/proxy_worker.h"
#include "weir/proxy/runtime.h"
#include "weir/upstream/health_service.h"
#include "weir/upstream/server_state.h"

namespace weir::control {

constexpr const char* kListenFdsVar = "WEIR_LISTEN_FDS";
constexpr const char* kUpgradeFdVar = "WEIR_UPGRADE_FD";
constexpr const char* kAdminFdVar = "WEIR_ADMIN_FD";
constexpr std::chrono::seconds kUpgradeTimeout{30};

struct ProcessInfo {
  std::string config_path;          // -c, as given
  std::string exe;                  // the binary's path at start (re-read from disk on upgrade)
  std::vector<std::string> argv;    // the arguments weir was started with
  int upgrade_fd = -1;              // set in a process started by an upgrade
};

class Controller final : public core::ControlHooks {
 public:
  // Called after each reload attempt: the new config on success, else
  // nullptr and the reason (metrics).
  using ReloadObserver = std::function<void(const config::ConfigPtr& loaded, const std::string& error)>;

  // `stats`: the metrics registry, nullptr without an admin listener.
  // `cache`: the process's cache, created by a reload that first needs one
  // (it must outlive the workers: the caller owns it).
  Controller(ProcessInfo info, config::ConfigPtr config, proxy::RuntimePtr runtime,
             upstream::HealthRegistry& registry, upstream::HealthService& health, stats::Registry* stats,
             std::unique_ptr<cache::Store>& cache);
  ~Controller() override;

  // The factory for Server::run: builds each worker's ProxyWorker and
  // remembers it, to publish reloads to.
  core::Server::HooksFactory workerFactory();

  void onStarted(core::Server& server) override;
  void onReload(core::Server& server) override;
  void onUpgrade(core::Server& server) override;

  // Thread-safe.
  proxy::RuntimePtr current() const;
  void setReloadObserver(ReloadObserver o) { observer_ = std::move(o); }
  // The pid file this process wrote (empty when none).
  const std::string& pidFile() const { return pid_file_; }
  void setPidFile(std::string path) { pid_file_ = std::move(path); }
  // The admin listener's socket, handed over by an upgrade too (the new
  // process may have given up the root that bound it), and what stops the
  // admin listener here once the new process serves (so that only the new
  // one answers scrapes and probes while this one drains).
  void setAdmin(int fd, std::function<void()> stop) {
    admin_fd_ = fd;
    stop_admin_ = std::move(stop);
  }
  // After run(): whether a new process took over (the pid file is its).
  bool upgraded() const { return upgraded_; }

  // A process started by an upgrade that cannot start: tells the old one.
  static void reportUpgradeFailure(int upgrade_fd, const std::string& why);

 private:
  Status reload(core::Server& server);
  void reloadFailed(const std::string& why);
  void upgradeFailed(const std::string& why);
  void finishUpgrade();
  static void onUpgradePipe(evutil_socket_t fd, short what, void* arg);

  ProcessInfo info_;
  config::ConfigPtr config_;
  mutable std::mutex mu_;
  proxy::RuntimePtr runtime_;  // guarded by mu_ (written on the main thread only)
  upstream::HealthRegistry& registry_;
  upstream::HealthService& health_;
  stats::Registry* stats_;
  std::unique_ptr<cache::Store>& cache_;
  std::vector<proxy::ProxyWorker*> workers_;
  ReloadObserver observer_;
  std::string pid_file_;
  uint64_t generation_ = 1;
  int admin_fd_ = -1;
  std::function<void()> stop_admin_;

  // A binary upgrade in progress.
  core::Server* server_ = nullptr;
  pid_t child_ = -1;
  int child_fd_ = -1;
  event* child_ev_ = nullptr;
  std::string child_said_;
  bool upgraded_ = false;
};

}  // namespace weir::control
