// The proxy's per-worker state: client connections, the access-log batch,
// the request-ID generator,
// and the current snapshot: the config Runtime with this worker's balancer
// pickers and upstream keep-alive pools for it. Owned by one worker; loop
// thread only.
//
// Reload: setRuntime() installs a new snapshot. A client connection takes
// the current snapshot when a request begins and holds it until the next
// one, so an exchange in flight finishes on the snapshot it started with;
// a snapshot is freed when its last connection lets go of it. Keep-alive
// pools are kept by pool name, so idle connections to servers that stay
// survive the reload.
#pragma once

#include <event2/event.h>

#include <chrono>
#include <memory>
#include <unordered_set>
#include <vector>

#include "weir/core/worker.h"
#include "weir/http/request_id.h"
#include "weir/log/log.h"
#include "weir/proxy/runtime.h"
#include "weir/upstream/connection_pool.h"

namespace weir::proxy {

class Downstream;

struct WorkerSnapshot {
  RuntimePtr runtime;
  std::vector<std::unique_ptr<upstream::Picker>> pickers;              // per pool
  std::vector<std::shared_ptr<upstream::ConnectionPool>> connections;  // per pool
};
using SnapshotPtr = std::shared_ptr<const WorkerSnapshot>;

class ProxyWorker final : public core::Worker::Hooks {
 public:
  ProxyWorker(core::Worker& worker, RuntimePtr runtime);
  ~ProxyWorker() override;

  void onAccept(int fd, const sockaddr* peer, socklen_t len, uint64_t listener) override;
  void onDrain() override;
  void onListenerClosed(uint64_t listener) override;
  size_t activeConnections() const override { return sessions_.size(); }

  // Loop thread: makes `runtime` the snapshot new requests use.
  void setRuntime(RuntimePtr runtime);

  core::Worker& worker() { return worker_; }
  event_base* base() const { return worker_.base(); }
  const SnapshotPtr& snapshot() const { return snapshot_; }
  log::AccessLogBuffer& accessLog() { return access_log_; }
  http::RequestIdGenerator& requestIds() { return request_ids_; }
  bool draining() const { return worker_.draining(); }

  // Called by a client connection once it has closed its socket.
  void sessionClosed(Downstream* d);

  // A background revalidation (stale-while-revalidate): `request`, a
  // whole request head with Connection: close, runs as if a client at
  // `for_address` had sent it on `listener`, over a socket pair whose
  // other end reads and drops the response. False (nothing started) while
  // draining or when kMaxBackground are running already.
  bool startBackground(std::string_view request, uint64_t listener, std::string_view for_address);
  static constexpr size_t kMaxBackground = 64;

 private:
  static void onLogFlush(evutil_socket_t, short, void* arg);
  static void onBackgroundReply(evutil_socket_t fd, short, void* arg);

  core::Worker& worker_;
  SnapshotPtr snapshot_;
  uint64_t seed_;
  std::unordered_set<Downstream*> sessions_;
  log::AccessLogBuffer access_log_;
  http::RequestIdGenerator request_ids_;  // seeded per worker at start
  event* log_timer_ = nullptr;
  std::unordered_set<event*> background_;  // weir's ends of background socket pairs
};

}  // namespace weir::proxy
