#include "weir/upstream/connection_pool.h"

#include <algorithm>

namespace weir::upstream {

Connection::~Connection() {
  if (idle_timer_ != nullptr) event_free(idle_timer_);
}

ConnectionPool::ConnectionPool(core::Worker& worker, size_t capacity, std::chrono::milliseconds idle_timeout)
    : worker_(worker), capacity_(capacity), idle_timeout_(worker.timeout(idle_timeout)) {}

ConnectionPool::~ConnectionPool() { closeAll(); }

void ConnectionPool::closeAll() {
  while (!idle_.empty()) {
    Connection* c = idle_.back();
    idle_.pop_back();
    c->stream().close();
    c->pool_ = nullptr;
    worker_.deleteLater(ConnectionPtr(c));
  }
}

ConnectionPtr ConnectionPool::acquire(size_t server, core::StreamHandler* handler) {
  for (auto it = idle_.begin(); it != idle_.end(); ++it) {
    Connection* c = *it;
    if (c->server_ != server) continue;
    idle_.erase(it);
    event_del(c->idle_timer_);
    c->pool_ = nullptr;
    c->stream().setHandler(handler);
    return ConnectionPtr(c);
  }
  return nullptr;
}

void ConnectionPool::release(ConnectionPtr conn) {
  if (capacity_ == 0 || !conn->stream().open() || evbuffer_get_length(conn->stream().input()) > 0) {
    discard(std::move(conn));
    return;
  }
  Connection* c = conn.release();
  c->pool_ = this;
  c->stream().setHandler(this);
  c->stream().resumeReading();  // notice the server closing it while idle
  if (c->idle_timer_ == nullptr) c->idle_timer_ = evtimer_new(worker_.base(), &ConnectionPool::onIdleTimeout, c);
  evtimer_add(c->idle_timer_, idle_timeout_);
  idle_.push_front(c);
  if (idle_.size() > capacity_) {
    Connection* old = idle_.back();
    idle_.pop_back();
    old->pool_ = nullptr;
    old->stream().close();
    worker_.deleteLater(ConnectionPtr(old));
  }
}

void ConnectionPool::discard(ConnectionPtr conn) {
  conn->stream().close();
  worker_.deleteLater(std::move(conn));
}

void ConnectionPool::drop(Connection* c) {
  auto it = std::find(idle_.begin(), idle_.end(), c);
  if (it != idle_.end()) idle_.erase(it);
  c->pool_ = nullptr;
  c->stream().close();
  worker_.deleteLater(ConnectionPtr(c));
}

// An idle connection has nothing to say: bytes, a close or an error all end it.
void ConnectionPool::onStreamRead(core::Stream& s) {
  for (Connection* c : idle_) {
    if (&c->stream() == &s) {
      drop(c);
      return;
    }
  }
}

void ConnectionPool::onStreamError(core::Stream& s) { onStreamRead(s); }

void ConnectionPool::onIdleTimeout(evutil_socket_t, short, void* arg) {
  auto* c = static_cast<Connection*>(arg);
  if (c->pool_ != nullptr) c->pool_->drop(c);
}

}  // namespace weir::upstream
