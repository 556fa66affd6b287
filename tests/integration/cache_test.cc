// The cache on a route with cache: true (issue 8), against a scripted
// origin that answers each path with the fields a test sets and counts the
// requests it gets: miss then hit with Age, what RFC 9111 lets a shared
// cache store, request directives, HEAD from a stored GET, invalidation by
// unsafe methods, objects past max_object_size, and Cache-Status.
#include <signal.h>

#include <atomic>
#include <map>
#include <mutex>
#include <string>

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
  };
  TableOrigin() : up_([this](UpstreamConn& c, int) { serve(c); }) {}
  void set(const std::string& path, Answer a) {
    std::lock_guard<std::mutex> lock(mu_);
    answers_[path] = std::move(a);
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
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++counts_[method + " " + path];
        auto it = answers_.find(path);
        if (it != answers_.end()) a = it->second;
      }
      std::string out = "HTTP/1.1 " + std::to_string(a.status) + " X\r\n" + a.fields +
                        "Content-Length: " + std::to_string(a.body.size()) + "\r\n\r\n";
      if (method != "HEAD") out += a.body;
      if (!c.send(out)) return;
    }
  }
  std::mutex mu_;
  std::map<std::string, Answer> answers_;
  std::map<std::string, int> counts_;
  ScriptedUpstream up_;
};

class Cache : public ::testing::Test {
 protected:
  void SetUp() override { start(""); }
  void start(const std::string& cache_section) {
    weir_.reset();
    std::string yaml = "cache:\n  max_size: 16MiB\n" + cache_section + "pools:\n  app:\n    servers:\n      - address: " +
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
