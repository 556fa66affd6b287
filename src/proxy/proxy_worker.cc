#include "weir/proxy/proxy_worker.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include <random>
#include <vector>

#include "proxy/downstream.h"

namespace weir::proxy {
namespace {

const timeval kLogFlushInterval = {0, 200 * 1000};

}  // namespace

ProxyWorker::ProxyWorker(core::Worker& worker, RuntimePtr runtime)
    : worker_(worker),
      // Each worker's pickers draw their own random sequences.
      seed_(std::random_device{}() ^ (static_cast<uint64_t>(worker.index()) << 32)) {
  setRuntime(std::move(runtime));
  log_timer_ = event_new(worker_.base(), -1, EV_PERSIST, &ProxyWorker::onLogFlush, this);
  event_add(log_timer_, &kLogFlushInterval);
}

ProxyWorker::~ProxyWorker() {
  for (event* ev : background_) {
    ::close(event_get_fd(ev));
    event_free(ev);
  }
  background_.clear();
  for (Downstream* s : sessions_) delete s;
  sessions_.clear();
  snapshot_.reset();
  access_log_.flush();
  event_free(log_timer_);
}

void ProxyWorker::setRuntime(RuntimePtr runtime) {
  auto next = std::make_shared<WorkerSnapshot>();
  next->runtime = std::move(runtime);
  const auto& pools = next->runtime->config->pools;
  seed_ = seed_ * 6364136223846793005ull + 1442695040888963407ull;
  for (size_t i = 0; i < pools.size(); ++i) {
    const Runtime& rt = *next->runtime;
    const uint64_t pool_seed = seed_ ^ (i * 0x9e3779b97f4a7c15ull);
    next->pickers.push_back(rt.balancers[i]->build(pools[i], rt.pool_views[i], pool_seed));
    std::shared_ptr<upstream::ConnectionPool> kept;
    if (snapshot_) {
      const auto& old_pools = snapshot_->runtime->config->pools;
      for (size_t j = 0; j < old_pools.size(); ++j) {
        if (old_pools[j].name == pools[i].name) kept = snapshot_->connections[j];
      }
    }
    if (kept) {
      kept->configure(pools[i].keepalive, rt.pool_timeouts[i].idle);
      kept->retain(rt.pool_views[i].servers);
    } else {
      kept = std::make_shared<upstream::ConnectionPool>(worker_, pools[i].keepalive, rt.pool_timeouts[i].idle);
    }
    next->connections.push_back(std::move(kept));
  }
  // Pools the new configuration dropped lose their idle connections now;
  // connections still in use close when their exchange ends.
  if (snapshot_) {
    for (const auto& pool : snapshot_->connections) {
      bool stays = false;
      for (const auto& p : next->connections) stays = stays || p == pool;
      if (!stays) pool->closeAll();
    }
  }
  snapshot_ = std::move(next);
}

void ProxyWorker::onAccept(int fd, const sockaddr* peer, socklen_t len, uint64_t listener) {
  if (const auto& st = snapshot_->runtime->stats) stats::recordAccepted(*st, worker_.index());
  auto* s = new Downstream(*this, fd, peer, len, listener);
  sessions_.insert(s);
  s->start();
  // Handed over by a peer just as this worker began to drain: the client
  // may have sent its request already; it is answered, then closed.
  if (worker_.draining() && sessions_.count(s) != 0) s->drain();
}

void ProxyWorker::onListenerClosed(uint64_t listener) {
  std::vector<Downstream*> all;
  for (Downstream* s : sessions_) {
    if (s->listener() == listener) all.push_back(s);
  }
  for (Downstream* s : all) s->drain();
}

void ProxyWorker::onDrain() {
  std::vector<Downstream*> all(sessions_.begin(), sessions_.end());
  for (Downstream* s : all) s->drain();
  for (auto& pool : snapshot_->connections) pool->closeAll();
}

bool ProxyWorker::startBackground(std::string_view request, uint64_t listener, std::string_view for_address) {
  if (worker_.draining() || background_.size() >= kMaxBackground) return false;
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) return false;
  // The request is small: it fits the pair's buffer in one write.
  if (::send(fds[1], request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
    ::close(fds[0]);
    ::close(fds[1]);
    return false;
  }
  event* reply = event_new(worker_.base(), fds[1], EV_READ | EV_PERSIST, &ProxyWorker::onBackgroundReply, this);
  event_add(reply, nullptr);
  background_.insert(reply);
  auto* s = new Downstream(*this, fds[0], listener, for_address);
  sessions_.insert(s);
  s->start();
  return true;
}

// The background request's response is of no use but to the cache: read
// and dropped, until weir's side closes.
void ProxyWorker::onBackgroundReply(evutil_socket_t fd, short, void* arg) {
  auto* w = static_cast<ProxyWorker*>(arg);
  char buf[16384];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) continue;
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    break;
  }
  for (auto it = w->background_.begin(); it != w->background_.end(); ++it) {
    if (event_get_fd(*it) != fd) continue;
    event_free(*it);
    w->background_.erase(it);
    break;
  }
  ::close(fd);
}

void ProxyWorker::sessionClosed(Downstream* s) {
  if (sessions_.erase(s) == 0) return;
  if (s->background()) {  // not a client connection: never counted as one
    worker_.deleteLater(std::unique_ptr<core::Deferred>(s));
    worker_.checkDrained();
    return;
  }
  if (const auto& st = snapshot_->runtime->stats) stats::recordClosed(*st, worker_.index());
  worker_.connectionClosed();
  worker_.deleteLater(std::unique_ptr<core::Deferred>(s));
  worker_.checkDrained();
}

void ProxyWorker::onLogFlush(evutil_socket_t, short, void* arg) {
  auto* w = static_cast<ProxyWorker*>(arg);
  w->access_log_.flush();
  if (w->worker_.draining() && w->sessions_.empty()) event_del(w->log_timer_);
}

}  // namespace weir::proxy
