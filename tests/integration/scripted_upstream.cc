#include "scripted_upstream.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace weir::itest {
namespace {

int msUntil(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<Ms>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

}  // namespace

long UpstreamConn::readSome(Ms timeout) {
  if (eof_) return 0;
  auto deadline = Clock::now() + timeout;
  char tmp[65536];
  for (;;) {
    ssize_t r = ::recv(fd_, tmp, sizeof tmp, MSG_DONTWAIT);
    if (r > 0) {
      buf_.append(tmp, static_cast<size_t>(r));
      return r;
    }
    if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
      eof_ = true;
      return 0;
    }
    int left = msUntil(deadline);
    if (left == 0) return -1;
    pollfd p{fd_, POLLIN, 0};
    ::poll(&p, 1, left);
  }
}

std::optional<std::string> UpstreamConn::readHead(Ms timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    size_t end = buf_.find("\r\n\r\n");
    if (end != std::string::npos) {
      std::string head = buf_.substr(0, end + 4);
      buf_.erase(0, end + 4);
      return head;
    }
    if (readSome(std::chrono::duration_cast<Ms>(deadline - Clock::now())) <= 0) return std::nullopt;
  }
}

std::optional<std::string> UpstreamConn::readBytes(size_t n, Ms timeout) {
  auto deadline = Clock::now() + timeout;
  while (buf_.size() < n) {
    if (readSome(std::chrono::duration_cast<Ms>(deadline - Clock::now())) <= 0) return std::nullopt;
  }
  std::string out = buf_.substr(0, n);
  buf_.erase(0, n);
  return out;
}

std::string UpstreamConn::readUntilEof(Ms timeout) {
  auto deadline = Clock::now() + timeout;
  while (!eof_ && readSome(std::chrono::duration_cast<Ms>(deadline - Clock::now())) > 0) {
  }
  std::string out;
  out.swap(buf_);
  return out;
}

bool UpstreamConn::waitEof(Ms timeout) {
  auto deadline = Clock::now() + timeout;
  while (!eof_) {
    if (readSome(std::chrono::duration_cast<Ms>(deadline - Clock::now())) < 0) return false;
  }
  return true;
}

bool UpstreamConn::send(std::string_view data, Ms timeout) {
  auto deadline = Clock::now() + timeout;
  size_t off = 0;
  while (off < data.size()) {
    ssize_t w = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w > 0) {
      off += static_cast<size_t>(w);
      continue;
    }
    if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
      int left = msUntil(deadline);
      if (left == 0) return false;
      pollfd p{fd_, POLLOUT, 0};
      ::poll(&p, 1, left);
      continue;
    }
    return false;
  }
  return true;
}

void UpstreamConn::shutdownWrite() { ::shutdown(fd_, SHUT_WR); }

void UpstreamConn::reset() {
  linger lg{1, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  ::shutdown(fd_, SHUT_RD);  // the close below then sends RST
}

ScriptedUpstream::ScriptedUpstream(Script script) : script_(std::move(script)) {
  listenFd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listenFd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listenFd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(listenFd_, 128) != 0) {
    ADD_FAILURE() << "scripted upstream: bind/listen: " << std::strerror(errno);
    return;
  }
  socklen_t len = sizeof sa;
  ::getsockname(listenFd_, reinterpret_cast<sockaddr*>(&sa), &len);
  port_ = ntohs(sa.sin_port);
  if (::pipe2(stopPipe_, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "scripted upstream: pipe failed";
    return;
  }
  acceptor_ = std::thread([this] { acceptLoop(); });
}

ScriptedUpstream::~ScriptedUpstream() {
  stopping_ = true;
  if (acceptor_.joinable()) {
    char c = 'x';
    [[maybe_unused]] ssize_t w = ::write(stopPipe_[1], &c, 1);
    acceptor_.join();
  }
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);  // wakes scripts blocked in poll
    threads.swap(threads_);
  }
  for (auto& t : threads) t.join();
  for (int fd : {listenFd_, stopPipe_[0], stopPipe_[1]}) {
    if (fd >= 0) ::close(fd);
  }
}

void ScriptedUpstream::acceptLoop() {
  for (int index = 0; index < 1000; ++index) {
    pollfd fds[2] = {{stopPipe_[0], POLLIN, 0}, {listenFd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
    if (fds[0].revents) return;
    int fd = ::accept4(listenFd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    accepted_++;
    std::lock_guard<std::mutex> lock(mu_);
    fds_.push_back(fd);
    threads_.emplace_back([this, fd, index] {
      UpstreamConn conn(fd);
      script_(conn, index);
      finished_++;
      std::lock_guard<std::mutex> l(mu_);
      for (int& f : fds_) {
        if (f == fd) f = -1;
      }
      ::close(fd);
    });
  }
}

}  // namespace weir::itest
