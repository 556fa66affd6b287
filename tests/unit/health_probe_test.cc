// One health probe against a small server on 127.0.0.1 (port 0): the
// request it sends and the verdict for each kind of answer.
#include <arpa/inet.h>
#include <event2/event.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "upstream/health/probe.h"

namespace weir::upstream {
namespace {

using namespace std::chrono_literals;

SocketAddress loopback(uint16_t port) {
  SocketAddress a;
  auto* in = reinterpret_cast<sockaddr_in*>(&a.storage);
  in->sin_family = AF_INET;
  in->sin_port = htons(port);
  in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.length = sizeof(sockaddr_in);
  return a;
}

int listenLoopback(uint16_t& port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  SocketAddress a = loopback(0);
  EXPECT_EQ(::bind(fd, a.get(), a.length), 0);
  EXPECT_EQ(::listen(fd, 8), 0);
  socklen_t len = a.length;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a.storage), &len);
  port = a.port();
  return fd;
}

// Accepts one connection, reads the request head, then writes each piece
// of `answer` (20 ms apart) and closes, unless `answer` is empty and
// `hold` is set (then it keeps the connection open until the probe closes).
class OneShotServer {
 public:
  OneShotServer(std::vector<std::string> answer, bool hold = false) {
    fd_ = listenLoopback(port_);
    thread_ = std::thread([this, answer = std::move(answer), hold] { serve(answer, hold); });
  }
  ~OneShotServer() {
    join();
    ::close(fd_);
  }
  uint16_t port() const { return port_; }
  const std::string& request() const { return request_; }  // after the probe finished and join

  void join() {
    if (thread_.joinable()) thread_.join();
  }

 private:
  void serve(const std::vector<std::string>& answer, bool hold) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 3000) != 1) return;
    int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) return;
    char buf[1024];
    while (request_.find("\r\n\r\n") == std::string::npos) {
      pollfd q{c, POLLIN, 0};
      if (::poll(&q, 1, 3000) != 1) break;
      ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) break;
      request_.append(buf, static_cast<size_t>(n));
    }
    for (size_t i = 0; i < answer.size(); ++i) {
      if (i > 0) std::this_thread::sleep_for(20ms);
      ::send(c, answer[i].data(), answer[i].size(), MSG_NOSIGNAL);
    }
    if (hold) {  // until the probe gives up and closes
      pollfd q{c, POLLIN, 0};
      ::poll(&q, 1, 3000);
    }
    ::close(c);
  }

  int fd_ = -1;
  uint16_t port_ = 0;
  std::string request_;
  std::thread thread_;
};

struct Outcome {
  ProbeResult result;
  std::chrono::milliseconds took{0};
};

Outcome runProbe(const ProbeSpec& spec) {
  event_base* base = event_base_new();
  std::optional<ProbeResult> got;
  auto t0 = std::chrono::steady_clock::now();
  {
    Probe probe(base, spec, [&](const ProbeResult& r) {
      got = r;
      event_base_loopbreak(base);
    });
    probe.start();
    EXPECT_FALSE(got) << "done ran inside start()";
    event_base_loop(base, EVLOOP_NO_EXIT_ON_EMPTY);
  }
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  event_base_free(base);
  return {got.value_or(ProbeResult{false, "(no result)"}), took};
}

ProbeSpec httpSpec(uint16_t port, std::chrono::milliseconds timeout = 1000ms) {
  ProbeSpec s;
  s.addr = loopback(port);
  s.http = true;
  s.request = probeRequest("/healthz", "app.internal");
  s.timeout = timeout;
  s.expect = {{200, 399}};
  return s;
}

TEST(HealthProbe, PassingStatusAndTheRequestSent) {
  OneShotServer server({"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"});
  Outcome o = runProbe(httpSpec(server.port()));
  server.join();
  EXPECT_TRUE(o.result.passed);
  EXPECT_EQ(o.result.detail, "status 200");
  EXPECT_EQ(server.request(),
            "GET /healthz HTTP/1.1\r\nHost: app.internal\r\nUser-Agent: weir-health-check\r\nConnection: close\r\n\r\n");
}

TEST(HealthProbe, StatusOutsideExpectFails) {
  OneShotServer server({"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"});
  Outcome o = runProbe(httpSpec(server.port()));
  EXPECT_FALSE(o.result.passed);
  EXPECT_EQ(o.result.detail, "status 503");
}

TEST(HealthProbe, StatusLineSplitAcrossWrites) {
  OneShotServer server({"HTT", "P/1.0 20", "4 No Content\r", "\n\r\n"});
  Outcome o = runProbe(httpSpec(server.port()));
  EXPECT_TRUE(o.result.passed);
  EXPECT_EQ(o.result.detail, "status 204");
}

TEST(HealthProbe, GarbageIsAnInvalidResponse) {
  OneShotServer server({"SSH-2.0-OpenSSH_9.6\r\n"}, /*hold=*/true);
  Outcome o = runProbe(httpSpec(server.port()));
  EXPECT_FALSE(o.result.passed);
  EXPECT_EQ(o.result.detail, "invalid response");
  EXPECT_LT(o.took, 900ms);  // at once, not at the timeout
}

TEST(HealthProbe, CloseWithoutAnswer) {
  OneShotServer server({});
  Outcome o = runProbe(httpSpec(server.port()));
  EXPECT_FALSE(o.result.passed);
  EXPECT_EQ(o.result.detail, "closed before responding");
}

TEST(HealthProbe, CloseInsideTheStatusLine) {
  OneShotServer server({"HTTP/1.1 20"});
  Outcome o = runProbe(httpSpec(server.port()));
  EXPECT_FALSE(o.result.passed);
  EXPECT_EQ(o.result.detail, "invalid response");
}

TEST(HealthProbe, SilentServerTimesOut) {
  OneShotServer server({}, /*hold=*/true);
  Outcome o = runProbe(httpSpec(server.port(), 150ms));
  EXPECT_FALSE(o.result.passed);
  EXPECT_EQ(o.result.detail, "timeout");
  EXPECT_GE(o.took, 140ms);
  EXPECT_LT(o.took, 1000ms);
}

TEST(HealthProbe, ClosedPortIsConnectRefused) {
  uint16_t port = 0;
  ::close(listenLoopback(port));
  Outcome o = runProbe(httpSpec(port));
  EXPECT_FALSE(o.result.passed);
  EXPECT_EQ(o.result.detail, "connect refused");
}

TEST(HealthProbe, TcpPassesOnConnect) {
  OneShotServer server({});
  ProbeSpec spec = httpSpec(server.port());
  spec.http = false;
  spec.request.clear();
  Outcome o = runProbe(spec);
  EXPECT_TRUE(o.result.passed);
  EXPECT_EQ(o.result.detail, "connected");
}

}  // namespace
}  // namespace weir::upstream
