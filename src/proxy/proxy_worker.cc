#include "weir/proxy/proxy_worker.h"

#include <unistd.h>

#include <random>
#include <vector>

#include "proxy/downstream.h"

namespace weir::proxy {
namespace {

const timeval kLogFlushInterval = {0, 200 * 1000};

}  // namespace

ProxyWorker::ProxyWorker(core::Worker& worker, RuntimePtr runtime) : worker_(worker), runtime_(std::move(runtime)) {
  const auto& pools = runtime_->config->pools;
  // Each worker's pickers draw their own random sequences.
  const uint64_t seed = std::random_device{}() ^ (static_cast<uint64_t>(worker.index()) << 32);
  for (size_t i = 0; i < pools.size(); ++i) {
    const uint64_t pool_seed = seed ^ (i * 0x9e3779b97f4a7c15ull);
    pickers_.push_back(runtime_->balancers[i]->build(pools[i], runtime_->pool_views[i], pool_seed));
    connections_.push_back(std::make_unique<upstream::ConnectionPool>(worker_, pools[i].keepalive,
                                                                      runtime_->pool_timeouts[i].idle));
  }
  log_timer_ = event_new(worker_.base(), -1, EV_PERSIST, &ProxyWorker::onLogFlush, this);
  event_add(log_timer_, &kLogFlushInterval);
}

ProxyWorker::~ProxyWorker() {
  for (Downstream* s : sessions_) delete s;
  sessions_.clear();
  connections_.clear();
  access_log_.flush();
  event_free(log_timer_);
}

void ProxyWorker::onAccept(int fd, const sockaddr* peer, socklen_t len, size_t) {
  if (worker_.draining()) {
    ::close(fd);
    worker_.connectionClosed();
    return;
  }
  if (runtime_->stats) stats::recordAccepted(*runtime_->stats, worker_.index());
  auto* s = new Downstream(*this, fd, peer, len);
  sessions_.insert(s);
  s->start();
}

void ProxyWorker::onDrain() {
  std::vector<Downstream*> all(sessions_.begin(), sessions_.end());
  for (Downstream* s : all) s->drain();
  for (auto& pool : connections_) pool->closeAll();
}

void ProxyWorker::sessionClosed(Downstream* s) {
  if (sessions_.erase(s) == 0) return;
  if (runtime_->stats) stats::recordClosed(*runtime_->stats, worker_.index());
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
