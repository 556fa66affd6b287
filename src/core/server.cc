#include "weir/core/server.h"

#include <event2/event.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

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
  for (unsigned i = 0; i < opts_.workers; ++i) workers_.push_back(std::make_unique<Worker>(i));
  std::vector<Worker*> all;
  for (auto& w : workers_) all.push_back(w.get());
  for (auto& w : workers_) w->setPeers(all);
  for (size_t l = 0; l < opts_.listeners.size(); ++l) {
    for (auto& w : workers_) {
      auto fd = listenOn(opts_.listeners[l], opts_.backlogs[l]);
      if (!fd) return fd.error();
      w->addListener(*fd);
    }
  }
  return Ok{};
}

namespace {

struct ControlState {
  event_base* base;
  int stop_signal = 0;
};

void onSignal(evutil_socket_t sig, short, void* arg) {
  auto* st = static_cast<ControlState*>(arg);
  if (sig == SIGUSR1) {
    WEIR_INFO("SIGUSR1: reopening log files");
    log::Writer::instance().requestReopen();
    return;
  }
  if (sig == SIGHUP) {
    WEIR_WARN("SIGHUP received: configuration reload is not supported yet; ignoring");
    return;
  }
  if (st->stop_signal == 0) {
    st->stop_signal = static_cast<int>(sig);
    event_base_loopbreak(st->base);
  }
}

}  // namespace

int Server::run(const HooksFactory& factory) {
  std::signal(SIGPIPE, SIG_IGN);
  // Workers inherit this mask: only the control loop takes signals.
  sigset_t mask;
  sigemptyset(&mask);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGUSR1}) sigaddset(&mask, sig);
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);

  std::vector<std::unique_ptr<Worker::Hooks>> hooks;
  for (auto& w : workers_) {
    hooks.push_back(factory(*w));
    w->start(hooks.back().get());
  }

  ControlState st;
  st.base = event_base_new();
  event* sigs[] = {evsignal_new(st.base, SIGTERM, onSignal, &st), evsignal_new(st.base, SIGINT, onSignal, &st),
                   evsignal_new(st.base, SIGHUP, onSignal, &st), evsignal_new(st.base, SIGUSR1, onSignal, &st)};
  for (event* e : sigs) event_add(e, nullptr);
  pthread_sigmask(SIG_UNBLOCK, &mask, nullptr);
  WEIR_INFO("weir %s started: %u workers", WEIR_VERSION, opts_.workers);

  event_base_dispatch(st.base);

  WEIR_INFO("signal %d: draining (up to %lld ms)", st.stop_signal,
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
