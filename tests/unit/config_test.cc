#include "weir/config/config.h"

#include <gtest/gtest.h>
#include <sched.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config_fixture.h"

namespace weir::config {
namespace {

using testing::errorOf;
using testing::kBase;
using testing::loadOrDefaults;
using testing::mustLoad;

struct ErrorCase {
  const char* yaml;
  const char* expected;  // without the leading "t.yaml:"
};

void expectErrors(const std::vector<ErrorCase>& cases, const std::string& prefix) {
  for (const ErrorCase& c : cases) {
    std::string yaml = prefix + c.yaml;
    SCOPED_TRACE(yaml);
    EXPECT_EQ(errorOf(yaml), std::string("t.yaml:") + c.expected);
  }
}

// ---------------------------------------------------------------------------
// Successful loads

TEST(ConfigTest, MinimalConfigGetsDefaults) {
  ConfigPtr config = mustLoad(kBase);
  ASSERT_TRUE(config);
  EXPECT_EQ(config->source, "t.yaml");
  EXPECT_GE(config->workers, 1u);
  ASSERT_EQ(config->listeners.size(), 1u);
  EXPECT_EQ(config->listeners[0].address, "127.0.0.1:8080");
  EXPECT_EQ(config->listeners[0].addr.toString(), "127.0.0.1:8080");
  EXPECT_EQ(config->listeners[0].backlog, 4096);

  ASSERT_EQ(config->pools.size(), 1u);
  const PoolConfig& pool = config->pools[0];
  EXPECT_EQ(pool.name, "app");
  ASSERT_EQ(pool.servers.size(), 1u);
  EXPECT_EQ(pool.servers[0].address, "127.0.0.1:9001");
  EXPECT_EQ(pool.servers[0].addr.toString(), "127.0.0.1:9001");
  EXPECT_EQ(pool.servers[0].weight, 1u);
  EXPECT_EQ(pool.keepalive, 64u);
  EXPECT_EQ(pool.retries, 1u);
  EXPECT_EQ(pool.balancer, "round_robin");

  ASSERT_EQ(config->routes.size(), 1u);
  EXPECT_EQ(config->routes[0].host, "");
  EXPECT_EQ(config->routes[0].path_prefix, "");
  EXPECT_EQ(config->routes[0].pool, "app");
  EXPECT_EQ(config->routes[0].pool_index, 0u);

  using std::chrono::seconds;
  EXPECT_EQ(config->timeouts.client_header, seconds(10));
  EXPECT_EQ(config->timeouts.client_idle, seconds(60));
  EXPECT_EQ(config->timeouts.upstream_connect, seconds(2));
  EXPECT_EQ(config->timeouts.upstream_response, seconds(30));
  EXPECT_EQ(config->timeouts.send, seconds(30));
  EXPECT_EQ(config->timeouts.drain, seconds(30));
  EXPECT_EQ(config->limits.header_bytes, 32u * 1024);
  EXPECT_EQ(config->limits.headers, 100u);
  EXPECT_EQ(config->limits.uri_bytes, 8u * 1024);
  EXPECT_EQ(config->limits.body_bytes, 1ull << 30);
  EXPECT_TRUE(config->proxy_headers.x_forwarded_for);
  EXPECT_TRUE(config->proxy_headers.x_forwarded_proto);
  EXPECT_TRUE(config->proxy_headers.x_forwarded_host);
  EXPECT_TRUE(config->proxy_headers.via);
  EXPECT_TRUE(config->access_log.enabled);
  EXPECT_EQ(config->access_log.path, "/dev/stdout");
  EXPECT_EQ(config->access_log.format, "combined");
  EXPECT_EQ(config->error_log.path, "/dev/stderr");
  EXPECT_EQ(config->error_log.level, LogLevel::kInfo);
}

TEST(ConfigTest, EveryKeyIsRead) {
  ConfigPtr config = mustLoad(R"(workers: 3
listeners:
  - address: "*:8080"
    backlog: 128
  - address: "[::1]:8443"
pools:
  zeta:
    servers:
      - { address: 127.0.0.1:9001, weight: 5 }
      - address: "[::1]:9002"
        weight: 1000
    keepalive: 0
    retries: 100
    balancer: round_robin
  alpha:
    servers: [{ address: localhost:9003 }]
    keepalive: 100000
    retries: 0
routes:
  - match: { host: "*.Example.COM", path_prefix: /api/ }
    pool: alpha
  - match: { host: WWW.example.com }
    pool: zeta
  - match: { host: "*", path_prefix: /static/ }
    pool: alpha
  - match: {}
    pool: zeta
timeouts:
  client_header: 500ms
  client_idle: 2m
  upstream_connect: 250us
  upstream_response: 1h
  send: 1.5s
  drain: 5
limits:
  header_bytes: 1KiB
  headers: 7
  uri_bytes: 16k
  body_bytes: 32KB
proxy_headers: { x_forwarded_for: false, x_forwarded_proto: no, x_forwarded_host: off, via: False }
access_log: { path: /var/log/weir/access.log, format: json }
error_log: { path: /tmp/weir-error.log, level: debug }
)");
  ASSERT_TRUE(config);
  EXPECT_EQ(config->workers, 3u);
  ASSERT_EQ(config->listeners.size(), 2u);
  EXPECT_EQ(config->listeners[0].addr.toString(), "0.0.0.0:8080");
  EXPECT_EQ(config->listeners[0].backlog, 128);
  EXPECT_EQ(config->listeners[1].address, "[::1]:8443");
  EXPECT_EQ(config->listeners[1].addr.toString(), "[::1]:8443");

  // Pools keep file order, not alphabetical order.
  ASSERT_EQ(config->pools.size(), 2u);
  EXPECT_EQ(config->pools[0].name, "zeta");
  EXPECT_EQ(config->pools[1].name, "alpha");
  EXPECT_EQ(config->poolIndex("zeta"), 0);
  EXPECT_EQ(config->poolIndex("alpha"), 1);
  EXPECT_EQ(config->poolIndex("beta"), -1);
  EXPECT_EQ(config->pools[0].servers[0].weight, 5u);
  EXPECT_EQ(config->pools[0].servers[1].weight, 1000u);
  EXPECT_EQ(config->pools[0].servers[1].addr.toString(), "[::1]:9002");
  EXPECT_EQ(config->pools[0].keepalive, 0u);
  EXPECT_EQ(config->pools[0].retries, 100u);
  EXPECT_EQ(config->pools[1].keepalive, 100000u);
  EXPECT_EQ(config->pools[1].retries, 0u);
  EXPECT_EQ(config->pools[1].servers[0].address, "localhost:9003");
  EXPECT_EQ(config->pools[1].servers[0].addr.port(), 9003);

  ASSERT_EQ(config->routes.size(), 4u);
  EXPECT_EQ(config->routes[0].host, "*.example.com");  // lower-cased
  EXPECT_EQ(config->routes[0].path_prefix, "/api/");
  EXPECT_EQ(config->routes[0].pool_index, 1u);
  EXPECT_EQ(config->routes[1].host, "www.example.com");
  EXPECT_EQ(config->routes[1].pool_index, 0u);
  EXPECT_EQ(config->routes[2].host, "");  // "*" is any host
  EXPECT_EQ(config->routes[2].path_prefix, "/static/");
  EXPECT_EQ(config->routes[3].host, "");
  EXPECT_EQ(config->routes[3].path_prefix, "");

  using std::chrono::milliseconds;
  EXPECT_EQ(config->timeouts.client_header, milliseconds(500));
  EXPECT_EQ(config->timeouts.client_idle, milliseconds(120000));
  EXPECT_EQ(config->timeouts.upstream_connect, milliseconds(1));
  EXPECT_EQ(config->timeouts.upstream_response, milliseconds(3600000));
  EXPECT_EQ(config->timeouts.send, milliseconds(1500));
  EXPECT_EQ(config->timeouts.drain, milliseconds(5000));
  EXPECT_EQ(config->limits.header_bytes, 1024u);
  EXPECT_EQ(config->limits.headers, 7u);
  EXPECT_EQ(config->limits.uri_bytes, 16384u);
  EXPECT_EQ(config->limits.body_bytes, 32000u);
  EXPECT_FALSE(config->proxy_headers.x_forwarded_for);
  EXPECT_FALSE(config->proxy_headers.x_forwarded_proto);
  EXPECT_FALSE(config->proxy_headers.x_forwarded_host);
  EXPECT_FALSE(config->proxy_headers.via);
  EXPECT_TRUE(config->access_log.enabled);
  EXPECT_EQ(config->access_log.path, "/var/log/weir/access.log");
  EXPECT_EQ(config->access_log.format, "json");
  EXPECT_EQ(config->error_log.path, "/tmp/weir-error.log");
  EXPECT_EQ(config->error_log.level, LogLevel::kDebug);
}

TEST(ConfigTest, WorkersAutoIsUsableCpuCount) {
  cpu_set_t set;
  CPU_ZERO(&set);
  ASSERT_EQ(sched_getaffinity(0, sizeof(set), &set), 0);
  unsigned expected = std::min(static_cast<unsigned>(CPU_COUNT(&set)), 256u);
  EXPECT_EQ(loadOrDefaults(std::string("workers: auto\n") + kBase).workers, expected);
  EXPECT_EQ(loadOrDefaults(kBase).workers, expected);  // auto is the default
  EXPECT_EQ(loadOrDefaults(std::string("workers: 1\n") + kBase).workers, 1u);
  EXPECT_EQ(loadOrDefaults(std::string("workers: 256\n") + kBase).workers, 256u);
}

TEST(ConfigTest, AccessLogOff) {
  for (const char* off : {"off", "\"off\"", "false", "Off", "no"}) {
    SCOPED_TRACE(off);
    ConfigPtr config = mustLoad(std::string(kBase) + "access_log: " + off + "\n");
    ASSERT_TRUE(config);
    EXPECT_FALSE(config->access_log.enabled);
  }
  ConfigPtr on = mustLoad(std::string(kBase) + "access_log: on\n");
  ASSERT_TRUE(on);
  EXPECT_TRUE(on->access_log.enabled);
  EXPECT_EQ(on->access_log.path, "/dev/stdout");
}

TEST(ConfigTest, ListenersOnBothFamiliesAreDistinct) {
  ConfigPtr config = mustLoad(R"(listeners:
  - address: 0.0.0.0:8080
  - address: "[::]:8080"
  - address: 127.0.0.1:8080
pools: { app: { servers: [{ address: 127.0.0.1:9001 }] } }
routes: [{ pool: app }]
)");
  ASSERT_TRUE(config);
  ASSERT_EQ(config->listeners.size(), 3u);
  EXPECT_EQ(config->listeners[1].addr.toString(), "[::]:8080");
}

TEST(ConfigTest, SizesAndDurationsMayBeBareNumbers) {
  ConfigPtr config = mustLoad(std::string(kBase) +
                              "timeouts: { client_idle: 90 }\nlimits: { body_bytes: 1048576 }\n");
  ASSERT_TRUE(config);
  EXPECT_EQ(config->timeouts.client_idle, std::chrono::seconds(90));
  EXPECT_EQ(config->limits.body_bytes, 1048576u);
}

TEST(ConfigTest, PoolNamesMayUseDotsDashesUnderscores) {
  ConfigPtr config = mustLoad(R"(listeners: [{ address: 127.0.0.1:8080 }]
pools:
  api-v2.internal_1: { servers: [{ address: 127.0.0.1:9001 }] }
routes: [{ pool: api-v2.internal_1 }]
)");
  ASSERT_TRUE(config);
  EXPECT_EQ(config->pools[0].name, "api-v2.internal_1");
}

// ---------------------------------------------------------------------------
// Keys added by issue 5

TEST(ConfigTest, Issue5TimeoutsAreRead) {
  ConfigPtr config = mustLoad(std::string(kBase) +
                              "timeouts: { client_body: 5s, upstream_send: 7s, upstream_idle: 9s, tunnel: 2h }\n");
  ASSERT_TRUE(config);
  using std::chrono::milliseconds;
  EXPECT_EQ(config->timeouts.client_body, milliseconds(5000));
  EXPECT_EQ(config->timeouts.upstream_send, milliseconds(7000));
  EXPECT_EQ(config->timeouts.upstream_idle, milliseconds(9000));
  EXPECT_EQ(config->timeouts.tunnel, milliseconds(7200000));
  ConfigPtr defaults = mustLoad(kBase);
  ASSERT_TRUE(defaults);
  EXPECT_EQ(defaults->timeouts.client_body, std::chrono::seconds(60));
  EXPECT_EQ(defaults->timeouts.upstream_send, std::chrono::seconds(30));
  EXPECT_EQ(defaults->timeouts.upstream_idle, std::chrono::seconds(60));
  EXPECT_EQ(defaults->timeouts.tunnel, std::chrono::hours(1));
}

TEST(ConfigTest, Issue5PoolTimeoutsOverrideOnlyWhatTheySet) {
  ConfigPtr config = mustLoad(R"(listeners: [{ address: 127.0.0.1:8080 }]
pools:
  slow:
    servers: [{ address: 127.0.0.1:9001 }]
    timeouts: { upstream_connect: 100ms, upstream_response: 2m, upstream_send: 3s, upstream_idle: 4s }
  plain:
    servers: [{ address: 127.0.0.1:9002 }]
    timeouts: { upstream_response: 1s }
  bare:
    servers: [{ address: 127.0.0.1:9003 }]
routes: [{ pool: slow }]
)");
  ASSERT_TRUE(config);
  using std::chrono::milliseconds;
  const PoolTimeouts& slow = config->pools[0].timeouts;
  EXPECT_EQ(slow.upstream_connect, milliseconds(100));
  EXPECT_EQ(slow.upstream_response, milliseconds(120000));
  EXPECT_EQ(slow.upstream_send, milliseconds(3000));
  EXPECT_EQ(slow.upstream_idle, milliseconds(4000));
  const PoolTimeouts& plain = config->pools[1].timeouts;
  EXPECT_FALSE(plain.upstream_connect.has_value());
  EXPECT_EQ(plain.upstream_response, milliseconds(1000));
  EXPECT_FALSE(plain.upstream_send.has_value());
  EXPECT_FALSE(plain.upstream_idle.has_value());
  const PoolTimeouts& bare = config->pools[2].timeouts;
  EXPECT_FALSE(bare.upstream_connect || bare.upstream_response || bare.upstream_send || bare.upstream_idle);
}

TEST(ConfigTest, Issue5LimitsConnections) {
  EXPECT_EQ(loadOrDefaults(kBase).limits.connections, 0u);  // auto by default
  EXPECT_EQ(loadOrDefaults(std::string(kBase) + "limits: { connections: auto }\n").limits.connections, 0u);
  EXPECT_EQ(loadOrDefaults(std::string(kBase) + "limits: { connections: 5 }\n").limits.connections, 5u);
  EXPECT_EQ(loadOrDefaults(std::string(kBase) + "limits: { connections: 10000000 }\n").limits.connections,
            10000000u);
}

TEST(ConfigTest, Issue5ProxyHeaderTrustAndUnderscores) {
  ConfigPtr config = mustLoad(std::string(kBase) +
                              "proxy_headers:\n  trusted_clients: [10.0.0.0/8, \"::1\", 192.168.1.7, fe80::/10]\n"
                              "  underscore_headers: reject\n");
  ASSERT_TRUE(config);
  const auto& nets = config->proxy_headers.trusted_clients;
  ASSERT_EQ(nets.size(), 4u);
  EXPECT_EQ(nets[0].toString(), "10.0.0.0/8");
  EXPECT_EQ(nets[1].toString(), "::1/128");
  EXPECT_EQ(nets[2].toString(), "192.168.1.7/32");
  EXPECT_EQ(nets[3].toString(), "fe80::/10");
  EXPECT_EQ(config->proxy_headers.underscore_headers, UnderscoreHeaders::kReject);
  auto policy = [](const char* value) {
    return loadOrDefaults(std::string(kBase) + "proxy_headers: { underscore_headers: " + value + " }\n")
        .proxy_headers.underscore_headers;
  };
  EXPECT_EQ(policy("allow"), UnderscoreHeaders::kAllow);
  EXPECT_EQ(policy("drop"), UnderscoreHeaders::kDrop);
  Config defaults = loadOrDefaults(kBase);
  EXPECT_TRUE(defaults.proxy_headers.trusted_clients.empty());
  EXPECT_EQ(defaults.proxy_headers.underscore_headers, UnderscoreHeaders::kDrop);  // as nginx
  EXPECT_TRUE(loadOrDefaults(std::string(kBase) + "proxy_headers: { trusted_clients: [] }\n")
                  .proxy_headers.trusted_clients.empty());
}

TEST(ConfigTest, Issue5AccessLogTime) {
  EXPECT_TRUE(loadOrDefaults(kBase).access_log.local_time);
  EXPECT_TRUE(loadOrDefaults(std::string(kBase) + "access_log: { time: local }\n").access_log.local_time);
  EXPECT_FALSE(loadOrDefaults(std::string(kBase) + "access_log: { time: utc }\n").access_log.local_time);
}

TEST(ConfigTest, Issue5UserAndGroupAreLookedUp) {
  Config none = loadOrDefaults(kBase);
  EXPECT_EQ(none.user, "");
  EXPECT_EQ(none.group, "");
  ConfigPtr root = mustLoad(std::string(kBase) + "user: root\n");
  ASSERT_TRUE(root);
  EXPECT_EQ(root->user, "root");
  EXPECT_EQ(root->uid, 0u);
  EXPECT_EQ(root->gid, 0u);
  ConfigPtr both = mustLoad(std::string(kBase) + "user: root\ngroup: root\n");
  ASSERT_TRUE(both);
  EXPECT_EQ(both->group, "root");
  EXPECT_EQ(both->gid, 0u);
}

TEST(ConfigTest, Issue5ListenerPortAloneMeansEveryAddress) {
  for (const char* address : {"8080", "\":8080\"", ":8080", "\"8080\""}) {
    SCOPED_TRACE(address);
    ConfigPtr config = mustLoad(std::string("listeners:\n  - address: ") + address +
                                "\npools: { app: { servers: [{ address: 127.0.0.1:9001 }] } }\n"
                                "routes: [{ pool: app }]\n");
    ASSERT_TRUE(config);
    EXPECT_EQ(config->listeners[0].addr.toString(), "0.0.0.0:8080");
  }
}

TEST(ConfigTest, Issue5Errors) {
  expectErrors(
      {
          {"timeouts: { client_body: 0s }\n", "9:26: timeouts.client_body: must be greater than 0"},
          {"timeouts: { upstream_send: soon }\n",
           "9:28: timeouts.upstream_send: expected a duration such as 30s or 500ms"},
          {"timeouts: { upstream_idle: -1s }\n",
           "9:28: timeouts.upstream_idle: expected a duration such as 30s or 500ms"},
          {"timeouts: { tunnel: 0 }\n", "9:21: timeouts.tunnel: must be greater than 0"},
          {"timeouts: { tunel: 1h }\n", "9:13: timeouts.tunel: unknown key \"tunel\" (did you mean \"tunnel\"?)"},
          {"limits: { connections: 0 }\n", "9:24: limits.connections: must be between 1 and 10000000"},
          {"limits: { connections: many }\n",
           "9:24: limits.connections: expected auto or a number between 1 and 10000000"},
          {"limits: { connections: 1.5 }\n",
           "9:24: limits.connections: expected auto or a number between 1 and 10000000"},
          {"limits: { connections: 10000001 }\n", "9:24: limits.connections: must be between 1 and 10000000"},
          {"limits: { connections: [5] }\n",
           "9:24: limits.connections: expected auto or a number between 1 and 10000000"},
          {"proxy_headers: { trusted_clients: 10.0.0.0/8 }\n",
           "9:35: proxy_headers.trusted_clients: expected a list"},
          {"proxy_headers: { trusted_clients: [10.0.0.0/33] }\n",
           "9:36: proxy_headers.trusted_clients[0]: expected a network such as 10.0.0.0/8 or ::1/128 (got "
           "\"10.0.0.0/33\")"},
          {"proxy_headers: { trusted_clients: [10.0.0.0/8, office] }\n",
           "9:48: proxy_headers.trusted_clients[1]: expected a network such as 10.0.0.0/8 or ::1/128 (got "
           "\"office\")"},
          {"proxy_headers: { trusted_clients: [[10.0.0.1]] }\n",
           "9:36: proxy_headers.trusted_clients[0]: expected a network such as 10.0.0.0/8 or ::1/128"},
          {"proxy_headers: { underscore_headers: keep }\n",
           "9:38: proxy_headers.underscore_headers: expected one of: drop, allow, reject (got \"keep\")"},
          {"access_log: { time: gmt }\n", "9:21: access_log.time: expected one of: local, utc (got \"gmt\")"},
          {"user: no-such-user-weir\n", "9:7: user: no such user \"no-such-user-weir\" on this system"},
          {"user: root\ngroup: no-such-group-weir\n",
           "10:8: group: no such group \"no-such-group-weir\" on this system"},
          {"group: root\n", "9:8: group: needs user as well (a group alone would leave weir running as root)"},
          {"user: \"\"\n", "9:7: user: must not be empty"},
          {"user: [root]\n", "9:7: user: expected a string"},
      },
      kBase);
}

TEST(ConfigTest, Issue5PoolTimeoutErrors) {
  const std::string head = "listeners: [{ address: 127.0.0.1:8080 }]\nroutes: [{ pool: app }]\n";
  std::vector<ErrorCase> cases = {
      {"pools:\n  app:\n    servers: [{ address: 127.0.0.1:9001 }]\n    timeouts: { upstream_response: 0s }\n",
       "6:36: pools.app.timeouts.upstream_response: must be greater than 0"},
      {"pools:\n  app:\n    servers: [{ address: 127.0.0.1:9001 }]\n    timeouts: { client_idle: 1s }\n",
       "6:17: pools.app.timeouts.client_idle: unknown key \"client_idle\""},
      {"pools:\n  app:\n    servers: [{ address: 127.0.0.1:9001 }]\n    timeouts: 5s\n",
       "6:15: pools.app.timeouts: expected a map"},
  };
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.yaml);
    EXPECT_EQ(errorOf(head + c.yaml), std::string("t.yaml:") + c.expected);
  }
}

// Mistakes that used to load and then misbehave without a word.
TEST(ConfigTest, Issue5DuplicateServerInAPool) {
  const std::string head = "listeners: [{ address: 127.0.0.1:8080 }]\nroutes: [{ pool: app }]\n";
  std::vector<ErrorCase> cases = {
      {"pools:\n  app:\n    servers:\n      - address: 127.0.0.1:9001\n      - address: 127.0.0.1:9001\n",
       "7:18: pools.app.servers[1].address: duplicate server 127.0.0.1:9001 (same as servers[0]); to send it "
       "more requests, raise its weight"},
      {"pools:\n  app:\n    servers:\n      - address: 127.0.0.1:9001\n      - address: 127.0.0.1:9002\n"
       "      - address: localhost:9002\n",
       "8:18: pools.app.servers[2].address: duplicate server 127.0.0.1:9002 (same as servers[1]); to send it "
       "more requests, raise its weight"},
  };
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.yaml);
    std::string error = errorOf(head + c.yaml);
    // localhost may resolve to ::1 first on some hosts; then it is not a duplicate.
    if (std::string(c.yaml).find("localhost") != std::string::npos && error == "(loaded)") continue;
    EXPECT_EQ(error, std::string("t.yaml:") + c.expected);
  }
  // The same address in two pools is fine, and so are two ports of one host.
  mustLoad("listeners: [{ address: 127.0.0.1:8080 }]\nroutes: [{ match: { host: b.com }, pool: b }, { pool: a }]\n"
           "pools:\n  a: { servers: [{ address: 127.0.0.1:9001 }, { address: 127.0.0.1:9002 }] }\n"
           "  b: { servers: [{ address: 127.0.0.1:9001 }] }\n");
}

TEST(ConfigTest, Issue5UnreachableRoutes) {
  const std::string head =
      "listeners: [{ address: 127.0.0.1:8080 }]\n"
      "pools: { app: { servers: [{ address: 127.0.0.1:9001 }] } }\n";
  std::vector<ErrorCase> cases = {
      {"routes:\n  - pool: app\n  - match: { host: a.com }\n    pool: app\n",
       "5:5: routes[1]: never matches: routes[0] (line 4) matches every request it would; put the catch-all "
       "route last"},
      {"routes:\n  - match: { host: \"*\" }\n    pool: app\n  - match: { path_prefix: /x }\n    pool: app\n",
       "6:5: routes[1]: never matches: routes[0] (line 4) matches every request it would; put the catch-all "
       "route last"},
      {"routes:\n  - match: { path_prefix: /api/ }\n    pool: app\n"
       "  - match: { host: a.com, path_prefix: /api/v2/ }\n    pool: app\n",
       "6:5: routes[1]: never matches: routes[0] (line 4) matches every request it would"},
      {"routes:\n  - match: { host: \"*.example.com\" }\n    pool: app\n"
       "  - match: { host: www.example.com, path_prefix: /a }\n    pool: app\n",
       "6:5: routes[1]: never matches: routes[0] (line 4) matches every request it would"},
      {"routes:\n  - match: { host: \"*.example.com\" }\n    pool: app\n"
       "  - match: { host: \"*.eu.example.com\" }\n    pool: app\n",
       "6:5: routes[1]: never matches: routes[0] (line 4) matches every request it would"},
      {"routes:\n  - match: { host: A.com, path_prefix: /a }\n    pool: app\n"
       "  - match: { host: b.com }\n    pool: app\n"
       "  - match: { host: a.COM, path_prefix: /a }\n    pool: app\n",
       "8:5: routes[2]: never matches: routes[0] (line 4) matches every request it would"},
  };
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.yaml);
    EXPECT_EQ(errorOf(head + c.yaml), std::string("t.yaml:") + c.expected);
  }
  // Narrower routes before wider ones are the right order, and none of these shadow another.
  mustLoad(head +
           "routes:\n"
           "  - { match: { host: www.example.com, path_prefix: /api/ }, pool: app }\n"
           "  - { match: { host: \"*.example.com\", path_prefix: /api/ }, pool: app }\n"
           "  - { match: { host: example.com }, pool: app }\n"
           "  - { match: { path_prefix: /api }, pool: app }\n"
           "  - { match: { host: www.example.com }, pool: app }\n"
           "  - { match: { path_prefix: /ap }, pool: app }\n"
           "  - { pool: app }\n");
}

// YAML gives * and [ a meaning of their own; an unquoted address fails to
// parse, and the message must say what to do about it.
TEST(ConfigTest, Issue5UnquotedAddressesSayToQuote) {
  const std::string rest = "pools: { app: { servers: [{ address: 127.0.0.1:9001 }] } }\nroutes: [{ pool: app }]\n";
  std::vector<ErrorCase> cases = {
      {"listeners:\n  - address: *:8080\n",
       "2:14: invalid YAML: quote the address, as \"*:8080\" (YAML reads an unquoted * as an alias)"},
      {"listeners:\n  - address: [::1]:8080\n",
       "2:14: invalid YAML: quote the address, as \"[::1]:8080\" (YAML reads an unquoted [ as the start of a "
       "list)"},
      {"listeners:\n  - address: [::]:8080\n    backlog: 5\n",
       "2:14: invalid YAML: quote the address, as \"[::]:8080\" (YAML reads an unquoted [ as the start of a "
       "list)"},
      {"listeners:\n  - { address: [::1]:8080 }\n",
       "2:16: invalid YAML: quote the address, as \"[::1]:8080\" (YAML reads an unquoted [ as the start of a "
       "list)"},
      {"listeners:\n  - { address: *:8080, backlog: 5 }\n",
       "2:16: invalid YAML: quote the address, as \"*:8080\" (YAML reads an unquoted * as an alias)"},
      {"listeners:\n  - address: \"[::1]\"\n", "2:14: listeners[0].address: expected host:port (the port is missing)"},
  };
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.yaml);
    EXPECT_EQ(errorOf(c.yaml + rest), std::string("t.yaml:") + c.expected);
  }
  // A server written as [::1] (no port) is read by YAML as a list.
  EXPECT_EQ(errorOf("listeners: [{ address: 127.0.0.1:8080 }]\nroutes: [{ pool: app }]\n"
                    "pools:\n  app:\n    servers:\n      - address: [::1]\n"),
            "t.yaml:6:18: pools.app.servers[0].address: expected host:port; write IPv6 addresses in quotes, as "
            "\"[::1]:8080\" (YAML reads an unquoted [ as the start of a list)");
  // Other YAML errors keep yaml-cpp's message.
  EXPECT_EQ(errorOf("listeners:\n  - address: *anchor\n" + rest),
            "t.yaml:2:14: invalid YAML: the referenced anchor is not defined");
}

// ---------------------------------------------------------------------------
// Files shipped in conf/

std::vector<std::filesystem::path> yamlFilesIn(const std::string& dir) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(ConfigTest, DefaultConfigLoads) {
  std::string path = std::string(WEIR_SOURCE_DIR) + "/conf/weir.yaml";
  Result<ConfigPtr> result = loadFile(path);
  ASSERT_TRUE(result.ok()) << result.error().message;
  const Config& config = **result;
  EXPECT_EQ(config.source, path);
  EXPECT_EQ(config.listeners.at(0).addr.toString(), "0.0.0.0:8080");
  ASSERT_EQ(config.pools.size(), 1u);
  EXPECT_EQ(config.pools[0].name, "demo");
  ASSERT_EQ(config.pools[0].servers.size(), 2u);
  EXPECT_EQ(config.pools[0].servers[0].addr.toString(), "127.0.0.1:9001");
  EXPECT_EQ(config.pools[0].servers[1].addr.toString(), "127.0.0.1:9002");
  EXPECT_EQ(config.pools[0].keepalive, 64u);
  EXPECT_EQ(config.pools[0].retries, 1u);
  ASSERT_EQ(config.routes.size(), 1u);
  EXPECT_EQ(config.routes[0].pool, "demo");
  EXPECT_TRUE(config.access_log.enabled);
  EXPECT_EQ(config.access_log.path, "/dev/stdout");
  EXPECT_EQ(config.access_log.format, "combined");
  EXPECT_EQ(config.error_log.path, "/dev/stderr");
  EXPECT_EQ(config.error_log.level, LogLevel::kInfo);
}

// The sample under "A complete file" in conf/README.md stays loadable
// (user and group are left out: their names differ between systems).
TEST(ConfigTest, ReferenceCompleteFileLoads) {
  std::ifstream in(std::string(WEIR_SOURCE_DIR) + "/conf/README.md");
  std::string line;
  std::string yaml;
  bool section = false;
  bool block = false;
  while (std::getline(in, line)) {
    if (line.rfind("## ", 0) == 0) section = line == "## A complete file";
    if (!section) continue;
    if (line.rfind("```", 0) == 0) {
      if (block) break;
      block = line == "```yaml";
      continue;
    }
    if (block && line.rfind("user:", 0) != 0 && line.rfind("group:", 0) != 0) yaml += line + "\n";
  }
  ASSERT_FALSE(yaml.empty()) << "no yaml block under \"## A complete file\"";
  ConfigPtr config = mustLoad(yaml);
  ASSERT_TRUE(config);
  EXPECT_EQ(config->limits.connections, 0u);
  EXPECT_EQ(config->pools[0].timeouts.upstream_idle, std::chrono::seconds(60));
  EXPECT_EQ(config->timeouts.tunnel, std::chrono::hours(1));
}

TEST(ConfigTest, ExampleConfigsLoad) {
  std::vector<std::filesystem::path> files = yamlFilesIn(std::string(WEIR_SOURCE_DIR) + "/conf/examples");
  EXPECT_FALSE(files.empty());
  for (const auto& file : files) {
    Result<ConfigPtr> result = loadFile(file.string());
    EXPECT_TRUE(result.ok()) << result.error().message;
  }
}

// Each conf/bad/*.yaml states its error in a comment: "# expect: L:C: ...".
TEST(ConfigTest, BadConfigsFailAsDocumented) {
  std::vector<std::filesystem::path> files = yamlFilesIn(std::string(WEIR_SOURCE_DIR) + "/conf/bad");
  EXPECT_GE(files.size(), 5u);
  for (const auto& file : files) {
    SCOPED_TRACE(file.string());
    std::ifstream in(file);
    std::string line;
    std::string expected;
    while (std::getline(in, line)) {
      if (line.rfind("# expect: ", 0) == 0) expected = line.substr(10);
    }
    ASSERT_FALSE(expected.empty()) << "no \"# expect: \" line";
    Result<ConfigPtr> result = loadFile(file.string());
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().message, file.string() + ":" + expected);
  }
}

TEST(ConfigTest, ServerAddressWithoutPortIsReportedWhereItIs) {
  std::string path = std::string(WEIR_SOURCE_DIR) + "/conf/bad/server_address.yaml";
  Result<ConfigPtr> result = loadFile(path);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message, path + ":11:18: pools.api.servers[1].address: expected host:port");
}

TEST(ConfigTest, MissingFile) {
  Result<ConfigPtr> result = loadFile("/nonexistent/weir.yaml");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message, "/nonexistent/weir.yaml: cannot open: No such file or directory");
}

TEST(ConfigTest, DirectoryIsNotAFile) {
  std::string path = std::string(WEIR_SOURCE_DIR) + "/conf";
  Result<ConfigPtr> result = loadFile(path);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message, path + ": cannot open: Is a directory");
}

// ---------------------------------------------------------------------------
// Errors, with their exact text and position

TEST(ConfigTest, DocumentErrors) {
  expectErrors(
      {
          {"", "1:1: the file is empty; it needs at least listeners, pools and routes"},
          {"# only a comment\n", "1:1: the file is empty; it needs at least listeners, pools and routes"},
          {"- a\n- b\n", "1:1: expected a map with listeners, pools and routes at the top level"},
          {"listeners: [\n", "2:1: invalid YAML: end of sequence flow not found"},
          {"a: b: c\n", "1:5: invalid YAML: illegal map value"},
          {"listeners:\n\t- address: 127.0.0.1:80\n",
           "2:2: invalid YAML: illegal block entry (YAML does not allow tabs for indentation)"},
          {"pools: {}\nroutes: []\n", "1:1: listeners: required"},
          {"listeners: [{ address: 127.0.0.1:80 }]\nroutes: []\n", "1:1: pools: required"},
          {"listeners: [{ address: 127.0.0.1:80 }]\npools: { a: { servers: [{ address: 127.0.0.1:81 }] } }\n",
           "1:1: routes: required"},
      },
      "");
}

// yaml-cpp 0.7's LoadAll loops for ever, allocating, on a lone ","
// (found by the config fuzz target); loading must end with an error.
TEST(ConfigTest, InputThatStallsTheYamlParserIsAnError) {
  for (const char* text : {",\n", ",", "\n,\n"}) {
    auto r = loadString(text, "t.yaml");
    ASSERT_FALSE(r) << text;
    EXPECT_NE(r.error().message.find("invalid YAML"), std::string::npos) << r.error().message;
  }
}

TEST(ConfigTest, TopLevelKeyErrors) {
  expectErrors(
      {
          {"colour: red\n", "9:1: colour: unknown key \"colour\""},
          {"listners: []\n", "9:1: listners: unknown key \"listners\" (did you mean \"listeners\"?)"},
          {"routes: []\n", "9:1: routes: duplicate key \"routes\" (first defined at line 7)"},
          {"? [a, b]\n: 1\n", "9:3: expected a name as the key"},
          {"---\nfoo: 1\n", "9:1: only one YAML document is allowed per file"},  // the second "---"
      },
      kBase);
}

TEST(ConfigTest, WorkersErrors) {
  expectErrors(
      {
          {"workers: many\n", "9:10: workers: expected auto or a number between 1 and 256"},
          {"workers: 1.5\n", "9:10: workers: expected auto or a number between 1 and 256"},
          {"workers: 0\n", "9:10: workers: must be between 1 and 256"},
          {"workers: 257\n", "9:10: workers: must be between 1 and 256"},
          {"workers: -2\n", "9:10: workers: must be between 1 and 256"},
          {"workers: 99999999999999999999\n", "9:10: workers: must be between 1 and 256"},
          {"workers: [1]\n", "9:10: workers: expected auto or a number of workers"},
      },
      kBase);
}

TEST(ConfigTest, TimeoutErrors) {
  expectErrors(
      {
          {"timeouts:\n  client_idle: 10 parsecs\n",
           "10:16: timeouts.client_idle: expected a duration such as 30s or 500ms"},
          {"timeouts:\n  send: -5s\n", "10:9: timeouts.send: expected a duration such as 30s or 500ms"},
          {"timeouts:\n  send: { a: 1 }\n",
           "10:9: timeouts.send: expected a duration such as 30s or 500ms"},
          {"timeouts:\n  drain: 0s\n", "10:10: timeouts.drain: must be greater than 0"},
          {"timeouts:\n  upstream_conect: 2s\n",
           "10:3: timeouts.upstream_conect: unknown key \"upstream_conect\" (did you mean "
           "\"upstream_connect\"?)"},
          {"timeouts: 30s\n", "9:11: timeouts: expected a map"},
          {"timeouts:\n  drain: 1s\n  drain: 2s\n",
           "11:3: timeouts.drain: duplicate key \"drain\" (first defined at line 10)"},
      },
      kBase);
}

TEST(ConfigTest, LimitErrors) {
  expectErrors(
      {
          {"limits:\n  body_bytes: lots\n", "10:15: limits.body_bytes: expected a size such as 64KiB"},
          {"limits:\n  body_bytes: 99999999999999999999\n",
           "10:15: limits.body_bytes: expected a size such as 64KiB"},
          {"limits:\n  body_bytes: 1.5GiB\n", "10:15: limits.body_bytes: expected a size such as 64KiB"},
          {"limits:\n  header_bytes: 512\n", "10:17: limits.header_bytes: must be at least 1KiB"},
          {"limits:\n  uri_bytes: 0\n", "10:14: limits.uri_bytes: must be greater than 0"},
          {"limits:\n  headers: 0\n", "10:12: limits.headers: must be between 1 and 100000"},
          {"limits:\n  headers: ten\n", "10:12: limits.headers: expected an integer"},
          {"limits:\n  headers:\n", "10:3: limits.headers: expected an integer"},
      },
      kBase);
}

TEST(ConfigTest, HeaderAndLogErrors) {
  expectErrors(
      {
          {"proxy_headers: { via: maybe }\n", "9:23: proxy_headers.via: expected true or false"},
          {"proxy_headers: { x_forwarded: true }\n",
           "9:18: proxy_headers.x_forwarded: unknown key \"x_forwarded\""},
          {"proxy_headers: true\n", "9:16: proxy_headers: expected a map"},
          {"access_log: maybe\n", "9:13: access_log: expected a map with path and format, or off"},
          {"access_log: [a]\n", "9:13: access_log: expected a map with path and format, or off"},
          {"access_log: { format: xml }\n",
           "9:23: access_log.format: expected one of: combined, json (got \"xml\")"},
          {"access_log: { path: \"\" }\n", "9:21: access_log.path: must not be empty"},
          {"error_log: { level: verbose }\n",
           "9:21: error_log.level: expected one of: debug, info, warn, error (got \"verbose\")"},
          {"error_log: { path: [a] }\n", "9:20: error_log.path: expected a string"},
          {"error_log: off\n", "9:12: error_log: expected a map"},
      },
      kBase);
}

TEST(ConfigTest, ListenerErrors) {
  const std::string rest = "pools: { app: { servers: [{ address: 127.0.0.1:9001 }] } }\nroutes: [{ pool: app }]\n";
  std::vector<ErrorCase> cases = {
      {"listeners: { address: 127.0.0.1:80 }\n", "1:12: listeners: expected a list"},
      {"listeners: []\n", "1:12: listeners: at least one listener is required"},
      {"listeners:\n", "1:1: listeners: expected a list"},
      {"listeners:\n  - backlog: 10\n", "2:5: listeners[0].address: required"},
      {"listeners:\n  - 127.0.0.1:80\n", "2:5: listeners[0]: expected a map"},
      {"listeners:\n  - address: localhost\n", "2:14: listeners[0].address: expected host:port"},
      {"listeners:\n  - address: 127.0.0.1:80\n    backlog: 0\n",
       "3:14: listeners[0].backlog: must be between 1 and 65535"},
      {"listeners:\n  - address: \"*:8080\"\n  - address: 0.0.0.0:8080\n",
       "3:14: listeners[1].address: duplicate listener address 0.0.0.0:8080 (same as listeners[0])"},
  };
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.yaml);
    EXPECT_EQ(errorOf(c.yaml + rest), std::string("t.yaml:") + c.expected);
  }
}

TEST(ConfigTest, UnresolvableHostNamesTheHost) {
  std::string error = errorOf(R"(listeners: [{ address: 127.0.0.1:8080 }]
pools:
  app:
    servers:
      - address: no-such-host.invalid:80
routes: [{ pool: app }]
)");
  std::string expected = "t.yaml:5:18: pools.app.servers[0].address: cannot resolve \"no-such-host.invalid\": ";
  EXPECT_EQ(error.substr(0, expected.size()), expected);
  EXPECT_GT(error.size(), expected.size());  // gai_strerror's text follows
}

TEST(ConfigTest, PoolHealthAndFailoverKeys) {
  ConfigPtr c = mustLoad(R"(listeners: [{ address: 127.0.0.1:8080 }]
pools:
  app:
    balancer: consistent_hash
    hash: { key: "cookie:session", bounded_load: 1.5 }
    slow_start: 30s
    retry_on: [connect_failure, 503]
    retry_budget: { percent: 10, min_concurrent: 5 }
    health_check:
      type: http
      path: /healthz
      host: app.internal
      interval: 500ms
      timeout: 200ms
      rise: 3
      fall: 4
      expect: [200, "300-302"]
    passive: { consecutive_failures: 2, on_status: [500, 503], ejection: 1s, max_ejection: 1m, max_ejected_percent: 30 }
    servers:
      - address: 127.0.0.1:9001
      - { address: 127.0.0.1:9002, backup: true }
  plain:
    servers: [{ address: 127.0.0.1:9003 }]
    passive: off
routes: [{ pool: app }]
)");
  const PoolConfig& app = c->pools[0];
  EXPECT_EQ(app.hash.source, HashConfig::Source::kCookie);
  EXPECT_EQ(app.hash.name, "session");
  EXPECT_DOUBLE_EQ(app.hash.bounded_load, 1.5);
  EXPECT_EQ(app.slow_start, std::chrono::seconds(30));
  EXPECT_EQ(app.retry_on, kRetryConnectFailure | kRetry503);
  EXPECT_EQ(app.retry_budget.percent, 10u);
  EXPECT_EQ(app.retry_budget.min_concurrent, 5u);
  const HealthCheckConfig& hc = app.health_check;
  EXPECT_TRUE(hc.enabled);
  EXPECT_EQ(hc.type, HealthCheckConfig::Type::kHttp);
  EXPECT_EQ(hc.path, "/healthz");
  EXPECT_EQ(hc.host, "app.internal");
  EXPECT_EQ(hc.interval, std::chrono::milliseconds(500));
  EXPECT_EQ(hc.timeout, std::chrono::milliseconds(200));
  EXPECT_EQ(hc.rise, 3u);
  EXPECT_EQ(hc.fall, 4u);
  ASSERT_EQ(hc.expect.size(), 2u);
  EXPECT_EQ(hc.expect[0].first, 200);
  EXPECT_EQ(hc.expect[0].last, 200);
  EXPECT_EQ(hc.expect[1].first, 300);
  EXPECT_EQ(hc.expect[1].last, 302);
  EXPECT_EQ(app.passive.consecutive_failures, 2u);
  EXPECT_EQ(app.passive.on_status, (std::vector<int>{500, 503}));
  EXPECT_EQ(app.passive.ejection, std::chrono::seconds(1));
  EXPECT_EQ(app.passive.max_ejection, std::chrono::minutes(1));
  EXPECT_EQ(app.passive.max_ejected_percent, 30u);
  EXPECT_FALSE(app.servers[0].backup);
  EXPECT_TRUE(app.servers[1].backup);
  // Defaults.
  const PoolConfig& plain = c->pools[1];
  EXPECT_FALSE(plain.health_check.enabled);
  EXPECT_FALSE(plain.passive.enabled);
  EXPECT_EQ(plain.slow_start.count(), 0);
  EXPECT_EQ(plain.retry_on, kRetryConnectFailure | kRetryReset | kRetryTimeout);
  EXPECT_EQ(plain.retry_budget.percent, 20u);
  EXPECT_EQ(plain.retry_budget.min_concurrent, 3u);
  EXPECT_EQ(PassiveHealthConfig().consecutive_failures, 5u);
  EXPECT_EQ(PassiveHealthConfig().ejection, std::chrono::seconds(10));
  EXPECT_EQ(PassiveHealthConfig().max_ejection, std::chrono::minutes(5));
  EXPECT_EQ(PassiveHealthConfig().max_ejected_percent, 50u);
  EXPECT_EQ(HealthCheckConfig().path, "/");
  EXPECT_EQ(HealthCheckConfig().interval, std::chrono::seconds(2));
}

TEST(ConfigTest, PoolHealthAndFailoverErrors) {
  const std::string head = "listeners: [{ address: 127.0.0.1:8080 }]\nroutes: [{ pool: app }]\npools:\n  app:\n"
                           "    servers: [{ address: 127.0.0.1:9001 }]\n";
  std::vector<ErrorCase> cases = {
      {"    health_check: { interval: 1s, timeout: 2s }\n",
       "6:44: pools.app.health_check.timeout: must not be longer than interval (1000ms)"},
      {"    health_check: { expect: 300-200 }\n",
       "6:29: pools.app.health_check.expect: the range's first status must not be above its last"},
      {"    health_check: { expect: 700 }\n", "6:29: pools.app.health_check.expect: status codes are between 100 and 599"},
      {"    health_check: { path: healthz }\n", "6:27: pools.app.health_check.path: must start with \"/\""},
      {"    health_check: { type: tcp, path: /x }\n", "6:38: pools.app.health_check.path: applies only to type: http"},
      {"    health_check: { type: udp }\n",
       "6:27: pools.app.health_check.type: expected one of: http, tcp (got \"udp\")"},
      {"    health_check: { fall: 0 }\n", "6:27: pools.app.health_check.fall: must be between 1 and 100"},
      {"    passive: { ejection: 10s, max_ejection: 5s }\n",
       "6:45: pools.app.passive.max_ejection: must not be shorter than ejection"},
      {"    passive: { on_status: [404] }\n", "6:28: pools.app.passive.on_status[0]: must be between 500 and 599"},
      {"    passive: { max_ejected_percent: 101 }\n",
       "6:37: pools.app.passive.max_ejected_percent: must be between 0 and 100"},
      {"    retry_on: [connect_failure, 500]\n",
       "6:33: pools.app.retry_on[1]: expected one of: connect_failure, reset, timeout, 502, 503, 504 (got \"500\")"},
      {"    hash: { key: path }\n", "6:11: pools.app.hash: applies only to balancer: consistent_hash"},
      {"    balancer: consistent_hash\n",
       "6:15: pools.app.balancer: consistent_hash needs hash.key (header:NAME, cookie:NAME, query:NAME, path, uri "
       "or client_ip)"},
      {"    balancer: consistent_hash\n    hash: { key: header }\n",
       "7:18: pools.app.hash.key: header needs a name, as header:NAME"},
      {"    balancer: consistent_hash\n    hash: { key: \"path:x\" }\n", "7:18: pools.app.hash.key: path takes no name"},
      {"    balancer: consistent_hash\n    hash: { key: host }\n",
       "7:18: pools.app.hash.key: expected header:NAME, cookie:NAME, query:NAME, path, uri or client_ip"},
      {"    balancer: consistent_hash\n    hash: { key: uri, bounded_load: 0.5 }\n",
       "7:37: pools.app.hash.bounded_load: must be 0 (no bound) or at least 1"},
      {"    slow_start: soon\n", "6:17: pools.app.slow_start: expected a duration such as 30s or 500ms, or 0"},
      {"    retry_budget: { percent: 120 }\n", "6:30: pools.app.retry_budget.percent: must be between 0 and 100"},
  };
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.yaml);
    EXPECT_EQ(errorOf(head + c.yaml), std::string("t.yaml:") + c.expected);
  }
  EXPECT_EQ(errorOf("listeners: [{ address: 127.0.0.1:8080 }]\nroutes: [{ pool: app }]\npools:\n  app:\n"
                    "    servers: [{ address: 127.0.0.1:9001, backup: true }]\n"),
            "t.yaml:5:14: pools.app.servers: at least one server must not be a backup");
}

TEST(ConfigTest, PoolErrors) {
  const std::string head = "listeners: [{ address: 127.0.0.1:8080 }]\nroutes: [{ pool: app }]\n";
  std::vector<ErrorCase> cases = {
      {"pools: [app]\n", "3:8: pools: expected a map"},
      {"pools: {}\n", "3:8: pools: at least one pool is required"},
      {"pools:\n  \"my pool\": { servers: [{ address: 127.0.0.1:9001 }] }\n",
       "4:3: pools.my pool: invalid pool name \"my pool\" (use letters, digits, \"_\", \".\" and \"-\")"},
      {"pools:\n  app: { keepalive: 1 }\n", "4:8: pools.app.servers: required"},
      {"pools:\n  app: { servers: [] }\n", "4:19: pools.app.servers: at least one server is required"},
      {"pools:\n  app: { servers: 127.0.0.1:9001 }\n", "4:19: pools.app.servers: expected a list"},
      {"pools:\n  app: { servers: [127.0.0.1:9001] }\n", "4:20: pools.app.servers[0]: expected a map"},
      {"pools:\n  app:\n    servers:\n      - address: 127.0.0.1:9001\n        weight: 0\n",
       "7:17: pools.app.servers[0].weight: must be between 1 and 1000"},
      {"pools:\n  app:\n    servers:\n      - address: 127.0.0.1:9001\n        weight: 1001\n",
       "7:17: pools.app.servers[0].weight: must be between 1 and 1000"},
      {"pools:\n  app:\n    servers:\n      - address: 127.0.0.1:9001\n        weight: heavy\n",
       "7:17: pools.app.servers[0].weight: expected an integer"},
      {"pools:\n  app:\n    servers:\n      - address: 127.0.0.1:9001\n        wieght: 2\n",
       "7:9: pools.app.servers[0].wieght: unknown key \"wieght\" (did you mean \"weight\"?)"},
      {"pools:\n  app:\n    servers:\n      - address: \"*:80\"\n",
       "6:18: pools.app.servers[0].address: expected host:port (a server needs a host to connect to, "
       "not \"*\")"},
      {"pools:\n  app:\n    servers:\n      - address: 127.0.0.1:9001\n      - address: \"[::1]\"\n",
       "7:18: pools.app.servers[1].address: expected host:port (the port is missing)"},
      {"pools:\n  app:\n    servers: [{ address: 127.0.0.1:9001 }]\n    keepalive: 100001\n",
       "6:16: pools.app.keepalive: must be between 0 and 100000"},
      {"pools:\n  app:\n    servers: [{ address: 127.0.0.1:9001 }]\n    retries: -1\n",
       "6:14: pools.app.retries: must be between 0 and 100"},
      {"pools:\n  app:\n    servers: [{ address: 127.0.0.1:9001 }]\n    retries: 101\n",
       "6:14: pools.app.retries: must be between 0 and 100"},
      {"pools:\n  app:\n    servers: [{ address: 127.0.0.1:9001 }]\n    balancer: least_conn\n",
       "6:15: pools.app.balancer: unknown balancer \"least_conn\" (accepted: round_robin, least_request, random, "
       "consistent_hash)"},
  };
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.yaml);
    EXPECT_EQ(errorOf(head + c.yaml), std::string("t.yaml:") + c.expected);
  }
}

TEST(ConfigTest, RouteErrors) {
  const std::string head =
      "listeners: [{ address: 127.0.0.1:8080 }]\n"
      "pools: { app: { servers: [{ address: 127.0.0.1:9001 }] } }\n";
  std::vector<ErrorCase> cases = {
      {"routes: []\n", "3:9: routes: at least one route is required"},
      {"routes: { pool: app }\n", "3:9: routes: expected a list"},
      {"routes:\n  - pool: nope\n", "4:11: routes[0].pool: pool \"nope\" is not defined"},
      {"routes:\n  - pool: app\n  - pool: App\n",
       "5:11: routes[1].pool: pool \"App\" is not defined (did you mean \"app\"?)"},
      {"routes:\n  - match: { host: a.com }\n", "4:5: routes[0].pool: required"},
      {"routes:\n  - pool:\n", "4:5: routes[0].pool: expected a string"},
      {"routes:\n  - pool: app\n    match: /api/\n", "5:12: routes[0].match: expected a map"},
      {"routes:\n  - pool: app\n    match: { path: /api/ }\n",
       "5:14: routes[0].match.path: unknown key \"path\""},
      {"routes:\n  - pool: app\n    match: { path_prefix: api/ }\n",
       "5:27: routes[0].match.path_prefix: must start with \"/\""},
      {"routes:\n  - pool: app\n    match: { path_prefix: \"/a b\" }\n",
       "5:27: routes[0].match.path_prefix: must not contain spaces or control characters"},
      {"routes:\n  - pool: app\n    match: { host: \"exa mple.com\" }\n",
       "5:20: routes[0].match.host: expected a host name such as www.example.com or *.example.com, "
       "without a port"},
      {"routes:\n  - pool: app\n    match: { host: \"example.com:80\" }\n",
       "5:20: routes[0].match.host: expected a host name such as www.example.com or *.example.com, "
       "without a port"},
      {"routes:\n  - pool: app\n    match: { host: \"*.\" }\n",
       "5:20: routes[0].match.host: expected a host name such as www.example.com or *.example.com, "
       "without a port"},
      {"routes:\n  - pool: app\n    match: { host: \"a.*.com\" }\n",
       "5:20: routes[0].match.host: expected a host name such as www.example.com or *.example.com, "
       "without a port"},
  };
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.yaml);
    EXPECT_EQ(errorOf(head + c.yaml), std::string("t.yaml:") + c.expected);
  }
}

TEST(ConfigTest, ErrorsNeverThrow) {
  // Odd inputs must come back as errors, not exceptions.
  for (const char* yaml : {"\t- a", "&a [*a]", "!!binary x", "{", "]", "listeners: *nope\n",
                           "listeners: !!map []\n", "\xff\xfe"}) {
    SCOPED_TRACE(yaml);
    EXPECT_NO_THROW({
      Result<ConfigPtr> result = loadString(yaml, "t.yaml");
      EXPECT_FALSE(result.ok());
    });
  }
}

}  // namespace
}  // namespace weir::config
