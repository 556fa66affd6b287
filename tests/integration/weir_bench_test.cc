// weir-bench (issue 10) against real servers on 127.0.0.1: the requests it
// reports are the ones weir-origin counted; a fixed -R rate is held; a
// one-second stall shows in the open-loop (corrected) p99.9 and not in the
// service time's; resets, timeouts and 503s are counted by class.
#include <algorithm>
#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "harness.h"
#include "scripted_upstream.h"

namespace weir::itest {
namespace {

struct BenchJson {
  std::string text;
  double number(const std::string& key) const {  // the first "key": NUMBER
    std::smatch m;
    const std::regex re("\"" + std::regex_replace(key, std::regex(R"([.])"), R"(\.)") + R"(\": ([0-9.]+))");
    return std::regex_search(text, m, re) ? std::stod(m[1]) : -1;
  }
  // "section": {... "key": NUMBER ...}
  double in(const std::string& section, const std::string& key) const {
    const size_t at = text.find("\"" + section + "\": {");
    if (at == std::string::npos) return -1;
    return BenchJson{text.substr(at, text.find('}', at) - at)}.number(key);
  }
};

BenchJson runBench(std::vector<std::string> args, const std::string& label, Ms timeout = Ms(30000)) {
  const std::string json = testDir() + "/" + label + ".json";
  std::vector<std::string> argv = {BENCH_BIN, "-q", "--json", json};
  argv.insert(argv.end(), args.begin(), args.end());
  RunResult r = run(argv, timeout, label);
  EXPECT_EQ(r.exitCode, 0) << r.out << r.err;
  std::ifstream in(json);
  std::stringstream s;
  s << in.rdbuf();
  EXPECT_FALSE(s.str().empty()) << r.out << r.err;
  return {s.str()};
}

TEST(WeirBench, CountsWhatTheOriginServed) {
  Origin origin("bench-count", 2);
  ASSERT_TRUE(origin.ok()) << origin.error();
  origin.mark();
  BenchJson j = runBench({"-n", "3000", "-c", "8", "-t", "2", "http://127.0.0.1:" + std::to_string(origin.port()) + "/bytes/100"},
                         "count");
  EXPECT_EQ(j.number("requests"), 3000) << j.text;
  EXPECT_EQ(j.in("errors", "total"), 0) << j.text;
  EXPECT_EQ(origin.delta().requests, 3000);
  for (const char* key : {"p50", "p90", "p99", "p99.9", "p99.99", "max"}) {
    EXPECT_GE(j.in("latency_ms", key), 0) << key << " " << j.text;
    EXPECT_GE(j.in("service_time_ms", key), 0) << key;
  }
  EXPECT_GT(j.number("rps"), 0);
  EXPECT_GT(j.number("duration_s"), 0);
}

TEST(WeirBench, HoldsAFixedRate) {
  Origin origin("bench-rate", 2);
  ASSERT_TRUE(origin.ok()) << origin.error();
  origin.mark();
  BenchJson j = runBench({"-R", "2000", "-d", "3s", "-c", "16", "-t", "2",
                          "http://127.0.0.1:" + std::to_string(origin.port()) + "/bytes/100"},
                         "rate");
  // Every request due in the 3 s is sent, late if need be, and waited for.
  const auto served = static_cast<double>(origin.delta().requests);
  EXPECT_NEAR(j.number("rps"), 2000, 40) << "within 2%: " << j.text;
  EXPECT_NEAR(served, 6000, 120);
  EXPECT_EQ(j.number("requests"), served) << j.text;
  EXPECT_EQ(j.in("errors", "total"), 0) << j.text;
}

// One request in the run takes 1 s (?delay=1000); with one connection at
// 1,000 requests/s, the 1,000 requests due during it wait: the corrected
// p99.9 shows the stall, the service time's p99.9 (one slow request in
// 5,000) does not.
TEST(WeirBench, AStallShowsInTheCorrectedLatencyOnly) {
  Origin origin("bench-stall", 1);
  ASSERT_TRUE(origin.ok()) << origin.error();
  const std::string paths = testDir() + "/paths.txt";
  {
    std::ofstream out(paths);
    for (int i = 0; i < 6000; ++i) out << (i == 1000 ? "/bytes/10?delay=1000" : "/bytes/10") << "\n";
  }
  BenchJson j = runBench({"-R", "1000", "-d", "5s", "-c", "1", "-t", "1", "--paths", paths,
                          "http://127.0.0.1:" + std::to_string(origin.port()) + "/"},
                         "stall");
  EXPECT_GE(j.in("latency_ms", "p99.9"), 500) << j.text;
  EXPECT_LT(j.in("service_time_ms", "p99.9"), 200) << j.text;
  EXPECT_GE(j.in("service_time_ms", "max"), 1000) << "the slow request itself" << j.text;
}

// A server that answers 503 to one request in three, resets the
// connection on the next, and never answers the third.
TEST(WeirBench, ErrorsAreCountedByClass) {
  std::atomic<int> n{0};
  ScriptedUpstream up([&n](UpstreamConn& c, int) {
    for (;;) {
      if (!c.readHead(Ms(5000))) return;
      const int k = n.fetch_add(1) % 3;
      if (k == 0) {
        if (!c.send("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")) return;
      } else if (k == 1) {
        c.reset();
        return;
      } else {
        c.waitEof(Ms(3000));  // never answers; the client gives up
        return;
      }
    }
  });
  BenchJson j = runBench({"-n", "30", "-c", "3", "-t", "1", "--timeout", "300ms", "http://" + up.address() + "/"}, "errors");
  EXPECT_GE(j.in("errors", "status_5xx"), 1) << j.text;
  EXPECT_GE(j.in("errors", "reset"), 1) << j.text;
  EXPECT_GE(j.in("errors", "timeout"), 1) << j.text;
  EXPECT_EQ(j.in("errors", "connect"), 0) << j.text;
}

// What weir-bench sends is what its options ask for: -m, -H and --body in
// every request, --pipeline N requests in flight on a connection, and one
// connection per request with --http1.0 and with --no-keepalive.
struct Seen {
  std::mutex mu;
  std::vector<std::string> heads, bodies;
  size_t most_in_flight = 0;  // heads read before answering any of them
};

// Answers each request "ok"; closes after it when the request is HTTP/1.0
// or says Connection: close.
ScriptedUpstream::Script recordingServer(Seen& seen) {
  return [&seen](UpstreamConn& c, int) {
    for (;;) {
      std::vector<std::string> batch;
      std::optional<std::string> head = c.readHead(Ms(5000));
      while (head) {  // what else is already pipelined behind it
        std::string body;
        const size_t cl = head->find("Content-Length: ");
        if (cl != std::string::npos) {
          std::optional<std::string> b = c.readBytes(std::stoul(head->substr(cl + 16)));
          if (!b) return;
          body = *b;
        }
        {
          std::lock_guard<std::mutex> lock(seen.mu);
          seen.heads.push_back(*head);
          seen.bodies.push_back(body);
        }
        batch.push_back(*head);
        head = batch.size() < 8 ? c.readHead(Ms(100)) : std::nullopt;
      }
      if (batch.empty()) return;
      {
        std::lock_guard<std::mutex> lock(seen.mu);
        seen.most_in_flight = std::max(seen.most_in_flight, batch.size());
      }
      for (const std::string& h : batch) {
        const bool close = h.find(" HTTP/1.0\r\n") != std::string::npos || h.find("Connection: close") != std::string::npos;
        if (!c.send(std::string("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n") + (close ? "Connection: close\r\n" : "") +
                    "\r\nok")) {
          return;
        }
        if (close) return;
      }
    }
  };
}

TEST(WeirBench, SendsWhatItsOptionsAskFor) {
  const std::string body_file = testDir() + "/body.txt";
  writeFile(body_file, "the request body");
  {
    Seen seen;
    ScriptedUpstream up(recordingServer(seen));
    BenchJson j = runBench({"-n", "40", "-c", "2", "-t", "1", "--pipeline", "4", "-m", "POST", "-H", "X-Bench: yes",
                            "--body", body_file, "http://" + up.address() + "/p"},
                           "options");
    EXPECT_EQ(j.number("requests"), 40) << j.text;
    EXPECT_EQ(j.in("errors", "total"), 0) << j.text;
    std::lock_guard<std::mutex> lock(seen.mu);
    ASSERT_EQ(seen.heads.size(), 40u);
    for (size_t i = 0; i < seen.heads.size(); ++i) {
      EXPECT_EQ(seen.heads[i].rfind("POST /p HTTP/1.1\r\n", 0), 0u) << seen.heads[i];
      EXPECT_NE(seen.heads[i].find("\r\nX-Bench: yes\r\n"), std::string::npos) << seen.heads[i];
      EXPECT_EQ(seen.bodies[i], "the request body");
    }
    EXPECT_GE(seen.most_in_flight, 2u) << "pipelined";
    EXPECT_LE(seen.most_in_flight, 4u) << "at most --pipeline in flight";
    EXPECT_LE(up.accepted(), 2);
  }
  for (const char* option : {"--http1.0", "--no-keepalive"}) {
    Seen seen;
    ScriptedUpstream up(recordingServer(seen));
    BenchJson j = runBench({"-n", "5", "-c", "1", "-t", "1", option, "http://" + up.address() + "/"}, "conn");
    EXPECT_EQ(j.number("requests"), 5) << option << " " << j.text;
    EXPECT_EQ(j.in("errors", "total"), 0) << option << " " << j.text;
    EXPECT_EQ(up.accepted(), 5) << option << ": a connection per request";
    std::lock_guard<std::mutex> lock(seen.mu);
    for (const std::string& h : seen.heads) {
      EXPECT_NE(h.find(std::string(option) == "--http1.0" ? "GET / HTTP/1.0\r\n" : "Connection: close\r\n"),
                std::string::npos)
          << option << " " << h;
    }
  }
}

// --warmup: requests in the warm-up reach the server but are not counted.
TEST(WeirBench, TheWarmupIsNotCounted) {
  Origin origin("bench-warmup", 1);
  ASSERT_TRUE(origin.ok()) << origin.error();
  origin.mark();
  BenchJson j = runBench({"-R", "200", "--warmup", "1s", "-d", "1s", "-c", "4", "-t", "1",
                          "http://127.0.0.1:" + std::to_string(origin.port()) + "/bytes/10"},
                         "warmup");
  const auto served = static_cast<double>(origin.delta().requests);
  EXPECT_NEAR(j.number("requests"), 200, 4) << j.text;
  EXPECT_NEAR(served, 400, 8) << "the warm-up's 200 too";
  EXPECT_NEAR(j.number("duration_s"), 1.0, 0.01) << j.text;
}

// --zipf: targets with the rank in place of {}, rank 0 the most requested.
TEST(WeirBench, ZipfTargetsFollowTheirRanks) {
  std::mutex mu;
  std::map<std::string, int> seen;
  ScriptedUpstream up([&](UpstreamConn& c, int) {
    for (;;) {
      std::optional<std::string> head = c.readHead(Ms(5000));
      if (!head) return;
      const size_t sp = head->find(' ');
      {
        std::lock_guard<std::mutex> lock(mu);
        ++seen[head->substr(sp + 1, head->find(' ', sp + 1) - sp - 1)];
      }
      if (!c.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")) return;
    }
  });
  BenchJson j = runBench({"-n", "3000", "-c", "2", "-t", "1", "--zipf", "50,1.0", "http://" + up.address() + "/o?k={}&x=1"},
                         "zipf");
  EXPECT_EQ(j.number("requests"), 3000) << j.text;
  std::lock_guard<std::mutex> lock(mu);
  int total = 0;
  for (const auto& [path, n] : seen) {
    EXPECT_EQ(path.rfind("/o?k=", 0), 0u) << path;
    EXPECT_NE(path.find("&x=1"), std::string::npos) << path;
    total += n;
  }
  EXPECT_EQ(total, 3000);
  EXPECT_GT(seen["/o?k=0&x=1"], 3 * seen["/o?k=9&x=1"]) << "rank 1 about ten times rank 10";
  EXPECT_LE(seen.size(), 50u);
}

TEST(WeirBench, ConnectFailuresAreCountedAndTheRunEnds) {
  const uint16_t closed = freePort();
  BenchJson j = runBench({"-d", "1s", "-c", "2", "-t", "1", "http://127.0.0.1:" + std::to_string(closed) + "/"}, "refused");
  EXPECT_GE(j.in("errors", "connect"), 1) << j.text;
  EXPECT_EQ(j.number("requests"), 0);
}

// bench/compare.sh on weir-bench, on a short run with every peer that is
// installed (the origin itself, weir and weir's cache need nothing): a
// pass-through, the open-loop latency and a cache workload, each on its kind
// of target; the table, with ratios, and the latency plot.
TEST(WeirBench, CompareProducesItsTableAndPlot) {
  const std::string bin = WEIR_BIN;
  const std::string build = bin.substr(0, bin.rfind('/'));
  const std::string script = std::string(WEIR_TOOLS_DIR) + "/../../bench/compare.sh";
  const std::string results = testDir() + "/compare";
  RunResult r = run({"/usr/bin/env", "TARGETS=direct weir nginx haproxy weir_cache nginx_cache haproxy_cache varnish",
                     "WORKLOADS=small latency hit_small", "DURATION=1", "ROUNDS=1", "WARMUP=0", "LOADGEN=weir-bench",
                     "RESULTS_DIR=" + results, script, build},
                    Ms(180000), "compare");
  ASSERT_EQ(r.exitCode, 0) << r.out << r.err;
  std::ifstream table(results + "/table.txt");
  std::stringstream t;
  t << table.rdbuf();
  const std::string text = t.str();
  auto row = [](const std::string& workload, const std::string& target) {
    std::string w = workload, g = target;
    w.resize(10, ' ');
    g.resize(13, ' ');
    return w + " " + g + " ";
  };
  EXPECT_NE(text.find(row("small", "direct")), std::string::npos) << text;
  EXPECT_NE(text.find(row("small", "weir")), std::string::npos) << text;
  EXPECT_NE(text.find(row("latency", "weir")), std::string::npos) << text;
  EXPECT_NE(text.find(row("hit_small", "weir_cache")), std::string::npos) << text;
  EXPECT_EQ(text.find(row("hit_small", "weir")), std::string::npos) << "a cache workload runs on the caches\n" << text;
  EXPECT_EQ(text.find(row("small", "weir_cache")), std::string::npos) << "and pass-through on the proxies\n" << text;
  EXPECT_NE(text.find("p99.9"), std::string::npos) << text;
  // The peers that are installed are measured, with their ratio to weir.
  const struct {
    const char* binary;
    const char* pass;
    const char* cache;
  } peers[] = {{"/usr/sbin/nginx", "nginx", "nginx_cache"},
               {"/usr/sbin/haproxy", "haproxy", "haproxy_cache"},
               {"/usr/sbin/varnishd", nullptr, "varnish"}};
  for (const auto& peer : peers) {
    if (::access(peer.binary, X_OK) != 0) continue;
    if (peer.pass != nullptr) {
      EXPECT_NE(text.find(row("small", peer.pass)), std::string::npos) << text;
      EXPECT_NE(text.find(std::string("weir/") + peer.pass + " = "), std::string::npos) << text;
    }
    EXPECT_NE(text.find(row("hit_small", peer.cache)), std::string::npos) << text;
    EXPECT_NE(text.find(std::string("weir_cache/") + peer.cache + " = "), std::string::npos) << text;
  }
  for (const char* workload : {"latency", "hit_small"}) {
    std::ifstream plot(results + "/latency-" + std::string(workload) + ".svg");
    std::stringstream p;
    p << plot.rdbuf();
    EXPECT_NE(p.str().find("<svg"), std::string::npos) << workload;
    EXPECT_NE(p.str().find("<polyline"), std::string::npos) << workload << p.str();
  }
  std::ifstream meta(results + "/meta.txt");
  std::stringstream m;
  m << meta.rdbuf();
  EXPECT_NE(m.str().find("open loop at"), std::string::npos) << m.str();
}

TEST(WeirBench, RefusesBadArguments) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {}, {"-c", "0", "http://127.0.0.1:1/"}, {"-d", "soon", "http://127.0.0.1:1/"}, {"ftp://x/"},
           {"--zipf", "10", "http://127.0.0.1:1/"}, {"--unknown", "http://127.0.0.1:1/"}}) {
    std::vector<std::string> argv = {BENCH_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    RunResult r = run(argv, Ms(5000), "bad-args");
    EXPECT_EQ(r.exitCode, 2) << r.err;
    EXPECT_NE(r.err.find("weir-bench:"), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace weir::itest
