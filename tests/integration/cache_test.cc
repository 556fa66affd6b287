// The cache on a route with cache: true (issue 8), against a scripted
// origin that answers each path with the fields a test sets and counts the
// requests it gets: miss then hit with Age, what RFC 9111 lets a shared
// cache store, request directives, HEAD from a stored GET, invalidation by
// unsafe methods, objects past max_object_size, and Cache-Status.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "scripted_upstream.h"

namespace weir::itest {
namespace {

// Answers by path; keeps connections alive; counts requests by method and path.
class TableOrigin {
 public:
  struct Answer {
    std::string fields;  // "Name: value\r\n" lines
    std::string body;
    int status = 200;
    // Slow and failing answers, for coalescing: the first request to the
    // path waits first_delay before its head (or is reset, with
    // reset_first); every answer sends its body in `pieces` parts,
    // piece_delay apart, chunked or with Content-Length.
    Ms first_delay{0};
    bool reset_first = false;
    int pieces = 1;
    Ms piece_delay{0};
    bool chunked = false;
  };
  TableOrigin() : up_([this](UpstreamConn& c, int) { serve(c); }) {}
  void set(const std::string& path, Answer a) {
    std::lock_guard<std::mutex> lock(mu_);
    answers_[path] = std::move(a);
  }
  // The answer to every path that has none of its own.
  void setDefault(Answer a) {
    std::lock_guard<std::mutex> lock(mu_);
    default_ = std::move(a);
  }
  int count(const std::string& method_path) {
    std::lock_guard<std::mutex> lock(mu_);
    return counts_[method_path];
  }
  std::string address() const { return up_.address(); }

 private:
  void serve(UpstreamConn& c) {
    for (;;) {
      std::optional<std::string> head = c.readHead(Ms(5000));
      if (!head) return;
      const size_t sp1 = head->find(' ');
      const size_t sp2 = head->find(' ', sp1 + 1);
      const std::string method = head->substr(0, sp1);
      const std::string path = head->substr(sp1 + 1, sp2 - sp1 - 1);
      size_t cl = head->find("\r\nContent-Length: ");
      if (cl != std::string::npos && !c.readBytes(std::stoul(head->substr(cl + 18)))) return;
      Answer a;
      bool first = false;
      {
        std::lock_guard<std::mutex> lock(mu_);
        first = ++counts_[method + " " + path] == 1;
        auto it = answers_.find(path);
        a = it != answers_.end() ? it->second : default_;
      }
      if (first && a.reset_first) {
        c.reset();
        return;
      }
      if (first) std::this_thread::sleep_for(a.first_delay);
      std::string out = "HTTP/1.1 " + std::to_string(a.status) + " X\r\n" + a.fields +
                        (a.status == 204 ? std::string()
                         : a.chunked     ? std::string("Transfer-Encoding: chunked\r\n")
                                         : "Content-Length: " + std::to_string(a.body.size()) + "\r\n") +
                        "\r\n";
      if (!c.send(out)) return;
      if (method == "HEAD") continue;
      const size_t piece = (a.body.size() + a.pieces - 1) / std::max(1, a.pieces);
      for (size_t at = 0; at < a.body.size(); at += piece) {
        if (at > 0) std::this_thread::sleep_for(a.piece_delay);
        const std::string part = a.body.substr(at, piece);
        if (!c.send(a.chunked ? hex(part.size()) + "\r\n" + part + "\r\n" : part)) return;
      }
      if (a.chunked && !c.send("0\r\n\r\n")) return;
    }
  }
  static std::string hex(size_t n) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%zx", n);
    return buf;
  }
  std::mutex mu_;
  std::map<std::string, Answer> answers_;
  Answer default_;
  std::map<std::string, int> counts_;
  ScriptedUpstream up_;
};

class Cache : public ::testing::Test {
 protected:
  void SetUp() override { start(""); }
  void start(const std::string& cache_section, const std::string& top = "", const std::string& max_size = "16MiB") {
    weir_.reset();
    std::string yaml = top + "cache:\n  max_size: " + max_size + "\n" + cache_section + "pools:\n  app:\n    servers:\n      - address: " +
                       origin_.address() +
                       "\nroutes:\n  - match: { path_prefix: /plain/ }\n    pool: app\n  - pool: app\n    cache: true\n";
    weir_ = std::make_unique<Weir>(yaml);
    ASSERT_TRUE(weir_->ok()) << weir_->error();
  }
  CurlResult get(const std::string& path, const std::vector<std::string>& args = {}) {
    return curl(weir_->url(path), args);
  }
  std::string cacheStatus(const CurlResult& r) { return r.header("Cache-Status").value_or("(none)"); }
  TableOrigin origin_;
  std::unique_ptr<Weir> weir_;
};

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST_F(Cache, MissThenHitWithAge) {
  origin_.set("/a", {"Cache-Control: max-age=60\r\nX-Kept: yes\r\n", "hello cache\n"});
  CurlResult miss = get("/a");
  ASSERT_EQ(miss.status, 200) << miss.describe();
  EXPECT_EQ(miss.body, "hello cache\n");
  EXPECT_TRUE(has(cacheStatus(miss), "fwd=uri-miss") && has(cacheStatus(miss), "stored")) << cacheStatus(miss);
  CurlResult hit = get("/a");
  ASSERT_EQ(hit.status, 200) << hit.describe();
  EXPECT_EQ(hit.body, "hello cache\n");
  EXPECT_TRUE(has(cacheStatus(hit), "weir; hit")) << cacheStatus(hit);
  ASSERT_TRUE(hit.header("Age")) << hit.rawHeaders;
  EXPECT_LE(std::stoi(*hit.header("Age")), 2);
  EXPECT_EQ(hit.header("X-Kept").value_or(""), "yes");
  EXPECT_TRUE(hit.header("X-Request-Id")) << "a hit carries its own request ID";
  EXPECT_EQ(origin_.count("GET /a"), 1);
}

// RFC 9111 4.2.3: the upstream's Age counts into the age the cache reports.
TEST_F(Cache, AgeIncludesTheUpstreamsAge) {
  origin_.set("/aged", {"Cache-Control: max-age=600\r\nAge: 100\r\n", "x"});
  ASSERT_EQ(get("/aged").status, 200);
  CurlResult hit = get("/aged");
  ASSERT_TRUE(hit.header("Age")) << hit.rawHeaders;
  const int age = std::stoi(*hit.header("Age"));
  EXPECT_GE(age, 100);
  EXPECT_LE(age, 103);
  EXPECT_EQ(origin_.count("GET /aged"), 1);
}

TEST_F(Cache, WhatASharedCacheMustNotStore) {
  origin_.set("/no-store", {"Cache-Control: no-store, max-age=60\r\n", "1"});
  origin_.set("/private", {"Cache-Control: private, max-age=60\r\n", "2"});
  origin_.set("/cookie", {"Cache-Control: max-age=60\r\nSet-Cookie: s=1\r\n", "3"});
  origin_.set("/nothing", {"", "4"});
  for (const char* path : {"/no-store", "/private", "/cookie", "/nothing"}) {
    CurlResult first = get(path);
    CurlResult second = get(path);
    EXPECT_EQ(second.status, 200) << path;
    EXPECT_FALSE(has(cacheStatus(second), "hit")) << path << ": " << cacheStatus(second);
    EXPECT_EQ(origin_.count(std::string("GET ") + path), 2) << path;
  }
  EXPECT_TRUE(has(cacheStatus(get("/no-store")), "detail=no_store")) << cacheStatus(get("/no-store"));
}

// RFC 9111 3.5: a request with Authorization is stored only when the
// response says a shared cache may (s-maxage, public, must-revalidate).
TEST_F(Cache, AuthorizationNeedsPermission) {
  origin_.set("/auth", {"Cache-Control: max-age=60\r\n", "a"});
  origin_.set("/auth-public", {"Cache-Control: public, max-age=60\r\n", "b"});
  const std::vector<std::string> auth = {"-H", "Authorization: Basic dTpw"};
  get("/auth", auth);
  get("/auth", auth);
  EXPECT_EQ(origin_.count("GET /auth"), 2);
  get("/auth-public", auth);
  EXPECT_TRUE(has(cacheStatus(get("/auth-public", auth)), "hit"));
  EXPECT_EQ(origin_.count("GET /auth-public"), 1);
}

// s-maxage wins over max-age for a shared cache (5.2.2.10); Expires - Date
// gives the lifetime without either (5.3), an Expires in the past none.
TEST_F(Cache, SMaxAgeAndExpires) {
  origin_.set("/s", {"Cache-Control: max-age=0, s-maxage=60\r\n", "s"});
  origin_.set("/expired", {"Date: Sun, 06 Nov 1994 08:49:37 GMT\r\nExpires: Sun, 06 Nov 1994 08:49:38 GMT\r\n", "e"});
  get("/s");
  EXPECT_TRUE(has(cacheStatus(get("/s")), "hit"));
  EXPECT_EQ(origin_.count("GET /s"), 1);
  get("/expired");
  get("/expired");
  EXPECT_EQ(origin_.count("GET /expired"), 2);
}

// Request directives (5.2.1): no-cache goes to the origin and the answer
// replaces what was stored; only-if-cached with nothing stored is a 504.
TEST_F(Cache, RequestDirectives) {
  origin_.set("/r", {"Cache-Control: max-age=60\r\n", "r"});
  get("/r");
  CurlResult forced = get("/r", {"-H", "Cache-Control: no-cache"});
  EXPECT_TRUE(has(cacheStatus(forced), "fwd=request")) << cacheStatus(forced);
  EXPECT_EQ(origin_.count("GET /r"), 2);
  EXPECT_TRUE(has(cacheStatus(get("/r")), "hit"));
  CurlResult only = get("/never-stored", {"-H", "Cache-Control: only-if-cached"});
  EXPECT_EQ(only.status, 504);
  EXPECT_EQ(origin_.count("GET /never-stored"), 0);
  CurlResult bypass = get("/r", {"-H", "Cache-Control: no-store"});
  EXPECT_TRUE(has(cacheStatus(bypass), "fwd=bypass")) << cacheStatus(bypass);
}

TEST_F(Cache, HeadIsAnsweredFromAStoredGet) {
  origin_.set("/h", {"Cache-Control: max-age=60\r\n", "0123456789"});
  get("/h");
  CurlResult head = get("/h", {"-I"});
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(has(cacheStatus(head), "hit")) << cacheStatus(head);
  EXPECT_EQ(head.header("Content-Length").value_or(""), "10");
  EXPECT_FALSE(has(head.body, "0123456789")) << "a HEAD answer with a body: " << head.body;  // -I prints the head
  EXPECT_EQ(origin_.count("HEAD /h"), 0);
  EXPECT_TRUE(has(cacheStatus(get("/h")), "hit")) << "the GET after the HEAD";
}

// RFC 9111 4.4: a successful unsafe request invalidates its target and the
// same-host Location.
TEST_F(Cache, UnsafeMethodsInvalidate) {
  origin_.set("/item", {"Cache-Control: max-age=60\r\nLocation: /other\r\n", "v1"});
  origin_.set("/other", {"Cache-Control: max-age=60\r\n", "o"});
  get("/item");
  get("/other");
  EXPECT_TRUE(has(cacheStatus(get("/item")), "hit"));
  CurlResult post = get("/item", {"-X", "POST", "-d", "x"});
  EXPECT_EQ(post.status, 200);
  EXPECT_FALSE(has(cacheStatus(get("/item")), "hit"));
  EXPECT_FALSE(has(cacheStatus(get("/other")), "hit"));
  EXPECT_EQ(origin_.count("GET /item"), 2);
  EXPECT_EQ(origin_.count("GET /other"), 2);
}

TEST_F(Cache, LargerThanMaxObjectSizePassesThroughWhole) {
  ASSERT_NO_FATAL_FAILURE(start("  max_object_size: 1MiB\n"));
  std::string big(3 << 20, 'b');
  for (size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>('a' + (i / 4096) % 26);
  origin_.set("/big", {"Cache-Control: max-age=60\r\n", big});
  for (int i = 0; i < 2; ++i) {
    CurlResult r = get("/big");
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(r.body == big) << "body of " << r.body.size() << " bytes differs";
  }
  EXPECT_EQ(origin_.count("GET /big"), 2);
}

TEST_F(Cache, RoutesWithoutCacheAreUntouched) {
  origin_.set("/plain/p", {"Cache-Control: max-age=60\r\n", "p"});
  CurlResult a = get("/plain/p");
  CurlResult b = get("/plain/p");
  EXPECT_FALSE(a.header("Cache-Status")) << a.rawHeaders;
  EXPECT_FALSE(b.header("Age"));
  EXPECT_EQ(origin_.count("GET /plain/p"), 2);
}

// RFC 9111 4.2.2: no explicit freshness, a Last-Modified: a fraction
// (cache.heuristic_fraction, 10%) of the time since then.
TEST_F(Cache, HeuristicFreshnessFromLastModified) {
  const std::time_t now = std::time(nullptr);
  char date[64], modified[64];
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", std::gmtime(&now));
  const std::time_t then = now - 1000;
  std::strftime(modified, sizeof modified, "%a, %d %b %Y %H:%M:%S GMT", std::gmtime(&then));
  origin_.set("/heur", {std::string("Date: ") + date + "\r\nLast-Modified: " + modified + "\r\n", "h"});
  CurlResult first = get("/heur");
  EXPECT_TRUE(has(cacheStatus(first), "stored")) << cacheStatus(first);
  CurlResult hit = get("/heur");
  const std::string status = cacheStatus(hit);
  ASSERT_TRUE(has(status, "hit")) << status;
  const size_t ttl = status.find("ttl=");
  ASSERT_NE(ttl, std::string::npos) << status;
  const int left = std::stoi(status.substr(ttl + 4));
  EXPECT_GE(left, 95) << status;  // 10% of 1000 s, less the seconds since
  EXPECT_LE(left, 100) << status;
  EXPECT_EQ(origin_.count("GET /heur"), 1);
}

// Runs `n` curl clients for `path` at once (each on its own thread).
std::vector<CurlResult> concurrentGets(const std::string& url, int n, Ms stagger = Ms(0)) {
  std::vector<CurlResult> results(static_cast<size_t>(n));
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&results, &url, i] { results[static_cast<size_t>(i)] = curl(url, {}, 20); });
    if (i == 0) std::this_thread::sleep_for(stagger);
  }
  for (std::thread& t : threads) t.join();
  return results;
}

// Coalescing: one slow, uncached object asked for by 50 clients at once
// (spread over both workers) reaches the origin once, and every client gets
// the whole body, streamed as it arrives — with Content-Length and, for a
// chunked origin response, chunked.
TEST_F(Cache, FiftyConcurrentClientsMakeOneOriginRequest) {
  ASSERT_NO_FATAL_FAILURE(start("", "workers: 2\n"));
  std::string body(200000, 'x');
  for (size_t i = 0; i < body.size(); i += 1000) body[i] = static_cast<char>('a' + (i / 1000) % 26);
  for (bool chunked : {false, true}) {
    const std::string path = chunked ? "/slow-chunked" : "/slow";
    TableOrigin::Answer a{"Cache-Control: max-age=60\r\n", body};
    a.first_delay = Ms(300);
    a.pieces = 8;
    a.piece_delay = Ms(150);
    a.chunked = chunked;
    origin_.set(path, a);
    std::vector<CurlResult> results = concurrentGets(weir_->url(path), 50, Ms(50));
    int collapsed = 0;
    for (const CurlResult& r : results) {
      ASSERT_EQ(r.status, 200) << path << ": " << r.describe();
      ASSERT_TRUE(r.body == body) << path << ": body of " << r.body.size() << " bytes differs";
      if (has(cacheStatus(r), "collapsed")) ++collapsed;
      EXPECT_FALSE(has(cacheStatus(r), "collapsed=?0")) << cacheStatus(r);
    }
    CurlResult hit = get(path);  // stored without the origin's chunk framing
    EXPECT_TRUE(has(cacheStatus(hit), "hit")) << cacheStatus(hit);
    EXPECT_TRUE(hit.body == body) << path << ": stored body of " << hit.body.size() << " bytes differs";
    EXPECT_EQ(origin_.count("GET " + path), 1) << path;
    EXPECT_GE(collapsed, 10) << path << ": most clients should have waited for the one fetch";
  }
}

// A response that turns out not storable releases the waiters at once (they
// fetch for themselves), long before cache.lock_timeout.
TEST_F(Cache, NonStorableResponseReleasesWaitersAtOnce) {
  ASSERT_NO_FATAL_FAILURE(start("  lock_timeout: 20s\n"));
  TableOrigin::Answer a{"Cache-Control: no-store\r\n", "not for keeping"};
  a.first_delay = Ms(1000);
  origin_.set("/ns", a);
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<CurlResult> results = concurrentGets(weir_->url("/ns"), 10, Ms(200));
  const auto took = std::chrono::steady_clock::now() - t0;
  for (const CurlResult& r : results) {
    ASSERT_EQ(r.status, 200) << r.describe();
    EXPECT_EQ(r.body, "not for keeping");
  }
  EXPECT_EQ(origin_.count("GET /ns"), 10);
  EXPECT_LT(took, std::chrono::seconds(5)) << "waiters were held until the lock timeout";
}

// A waiter whose filler is slow to answer fetches for itself after
// cache.lock_timeout (Cache-Status: collapsed=?0).
TEST_F(Cache, AWaiterFetchesForItselfAfterTheLockTimeout) {
  ASSERT_NO_FATAL_FAILURE(start("  lock_timeout: 500ms\n"));
  TableOrigin::Answer a{"Cache-Control: max-age=60\r\n", "slow one"};
  a.first_delay = Ms(4000);
  origin_.set("/late", a);
  CurlResult first;
  std::thread filler([&] { first = get("/late"); });
  ASSERT_TRUE(eventually([&] { return origin_.count("GET /late") == 1; })) << "the filler's request reaches the origin";
  const auto t0 = std::chrono::steady_clock::now();
  CurlResult waiter = get("/late");
  const auto took = std::chrono::steady_clock::now() - t0;
  filler.join();
  EXPECT_EQ(waiter.status, 200) << waiter.describe();
  EXPECT_EQ(waiter.body, "slow one");
  EXPECT_TRUE(has(cacheStatus(waiter), "collapsed=?0")) << cacheStatus(waiter);
  EXPECT_GE(took, Ms(400));
  EXPECT_LT(took, Ms(3000));
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(origin_.count("GET /late"), 2);
}

// The filler's upstream fails before answering: one waiter becomes the new
// filler and the others wait for it, so the origin sees one more request,
// not one per waiter.
TEST_F(Cache, AFailedFillIsTakenOverByOneWaiter) {
  TableOrigin::Answer a{"Cache-Control: max-age=60\r\n", "second try"};
  a.first_delay = Ms(600);
  origin_.set("/flaky", a);
  // The first fill's client leaves before the answer: its fill is dropped
  // while others wait.
  std::thread quitter([&] { curl(weir_->url("/flaky"), {}, 0.3); });
  EXPECT_TRUE(eventually([&] { return origin_.count("GET /flaky") == 1; }, Ms(3000))) << "the first fill starts";
  std::vector<CurlResult> results = concurrentGets(weir_->url("/flaky"), 8);
  quitter.join();
  for (const CurlResult& r : results) {
    EXPECT_EQ(r.status, 200) << r.describe();
    EXPECT_EQ(r.body, "second try");
  }
  EXPECT_EQ(origin_.count("GET /flaky"), 2);
}

// The value of one sample in a Prometheus text body, -1 when absent.
double sample(const std::string& metrics, const std::string& series) {
  const size_t at = metrics.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(metrics.substr(at + series.size() + 2));
}

// Observability: /metrics counts what the cache did per route and what the
// store holds; the access log carries the Cache-Status each response had,
// weir's own 504 for only-if-cached included.
TEST_F(Cache, MetricsAndTheAccessLogShowWhatTheCacheDid) {
  const uint16_t admin = freePort();
  ASSERT_NO_FATAL_FAILURE(start("", "admin:\n  address: 127.0.0.1:" + std::to_string(admin) + "\n"));
  origin_.set("/m", {"Cache-Control: max-age=60\r\n", std::string(1000, 'm')});
  origin_.set("/m-no-store", {"Cache-Control: no-store\r\n", "n"});
  EXPECT_TRUE(has(cacheStatus(get("/m")), "stored"));
  EXPECT_TRUE(has(cacheStatus(get("/m")), "hit"));
  EXPECT_TRUE(has(cacheStatus(get("/m")), "hit"));
  get("/m-no-store");
  CurlResult gone = get("/never", {"-H", "Cache-Control: only-if-cached"});
  EXPECT_EQ(gone.status, 504);
  EXPECT_EQ(cacheStatus(gone), "weir; detail=only_if_cached") << gone.rawHeaders;
  get("/m", {"-H", "Cache-Control: no-cache"});  // refetched: the request said so

  const std::string url = "http://127.0.0.1:" + std::to_string(admin) + "/metrics";
  CurlResult m = curl(url);
  ASSERT_EQ(m.status, 200) << m.describe();
  auto route = [](const std::string& family, const std::string& label) {
    return family + "{route=\"/\"," + label + "}";
  };
  EXPECT_EQ(sample(m.body, route("weir_cache_requests_total", "result=\"hit\"")), 2) << m.body;
  EXPECT_EQ(sample(m.body, route("weir_cache_requests_total", "result=\"miss\"")), 2) << m.body;
  EXPECT_EQ(sample(m.body, route("weir_cache_requests_total", "result=\"request\"")), 1) << m.body;
  EXPECT_EQ(sample(m.body, route("weir_cache_requests_total", "result=\"unavailable\"")), 1) << m.body;
  EXPECT_EQ(sample(m.body, route("weir_cache_store_refusals_total", "reason=\"no_store\"")), 1) << m.body;
  EXPECT_EQ(sample(m.body, "weir_cache_objects"), 1) << m.body;
  EXPECT_EQ(sample(m.body, "weir_cache_stores_total"), 2) << m.body;  // /m, then /m again after no-cache
  EXPECT_EQ(sample(m.body, "weir_cache_max_bytes"), 16 << 20) << m.body;
  const double bytes = sample(m.body, "weir_cache_bytes");
  EXPECT_GT(bytes, 1000) << m.body;
  EXPECT_LT(bytes, 16 << 20) << m.body;
  EXPECT_GE(sample(m.body, route("weir_cache_coalesced_waits_total", "outcome=\"streamed\"")), 0) << m.body;
  EXPECT_GE(sample(m.body, "weir_cache_evictions_total"), 0) << m.body;
  // A route without the cache has no cache series.
  EXPECT_EQ(m.body.find("weir_cache_requests_total{route=\"/plain/\""), std::string::npos);

  ASSERT_TRUE(weir_->waitForLogLine(weir_->accessLogPath(), [](const std::string& l) {
    return l.find("only-if-cached") == std::string::npos && l.find(" 504 ") != std::string::npos;
  })) << readFile(weir_->accessLogPath());
  const std::string log = readFile(weir_->accessLogPath());
  EXPECT_TRUE(has(log, "\"GET /m HTTP/1.1\" 200 1000 \"-\" \"curl/")) << log;
  EXPECT_TRUE(has(log, "\" \"weir; hit; ttl=")) << log;
  EXPECT_TRUE(has(log, "\" \"weir; fwd=uri-miss; stored; ttl=60\"\n")) << log;
  EXPECT_TRUE(has(log, "\" \"weir; fwd=uri-miss; detail=no_store\"\n")) << log;
  EXPECT_TRUE(has(log, "\"GET /never HTTP/1.1\" 504 20 \"-\" \"curl/")) << log;
  EXPECT_TRUE(has(log, "\" \"weir; detail=only_if_cached\"\n")) << log;
  get("/plain/x");
  ASSERT_TRUE(weir_->waitForLogLine(weir_->accessLogPath(),
                                    [](const std::string& l) { return l.find("/plain/x") != std::string::npos; }));
  const std::string plain = readFile(weir_->accessLogPath());
  EXPECT_TRUE(has(plain.substr(plain.find("/plain/x")), "\" \"-\"\n")) << "no cache on the route: -";
}

// A field of /proc/PID/status in bytes ("VmRSS", "VmHWM"), -1 if absent.
long procStatusBytes(pid_t pid, const std::string& field) {
  const std::string status = readFile("/proc/" + std::to_string(pid) + "/status");
  const size_t at = status.find("\n" + field + ":");
  if (at == std::string::npos) return -1;
  return std::stol(status.substr(at + field.size() + 2)) * 1024;
}

// GETs /PREFIX/0 .. /PREFIX/n-1 on one kept-alive connection; true when each
// answer was 200 with `size` body bytes.
bool getMany(uint16_t port, const std::string& prefix, int n, size_t size) {
  RawClient c(port);
  if (!c.connected()) return false;
  for (int i = 0; i < n; ++i) {
    // The Host curl sends, so that curl's requests have the same keys.
    const std::string req = "GET " + prefix + std::to_string(i) + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) + "\r\n\r\n";
    if (!c.send(req)) return false;
    std::optional<HttpResponse> r = c.readResponse(Ms(5000));
    if (!r || r->status != 200 || r->body.size() != size) return false;
  }
  return true;
}

// The byte budget end to end: 4x max_size of distinct objects through the
// cache leave its own count at or under max_size (so objects were evicted)
// and weir's peak RSS under max_size + 10% + what it used before the fill
// (the same traffic through an uncached route). The RSS part is skipped
// under sanitizers, whose shadow and quarantine are not weir's memory.
TEST_F(Cache, FourTimesMaxSizeStaysUnderTheCapAndRssStaysBounded) {
  const uint16_t admin = freePort();
  ASSERT_NO_FATAL_FAILURE(start("", "admin:\n  address: 127.0.0.1:" + std::to_string(admin) + "\n", "64MiB"));
  constexpr long kMaxSize = 64 << 20;
  constexpr size_t kObject = 64 * 1024;
  constexpr int kObjects = 4 * kMaxSize / kObject;  // 1024: 64 MiB
  origin_.setDefault({"Cache-Control: max-age=600\r\n", std::string(kObject, 'f')});
  ASSERT_TRUE(getMany(weir_->port(), "/plain/warm/", 300, kObject));  // buffers, arenas, keep-alive pools
  const long baseline = procStatusBytes(weir_->pid(), "VmHWM");
  ASSERT_GT(baseline, 0);
  ASSERT_TRUE(getMany(weir_->port(), "/fill/", kObjects, kObject));
  EXPECT_EQ(origin_.count("GET /fill/0"), 1);

  CurlResult m = curl("http://127.0.0.1:" + std::to_string(admin) + "/metrics");
  ASSERT_EQ(m.status, 200) << m.describe();
  const double bytes = sample(m.body, "weir_cache_bytes");
  const double objects = sample(m.body, "weir_cache_objects");
  EXPECT_LE(bytes, kMaxSize) << m.body;
  EXPECT_GT(bytes, kMaxSize / 2) << "the cache should be nearly full";
  EXPECT_GT(sample(m.body, "weir_cache_evictions_total"), kObjects / 2) << m.body;
  EXPECT_LT(objects, kObjects / 4 + 1) << m.body;
  EXPECT_EQ(sample(m.body, "weir_cache_stores_total"), kObjects) << m.body;
  const long peak = procStatusBytes(weir_->pid(), "VmHWM");
  const long limit = baseline + kMaxSize + kMaxSize / 10;
  if (!underSanitizer()) {
    EXPECT_LE(peak, limit) << "peak RSS " << peak << " bytes; baseline " << baseline << ", cache "
                           << static_cast<long>(bytes) << " bytes in " << objects << " objects";
  }
  // The newest objects are the ones kept; the first were evicted.
  EXPECT_TRUE(has(cacheStatus(get("/fill/" + std::to_string(kObjects - 1))), "hit"));
  EXPECT_TRUE(has(cacheStatus(get("/fill/0")), "fwd=uri-miss"));
}

// A hit being sent when its object is evicted keeps going: the client's
// output holds references to the object's chunks, not to the cache entry.
TEST_F(Cache, AHitKeepsServingWhileItsObjectIsEvicted) {
  // LRU: S3-FIFO would rightly keep an object hit twice over a scan of
  // one-hit objects.
  ASSERT_NO_FATAL_FAILURE(start("  eviction: lru\n"));
  std::string big(6 << 20, 'b');
  for (size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>('a' + (i / 4096) % 26);
  origin_.set("/evicted", {"Cache-Control: max-age=600\r\n", big});
  origin_.setDefault({"Cache-Control: max-age=600\r\n", std::string(256 * 1024, 'o')});
  ASSERT_EQ(get("/evicted").body.size(), big.size());
  RawClient slow(weir_->port(), 16 * 1024);  // a small receive buffer: most of the body waits in weir
  ASSERT_TRUE(slow.connected());
  ASSERT_TRUE(slow.send("GET /evicted HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(weir_->port()) + "\r\n\r\n"));
  ASSERT_TRUE(slow.readAtLeast(64 * 1024, Ms(5000)));
  ASSERT_NE(slow.buffer().find("Cache-Status: weir; hit"), std::string::npos) << slow.buffer().substr(0, 400);
  // 32 MiB of other objects push it out of the 16 MiB cache.
  ASSERT_TRUE(getMany(weir_->port(), "/other/", 128, 256 * 1024));
  EXPECT_TRUE(has(cacheStatus(get("/evicted")), "fwd=uri-miss")) << "the object should be gone from the cache";
  std::optional<HttpResponse> r = slow.readResponse(Ms(10000));
  ASSERT_TRUE(r) << slow.lastError();
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(r->body == big) << "body of " << r->body.size() << " bytes differs";
  EXPECT_EQ(origin_.count("GET /evicted"), 2);
}

// RFC 9110 8.6: a stored 204 is served without Content-Length or chunked
// framing, and the connection goes on.
TEST_F(Cache, AStored204HasNoFramingAndTheConnectionGoesOn) {
  TableOrigin::Answer a{"Cache-Control: max-age=60\r\n", ""};
  a.status = 204;
  origin_.set("/empty", a);
  origin_.set("/after", {"Cache-Control: max-age=60\r\n", "after"});
  RawClient c(weir_->port());
  const std::string host = "Host: 127.0.0.1:" + std::to_string(weir_->port()) + "\r\n\r\n";
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(c.send("GET /empty HTTP/1.1\r\n" + host));
    std::optional<HttpResponse> r = c.readResponse(Ms(3000));
    ASSERT_TRUE(r) << c.lastError();
    EXPECT_EQ(r->status, 204);
    EXPECT_FALSE(r->hasHeader("Content-Length")) << r->rawHead;
    EXPECT_FALSE(r->hasHeader("Transfer-Encoding")) << r->rawHead;
    EXPECT_TRUE(has(r->header("Cache-Status").value_or(""), i == 0 ? "stored" : "hit")) << r->rawHead;
  }
  ASSERT_TRUE(c.send("GET /after HTTP/1.1\r\n" + host));
  std::optional<HttpResponse> r = c.readResponse(Ms(3000));
  ASSERT_TRUE(r) << c.lastError();
  EXPECT_EQ(r->body, "after");
  EXPECT_EQ(origin_.count("GET /empty"), 1);
}

// The fetching client leaves in the middle of the body: the fetch goes on
// without it, so the waiters streaming it get the whole body, the origin
// is asked once, and the object is stored.
TEST_F(Cache, TheFetchOutlivesItsClient) {
  std::string body(160000, 'l');
  for (size_t i = 0; i < body.size(); i += 1000) body[i] = static_cast<char>('a' + (i / 1000) % 26);
  TableOrigin::Answer a{"Cache-Control: max-age=60\r\n", body};
  a.pieces = 8;
  a.piece_delay = Ms(150);
  origin_.set("/leave", a);
  CurlResult quitter;
  std::thread first([&] { quitter = curl(weir_->url("/leave"), {}, 0.5); });  // gives up after 0.5 s of ~1 s
  EXPECT_TRUE(eventually([&] { return origin_.count("GET /leave") == 1; }, Ms(3000))) << "its fill starts";
  std::vector<CurlResult> results = concurrentGets(weir_->url("/leave"), 8);
  first.join();
  EXPECT_NE(quitter.exitCode, 0) << "the first client should have given up mid-body";
  for (const CurlResult& r : results) {
    ASSERT_EQ(r.status, 200) << r.describe();
    EXPECT_TRUE(r.body == body) << "body of " << r.body.size() << " bytes differs";
  }
  CurlResult hit = get("/leave");
  EXPECT_TRUE(has(cacheStatus(hit), "hit")) << cacheStatus(hit);
  EXPECT_TRUE(hit.body == body);
  EXPECT_EQ(origin_.count("GET /leave"), 1);
  ASSERT_TRUE(weir_->waitForLogLine(weir_->errorLogPath(), [](const std::string& l) {
    return l.find("the response is read on for the cache") != std::string::npos;
  })) << weir_->errorLog();
}

// RFC 9111 4.3.2: a client's preconditions on a fresh stored response are
// answered by the cache, not the origin: 304 when its copy is current (the
// stored head without representation metadata, no body), 200 when not,
// 412 when If-Match fails.
TEST_F(Cache, ClientPreconditionsAreAnsweredFromTheCache) {
  origin_.set("/cond", {"Cache-Control: max-age=60\r\nETag: \"v1\"\r\nLast-Modified: Mon, 30 Nov 2026 12:00:00 GMT\r\n"
                        "Content-Type: text/plain\r\n",
                        "conditional body"});
  ASSERT_TRUE(has(cacheStatus(get("/cond")), "stored"));
  CurlResult nm = get("/cond", {"-H", "If-None-Match: \"v1\""});
  EXPECT_EQ(nm.status, 304) << nm.describe();
  EXPECT_EQ(nm.body, "");
  EXPECT_EQ(nm.header("ETag").value_or(""), "\"v1\"") << nm.rawHeaders;
  EXPECT_TRUE(nm.header("Cache-Control")) << nm.rawHeaders;
  EXPECT_FALSE(nm.header("Content-Type")) << nm.rawHeaders;
  EXPECT_FALSE(nm.header("Content-Length")) << nm.rawHeaders;
  EXPECT_TRUE(has(cacheStatus(nm), "hit")) << nm.rawHeaders;
  EXPECT_TRUE(nm.header("Age")) << nm.rawHeaders;
  EXPECT_EQ(get("/cond", {"-H", "If-None-Match: W/\"v1\""}).status, 304) << "weak comparison";
  CurlResult other = get("/cond", {"-H", "If-None-Match: \"v2\""});
  EXPECT_EQ(other.status, 200);
  EXPECT_EQ(other.body, "conditional body");
  EXPECT_EQ(get("/cond", {"-H", "If-Modified-Since: Tue, 01 Dec 2026 00:00:00 GMT"}).status, 304);
  EXPECT_EQ(get("/cond", {"-H", "If-Modified-Since: Sun, 29 Nov 2026 00:00:00 GMT"}).status, 200);
  EXPECT_EQ(get("/cond", {"-H", "If-None-Match: \"v2\"", "-H", "If-Modified-Since: Tue, 01 Dec 2026 00:00:00 GMT"})
                .status,
            200)
      << "If-None-Match decides, If-Modified-Since is not looked at";
  // If-Match and If-Unmodified-Since are the origin's to answer (RFC 9111
  // 4.3.2): they go there (this test origin ignores them and answers 200).
  CurlResult if_match = get("/cond", {"-H", "If-Match: \"v2\""});
  EXPECT_EQ(if_match.status, 200) << if_match.describe();
  EXPECT_TRUE(has(cacheStatus(if_match), "fwd=request")) << if_match.rawHeaders;
  EXPECT_EQ(origin_.count("GET /cond"), 2);
  // A stored non-2xx ignores preconditions (RFC 9110 13.2.1).
  TableOrigin::Answer gone{"Cache-Control: max-age=60\r\nETag: \"g\"\r\n", "gone"};
  gone.status = 404;
  origin_.set("/gone", gone);
  get("/gone");
  EXPECT_EQ(get("/gone", {"-H", "If-None-Match: *"}).status, 404);
  // Weir's own answer to a HEAD has no body: the connection goes on.
  RawClient h(weir_->port());
  const std::string hh = "Host: 127.0.0.1:" + std::to_string(weir_->port()) + "\r\n";
  ASSERT_TRUE(h.send("HEAD /never-stored HTTP/1.1\r\n" + hh + "Cache-Control: only-if-cached\r\n\r\nGET /cond HTTP/1.1\r\n" +
                     hh + "\r\n"));
  std::optional<HttpResponse> timeout = h.readResponse(Ms(3000), true);
  ASSERT_TRUE(timeout) << h.lastError();
  EXPECT_EQ(timeout->status, 504);
  std::optional<HttpResponse> after = h.readResponse(Ms(3000));
  ASSERT_TRUE(after) << h.lastError();
  EXPECT_EQ(after->status, 200);
  EXPECT_EQ(after->body, "conditional body");
  // A kept-alive connection goes on after a 304.
  RawClient c(weir_->port());
  const std::string host = "Host: 127.0.0.1:" + std::to_string(weir_->port()) + "\r\n";
  ASSERT_TRUE(c.send("GET /cond HTTP/1.1\r\n" + host + "If-None-Match: \"v1\"\r\n\r\nGET /cond HTTP/1.1\r\n" + host +
                     "\r\n"));
  std::optional<HttpResponse> first = c.readResponse(Ms(3000));
  ASSERT_TRUE(first) << c.lastError();
  EXPECT_EQ(first->status, 304);
  std::optional<HttpResponse> second = c.readResponse(Ms(3000));
  ASSERT_TRUE(second) << c.lastError();
  EXPECT_EQ(second->body, "conditional body");
  EXPECT_EQ(origin_.count("GET /cond"), 2) << "every answer but the If-Match one came from the cache";
}


// Purge on the admin listener (issue 9): by URL, by prefix and all, each
// answering {"purged": N}; the next request after it is a miss on every
// worker. (Tags and soft purge: cache_revalidation_test.cc.)
TEST_F(Cache, PurgeByUrlPrefixAndAll) {
  const uint16_t admin = freePort();
  ASSERT_NO_FATAL_FAILURE(start("", "workers: 2\nadmin:\n  address: 127.0.0.1:" + std::to_string(admin) + "\n"));
  origin_.setDefault({"Cache-Control: max-age=600\r\n", "purge me"});
  for (const char* path : {"/p/a", "/p/b", "/p/c?x=1", "/q/d", "/q/e"}) ASSERT_TRUE(has(cacheStatus(get(path)), "stored"));
  const std::string self = "http://127.0.0.1:" + std::to_string(weir_->port());
  const std::string purge = "http://127.0.0.1:" + std::to_string(admin) + "/cache/purge?";
  auto post = [&](const std::string& query) { return curl(purge + query, {"-X", "POST"}); };

  CurlResult one = post("url=" + percentEncode(self + "/p/a"));
  EXPECT_EQ(one.status, 200) << one.describe();
  EXPECT_EQ(one.body, "{\"purged\": 1}\n");
  EXPECT_EQ(one.header("Content-Type").value_or(""), "application/json");
  EXPECT_EQ(post("url=" + percentEncode(self + "/p/a")).body, "{\"purged\": 0}\n") << "already gone";
  for (int i = 0; i < 4; ++i) {  // both workers: the next request is a miss whichever serves it
    if (i == 0) EXPECT_TRUE(has(cacheStatus(get("/p/a")), "fwd=uri-miss"));
    if (i > 0) EXPECT_TRUE(has(cacheStatus(get("/p/a")), "hit"));
  }
  EXPECT_EQ(post("prefix=" + percentEncode(self + "/p/")).body, "{\"purged\": 3}\n") << "/p/a (stored again), /p/b, /p/c?x=1";
  EXPECT_TRUE(has(cacheStatus(get("/p/c?x=1")), "fwd=uri-miss"));
  EXPECT_TRUE(has(cacheStatus(get("/q/d")), "hit")) << "outside the prefix";
  EXPECT_EQ(post("all=1").body, "{\"purged\": 3}\n") << "/p/c?x=1, /q/d, /q/e";
  EXPECT_TRUE(has(cacheStatus(get("/q/e")), "fwd=uri-miss"));

  EXPECT_EQ(post("").status, 400);
  EXPECT_EQ(post("url=%2Fnot-absolute").status, 400);
  EXPECT_EQ(post("tag=news").body, "{\"purged\": 0}\n") << "no object carries the tag";
  CurlResult get_purge = curl(purge + "all=1");
  EXPECT_EQ(get_purge.status, 405);
  EXPECT_EQ(get_purge.header("Allow").value_or(""), "POST");
  EXPECT_TRUE(has(cacheStatus(get("/q/e")), "hit")) << "a refused purge removed nothing";
}

// Byte ranges (issue 9): one range of a stored object is a 206 from the
// cache (bytes by reference), a range past its end a 416 with
// Content-Range: bytes */N, several ranges or a failed If-Range the whole
// object; the origin is asked once.
TEST_F(Cache, RangesAreAnsweredFromAStoredObject) {
  std::string body(40000, 'r');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + i % 26);
  origin_.set("/range", {"Cache-Control: max-age=60\r\nETag: \"r1\"\r\n", body});
  ASSERT_TRUE(has(cacheStatus(get("/range")), "stored"));
  CurlResult part = get("/range", {"-H", "Range: bytes=16380-16399"});  // across a chunk boundary
  EXPECT_EQ(part.status, 206) << part.describe();
  EXPECT_EQ(part.body, body.substr(16380, 20));
  EXPECT_EQ(part.header("Content-Range").value_or(""), "bytes 16380-16399/40000") << part.rawHeaders;
  EXPECT_EQ(part.header("Content-Length").value_or(""), "20");
  EXPECT_TRUE(has(cacheStatus(part), "hit"));
  EXPECT_EQ(get("/range", {"-H", "Range: bytes=-5"}).body, body.substr(39995));
  CurlResult past = get("/range", {"-H", "Range: bytes=40000-"});
  EXPECT_EQ(past.status, 416) << past.describe();
  EXPECT_EQ(past.header("Content-Range").value_or(""), "bytes */40000") << past.rawHeaders;
  CurlResult several = get("/range", {"-H", "Range: bytes=0-1,5-6"});
  EXPECT_EQ(several.status, 200);
  EXPECT_TRUE(several.body == body);
  EXPECT_EQ(get("/range", {"-H", "Range: bytes=0-1", "-H", "If-Range: \"r1\""}).status, 206);
  CurlResult stale_copy = get("/range", {"-H", "Range: bytes=0-1", "-H", "If-Range: \"old\""});
  EXPECT_EQ(stale_copy.status, 200);
  EXPECT_TRUE(stale_copy.body == body);
  EXPECT_EQ(origin_.count("GET /range"), 1);
}

// The cache is not part of the configuration snapshot: a reload keeps what
// it holds (and resizes it); a route the reload takes the cache from
// simply stops using it.
TEST_F(Cache, ObjectsSurviveAReloadAndARouteCanStopUsingTheCache) {
  origin_.set("/kept", {"Cache-Control: max-age=60\r\n", "k"});
  get("/kept");
  const std::string pools = "pools:\n  app:\n    servers:\n      - address: " + origin_.address() + "\n";
  weir_->writeConfig("cache:\n  max_size: 32MiB\n" + pools +
                     "routes:\n  - match: { path_prefix: /other/ }\n    pool: app\n  - pool: app\n    cache: true\n");
  weir_->process().signal(SIGHUP);
  ASSERT_TRUE(weir_->waitForLogLine(weir_->errorLogPath(),
                                    [](const std::string& l) { return l.find("reloaded") != std::string::npos; }));
  EXPECT_TRUE(has(cacheStatus(get("/kept")), "hit"));
  EXPECT_EQ(origin_.count("GET /kept"), 1);
  weir_->writeConfig("cache:\n  max_size: 32MiB\n" + pools + "routes:\n  - pool: app\n");
  weir_->process().signal(SIGHUP);
  ASSERT_TRUE(weir_->waitForLogLine(weir_->errorLogPath(), [](const std::string& l) {
    return l.find("reloaded") != std::string::npos && l.find("configuration 3") != std::string::npos;
  })) << weir_->errorLog();
  CurlResult uncached = get("/kept");
  EXPECT_FALSE(uncached.header("Cache-Status")) << uncached.rawHeaders;
  EXPECT_EQ(origin_.count("GET /kept"), 2);
}

}  // namespace
}  // namespace weir::itest
