#include "weir/core/acceptor.h"

#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace weir::core {

Acceptor::~Acceptor() { close(); }

Status Acceptor::open(const SocketAddress& addr, int backlog) {
  const std::string where = addr.toString();
  int fd = ::socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error{"cannot create a socket for " + where + ": " + std::strerror(errno)};
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  // A binary upgrade's new process binds the same address while the old
  // one still serves on it (the caller checks the address is free first
  // otherwise: core::probeFree).
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  if (addr.family() == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  if (::bind(fd, addr.get(), addr.length) != 0 || ::listen(fd, backlog) != 0) {
    int err = errno;
    ::close(fd);
    return Error{"cannot listen on " + where + ": " + std::strerror(err)};
  }
  fd_ = fd;
  return Ok{};
}

uint16_t Acceptor::port() const {
  SocketAddress a;
  a.length = sizeof(a.storage);
  if (fd_ < 0 || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a.storage), &a.length) != 0) return 0;
  return a.port();
}

void Acceptor::start(event_base* base, Callback cb) {
  cb_ = std::move(cb);
  ev_ = event_new(base, fd_, EV_READ | EV_PERSIST, &Acceptor::onAccept, this);
  resume_ = evtimer_new(base, &Acceptor::onResume, this);
  event_add(ev_, nullptr);
}

void Acceptor::close() {
  if (ev_ != nullptr) event_free(ev_);
  if (resume_ != nullptr) event_free(resume_);
  ev_ = resume_ = nullptr;
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void Acceptor::onAccept(evutil_socket_t fd, short, void* arg) {
  auto* a = static_cast<Acceptor*>(arg);
  for (int i = 0; i < 64; ++i) {
    sockaddr_storage peer{};
    socklen_t len = sizeof(peer);
    int conn = ::accept4(fd, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (conn < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Level-triggered: without a pause this would spin.
        event_del(a->ev_);
        const timeval second{1, 0};
        event_add(a->resume_, &second);
      }
      return;
    }
    a->cb_(conn, reinterpret_cast<const sockaddr*>(&peer), len);
  }
}

void Acceptor::onResume(evutil_socket_t, short, void* arg) {
  auto* a = static_cast<Acceptor*>(arg);
  event_add(a->ev_, nullptr);
}

}  // namespace weir::core
