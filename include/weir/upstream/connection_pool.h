// Upstream connections and the per-worker keep-alive pool.
//
// A Connection is a Stream to one server. While a session uses it, the
// session is the stream's handler; while idle it sits in its pool, which
// watches it: any byte or close from the server while idle ends it, and so
// does the idle timeout. Loop thread only; nothing here is shared between
// workers.
#pragma once

#include <chrono>
#include <deque>
#include <memory>

#include "weir/core/stream.h"
#include "weir/core/worker.h"
#include "weir/upstream/server_state.h"
#include "weir/stats/types.h"

namespace weir::upstream {

class Connection final : public core::Deferred {
 public:
  // `server` is kept alive with the connection: a pooled connection is
  // found by it, also across a reload that keeps the server.
  Connection(event_base* base, core::StreamHandler* handler, ServerStatePtr server)
      : stream_(base, handler), server_(std::move(server)) {}
  ~Connection() override;

  core::Stream& stream() { return stream_; }
  const ServerState* server() const { return server_.get(); }
  // Served at least one response before: a failure before any response byte
  // may be the server closing an idle connection at the same moment.
  bool reused() const { return requests_ > 0; }
  void countRequest() { ++requests_; }
  // Metrics: a slot of this worker's, bumped when the connection closes.
  void countCloseIn(stats::Slot* slot) { closed_slot_ = slot; }

 private:
  friend class ConnectionPool;
  core::Stream stream_;
  ServerStatePtr server_;
  uint64_t requests_ = 0;
  stats::Slot* closed_slot_ = nullptr;
  timeval idle_since_{};
  class ConnectionPool* pool_ = nullptr;
};

using ConnectionPtr = std::unique_ptr<Connection>;

// Idle connections of one pool on one worker, most recently used first. A
// reload that keeps the pool (by name) keeps its ConnectionPool, with the
// idle connections to the servers that stay.
// The idle timeout is enforced by one sweep timer per pool rather than a
// timer per connection, so taking and returning a connection costs no timer
// operation on the request path.
class ConnectionPool final : private core::StreamHandler {
 public:
  ConnectionPool(core::Worker& worker, size_t capacity, std::chrono::milliseconds idle_timeout);
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // An idle connection to `server`, handed over with `handler` installed, or
  // nullptr.
  ConnectionPtr acquire(const ServerState* server, core::StreamHandler* handler);
  // Keeps a connection that finished a response cleanly; closes the least
  // recently used one past capacity.
  void release(ConnectionPtr conn);
  // Closes a connection (deferred deletion).
  void discard(ConnectionPtr conn);
  void closeAll();
  // After a reload: the new keepalive and upstream_idle, and the servers
  // that remain; idle connections to the others are closed.
  void configure(size_t capacity, std::chrono::milliseconds idle_timeout);
  void retain(const std::vector<ServerStatePtr>& servers);

 private:
  void onStreamRead(core::Stream& s) override;
  void onStreamWritable(core::Stream&) override {}
  void onStreamError(core::Stream& s) override;
  static void onSweep(evutil_socket_t, short, void* arg);
  void drop(Connection* c);
  void armSweep();

  core::Worker& worker_;
  size_t capacity_;
  std::chrono::milliseconds idle_timeout_;
  event* sweep_timer_ = nullptr;
  std::deque<Connection*> idle_;  // owned
};

}  // namespace weir::upstream
