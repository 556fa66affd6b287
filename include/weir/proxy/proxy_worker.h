// The proxy's per-worker state: client connections, per-pool balancer
// pickers and upstream keep-alive pools, the access-log batch, the
// request-ID generator, and the current config snapshot. Owned by one
// worker; loop thread only.
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

class ProxyWorker final : public core::Worker::Hooks {
 public:
  ProxyWorker(core::Worker& worker, RuntimePtr runtime);
  ~ProxyWorker() override;

  void onAccept(int fd, const sockaddr* peer, socklen_t len, size_t listener) override;
  void onDrain() override;
  size_t activeConnections() const override { return sessions_.size(); }

  core::Worker& worker() { return worker_; }
  event_base* base() const { return worker_.base(); }
  const Runtime& runtime() const { return *runtime_; }
  upstream::Picker& picker(size_t pool) { return *pickers_[pool]; }
  upstream::ConnectionPool& connections(size_t pool) { return *connections_[pool]; }
  log::AccessLogBuffer& accessLog() { return access_log_; }
  http::RequestIdGenerator& requestIds() { return request_ids_; }
  bool draining() const { return worker_.draining(); }

  // Called by a client connection once it has closed its socket.
  void sessionClosed(Downstream* d);

 private:
  static void onLogFlush(evutil_socket_t, short, void* arg);

  core::Worker& worker_;
  RuntimePtr runtime_;
  std::vector<std::unique_ptr<upstream::Picker>> pickers_;
  std::vector<std::unique_ptr<upstream::ConnectionPool>> connections_;
  std::unordered_set<Downstream*> sessions_;
  log::AccessLogBuffer access_log_;
  http::RequestIdGenerator request_ids_;  // seeded per worker at start
  event* log_timer_ = nullptr;
};

}  // namespace weir::proxy
