// The admin listener against the real binary: /metrics checked with
// Prometheus's own parser (tests/tools/metrics_check.py) after a scripted
// run, /status in headless Chromium (tests/tools/status_browser.py) while a
// backend goes down, admin.allow, /healthz, /ready, unknown paths and
// methods, and the config errors.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "harness.h"

namespace weir::itest {
namespace {

const std::string kTools = WEIR_TOOLS_DIR;
// Debian's interpreter, which sees Debian's python3-prometheus-client (a
// python3 earlier on PATH, such as a pyenv one, may not).
const std::string kPython = ::access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";

// GET on a new connection to the admin port, from `source` (bound before
// connect when not 127.0.0.1).
std::optional<HttpResponse> adminGet(uint16_t port, const std::string& path, const std::string& method = "GET",
                                     const std::string& source = "127.0.0.1") {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  sockaddr_in from{};
  from.sin_family = AF_INET;
  ::inet_pton(AF_INET, source.c_str(), &from.sin_addr);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof(from)) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0) {
    ::close(fd);
    return std::nullopt;
  }
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: admin\r\n\r\n";
  bool sent = ::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size());
  std::string in;
  char buf[65536];
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  for (ssize_t n; sent && (n = ::recv(fd, buf, sizeof(buf), 0)) > 0;) in.append(buf, static_cast<size_t>(n));
  ::close(fd);
  ResponseParser parser(method == "HEAD");
  parser.feed(in.data(), in.size());
  parser.feedEof();
  if (!parser.done()) return std::nullopt;
  return parser.response();
}

struct AdminSetup {
  uint16_t admin_port = freePort();
  std::string adminSection(const std::string& allow = "") const {
    return "admin:\n  address: 127.0.0.1:" + std::to_string(admin_port) + "\n" + allow;
  }
};

std::string routes() {
  return "routes:\n"
         "  - name: ok\n    match: { path_prefix: /bytes/ }\n    pool: app\n"
         "  - name: missing\n    match: { path_prefix: /status/ }\n    pool: app\n"
         "  - pool: app\n";
}

// Runs the metrics check until it passes (a response reaches the client a
// moment before its exchange is recorded) or 5 s pass; the last output.
RunResult checkMetrics(uint16_t port, const std::vector<std::string>& checks) {
  std::vector<std::string> argv{kPython, kTools + "/metrics_check.py",
                                "http://127.0.0.1:" + std::to_string(port) + "/metrics"};
  argv.insert(argv.end(), checks.begin(), checks.end());
  RunResult r;
  const auto deadline = Clock::now() + Ms(5000);
  do {
    r = run(argv, Ms(15000), "metrics_check");
    if (r.exitCode == 0) break;
    std::this_thread::sleep_for(Ms(200));
  } while (Clock::now() < deadline);
  return r;
}

// One pool "app" of these servers, `extra` under the pool, a catch-all route.
std::string poolWith(const std::vector<std::string>& servers, const std::string& extra, const std::string& rest) {
  std::string y = "pools:\n  app:\n    servers:\n";
  for (const auto& s : servers) y += "      - address: " + s + "\n";
  return y + extra + "routes:\n  - pool: app\n" + rest;
}

bool havePrometheusParser() {
  return run({kPython, "-c", "import prometheus_client.parser"}, Ms(10000), "prom_import").exitCode == 0;
}

TEST(Admin, MetricsCountWhatAScriptedRunSent) {
  if (!havePrometheusParser()) GTEST_SKIP() << "python3-prometheus-client is not installed (scripts/deps.sh installs it)";
  Origin a("a");
  ASSERT_TRUE(a.ok()) << a.error();
  AdminSetup admin;
  Weir weir("pools:\n  app:\n    servers:\n      - address: " + a.address() + "\n" + routes() + admin.adminSection());
  ASSERT_TRUE(weir.ok()) << weir.error();
  ASSERT_TRUE(waitForPort(admin.admin_port, Ms(5000)));
  for (int i = 0; i < 7; ++i) {
    auto r = rawRequest(weir.port(), get("/bytes/100"));
    ASSERT_TRUE(r && r->status == 200);
  }
  for (int i = 0; i < 3; ++i) {
    auto r = rawRequest(weir.port(), get("/status/404"));
    ASSERT_TRUE(r && r->status == 404);
  }
  RunResult r = checkMetrics(admin.admin_port, {
      "weir_requests_total|route=ok,pool=app,code_class=2xx|==|7",
      "weir_requests_total|route=ok,pool=app|==|7",
      "weir_requests_total|route=missing,pool=app,code_class=4xx|==|3",
      "weir_requests_total|route=missing,pool=app|==|3",
      "weir_requests_total|route=/,pool=app|==|0",
      "weir_request_duration_seconds_count|route=ok,pool=app|==|7",
      "weir_request_duration_seconds_bucket|route=ok,pool=app,le=+Inf|==|7",
      "weir_request_duration_seconds_count|route=missing,pool=app|==|3",
      "weir_upstream_requests_total|pool=app,code_class=2xx|==|7",
      "weir_upstream_requests_total|pool=app,code_class=4xx|==|3",
      "weir_upstream_response_duration_seconds_count|pool=app|==|10",
      // A GET head of some 45 bytes each; 100 body bytes and a head of
      // about 90 each back.
      "weir_downstream_received_bytes_total|route=ok,pool=app|>=|" + std::to_string(7 * 40),
      "weir_downstream_received_bytes_total|route=ok,pool=app|<=|" + std::to_string(7 * 200),
      "weir_downstream_sent_bytes_total|route=ok,pool=app|>=|" + std::to_string(7 * 150),
      "weir_downstream_sent_bytes_total|route=ok,pool=app|<=|" + std::to_string(7 * 600),
      // Ten requests and the harness's own connect when it waited for weir.
      "weir_downstream_connections_accepted_total||>=|10",
      "weir_downstream_connections_accepted_total||<=|11",
      "weir_downstream_connections_open||<=|1",
      "weir_upstream_connections_opened_total|pool=app|>=|1",
      "weir_upstream_connections_reused_total|pool=app|>=|1",
      "weir_upstream_connections_open|pool=app|>=|1",
      "weir_upstream_server_up|pool=app,server=" + a.address() + "|==|1",
      "weir_upstream_server_state|pool=app,server=" + a.address() + ",state=up|==|1",
      "weir_upstream_server_in_flight_requests|pool=app|==|0",
      "weir_upstream_server_ejections_total|pool=app|==|0",
      "weir_upstream_retries_total|pool=app|==|0",
      "weir_upstream_retries_refused_total|pool=app|==|0",
      "weir_error_responses_total|pool=app|==|0",
      "weir_config_info|file=" + weir.configPath() + "|==|1",
      "weir_config_reloads_total|result=success|==|0",
      "weir_config_reloads_total|result=failure|==|0",
      "weir_config_last_reload_success||==|1",
      "weir_build_info||==|1",
      "weir_process_cpu_seconds_total||>=|0",
      "weir_process_resident_memory_bytes||>|1000000",
      "weir_process_open_fds||>|3",
      "weir_process_max_fds||>|3",
      "weir_process_start_time_seconds||>|1700000000",
  });
  EXPECT_EQ(r.exitCode, 0) << r.out << r.err;
}

TEST(Admin, MetricsCountErrorAnswersByCause) {
  if (!havePrometheusParser()) GTEST_SKIP() << "python3-prometheus-client is not installed (scripts/deps.sh installs it)";
  AdminSetup admin;
  const std::string dead = "127.0.0.1:" + std::to_string(freePort());  // nothing listens there
  Weir weir("pools:\n  app:\n    servers:\n      - address: " + dead + "\n    passive: false\n" + routes() +
            admin.adminSection());
  ASSERT_TRUE(weir.ok()) << weir.error();
  ASSERT_TRUE(waitForPort(admin.admin_port, Ms(5000)));
  for (int i = 0; i < 4; ++i) {
    auto r = rawRequest(weir.port(), get("/bytes/10"));
    ASSERT_TRUE(r && r->status == 502) << (r ? r->status : 0);
  }
  RunResult r = checkMetrics(admin.admin_port, {
      "weir_error_responses_total|pool=app,code=502|==|4",
      "weir_error_responses_total|pool=app,code=504|==|0",
      "weir_requests_total|route=ok,pool=app,code_class=5xx|==|4",
      "weir_upstream_requests_total|pool=app,code_class=5xx|==|4",
  });
  EXPECT_EQ(r.exitCode, 0) << r.out << r.err;
}

TEST(Admin, AllowRefusesOtherNetworks) {
  Origin a("a");
  ASSERT_TRUE(a.ok()) << a.error();
  AdminSetup admin;
  Weir weir(poolConfig({a.address()}, "", admin.adminSection("  allow: [127.0.0.1/32]\n")));
  ASSERT_TRUE(weir.ok()) << weir.error();
  ASSERT_TRUE(waitForPort(admin.admin_port, Ms(5000)));
  auto refused = adminGet(admin.admin_port, "/metrics", "GET", "127.0.0.2");
  ASSERT_TRUE(refused) << "no answer to a client bound to 127.0.0.2";
  EXPECT_EQ(refused->status, 403);
  auto healthz = adminGet(admin.admin_port, "/healthz", "GET", "127.0.0.2");
  ASSERT_TRUE(healthz);
  EXPECT_EQ(healthz->status, 403);
  auto allowed = adminGet(admin.admin_port, "/metrics", "GET", "127.0.0.1");
  ASSERT_TRUE(allowed);
  EXPECT_EQ(allowed->status, 200);
  EXPECT_EQ(allowed->header("content-type").value_or(""), "text/plain; version=0.0.4; charset=utf-8");
}

// A connection from `source` that sends nothing; -1 on failure.
int idleConnection(uint16_t port, const std::string& source) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in from{};
  from.sin_family = AF_INET;
  ::inet_pton(AF_INET, source.c_str(), &from.sin_addr);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof(from)) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  return fd;
}

// Clients outside allow cannot take the connections a scraper or a
// liveness probe needs: more idle ones than the listener's whole budget
// (64), and /healthz from an allowed client still answers.
TEST(Admin, RefusedClientsCannotCrowdOutAllowedOnes) {
  Origin a("a");
  ASSERT_TRUE(a.ok()) << a.error();
  AdminSetup admin;
  Weir weir(poolConfig({a.address()}, "", admin.adminSection("  allow: [127.0.0.1/32]\n")));
  ASSERT_TRUE(weir.ok()) << weir.error();
  ASSERT_TRUE(waitForPort(admin.admin_port, Ms(5000)));
  std::vector<int> idle;
  for (int i = 0; i < 80; ++i) {
    int fd = idleConnection(admin.admin_port, "127.0.0.2");
    if (fd >= 0) idle.push_back(fd);
  }
  EXPECT_EQ(idle.size(), 80u);
  std::this_thread::sleep_for(Ms(100));  // all accepted by now
  auto healthz = adminGet(admin.admin_port, "/healthz");
  ASSERT_TRUE(healthz) << "no answer to an allowed client while 80 refused ones wait";
  EXPECT_EQ(healthz->status, 200);
  for (int fd : idle) ::close(fd);
}

TEST(Admin, DefaultAllowIsLoopbackOnly) {
  Origin a("a");
  ASSERT_TRUE(a.ok()) << a.error();
  AdminSetup admin;
  Weir weir(poolConfig({a.address()}, "", admin.adminSection()));
  ASSERT_TRUE(weir.ok()) << weir.error();
  ASSERT_TRUE(waitForPort(admin.admin_port, Ms(5000)));
  auto other = adminGet(admin.admin_port, "/healthz", "GET", "127.0.0.2");  // 127.0.0.0/8: loopback too
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 200);
}

TEST(Admin, HealthzReadyAndUnknownPaths) {
  Origin a("a");
  ASSERT_TRUE(a.ok()) << a.error();
  AdminSetup admin;
  const std::string check =
      "    passive: false\n    health_check:\n      path: /healthz\n      interval: 200ms\n      timeout: 100ms\n"
      "      fall: 2\n      rise: 2\n";
  Weir weir(poolWith({a.address()}, check, admin.adminSection()));
  ASSERT_TRUE(weir.ok()) << weir.error();
  ASSERT_TRUE(waitForPort(admin.admin_port, Ms(5000)));

  auto healthz = adminGet(admin.admin_port, "/healthz");
  ASSERT_TRUE(healthz);
  EXPECT_EQ(healthz->status, 200);
  EXPECT_EQ(healthz->body, "ok\n");
  auto ready = adminGet(admin.admin_port, "/ready");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200) << ready->body;
  auto missing = adminGet(admin.admin_port, "/nope");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  auto post = adminGet(admin.admin_port, "/metrics", "POST");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->header("allow").value_or(""), "GET, HEAD");
  auto page = adminGet(admin.admin_port, "/status");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("status.json"), std::string::npos);
  EXPECT_EQ(page->body.find("http://"), std::string::npos) << "the page must not load external assets";
  EXPECT_EQ(page->body.find("https://"), std::string::npos) << "the page must not load external assets";
  auto json = adminGet(admin.admin_port, "/status.json");
  ASSERT_TRUE(json);
  EXPECT_EQ(json->status, 200);
  EXPECT_EQ(json->header("content-type").value_or(""), "application/json");
  EXPECT_NE(json->body.find("\"address\":\"" + a.address() + "\",\"state\":\"up\""), std::string::npos) << json->body;

  // Every server of the only pool down: not ready, and why.
  auto r = rawRequest(a.port(), "GET /_control/health?status=503 HTTP/1.1\r\nHost: o\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(r && r->status == 200);
  std::optional<HttpResponse> last;
  const auto deadline = Clock::now() + Ms(underSanitizer() ? 8000 : 4000);
  while (Clock::now() < deadline) {
    last = adminGet(admin.admin_port, "/ready");
    if (last && last->status == 503) break;
    std::this_thread::sleep_for(Ms(100));
  }
  ASSERT_TRUE(last);
  EXPECT_EQ(last->status, 503);
  EXPECT_NE(last->body.find("pool app has no usable server"), std::string::npos) << last->body;
  auto still = adminGet(admin.admin_port, "/healthz");
  ASSERT_TRUE(still);
  EXPECT_EQ(still->status, 200);
}

TEST(Admin, StatusPageInAHeadlessBrowserFollowsAServerGoingDown) {
  const std::string chromium = "/usr/bin/chromium";
  if (::access(chromium.c_str(), X_OK) != 0) GTEST_SKIP() << chromium << " is not installed (scripts/deps.sh installs it)";
  Origin a("a");
  Origin b("b");
  ASSERT_TRUE(a.ok()) << a.error();
  ASSERT_TRUE(b.ok()) << b.error();
  AdminSetup admin;
  const std::string check =
      "    passive: false\n    health_check:\n      path: /healthz\n      interval: 200ms\n      timeout: 100ms\n"
      "      fall: 2\n      rise: 2\n";
  Weir weir(poolWith({a.address(), b.address()}, check, admin.adminSection()));
  ASSERT_TRUE(weir.ok()) << weir.error();
  ASSERT_TRUE(waitForPort(admin.admin_port, Ms(5000)));
  const std::string status_url = "http://127.0.0.1:" + std::to_string(admin.admin_port) + "/status";
  const std::string down_url = "http://" + b.address() + "/_control/health?status=503";
  RunResult r = run({kPython, kTools + "/status_browser.py", chromium, status_url, "app/" + b.address(), down_url, "25"},
                    Ms(29000), "status_browser");
  EXPECT_EQ(r.exitCode, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("down, page not reloaded"), std::string::npos) << r.out;
}

TEST(Admin, AddressOfADataListenerIsAConfigError) {
  const uint16_t port = freePort();
  const std::string yaml = "listeners:\n  - address: 127.0.0.1:" + std::to_string(port) +
                           "\npools:\n  app:\n    servers:\n      - address: 127.0.0.1:1\nroutes:\n  - pool: app\n"
                           "admin:\n  address: 127.0.0.1:" + std::to_string(port) + "\n";
  const std::string path = testDir() + "/same.yaml";
  writeFile(path, yaml);
  RunResult r = run({WEIR_BIN, "-t", "-c", path}, Ms(10000), "weir_t");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find(path + ":10:12: admin.address: the admin listener must not share an address"), std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace weir::itest
