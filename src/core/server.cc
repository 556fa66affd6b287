#include "weir/core/server.h"

#include <event2/event.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>

#include "weir/core/signals.h"
#include "weir/log/log.h"

namespace weir::core {

Result<int> listenOn(const SocketAddress& addr, int backlog) {
  auto fail = [&](const char* what, int fd) -> Result<int> {
    std::string msg = addr.toString() + ": " + what + ": " + std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return Error{msg};
  };
  int fd = ::socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail("socket", -1);
  int one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) return fail("SO_REUSEADDR", fd);
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) return fail("SO_REUSEPORT", fd);
  if (addr.family() == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (::bind(fd, addr.get(), addr.length) != 0) return fail("bind", fd);
  if (::listen(fd, backlog) != 0) return fail("listen", fd);
  return fd;
}

Server::Server(ServerOptions opts) : opts_(std::move(opts)) {}

Server::~Server() = default;

// SO_REUSEPORT lets any process of the same user bind the same address, so a
// second weir started by mistake would silently take half the traffic. A
// plain bind first tells whether anyone listens there already.
Status probeFree(const SocketAddress& addr) {
  int fd = ::socket(addr.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error{addr.toString() + ": socket: " + std::strerror(errno)};
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (addr.family() == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  int rc = ::bind(fd, addr.get(), addr.length);
  int err = errno;
  ::close(fd);
  if (rc != 0) return Error{addr.toString() + ": bind: " + std::strerror(err)};
  return Ok{};
}

namespace {

void closeAll(const std::vector<std::vector<int>>& fds) {
  for (const auto& per_worker : fds) {
    for (int fd : per_worker) ::close(fd);
  }
}

}  // namespace

// Inherited sockets of the address are spread over the workers (socket j to
// worker j mod workers, so none is left unaccepted); a worker without one
// gets a new socket of its own.
Result<Server::Listener> Server::openListener(const ListenerSpec& spec, std::vector<InheritedSocket>* inherited) {
  Listener l{next_listener_id_++, spec.addr, spec.addr.toString(), spec.backlog, {}};
  l.fds.resize(opts_.workers);
  size_t taken = 0;
  if (inherited != nullptr) {
    for (auto it = inherited->begin(); it != inherited->end();) {
      if (it->address != l.key) {
        ++it;
        continue;
      }
      ::listen(it->fd, spec.backlog);
      l.fds[taken++ % opts_.workers].push_back(it->fd);
      it = inherited->erase(it);
    }
  }
  if (taken == 0) {
    if (auto st = probeFree(spec.addr); !st) return st.error();
  }
  for (auto& per_worker : l.fds) {
    if (!per_worker.empty()) continue;
    auto fd = listenOn(spec.addr, spec.backlog);
    if (!fd) {
      closeAll(l.fds);
      return fd.error();
    }
    per_worker.push_back(*fd);
  }
  return l;
}

Status Server::open() {
  gate_ = std::make_unique<ConnectionGate>(opts_.max_connections);
  for (unsigned i = 0; i < opts_.workers; ++i) workers_.push_back(std::make_unique<Worker>(i));
  std::vector<Worker*> all;
  for (auto& w : workers_) all.push_back(w.get());
  for (auto& w : workers_) {
    w->setPeers(all);
    w->setGate(gate_.get());
  }
  std::vector<InheritedSocket> inherited = std::move(opts_.inherited);
  for (const ListenerSpec& spec : opts_.listeners) {
    auto l = openListener(spec, &inherited);
    if (!l) {
      for (const Listener& done : listeners_) closeAll(done.fds);
      listeners_.clear();
      for (const InheritedSocket& s : inherited) ::close(s.fd);
      return l.error();
    }
    listeners_.push_back(std::move(*l));
  }
  // Sockets of addresses the new configuration dropped: what waits in their
  // queues is lost with them.
  for (const InheritedSocket& s : inherited) {
    WEIR_WARN("listening socket %s handed over by the previous process is not in the configuration; closing it",
              s.address.c_str());
    ::close(s.fd);
  }
  for (const Listener& l : listeners_) {
    for (size_t w = 0; w < workers_.size(); ++w) {
      for (int fd : l.fds[w]) workers_[w]->addListener(l.id, fd);
    }
  }
  return Ok{};
}

Status Server::updateListeners(const std::vector<ListenerSpec>& specs) {
  auto find = [&](const std::string& key) -> Listener* {
    for (Listener& l : listeners_) {
      if (l.key == key) return &l;
    }
    return nullptr;
  };
  std::vector<Listener> added;
  for (const ListenerSpec& spec : specs) {
    if (find(spec.addr.toString()) != nullptr) continue;
    auto l = openListener(spec, nullptr);
    if (!l) {
      for (const Listener& a : added) closeAll(a.fds);
      return l.error();
    }
    added.push_back(std::move(*l));
  }
  std::vector<Listener> kept;
  for (Listener& l : listeners_) {
    bool stays = false;
    for (const ListenerSpec& spec : specs) {
      if (spec.addr.toString() != l.key) continue;
      stays = true;
      if (spec.backlog != l.backlog) {
        l.backlog = spec.backlog;
        for (const auto& per_worker : l.fds) {
          for (int fd : per_worker) ::listen(fd, spec.backlog);
        }
      }
    }
    if (stays) {
      kept.push_back(std::move(l));
      continue;
    }
    WEIR_INFO("listener %s removed: it stops accepting and its connections drain", l.key.c_str());
    for (auto& w : workers_) {
      uint64_t id = l.id;
      Worker* worker = w.get();
      worker->post([worker, id] { worker->closeListener(id); });
    }
  }
  for (Listener& a : added) {
    WEIR_INFO("listener %s added", a.key.c_str());
    for (size_t w = 0; w < workers_.size(); ++w) {
      Worker* worker = workers_[w].get();
      uint64_t id = a.id;
      std::vector<int> fds = a.fds[w];
      worker->post([worker, id, fds] {
        for (int fd : fds) worker->addListener(id, fd);
      });
    }
    kept.push_back(std::move(a));
  }
  listeners_ = std::move(kept);
  return Ok{};
}

std::vector<int> Server::listeningSockets() const {
  std::vector<int> out;
  for (const Listener& l : listeners_) {
    for (const auto& per_worker : l.fds) out.insert(out.end(), per_worker.begin(), per_worker.end());
  }
  return out;
}

std::vector<SocketAddress> Server::listenerAddresses() const {
  std::vector<SocketAddress> out;
  for (const Listener& l : listeners_) out.push_back(l.addr);
  return out;
}

void Server::requestStop(const std::string& why) {
  if (!stop_reason_.empty() || control_base_ == nullptr) return;
  stop_reason_ = why;
  stopping_.store(true);
  event_base_loopbreak(control_base_);
}

std::vector<InheritedSocket> inheritedSockets(const char* var, std::vector<std::string>& errors) {
  std::vector<InheritedSocket> out;
  const char* value = std::getenv(var);
  if (value == nullptr) return out;
  std::string list = value;
  ::unsetenv(var);
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t comma = list.find(',', pos);
    if (comma == std::string::npos) comma = list.size();
    std::string item = list.substr(pos, comma - pos);
    pos = comma + 1;
    if (item.empty()) continue;
    char* end = nullptr;
    long fd = std::strtol(item.c_str(), &end, 10);
    if (*end != '\0' || fd < 3 || fd > 1 << 20) {
      errors.push_back(std::string(var) + ": '" + item + "' is not a descriptor number");
      continue;
    }
    int listening = 0;
    socklen_t len = sizeof listening;
    SocketAddress addr;
    addr.length = sizeof addr.storage;
    if (getsockopt(static_cast<int>(fd), SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || listening == 0 ||
        getsockname(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&addr.storage), &addr.length) != 0) {
      errors.push_back("descriptor " + item + " handed over is not a listening socket");
      ::close(static_cast<int>(fd));
      continue;
    }
    fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
    fcntl(static_cast<int>(fd), F_SETFL, fcntl(static_cast<int>(fd), F_GETFL) | O_NONBLOCK);
    out.push_back({static_cast<int>(fd), addr.toString()});
  }
  return out;
}

std::string describeListeners(const std::vector<SocketAddress>& listeners, unsigned workers) {
  std::string out = "listening on ";
  for (size_t i = 0; i < listeners.size(); ++i) out += (i == 0 ? "" : ", ") + listeners[i].toString();
  return out + "; " + std::to_string(workers) + (workers == 1 ? " worker" : " workers");
}

void Server::onSignal(evutil_socket_t fd, short, void* arg) {
  auto* server = static_cast<Server*>(arg);
  int sig = static_cast<int>(fd);
  std::string name = signalName(sig);
  SignalAction action = SignalAction::kUnused;
  for (const ControlSignal& s : controlSignals()) {
    if (s.number == sig) action = s.action;
  }
  switch (action) {
    case SignalAction::kStop:
      server->requestStop(name);
      return;
    case SignalAction::kReopenLogs:
      WEIR_INFO("%s: reopening log files", name.c_str());
      log::Writer::instance().requestReopen();
      return;
    case SignalAction::kReload:
      if (server->control_ != nullptr && server->stop_reason_.empty()) server->control_->onReload(*server);
      return;
    case SignalAction::kUpgrade:
      if (server->control_ != nullptr && server->stop_reason_.empty()) server->control_->onUpgrade(*server);
      return;
    case SignalAction::kUnused:
      WEIR_WARN("%s received: weir does not use this signal; ignoring", name.c_str());
      return;
  }
}

int Server::run(const HooksFactory& factory, ControlHooks* control) {
  std::signal(SIGPIPE, SIG_IGN);
  // Workers inherit this mask: only the control loop takes signals.
  sigset_t mask = controlSignalSet();
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);

  // The control loop's descriptors are taken before any worker accepts:
  // clients arriving at once could otherwise use up the last ones.
  control_ = control;
  control_base_ = event_base_new();
  if (control_base_ == nullptr) {
    WEIR_ERROR("cannot create the control loop: %s", std::strerror(errno));
    return 1;
  }
  std::vector<event*> sigs;
  for (const ControlSignal& s : controlSignals()) {
    sigs.push_back(evsignal_new(control_base_, s.number, &Server::onSignal, this));
    event_add(sigs.back(), nullptr);
  }

  std::vector<std::unique_ptr<Worker::Hooks>> hooks;
  for (auto& w : workers_) {
    hooks.push_back(factory(*w));
    w->start(hooks.back().get());
  }
  running_ = true;
  pthread_sigmask(SIG_UNBLOCK, &mask, nullptr);
  WEIR_INFO("weir %s started: %s", WEIR_VERSION, describeListeners(listenerAddresses(), opts_.workers).c_str());
  if (control_ != nullptr) control_->onStarted(*this);

  if (stop_reason_.empty()) event_base_dispatch(control_base_);

  WEIR_INFO("%s: draining (up to %lld ms)", stop_reason_.c_str(), static_cast<long long>(opts_.drain_timeout.count()));
  for (auto& w : workers_) w->requestDrain(opts_.drain_timeout);
  for (auto& w : workers_) w->join();
  // Hooks go before workers: their destructors release loop resources.
  hooks.clear();
  workers_.clear();
  listeners_.clear();
  for (event* e : sigs) event_free(e);
  event_base_free(control_base_);
  control_base_ = nullptr;
  running_ = false;
  WEIR_INFO("stopped");
  return 0;
}

}  // namespace weir::core
