#include "weir/upstream/connection_pool.h"

#include <algorithm>

namespace weir::upstream {

Connection::~Connection() {
  if (closed_slot_ != nullptr) stats::bump(*closed_slot_);
}

ConnectionPool::ConnectionPool(core::Worker& worker, size_t capacity, std::chrono::milliseconds idle_timeout)
    : worker_(worker), capacity_(capacity), idle_timeout_(idle_timeout) {
  sweep_timer_ = event_new(worker_.base(), -1, EV_PERSIST, &ConnectionPool::onSweep, this);
  armSweep();
}

// Sweep often enough that a connection outlives its timeout by at most a
// quarter of it (and at most a second).
void ConnectionPool::armSweep() {
  auto period = std::min<std::chrono::milliseconds>(idle_timeout_ / 4, std::chrono::seconds(1));
  if (period.count() < 1) period = std::chrono::milliseconds(1);
  timeval tv{static_cast<time_t>(period.count() / 1000), static_cast<suseconds_t>((period.count() % 1000) * 1000)};
  event_add(sweep_timer_, &tv);
}

void ConnectionPool::configure(size_t capacity, std::chrono::milliseconds idle_timeout) {
  capacity_ = capacity;
  if (idle_timeout != idle_timeout_) {
    idle_timeout_ = idle_timeout;
    armSweep();
  }
  while (idle_.size() > capacity_) drop(idle_.back());
}

void ConnectionPool::retain(const std::vector<ServerStatePtr>& servers) {
  std::vector<Connection*> gone;
  for (Connection* c : idle_) {
    bool stays = std::any_of(servers.begin(), servers.end(), [&](const ServerStatePtr& s) { return s.get() == c->server(); });
    if (!stays) gone.push_back(c);
  }
  for (Connection* c : gone) drop(c);
}

ConnectionPool::~ConnectionPool() {
  closeAll();
  event_free(sweep_timer_);
}

void ConnectionPool::closeAll() {
  while (!idle_.empty()) {
    Connection* c = idle_.back();
    idle_.pop_back();
    c->stream().close();
    c->pool_ = nullptr;
    worker_.deleteLater(ConnectionPtr(c));
  }
}

ConnectionPtr ConnectionPool::acquire(const ServerState* server, core::StreamHandler* handler) {
  for (auto it = idle_.begin(); it != idle_.end(); ++it) {
    Connection* c = *it;
    if (c->server() != server) continue;
    idle_.erase(it);
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
  event_base_gettimeofday_cached(worker_.base(), &c->idle_since_);
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

// Least recently used connections sit at the back: close from there until
// one is young enough.
void ConnectionPool::onSweep(evutil_socket_t, short, void* arg) {
  auto* pool = static_cast<ConnectionPool*>(arg);
  timeval now;
  event_base_gettimeofday_cached(pool->worker_.base(), &now);
  while (!pool->idle_.empty()) {
    Connection* c = pool->idle_.back();
    int64_t idle_ms = (now.tv_sec - c->idle_since_.tv_sec) * 1000 + (now.tv_usec - c->idle_since_.tv_usec) / 1000;
    if (idle_ms < pool->idle_timeout_.count()) break;
    pool->drop(c);
  }
}

}  // namespace weir::upstream
