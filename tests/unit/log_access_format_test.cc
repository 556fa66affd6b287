#include "weir/log/access_format.h"

#include <gtest/gtest.h>

#include <sys/time.h>
#include <unistd.h>

#include <cstdlib>
#include <new>
#include <ctime>
#include <algorithm>
#include <random>
#include <string>

// Counts this thread's allocations while counting is on (for the test that
// the formatters allocate nothing once warm). Replaces the global operator
// new for the whole test binary; it only adds a thread-local check.
namespace {
thread_local bool g_count_allocations = false;
thread_local size_t g_allocations = 0;
}  // namespace

void* operator new(size_t n) {
  if (g_count_allocations) ++g_allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
// The nothrow form too (std::stable_sort's temporary buffer uses it), so
// that every new in the binary pairs with these deletes.
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  if (g_count_allocations) ++g_allocations;
  return std::malloc(n == 0 ? 1 : n);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace weir::log {
namespace {

using namespace std::string_literals;

// 2026-12-01T19:36:43.123Z
constexpr int64_t kDec1 = 1796153803123;

// Each test runs in a known zone (UTC unless it sets another) and leaves the
// process's TZ as it found it.
class AccessFormatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tz = std::getenv("TZ");
    had_tz_ = tz != nullptr;
    if (had_tz_) saved_tz_ = tz;
    setZone("UTC0");
  }
  void TearDown() override {
    if (had_tz_) {
      ::setenv("TZ", saved_tz_.c_str(), 1);
    } else {
      ::unsetenv("TZ");
    }
    timeZoneChanged();
  }
  static void setZone(const char* tz) {
    ::setenv("TZ", tz, 1);
    timeZoneChanged();
  }

  static AccessRecord normal() {
    AccessRecord r;
    r.client = "192.0.2.7";
    r.method = "GET";
    r.target = "/index.html?q=1";
    r.has_version = true;
    r.host = "shop.example";
    r.referer = "https://shop.example/";
    r.user_agent = "curl/8.5.0";
    r.status = 200;
    r.body_bytes = 612;
    r.request_bytes = 0;
    r.upstream = "127.0.0.1:9001";
    r.upstream_header_time = 0.0042;
    r.request_time = 0.0051;
    r.time_ms = kDec1;
    r.request_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    return r;
  }
  static std::string combined(const AccessRecord& r, LogTime tz = LogTime::kLocal) {
    std::string out;
    appendCombined(r, tz, out);
    return out;
  }
  static std::string json(const AccessRecord& r, LogTime tz = LogTime::kLocal) {
    std::string out;
    appendJson(r, tz, out);
    return out;
  }

 private:
  bool had_tz_ = false;
  std::string saved_tz_;
};

TEST_F(AccessFormatTest, CombinedNormalRequest) {
  EXPECT_EQ(combined(normal()),
            "192.0.2.7 - - [01/Dec/2026:19:36:43 +0000] \"GET /index.html?q=1 HTTP/1.1\" 200 612 "
            "\"https://shop.example/\" \"curl/8.5.0\" \"4bf92f3577b34da6a3ce929d0e0e4736\" \"-\"\n");
}

TEST_F(AccessFormatTest, CombinedHttp10AndMissingFieldsAreDashes) {
  AccessRecord r = normal();
  r.version_minor = 0;
  r.referer = "";
  r.user_agent = "";
  r.status = 304;
  r.body_bytes = 0;
  EXPECT_EQ(combined(r), "192.0.2.7 - - [01/Dec/2026:19:36:43 +0000] \"GET /index.html?q=1 HTTP/1.0\" 304 0 \"-\" \"-\" \"4bf92f3577b34da6a3ce929d0e0e4736\" \"-\"\n");
}

TEST_F(AccessFormatTest, CombinedRequestLineWithoutVersion) {
  AccessRecord r = normal();
  r.target = "/x";
  r.has_version = false;
  r.status = 400;
  r.body_bytes = 16;
  EXPECT_EQ(combined(r),
            "192.0.2.7 - - [01/Dec/2026:19:36:43 +0000] \"GET /x\" 400 16 \"https://shop.example/\" \"curl/8.5.0\" \"4bf92f3577b34da6a3ce929d0e0e4736\" \"-\"\n");
}

TEST_F(AccessFormatTest, CombinedRejectedRequestIsDash) {
  AccessRecord r;
  r.client = "192.0.2.7";
  r.target = "/partial";  // a target without a method is not logged
  r.status = 408;
  r.body_bytes = 20;
  r.time_ms = kDec1;
  EXPECT_EQ(combined(r), "192.0.2.7 - - [01/Dec/2026:19:36:43 +0000] \"-\" 408 20 \"-\" \"-\" \"-\" \"-\"\n");
  r.method = "GET";
  r.target = "";
  EXPECT_EQ(combined(r), "192.0.2.7 - - [01/Dec/2026:19:36:43 +0000] \"GET\" 408 20 \"-\" \"-\" \"-\" \"-\"\n");
}

// The request ID is one quoted field after the user agent; "-" when off.
TEST_F(AccessFormatTest, CombinedRequestIdThenCacheStatusEndTheLine) {
  AccessRecord r = normal();
  r.request_id = "client-id.1:2+3/4=";
  EXPECT_EQ(combined(r),
            "192.0.2.7 - - [01/Dec/2026:19:36:43 +0000] \"GET /index.html?q=1 HTTP/1.1\" 200 612 "
            "\"https://shop.example/\" \"curl/8.5.0\" \"client-id.1:2+3/4=\" \"-\"\n");
  r.request_id = "";
  EXPECT_TRUE(combined(r).ends_with(" \"curl/8.5.0\" \"-\" \"-\"\n")) << combined(r);
  r.cache_status = "weir; hit; ttl=59";
  EXPECT_TRUE(combined(r).ends_with(" \"curl/8.5.0\" \"-\" \"weir; hit; ttl=59\"\n")) << combined(r);
  r.cache_status = "weir; fwd=uri-miss; detail=\"a b\"";  // escaped like every field
  EXPECT_TRUE(combined(r).ends_with(" \"weir; fwd=uri-miss; detail=\\x22a b\\x22\"\n")) << combined(r);
}

TEST_F(AccessFormatTest, JsonRequestIdThenCacheStatusAreTheLastKeys) {
  AccessRecord r = normal();
  const std::string on = json(r);
  EXPECT_TRUE(on.ends_with(",\"error\":null,\"request_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\",\"cache_status\":null}\n")) << on;
  r.request_id = "";
  const std::string off = json(r);
  EXPECT_TRUE(off.ends_with(",\"error\":null,\"request_id\":null,\"cache_status\":null}\n")) << off;
  r.cache_status = "weir; fwd=uri-miss; stored; ttl=60";
  EXPECT_TRUE(json(r).ends_with(",\"cache_status\":\"weir; fwd=uri-miss; stored; ttl=60\"}\n")) << json(r);
}

TEST_F(AccessFormatTest, CombinedUserFromBasicAuth) {
  AccessRecord r = normal();
  r.authorization = "Basic YWxpY2U6c2VjcmV0";  // alice:secret
  EXPECT_EQ(combined(r),
            "192.0.2.7 - alice [01/Dec/2026:19:36:43 +0000] \"GET /index.html?q=1 HTTP/1.1\" 200 612 "
            "\"https://shop.example/\" \"curl/8.5.0\" \"4bf92f3577b34da6a3ce929d0e0e4736\" \"-\"\n");
}

TEST_F(AccessFormatTest, BasicAuthUserCases) {
  struct Case {
    std::string_view header;
    const char* user;  // nullptr: none
  };
  const Case cases[] = {
      {"Basic YWxpY2U6c2VjcmV0", "alice"},
      {"basic YWxpY2U6c2VjcmV0", "alice"},        // the scheme is case-insensitive
      {"BASIC   YWxpY2U6c2VjcmV0  ", "alice"},    // spaces around the token
      {"Basic Ym9iOg==", "bob"},                  // bob: (empty password, padded)
      {"Basic Ym9iOg", "bob"},                    // the same without padding
      {"Basic Ym9iOnA6cQ==", "bob"},              // bob:p:q, the user ends at the first colon
      {"Basic OnBhc3M=", nullptr},                // :pass, empty user
      {"Basic YWxpY2U=", nullptr},                // alice, no colon
      {"Basic YWxp!2U6c2VjcmV0", nullptr},        // not base64
      {"Basic YWxpY2U6c2VjcmV0=", nullptr},       // padding that does not fit
      {"Basic Y", nullptr},                       // one char is never a whole byte
      {"Basic", nullptr},
      {"Basic ", nullptr},
      {"Bearer YWxpY2U6c2VjcmV0", nullptr},
      {"Basicx YWxpY2U6c2VjcmV0", nullptr},
      {"", nullptr},
  };
  std::string scratch;
  for (const Case& c : cases) {
    std::string_view user;
    bool found = basicAuthUser(c.header, scratch, user);
    if (c.user == nullptr) {
      EXPECT_FALSE(found) << c.header << " gave user " << user;
    } else {
      ASSERT_TRUE(found) << c.header;
      EXPECT_EQ(user, c.user) << c.header;
    }
  }
}

TEST_F(AccessFormatTest, CombinedEscapesEverythingAClientSends) {
  AccessRecord r = normal();
  const std::string target = "/a\"b\\c\r\nd\0e\x7f" "f\xff\xc3\xa9"s;
  r.method = "G\"T";
  r.target = target;
  r.referer = "\t";
  // A user agent that tries to close the field and forge the rest of a line.
  r.user_agent = "x\" 200 0 \"-\" \"y\n10.0.0.1 - - [01/Jan/2020:00:00:00 +0000] \"GET /forged HTTP/1.1\" 200 1 \"-\" \"z";
  r.authorization = "Basic YVwiYgo6cA==";  // a\"b\n:p
  EXPECT_EQ(combined(r),
            "192.0.2.7 - a\\x5C\\x22b\\x0A [01/Dec/2026:19:36:43 +0000] "
            "\"G\\x22T /a\\x22b\\x5Cc\\x0D\\x0Ad\\x00e\\x7Ff\\xFF\\xC3\\xA9 HTTP/1.1\" 200 612 \"\\x09\" "
            "\"x\\x22 200 0 \\x22-\\x22 \\x22y\\x0A10.0.0.1 - - [01/Jan/2020:00:00:00 +0000] \\x22GET /forged "
            "HTTP/1.1\\x22 200 1 \\x22-\\x22 \\x22z\" \"4bf92f3577b34da6a3ce929d0e0e4736\" \"-\"\n");
}

// Whatever the bytes, a combined line is printable ASCII, ends in its only
// newline and has exactly the eight quotes of its four quoted fields.
TEST_F(AccessFormatTest, CombinedRandomBytesStayOneWellFormedLine) {
  std::mt19937 rng(7);
  auto bytes = [&](size_t n) {
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(rng() & 0xff);
    return s;
  };
  for (int i = 0; i < 2000; ++i) {
    std::string method = bytes(rng() % 8), target = bytes(rng() % 64), ua = bytes(rng() % 64),
                ref = bytes(rng() % 16), auth = "Basic " + bytes(rng() % 16);
    AccessRecord r = normal();
    r.method = method;
    r.target = target;
    r.user_agent = ua;
    r.referer = ref;
    r.authorization = auth;
    std::string line = combined(r);
    ASSERT_EQ(line.find('\n'), line.size() - 1);
    size_t quotes = 0;
    for (size_t k = 0; k + 1 < line.size(); ++k) {
      auto c = static_cast<unsigned char>(line[k]);
      ASSERT_TRUE(c >= 0x20 && c < 0x7f) << "byte " << int(c) << " in " << line;
      quotes += c == '"';
    }
    EXPECT_EQ(quotes, 10u) << line;
  }
}

TEST_F(AccessFormatTest, CombinedTimeLocalHasTheRealOffset) {
  setZone("EST5EDT,M3.2.0,M11.1.0");  // America/New_York without needing tzdata
  EXPECT_EQ(combined(normal(), LogTime::kLocal).substr(0, 45), "192.0.2.7 - - [01/Dec/2026:14:36:43 -0500] \"G");
  EXPECT_EQ(combined(normal(), LogTime::kUtc).substr(0, 45), "192.0.2.7 - - [01/Dec/2026:19:36:43 +0000] \"G");
  AccessRecord summer = normal();
  summer.time_ms = 1782907200000;  // 2026-07-01T12:00:00Z, daylight saving time
  EXPECT_EQ(combined(summer, LogTime::kLocal).substr(15, 28), "01/Jul/2026:08:00:00 -0400] ");
  setZone("<+0530>-5:30");
  EXPECT_EQ(combined(normal(), LogTime::kLocal).substr(15, 28), "02/Dec/2026:01:06:43 +0530] ");
}

TEST_F(AccessFormatTest, CombinedTimeNamedZone) {
  setZone("America/New_York");
  std::string line = combined(normal(), LogTime::kLocal);
  if (line.substr(15, 26) == "01/Dec/2026:19:36:43 +0000") GTEST_SKIP() << "no tzdata for America/New_York";
  EXPECT_EQ(line.substr(15, 26), "01/Dec/2026:14:36:43 -0500");
}

TEST_F(AccessFormatTest, CombinedWithoutTimeUsesNow) {
  AccessRecord r = normal();
  r.time_ms = -1;
  auto stamp = [](time_t t) {
    char buf[40];
    tm parts{};
    gmtime_r(&t, &parts);
    std::strftime(buf, sizeof buf, "[%d/%b/%Y:%H:%M:%S +0000]", &parts);
    return std::string(buf);
  };
  // The same clock as the formatter: time(2) reads a coarse clock that can
  // lag gettimeofday(2) by a tick, across a second boundary.
  auto now = [] {
    timeval tv{};
    gettimeofday(&tv, nullptr);
    return static_cast<time_t>(tv.tv_sec);
  };
  const time_t before = now();
  std::string line = combined(r, LogTime::kUtc);
  const time_t after = now();
  ASSERT_GT(line.size(), 43u);
  const std::string got = line.substr(14, 28);
  EXPECT_TRUE(got == stamp(before) || got == stamp(after)) << line;
}

TEST_F(AccessFormatTest, JsonNormalRequest) {
  EXPECT_EQ(json(normal()),
            "{\"time\":\"2026-12-01T19:36:43.123+00:00\",\"client\":\"192.0.2.7\",\"user\":null,"
            "\"host\":\"shop.example\",\"method\":\"GET\",\"target\":\"/index.html?q=1\",\"protocol\":\"HTTP/1.1\","
            "\"status\":200,\"body_bytes\":612,\"request_bytes\":0,\"referer\":\"https://shop.example/\","
            "\"user_agent\":\"curl/8.5.0\",\"upstream\":\"127.0.0.1:9001\",\"upstream_connect_time\":null,"
            "\"upstream_header_time\":0.004,\"request_time\":0.005,\"error\":null,"
            "\"request_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\",\"cache_status\":null}\n");
}

TEST_F(AccessFormatTest, JsonRejectedRequestHasNulls) {
  setZone("EST5EDT,M3.2.0,M11.1.0");
  AccessRecord r;
  r.client = "192.0.2.7";
  r.status = 400;
  r.body_bytes = 16;
  r.request_time = 0.0005;
  r.error = "invalid_request";
  r.authorization = "Basic YWxpY2U6c2VjcmV0";
  r.time_ms = kDec1 + 877;  // 44.000
  EXPECT_EQ(json(r),
            "{\"time\":\"2026-12-01T14:36:44.000-05:00\",\"client\":\"192.0.2.7\",\"user\":\"alice\","
            "\"host\":null,\"method\":null,\"target\":null,\"protocol\":null,"
            "\"status\":400,\"body_bytes\":16,\"request_bytes\":0,\"referer\":null,"
            "\"user_agent\":null,\"upstream\":null,\"upstream_connect_time\":null,"
            "\"upstream_header_time\":null,\"request_time\":0.001,\"error\":\"invalid_request\","
            "\"request_id\":null,\"cache_status\":null}\n");
  EXPECT_EQ(json(r, LogTime::kUtc).substr(0, 39), "{\"time\":\"2026-12-01T19:36:44.000+00:00\"");
}

TEST_F(AccessFormatTest, JsonEscapesControlsAndInvalidUtf8) {
  AccessRecord r = normal();
  // Valid UTF-8 is kept: é (2 bytes), € (3), U+1F600 (4). Not valid: a lone
  // 0xff, an overlong '/', a surrogate, a sequence cut short, a lone
  // continuation byte, a code point above U+10FFFF.
  const std::string target =
      "/\"q\\\r\n\t\0\x1f\x7f" "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80|\xff|\xc0\xaf|\xed\xa0\x80|\xe2\x82|\x80|\xf4\x90\x80\x80"s;
  r.target = target;
  r.user_agent = "\xe2\x82";  // cut at the end of the value
  const std::string line = json(r);
  const std::string expected =
            "\"target\":\"/\\\"q\\\\\\u000D\\u000A\\u0009\\u0000\\u001F\\u007F\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
            "|\\u00FF|\\u00C0\\u00AF|\\u00ED\\u00A0\\u0080|\\u00E2\\u0082|\\u0080|\\u00F4\\u0090\\u0080\\u0080\","
            "\"protocol\":\"HTTP/1.1\",\"status\":200,\"body_bytes\":612,\"request_bytes\":0,"
            "\"referer\":\"https://shop.example/\",\"user_agent\":\"\\u00E2\\u0082\"";
  EXPECT_EQ(line.substr(line.find("\"target\":"), expected.size()), expected) << line;
}

// Random bytes in every field, 2000 lines: python3's json module must accept
// every one, after a strict UTF-8 decode (sys.stdin itself would let bad
// bytes through as surrogates under a C locale).
TEST_F(AccessFormatTest, JsonRandomBytesParseWithPython) {
  if (std::system("python3 -c 'import json' >/dev/null 2>&1") != 0) GTEST_SKIP() << "python3 not installed";
  std::mt19937 rng(11);
  auto bytes = [&](size_t n) {
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(rng() & 0xff);
    return s;
  };
  std::string lines;
  for (int i = 0; i < 2000; ++i) {
    std::string method = bytes(1 + rng() % 8), target = bytes(rng() % 64), ua = bytes(rng() % 64),
                ref = bytes(rng() % 16), host = bytes(rng() % 16), auth = "Basic " + bytes(rng() % 16);
    AccessRecord r = normal();
    r.method = method;
    r.target = target;
    r.user_agent = ua;
    r.referer = ref;
    r.host = host;
    r.authorization = auth;
    appendJson(r, LogTime::kUtc, lines);
  }
  char path[] = "/tmp/weir-json-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, lines.data(), lines.size()), static_cast<ssize_t>(lines.size()));
  ::close(fd);
  const std::string cmd = std::string("python3 -c 'import json,sys\n"
                                      "n=0\n"
                                      "for l in sys.stdin.buffer:\n"
                                      "  o=json.loads(l.decode(\"utf-8\")); n+=1\n"
                                      "  assert o[\"status\"]==200 and o[\"client\"]==\"192.0.2.7\", l\n"
                                      "assert n==2000, n' < ") + path;
  EXPECT_EQ(std::system(cmd.c_str()), 0) << "python3 rejected a line of " << path;
  ::unlink(path);
}

// The formatters run per request: with room in `out`, no allocation.
TEST_F(AccessFormatTest, FormattingAllocatesNothingOnceWarm) {
  AccessRecord r = normal();
  r.authorization = "Basic YWxpY2U6c2VjcmV0";
  r.user_agent = "\"quoted\" \\ \xff\xc3\xa9\t";
  std::string out;
  out.reserve(1 << 20);
  appendCombined(r, LogTime::kLocal, out);  // warm: thread-local caches
  appendJson(r, LogTime::kLocal, out);
  g_allocations = 0;
  g_count_allocations = true;
  for (int i = 0; i < 100; ++i) {
    r.time_ms = kDec1 + i * 1000;  // a new second each time: the slow path too
    appendCombined(r, LogTime::kLocal, out);
    appendJson(r, LogTime::kUtc, out);
  }
  g_count_allocations = false;
  EXPECT_EQ(g_allocations, 0u);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 202);
}

TEST_F(AccessFormatTest, AppendsAfterWhatIsThere) {
  std::string out = "previous line\n";
  appendCombined(normal(), LogTime::kUtc, out);
  appendJson(normal(), LogTime::kUtc, out);
  EXPECT_EQ(out.rfind("previous line\n192.0.2.7 - - [", 0), 0u);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 3);
}

}  // namespace
}  // namespace weir::log
