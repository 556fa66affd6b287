#include "origin_server.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace weir::origin {
namespace {

constexpr int kBacklog = 4096;

struct HostPort {
  std::string host;
  std::string port;
};

bool splitHostPort(const std::string& spec, HostPort& out) {
  size_t colon = spec.rfind(':');
  if (colon == std::string::npos || colon + 1 == spec.size()) return false;
  out.host = spec.substr(0, colon);
  out.port = spec.substr(colon + 1);
  if (out.host.size() >= 2 && out.host.front() == '[' && out.host.back() == ']') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  return true;
}

// A listening socket with SO_REUSEPORT (when `reuse_port`) bound to `addr`.
int openListener(const sockaddr* addr, socklen_t len, bool reuse_port, bool do_listen) {
  int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (reuse_port) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (::bind(fd, addr, len) != 0 || (do_listen && listen(fd, kBacklog) != 0)) {
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

uint16_t boundPort(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
}

void setPort(sockaddr_storage& ss, uint16_t port) {
  if (ss.ss_family == AF_INET6) {
    reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port = htons(port);
  } else {
    reinterpret_cast<sockaddr_in*>(&ss)->sin_port = htons(port);
  }
}

}  // namespace

Server::Server(ServerOptions options)
    : options_(std::move(options)),
      origin_header_("X-Origin: " + options_.name + "\r\n"),
      hello_body_("hello from " + options_.name + "\n"),
      health_(options_.health_status) {
  if (options_.threads == 0) options_.threads = 1;
  fds_per_thread_.resize(options_.threads);
}

Server::~Server() {
  stop();
  workers_.clear();
  for (auto& fds : fds_per_thread_) {
    for (int fd : fds) close(fd);
  }
}

bool Server::bind(std::string& error) {
  for (const std::string& spec : options_.listen) {
    if (!bindAddress(spec, error)) return false;
  }
  return true;
}

namespace {

// Resolves HOST:PORT (numeric port) into `ss`.
bool resolve(const std::string& spec, HostPort& hp, sockaddr_storage& ss, socklen_t& len) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  if (!splitHostPort(spec, hp)) return false;
  const char* host = hp.host.empty() ? nullptr : hp.host.c_str();
  if (getaddrinfo(host, hp.port.c_str(), &hints, &res) != 0) return false;
  std::memcpy(&ss, res->ai_addr, res->ai_addrlen);
  len = res->ai_addrlen;
  freeaddrinfo(res);
  return true;
}

}  // namespace

// SO_REUSEPORT would silently share a port with another process, so a port
// that is already listening is detected first with a plain bind. Port 0 is
// bound once and the kernel's choice reused for the other threads.
bool Server::bindAddress(const std::string& spec, std::string& error) {
  HostPort hp;
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (!resolve(spec, hp, ss, len)) {
    error = "invalid listen address '" + spec + "'";
    return false;
  }
  auto* addr = reinterpret_cast<sockaddr*>(&ss);
  int probe = hp.port == "0" ? -2 : openListener(addr, len, false, false);
  if (probe == -1) {
    error = "cannot bind " + spec + ": " + std::strerror(errno);
    return false;
  }
  if (probe >= 0) close(probe);
  for (unsigned t = 0; t < options_.threads; ++t) {
    int fd = openListener(addr, len, true, true);
    if (fd < 0) {
      error = "cannot listen on " + spec + ": " + std::strerror(errno);
      return false;
    }
    fds_per_thread_[t].push_back(fd);
    if (t == 0) setPort(ss, boundPort(fd));
  }
  std::string port = std::to_string(boundPort(fds_per_thread_[0].back()));
  bool v6 = hp.host.find(':') != std::string::npos;
  bound_.push_back(v6 ? "[" + hp.host + "]:" + port : hp.host + ":" + port);
  return true;
}

bool Server::start(std::string& error) {
  for (auto& fds : fds_per_thread_) {
    workers_.push_back(std::make_unique<Worker>(*this, std::move(fds)));
    fds.clear();
    if (!workers_.back()->init()) {
      error = "cannot create event loop";
      return false;
    }
  }
  std::vector<Worker*> all;
  for (auto& w : workers_) all.push_back(w.get());
  for (auto& w : workers_) w->setPeers(all);
  for (auto& w : workers_) {
    Worker* worker = w.get();
    threads_.emplace_back([worker] { worker->run(); });
  }
  return true;
}

void Server::stop() {
  for (auto& w : workers_) w->requestStop();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

uint64_t Server::totalConnections() const {
  uint64_t sum = 0;
  for (const auto& w : workers_) sum += w->counters().connections.load(std::memory_order_relaxed);
  return sum;
}

uint64_t Server::totalRequests() const {
  uint64_t sum = 0;
  for (const auto& w : workers_) sum += w->counters().requests.load(std::memory_order_relaxed);
  return sum;
}

}  // namespace weir::origin
