// The cache, part 2 (issue 9), against a real weir and an origin that sends
// validators, answers conditional requests with 304 and counts what it
// gets: revalidation (304 and 200, the header update), coalesced
// revalidation, stale-while-revalidate with one background fetch,
// stale-if-error with the origin failing or gone, soft purge followed by a
// failing origin, and purge by tag.
#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "scripted_upstream.h"

namespace weir::itest {
namespace {

using Clock = std::chrono::steady_clock;

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// One path's behaviour. A request whose If-None-Match names `etag`, or
// whose If-Modified-Since equals `last_modified`, gets a 304 with `fields`
// (no body); any other a 200 (or `status`) with `fields` and `body`.
struct Resource {
  Resource() = default;
  Resource(std::string b, std::string e, std::string lm, std::string f, int s = 200, Ms d = Ms(0))
      : body(std::move(b)), etag(std::move(e)), last_modified(std::move(lm)), fields(std::move(f)), status(s), delay(d) {}
  std::string body;
  std::string etag;           // with its quotes; "" for none
  std::string last_modified;  // an HTTP date; "" for none
  std::string fields;         // "Name: value\r\n" lines, on 200 and 304 alike
  int status = 200;           // e.g. 500 for a failing origin
  Ms delay{0};                // before the head
  std::string echo;           // a request field whose value is appended to the body (variants)
};

class ValidatingOrigin {
 public:
  ValidatingOrigin() : up_([this](UpstreamConn& c, int) { serve(c); }) {}
  void set(const std::string& path, Resource r) {
    std::lock_guard<std::mutex> lock(mu_);
    paths_[path] = std::move(r);
  }
  int requests(const std::string& path) {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_[path];
  }
  int notModified(const std::string& path) {
    std::lock_guard<std::mutex> lock(mu_);
    return not_modified_[path];
  }
  std::string lastHead(const std::string& path) {
    std::lock_guard<std::mutex> lock(mu_);
    return last_head_[path];
  }
  std::string address() const { return up_.address(); }

 private:
  static std::string field(const std::string& head, const std::string& name) {
    std::string lower = head;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    std::string key = "\r\n" + name + ": ";
    std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return std::tolower(c); });
    const size_t at = lower.find(key);
    if (at == std::string::npos) return {};
    const size_t start = at + key.size();
    return head.substr(start, head.find("\r\n", start) - start);
  }
  void serve(UpstreamConn& c) {
    for (;;) {
      std::optional<std::string> head = c.readHead(Ms(5000));
      if (!head) return;
      const size_t sp1 = head->find(' ');
      const std::string path = head->substr(sp1 + 1, head->find(' ', sp1 + 1) - sp1 - 1);
      Resource r;
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++requests_[path];
        last_head_[path] = *head;
        r = paths_[path];
      }
      std::this_thread::sleep_for(r.delay);
      const std::string inm = field(*head, "If-None-Match");
      const std::string ims = field(*head, "If-Modified-Since");
      const bool match = r.status == 200 && ((!r.etag.empty() && inm == r.etag) ||
                                             (inm.empty() && !r.last_modified.empty() && ims == r.last_modified));
      std::string validators;
      if (!r.etag.empty()) validators += "ETag: " + r.etag + "\r\n";
      if (!r.last_modified.empty()) validators += "Last-Modified: " + r.last_modified + "\r\n";
      if (!r.echo.empty()) r.body += field(*head, r.echo);
      std::string out;
      if (match) {
        std::lock_guard<std::mutex> lock(mu_);
        ++not_modified_[path];
        out = "HTTP/1.1 304 Not Modified\r\n" + validators + r.fields + "\r\n";
      } else {
        out = "HTTP/1.1 " + std::to_string(r.status) + " X\r\n" + validators + r.fields +
              "Content-Length: " + std::to_string(r.body.size()) + "\r\n\r\n" + r.body;
      }
      if (!c.send(out)) return;
    }
  }
  std::mutex mu_;
  std::map<std::string, Resource> paths_;
  std::map<std::string, int> requests_;
  std::map<std::string, int> not_modified_;
  std::map<std::string, std::string> last_head_;
  ScriptedUpstream up_;
};


class CacheRevalidation : public ::testing::Test {
 protected:
  // `route_cache`: the cached route's cache value (true, or a map).
  void start(const std::string& route_cache = "true", int workers = 1, const std::string& cache_extra = "") {
    admin_ = freePort();
    std::string yaml = "workers: " + std::to_string(workers) + "\nadmin:\n  address: 127.0.0.1:" +
                       std::to_string(admin_) + "\ncache:\n  max_size: 16MiB\n  lock_timeout: 5s\n" + cache_extra +
                       "pools:\n  app:\n    servers:\n      - address: " + origin_->address() +
                       "\n    timeouts: { upstream_connect: 1s, upstream_response: 3s }\n" +
                       "routes:\n  - match: { path_prefix: /plain/ }\n    pool: app\n  - pool: app\n    cache: " +
                       route_cache + "\n";
    weir_ = std::make_unique<Weir>(yaml);
    ASSERT_TRUE(weir_->ok()) << weir_->error();
  }
  CurlResult get(const std::string& path, const std::vector<std::string>& args = {}) {
    return curl(weir_->url(path), args);
  }
  CurlResult purge(const std::string& query) {
    return curl("http://127.0.0.1:" + std::to_string(admin_) + "/cache/purge?" + query, {"-X", "POST"});
  }
  std::string self() const { return "http://127.0.0.1:" + std::to_string(weir_->port()); }
  static std::string status(const CurlResult& r) { return r.header("Cache-Status").value_or("(none)"); }
  // Polls until the origin has seen `n` requests for `path`.
  bool waitRequests(const std::string& path, int n, Ms timeout = Ms(5000)) {
    return eventually([&] { return origin_->requests(path) >= n; }, timeout);
  }
  std::unique_ptr<ValidatingOrigin> origin_ = std::make_unique<ValidatingOrigin>();
  std::unique_ptr<Weir> weir_;
  uint16_t admin_ = 0;
};

// RFC 9111 4.3.1, 4.3.4: a stale object with an ETag is revalidated with
// If-None-Match; the 304's fields replace the stored ones, the stored body
// is served, and the object is fresh again for the 304's lifetime.
TEST_F(CacheRevalidation, A304FreshensTheStoredObjectAndUpdatesItsHeaders) {
  start();
  origin_->set("/v", {"version one body", "\"v1\"", "", "Cache-Control: max-age=0\r\nX-Version: 1\r\n"});
  CurlResult first = get("/v");
  ASSERT_EQ(first.status, 200) << first.describe();
  ASSERT_TRUE(has(status(first), "stored")) << status(first);
  // Stale at once (max-age=0): the next request revalidates.
  origin_->set("/v", {"version one body", "\"v1\"", "", "Cache-Control: max-age=60\r\nX-Version: 2\r\n"});
  CurlResult second = get("/v");
  ASSERT_EQ(second.status, 200) << second.describe();
  EXPECT_EQ(second.body, "version one body");
  EXPECT_EQ(second.header("X-Version").value_or(""), "2") << second.rawHeaders;
  EXPECT_EQ(second.header("ETag").value_or(""), "\"v1\"");
  EXPECT_TRUE(has(status(second), "fwd=stale") && has(status(second), "fwd-status=304")) << status(second);
  EXPECT_EQ(origin_->notModified("/v"), 1);
  EXPECT_TRUE(has(origin_->lastHead("/v"), "If-None-Match: \"v1\"")) << origin_->lastHead("/v");
  CurlResult third = get("/v");
  EXPECT_TRUE(has(status(third), "hit")) << status(third);
  EXPECT_EQ(third.header("X-Version").value_or(""), "2");
  EXPECT_EQ(third.body, "version one body");
  EXPECT_EQ(origin_->requests("/v"), 2) << "fresh for the 304's max-age";
}

// A 200 to the conditional request replaces the entry.
TEST_F(CacheRevalidation, A200ToTheRevalidationReplacesTheObject) {
  start();
  origin_->set("/r", {"old", "\"r1\"", "", "Cache-Control: max-age=0\r\n"});
  ASSERT_TRUE(has(status(get("/r")), "stored"));
  origin_->set("/r", {"new content", "\"r2\"", "", "Cache-Control: max-age=60\r\n"});
  CurlResult second = get("/r");
  EXPECT_EQ(second.body, "new content");
  EXPECT_TRUE(has(status(second), "fwd=stale") && has(status(second), "stored")) << status(second);
  EXPECT_TRUE(has(origin_->lastHead("/r"), "If-None-Match: \"r1\""));
  CurlResult third = get("/r");
  EXPECT_EQ(third.body, "new content");
  EXPECT_EQ(third.header("ETag").value_or(""), "\"r2\"");
  EXPECT_TRUE(has(status(third), "hit"));
  EXPECT_EQ(origin_->notModified("/r"), 0);
}

// Last-Modified alone: If-Modified-Since with the stored date.
TEST_F(CacheRevalidation, LastModifiedRevalidatesWithIfModifiedSince) {
  start();
  const std::string lm = "Tue, 01 Dec 2026 10:00:00 GMT";
  origin_->set("/lm", {"dated", "", lm, "Cache-Control: no-cache, max-age=600\r\n"});
  ASSERT_TRUE(has(status(get("/lm")), "stored"));
  CurlResult second = get("/lm");  // no-cache: every use revalidates
  EXPECT_EQ(second.body, "dated");
  EXPECT_TRUE(has(origin_->lastHead("/lm"), "If-Modified-Since: " + lm)) << origin_->lastHead("/lm");
  EXPECT_EQ(origin_->notModified("/lm"), 1);
  EXPECT_TRUE(has(status(second), "fwd-status=304")) << status(second);
}

// A client's own validators and Range are not what revalidates the cache's
// copy: weir sends its own, then answers the client from the result (its
// If-None-Match matching: a 304; its Range: a 206).
TEST_F(CacheRevalidation, AClientsConditionalsAreAnsweredFromTheRevalidatedObject) {
  start();
  origin_->set("/c", {"0123456789", "\"c1\"", "", "Cache-Control: max-age=0\r\n"});
  ASSERT_TRUE(has(status(get("/c")), "stored"));
  CurlResult not_modified = get("/c", {"-H", "If-None-Match: \"c1\""});
  EXPECT_EQ(not_modified.status, 304) << not_modified.describe();
  CurlResult part = get("/c", {"-H", "Range: bytes=2-4"});
  EXPECT_EQ(part.status, 206) << part.describe();
  EXPECT_EQ(part.body, "234");
  EXPECT_FALSE(has(origin_->lastHead("/c"), "Range:")) << origin_->lastHead("/c");
  EXPECT_EQ(origin_->notModified("/c"), 2);
}

// Revalidations are coalesced like fills: many clients, one conditional
// request.
TEST_F(CacheRevalidation, ConcurrentRequestsForAStaleObjectShareOneRevalidation) {
  start("true", 2);
  origin_->set("/co", {"shared", "\"s1\"", "", "Cache-Control: max-age=0\r\n"});
  ASSERT_TRUE(has(status(get("/co")), "stored"));
  origin_->set("/co", {"shared", "\"s1\"", "", "Cache-Control: max-age=60\r\n", 200, Ms(600)});
  std::vector<std::thread> clients;
  std::vector<CurlResult> results(12);
  for (size_t i = 0; i < results.size(); ++i) clients.emplace_back([&, i] { results[i] = get("/co"); });
  for (std::thread& t : clients) t.join();
  for (const CurlResult& r : results) {
    EXPECT_EQ(r.status, 200) << r.describe();
    EXPECT_EQ(r.body, "shared");
  }
  EXPECT_EQ(origin_->requests("/co"), 2) << "one fill, one revalidation";
  EXPECT_EQ(origin_->notModified("/co"), 1);
}

// RFC 5861 3: within stale-while-revalidate the stale object is sent at
// once and one background request revalidates it; the next request gets
// what that brought.
TEST_F(CacheRevalidation, StaleWhileRevalidateAnswersAtOnceWithOneBackgroundFetch) {
  start("true", 2);
  origin_->set("/swr", {"first", "\"w1\"", "", "Cache-Control: max-age=0, stale-while-revalidate=60\r\n"});
  ASSERT_TRUE(has(status(get("/swr")), "stored"));
  // The origin now takes 1.5 s and has new content.
  origin_->set("/swr", {"second", "\"w2\"", "", "Cache-Control: max-age=60\r\n", 200, Ms(1500)});
  std::vector<CurlResult> quick;
  for (int i = 0; i < 5; ++i) quick.push_back(get("/swr"));
  for (const CurlResult& r : quick) {
    EXPECT_EQ(r.status, 200) << r.describe();
    EXPECT_EQ(r.body, "first");
    EXPECT_LT(r.timeTotal, 1.0) << "served without waiting for the origin";
    EXPECT_TRUE(has(status(r), "fwd=stale") && has(status(r), "stale-while-revalidate")) << status(r);
  }
  ASSERT_TRUE(waitRequests("/swr", 2));
  // Until the background fetch is stored, requests still get the stale
  // object and start no other fetch.
  CurlResult after;
  EXPECT_TRUE(eventually([&] { return (after = get("/swr")).body == "second"; })) << after.describe();
  EXPECT_EQ(origin_->requests("/swr"), 2) << "one background fetch for all";
  EXPECT_TRUE(has(status(after), "hit")) << status(after);
  EXPECT_EQ(origin_->requests("/swr"), 2);
  EXPECT_TRUE(has(origin_->lastHead("/swr"), "If-None-Match: \"w1\"")) << origin_->lastHead("/swr");
}

// stale-if-error (RFC 5861 4) and the route's default: the origin answers
// 500, then is gone altogether. Stored URLs are still answered 200 from
// the cache, saying so; an uncached URL gets weir's error; a
// must-revalidate object is never served stale.
TEST_F(CacheRevalidation, StaleIfErrorServesStoredObjectsWhileTheOriginFails) {
  start("{ enabled: true, stale_if_error: 60s }");
  origin_->set("/a", {"stored a", "", "", "Cache-Control: max-age=0\r\n"});
  origin_->set("/own", {"own window", "", "", "Cache-Control: max-age=0, stale-if-error=600\r\n"});
  origin_->set("/mr", {"must revalidate", "\"m\"", "", "Cache-Control: max-age=0, must-revalidate\r\n"});
  for (const char* p : {"/a", "/own", "/mr"}) ASSERT_TRUE(has(status(get(p)), "stored")) << p;

  origin_->set("/a", {"oops", "", "", "", 500});
  CurlResult on_500 = get("/a");
  EXPECT_EQ(on_500.status, 200) << on_500.describe();
  EXPECT_EQ(on_500.body, "stored a");
  EXPECT_TRUE(has(status(on_500), "fwd=stale") && has(status(on_500), "fwd-status=500")) << status(on_500);

  origin_.reset();  // the origin is gone: connections are refused
  for (const char* p : {"/a", "/own"}) {
    CurlResult r = get(p);
    EXPECT_EQ(r.status, 200) << p << " " << r.describe();
    EXPECT_TRUE(has(status(r), "fwd=stale")) << status(r);
    EXPECT_TRUE(r.body == "stored a" || r.body == "own window") << r.body;
  }
  CurlResult uncached = get("/never-stored");
  EXPECT_GE(uncached.status, 502) << uncached.describe();
  EXPECT_LE(uncached.status, 504);
  CurlResult mr = get("/mr");
  EXPECT_GE(mr.status, 502) << "must-revalidate: never stale " << mr.describe();
  EXPECT_EQ(get("/plain/x").status, 502) << "an uncached route";
}

// Without a window (no stale-if-error, route default off) a failing origin
// is an error, as before.
TEST_F(CacheRevalidation, NoStaleWithoutAWindow) {
  start();
  origin_->set("/n", {"n", "", "", "Cache-Control: max-age=0\r\n"});
  ASSERT_TRUE(has(status(get("/n")), "stored"));
  origin_->set("/n", {"broken", "", "", "", 503});
  CurlResult r = get("/n");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "broken");
}

// Soft purge marks objects stale: the next request revalidates (and gets a
// 304), and when the origin then fails, the object is still served stale.
TEST_F(CacheRevalidation, SoftPurgeRevalidatesAndCanStillServeStale) {
  start("{ enabled: true, stale_if_error: 60s }", 2);
  origin_->set("/s", {"soft", "\"s\"", "", "Cache-Control: max-age=600\r\n"});
  ASSERT_TRUE(has(status(get("/s")), "stored"));
  EXPECT_TRUE(has(status(get("/s")), "hit"));
  CurlResult p = purge("url=" + percentEncode(self() + "/s") + "&soft=1");
  EXPECT_EQ(p.body, "{\"purged\": 1}\n") << p.describe();
  CurlResult after = get("/s");
  EXPECT_EQ(after.body, "soft");
  EXPECT_TRUE(has(status(after), "fwd-status=304")) << status(after);
  EXPECT_EQ(origin_->notModified("/s"), 1);
  EXPECT_TRUE(has(status(get("/s")), "hit")) << "fresh again";
  EXPECT_EQ(purge("all=1&soft=1").body, "{\"purged\": 1}\n");
  origin_.reset();
  CurlResult down = get("/s");
  EXPECT_EQ(down.status, 200) << down.describe();
  EXPECT_EQ(down.body, "soft");
  EXPECT_TRUE(has(status(down), "fwd=stale")) << status(down);
}

// Vary (RFC 9111 4.1): one variant per value of the named request field,
// each answered from the cache; Accept-Encoding normalised for order and
// case; Vary: * never served from the cache.
TEST_F(CacheRevalidation, VariantsAreStoredAndServedPerVaryValue) {
  start("true", 2);
  Resource dev{"dev:", "", "", "Cache-Control: max-age=600\r\nVary: X-Device\r\n"};
  dev.echo = "X-Device";
  origin_->set("/dev", dev);
  CurlResult a = get("/dev", {"-H", "X-Device: phone"});
  EXPECT_EQ(a.body, "dev:phone");
  EXPECT_TRUE(has(status(a), "stored")) << status(a);
  CurlResult b = get("/dev", {"-H", "X-Device: desk"});
  EXPECT_EQ(b.body, "dev:desk");
  EXPECT_TRUE(has(status(b), "stored")) << status(b);
  CurlResult none = get("/dev");
  EXPECT_EQ(none.body, "dev:");
  for (int i = 0; i < 2; ++i) {  // both workers
    EXPECT_EQ(get("/dev", {"-H", "X-Device: phone"}).body, "dev:phone");
    CurlResult hit = get("/dev", {"-H", "X-Device: desk"});
    EXPECT_EQ(hit.body, "dev:desk");
    EXPECT_TRUE(has(status(hit), "hit")) << status(hit);
    EXPECT_EQ(get("/dev").body, "dev:");
  }
  EXPECT_EQ(origin_->requests("/dev"), 3);

  Resource enc{"enc:", "", "", "Cache-Control: max-age=600\r\nVary: Accept-Encoding\r\n"};
  enc.echo = "Accept-Encoding";
  origin_->set("/enc", enc);
  EXPECT_EQ(get("/enc", {"-H", "Accept-Encoding: gzip, br"}).body, "enc:gzip, br");
  CurlResult same = get("/enc", {"-H", "Accept-Encoding: BR,gzip"});
  EXPECT_EQ(same.body, "enc:gzip, br") << "the same variant";
  EXPECT_TRUE(has(status(same), "hit")) << status(same);
  EXPECT_EQ(get("/enc", {"-H", "Accept-Encoding: gzip"}).body, "enc:gzip");
  EXPECT_EQ(origin_->requests("/enc"), 2);

  origin_->set("/star", {"star", "", "", "Cache-Control: max-age=600\r\nVary: *\r\n"});
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(has(status(get("/star")), "hit"));
  EXPECT_EQ(origin_->requests("/star"), 3);
}

// A bound on variants per URL (the least used goes); purging the URL
// removes all of its variants; a new response that no longer varies
// replaces the variants it makes unreachable.
TEST_F(CacheRevalidation, VariantsAreBoundedPurgedTogetherAndReplaced) {
  admin_ = freePort();
  const std::string yaml = "admin:\n  address: 127.0.0.1:" + std::to_string(admin_) +
                           "\ncache:\n  max_size: 16MiB\n  max_variants: 3\npools:\n  app:\n    servers:\n      - address: " +
                           origin_->address() + "\nroutes:\n  - pool: app\n    cache: true\n";
  weir_ = std::make_unique<Weir>(yaml);
  ASSERT_TRUE(weir_->ok()) << weir_->error();
  Resource lang{"lang:", "\"l1\"", "", "Cache-Control: max-age=0\r\nVary: Accept-Language\r\n"};
  lang.echo = "Accept-Language";
  origin_->set("/lang", lang);
  auto as = [&](const std::string& l) { return get("/lang", {"-H", "Accept-Language: " + l}); };
  for (const char* l : {"en", "fr", "de"}) EXPECT_TRUE(has(status(as(l)), "stored")) << l;
  lang.fields = "Cache-Control: max-age=600\r\nVary: Accept-Language\r\n";
  origin_->set("/lang", lang);
  // Revalidated (304), so each is fresh now; "fr" is then used last.
  for (const char* l : {"en", "de", "fr"}) EXPECT_TRUE(has(status(as(l)), "fwd-status=304")) << l;
  EXPECT_TRUE(has(status(as("es")), "stored")) << "a fourth variant: over the bound of 3";
  int hits = 0;
  for (const char* l : {"es", "en", "fr"}) hits += has(status(as(l)), "hit") ? 1 : 0;
  EXPECT_EQ(hits, 3);
  EXPECT_TRUE(has(status(as("de")), "stored")) << "the least used variant was dropped for the fourth";

  CurlResult p = purge("url=" + percentEncode(self() + "/lang"));
  EXPECT_EQ(p.body, "{\"purged\": 3}\n") << "all of the URL's variants";

  // Three variants again, stale at once; then the URL stops varying: the
  // response that replaces the first variant makes the others unreachable,
  // and they go with it.
  lang.fields = "Cache-Control: max-age=0\r\nVary: Accept-Language\r\n";
  origin_->set("/lang", lang);
  for (const char* l : {"en", "fr", "de"}) {
    CurlResult r = as(l);
    EXPECT_TRUE(has(status(r), "stored")) << l << " " << status(r);
  }
  origin_->set("/lang", {"one for all", "\"l2\"", "", "Cache-Control: max-age=600\r\n"});
  EXPECT_EQ(as("en").body, "one for all");
  CurlResult fr = as("fr");
  EXPECT_EQ(fr.body, "one for all");
  EXPECT_TRUE(has(status(fr), "hit")) << status(fr);
  EXPECT_EQ(purge("url=" + percentEncode(self() + "/lang")).body, "{\"purged\": 1}\n") << "the variants went";
}

// Key options on the route: tracking parameters ignored, the query
// sorted, a request field and a cookie added; a purge of the URL finds
// every object stored for it.
TEST_F(CacheRevalidation, KeyOptionsShapeTheKey) {
  start("{ enabled: true, key: { ignore_query: [utm_*, fbclid], sort_query: true, headers: [X-Tenant], cookies: [ab] } }");
  Resource r{"k:", "", "", "Cache-Control: max-age=600\r\n"};
  r.echo = "X-Tenant";
  origin_->set("/k?a=1&b=2&utm_source=mail", r);
  EXPECT_TRUE(has(status(get("/k?a=1&b=2&utm_source=mail", {"-H", "X-Tenant: t1"})), "stored"));
  CurlResult same = get("/k?fbclid=9&b=2&a=1", {"-H", "X-Tenant: t1"});
  EXPECT_TRUE(has(status(same), "hit")) << "parameters ignored and sorted: " << status(same);
  EXPECT_EQ(same.body, "k:t1");
  CurlResult other_tenant = get("/k?a=1&b=2", {"-H", "X-Tenant: t2"});
  EXPECT_FALSE(has(status(other_tenant), "hit")) << "another tenant, another object";
  CurlResult cookie = get("/k?a=1&b=2", {"-H", "X-Tenant: t1", "-H", "Cookie: ab=green; other=1"});
  EXPECT_FALSE(has(status(cookie), "hit")) << "another ab cookie, another object";
  EXPECT_TRUE(has(status(get("/k?a=1&b=2", {"-H", "X-Tenant: t1", "-H", "Cookie: other=2"})), "hit"))
      << "other cookies do not count";
  EXPECT_EQ(origin_->requests("/k?a=1&b=2&utm_source=mail"), 1);
  CurlResult p = purge("url=" + percentEncode(self() + "/k?b=2&a=1&utm_campaign=x"));
  EXPECT_EQ(p.body, "{\"purged\": 3}\n") << "the tenants' and the cookie's objects of that URL";
}

// The PURGE method on the data listener, from allowed networks only.
TEST_F(CacheRevalidation, ThePurgeMethodFromAllowedNetworks) {
  start("true", 1, "  purge_method_allow: [127.0.0.0/8]\n");
  origin_->set("/pm", {"pm", "", "", "Cache-Control: max-age=600\r\n"});
  ASSERT_TRUE(has(status(get("/pm")), "stored"));
  CurlResult p = get("/pm", {"-X", "PURGE"});
  EXPECT_EQ(p.status, 200) << p.describe();
  EXPECT_EQ(p.body, "{\"purged\": 1}\n");
  EXPECT_EQ(origin_->requests("/pm"), 1) << "a PURGE is not forwarded";
  EXPECT_TRUE(has(status(get("/pm")), "fwd=uri-miss"));
  start("true", 1, "  purge_method_allow: [10.0.0.0/8]\n");
  ASSERT_TRUE(has(status(get("/pm")), "stored"));
  EXPECT_EQ(get("/pm", {"-X", "PURGE"}).status, 403);
  EXPECT_TRUE(has(status(get("/pm")), "hit"));
}

// Purge by tag: Surrogate-Key and Cache-Tag, indexed when stored.
TEST_F(CacheRevalidation, PurgeByTagRemovesTheTaggedObjects) {
  start("true", 2);
  origin_->set("/t/1", {"1", "", "", "Cache-Control: max-age=600\r\nSurrogate-Key: news front\r\n"});
  origin_->set("/t/2", {"2", "", "", "Cache-Control: max-age=600\r\nCache-Tag: news,sport\r\n"});
  origin_->set("/t/3", {"3", "", "", "Cache-Control: max-age=600\r\nSurrogate-Key: sport\r\n"});
  for (const char* p : {"/t/1", "/t/2", "/t/3"}) ASSERT_TRUE(has(status(get(p)), "stored"));
  EXPECT_EQ(purge("tag=news").body, "{\"purged\": 2}\n");
  EXPECT_EQ(purge("tag=news").body, "{\"purged\": 0}\n");
  EXPECT_TRUE(has(status(get("/t/1")), "fwd=uri-miss"));
  EXPECT_TRUE(has(status(get("/t/3")), "hit"));
  EXPECT_EQ(purge("tag=sport&soft=1").body, "{\"purged\": 1}\n") << "/t/2 went with news";
  EXPECT_TRUE(has(status(get("/t/3")), "fwd=stale")) << "soft-purged: revalidated";
  EXPECT_EQ(origin_->requests("/t/3"), 2);
}

}  // namespace
}  // namespace weir::itest
