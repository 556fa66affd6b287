// HealthService on its own thread: probes mark a server down, and due
// passive ejections end, without any worker running.
#include "weir/upstream/health_service.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <thread>

namespace weir::upstream {
namespace {

using namespace std::chrono_literals;

// A port nobody listens on.
uint16_t closedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

config::ConfigPtr configFor(uint16_t port, bool health_check) {
  const std::string yaml = "listeners:\n  - address: 127.0.0.1:8080\n"
                           "pools:\n  app:\n    servers:\n      - address: 127.0.0.1:" +
                           std::to_string(port) + "\n" +
                           (health_check ? "    health_check: { type: tcp, interval: 50ms, timeout: 50ms, fall: 1, rise: 1 }\n"
                                         : "") +
                           "    passive: { ejection: 100ms }\n"
                           "routes:\n  - pool: app\n";
  auto cfg = config::loadString(yaml, "t.yaml");
  EXPECT_TRUE(cfg.ok()) << cfg.error().message;
  return cfg.ok() ? *cfg : nullptr;
}

bool waitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

TEST(HealthService, MarksAnUnreachableServerDown) {
  config::ConfigPtr cfg = configFor(closedPort(), true);
  ASSERT_TRUE(cfg);
  HealthRegistry registry;
  std::vector<PoolView> views{registry.view(cfg->pools[0])};
  ServerStatePtr s = views[0].servers[0];
  HealthService health(healthTargets(cfg, views), 1);
  EXPECT_EQ(health.checkedServers(), 1u);
  EXPECT_TRUE(s->usable());  // up until probed
  health.start();
  EXPECT_TRUE(waitFor([&] { return !s->usable(); }, 2000ms));
  EXPECT_TRUE(s->activeDown());
  EXPECT_EQ(s->status().reason, "connect refused; 1 failure in a row");
  health.stop();
  health.stop();  // idempotent
}

TEST(HealthService, EndsDueEjectionsWithoutActiveChecks) {
  config::ConfigPtr cfg = configFor(closedPort(), false);
  ASSERT_TRUE(cfg);
  HealthRegistry registry;
  std::vector<PoolView> views{registry.view(cfg->pools[0])};
  ServerStatePtr s = views[0].servers[0];
  config::PassiveHealthConfig passive = cfg->pools[0].passive;
  passive.consecutive_failures = 1;
  passive.max_ejected_percent = 100;
  ASSERT_TRUE(PassiveHealth(passive, 1).onFailure(*s, *views[0].health, "status 502", monotonicMs()));
  HealthService health(healthTargets(cfg, views), 1);
  EXPECT_EQ(health.checkedServers(), 0u);
  auto t0 = std::chrono::steady_clock::now();
  health.start();
  EXPECT_TRUE(waitFor([&] { return s->usable(); }, 2000ms));
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(took, 80ms);    // not before its time (100 ms, coarse clock)
  EXPECT_LT(took, 1000ms);  // within an expiry period or so after it
  // The pool's count drops just after the server turns usable.
  EXPECT_TRUE(waitFor([&] { return views[0].health->ejected.load() == 0; }, 1000ms));
}

TEST(HealthService, StopWithoutStart) {
  config::ConfigPtr cfg = configFor(closedPort(), true);
  ASSERT_TRUE(cfg);
  HealthRegistry registry;
  HealthService health(healthTargets(cfg, {registry.view(cfg->pools[0])}), 1);
  health.stop();
}

}  // namespace
}  // namespace weir::upstream
