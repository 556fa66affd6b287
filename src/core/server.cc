#include "weir/core/server.h"

#include <event2/event.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
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

Status Server::open() {
  for (const SocketAddress& addr : opts_.listeners) {
    if (auto st = probeFree(addr); !st) return st;
  }
  gate_ = std::make_unique<ConnectionGate>(opts_.max_connections);
  for (unsigned i = 0; i < opts_.workers; ++i) workers_.push_back(std::make_unique<Worker>(i));
  std::vector<Worker*> all;
  for (auto& w : workers_) all.push_back(w.get());
  for (auto& w : workers_) {
    w->setPeers(all);
    w->setGate(gate_.get());
  }
  for (size_t l = 0; l < opts_.listeners.size(); ++l) {
    for (auto& w : workers_) {
      auto fd = listenOn(opts_.listeners[l], opts_.backlogs[l]);
      if (!fd) return fd.error();
      w->addListener(*fd);
    }
  }
  return Ok{};
}

std::string describeListeners(const std::vector<SocketAddress>& listeners, unsigned workers) {
  std::string out = "listening on ";
  for (size_t i = 0; i < listeners.size(); ++i) out += (i == 0 ? "" : ", ") + listeners[i].toString();
  return out + "; " + std::to_string(workers) + (workers == 1 ? " worker" : " workers");
}

namespace {

struct ControlState {
  event_base* base;
  int stop_signal = 0;
};

void onSignal(evutil_socket_t fd, short, void* arg) {
  auto* st = static_cast<ControlState*>(arg);
  int sig = static_cast<int>(fd);
  std::string name = signalName(sig);
  SignalAction action = SignalAction::kUnused;
  for (const ControlSignal& s : controlSignals()) {
    if (s.number == sig) action = s.action;
  }
  switch (action) {
    case SignalAction::kStop:
      if (st->stop_signal == 0) {
        st->stop_signal = sig;
        event_base_loopbreak(st->base);
      }
      return;
    case SignalAction::kReopenLogs:
      WEIR_INFO("%s: reopening log files", name.c_str());
      log::Writer::instance().requestReopen();
      return;
    case SignalAction::kReloadUnsupported:
      WEIR_WARN("%s received: configuration reload is not supported yet; ignoring", name.c_str());
      return;
    case SignalAction::kUpgradeUnsupported:
      WEIR_WARN("%s received: it is reserved for binary upgrade, which is not supported yet; ignoring", name.c_str());
      return;
    case SignalAction::kUnused:
      WEIR_WARN("%s received: weir does not use this signal; ignoring", name.c_str());
      return;
  }
}

}  // namespace

int Server::run(const HooksFactory& factory) {
  std::signal(SIGPIPE, SIG_IGN);
  // Workers inherit this mask: only the control loop takes signals.
  sigset_t mask = controlSignalSet();
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);

  // The control loop's descriptors are taken before any worker accepts:
  // clients arriving at once could otherwise use up the last ones.
  ControlState st;
  st.base = event_base_new();
  if (st.base == nullptr) {
    WEIR_ERROR("cannot create the control loop: %s", std::strerror(errno));
    return 1;
  }
  std::vector<event*> sigs;
  for (const ControlSignal& s : controlSignals()) {
    sigs.push_back(evsignal_new(st.base, s.number, onSignal, &st));
    event_add(sigs.back(), nullptr);
  }

  std::vector<std::unique_ptr<Worker::Hooks>> hooks;
  for (auto& w : workers_) {
    hooks.push_back(factory(*w));
    w->start(hooks.back().get());
  }
  pthread_sigmask(SIG_UNBLOCK, &mask, nullptr);
  WEIR_INFO("weir %s started: %s", WEIR_VERSION, describeListeners(opts_.listeners, opts_.workers).c_str());

  event_base_dispatch(st.base);

  WEIR_INFO("%s: draining (up to %lld ms)", signalName(st.stop_signal).c_str(),
            static_cast<long long>(opts_.drain_timeout.count()));
  for (auto& w : workers_) w->requestDrain(opts_.drain_timeout);
  for (auto& w : workers_) w->join();
  // Hooks go before workers: their destructors release loop resources.
  hooks.clear();
  workers_.clear();
  for (event* e : sigs) event_free(e);
  event_base_free(st.base);
  WEIR_INFO("stopped");
  return 0;
}

}  // namespace weir::core
