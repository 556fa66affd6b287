// A listening TCP socket on an event loop of the caller's choice (the admin
// thread's LoopThread), handing each accepted, non-blocking connection to a
// callback. Unlike the workers' listeners it has no SO_REUSEPORT and no
// hand-off between loops.
//
// Threading: open() on any thread (the main thread, before privileges are
// dropped); start() and close() on the loop thread, or after it ended.
#pragma once

#include <event2/event.h>
#include <sys/socket.h>

#include <functional>

#include "weir/common/net_address.h"
#include "weir/common/result.h"

namespace weir::core {

class Acceptor {
 public:
  // The callee owns fd.
  using Callback = std::function<void(int fd, const sockaddr* peer, socklen_t len)>;

  Acceptor() = default;
  ~Acceptor();
  Acceptor(const Acceptor&) = delete;
  Acceptor& operator=(const Acceptor&) = delete;

  // Binds and listens. The error names the address.
  Status open(const SocketAddress& addr, int backlog);
  // Takes over a socket that listens already (handed over by a binary
  // upgrade); the acceptor owns it from now on.
  void adopt(int fd) { fd_ = fd; }
  // The listening socket, -1 before open.
  int fd() const { return fd_; }
  // The port bound (useful with port 0).
  uint16_t port() const;
  // Starts accepting on `base`. Out of descriptors, accepting pauses for a second.
  void start(event_base* base, Callback cb);
  void close();

 private:
  static void onAccept(evutil_socket_t fd, short what, void* arg);
  static void onResume(evutil_socket_t fd, short what, void* arg);

  int fd_ = -1;
  event* ev_ = nullptr;
  event* resume_ = nullptr;
  Callback cb_;
};

}  // namespace weir::core
