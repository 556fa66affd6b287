// Access and error logs: the exact formats, through the real binary.
#include <sys/stat.h>

#include <cstdlib>
#include <ctime>
#include <regex>
#include <sstream>

#include "harness.h"

namespace weir::itest {
namespace {

using Logs = ProxyTest;

// $time_local as combined writes it.
const char* const kTimeLocal = R"(\[\d{2}/(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\])";

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream ss(text);
  for (std::string l; std::getline(ss, l);) out.push_back(l);
  return out;
}

// A new request ID as the combined line's last field.
// The line's end on a route without the cache: a new request ID, no Cache-Status.
const char* const kNewId = R"( "[0-9a-f]{32}" "-")";

// nginx's combined, then the request ID (issue 7), and nothing else on the
// line: the bytes field is the body only (123, not the head too), no
// upstream or timing fields follow.
TEST_F(Logs, CombinedLineIsNginxCombinedThenTheRequestId) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  CurlResult r = curl(weir().url("/bytes/123?x=1"), {"-e", "http://ref.example/p"});
  ASSERT_EQ(r.status, 200) << r.describe();
  auto line = weir().waitForLogLine(weir().accessLogPath(), [](const std::string& l) {
    return l.find("/bytes/123?x=1") != std::string::npos;
  });
  ASSERT_TRUE(line) << "no access-log line for the request; log:\n" << tailFile(weir().accessLogPath());
  const std::regex combined(std::string(R"(127\.0\.0\.1 - - )") + kTimeLocal +
                            R"( "GET /bytes/123\?x=1 HTTP/1\.1" 200 123 "http://ref\.example/p" "curl/[0-9.]+")" +
                            kNewId);
  EXPECT_TRUE(std::regex_match(*line, combined)) << *line;
}

TEST_F(Logs, CombinedUserComesFromBasicAuth) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  ASSERT_EQ(curl(weir().url("/bytes/5?auth"), {"-u", "alice:s3cret"}).status, 200);
  auto line = weir().waitForLogLine(weir().accessLogPath(), [](const std::string& l) {
    return l.find("?auth") != std::string::npos;
  });
  ASSERT_TRUE(line);
  EXPECT_EQ(line->rfind("127.0.0.1 - alice [", 0), 0u) << *line;
  EXPECT_EQ(line->find("s3cret"), std::string::npos) << "the password is logged: " << *line;
}

// Quotes, backslashes, a tab and bytes above 0x7f from the client: one
// line, every one of them \xHH, the field structure intact.
TEST_F(Logs, HostileRequestGivesExactlyOneWellFormedLine) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  const std::string hostile = get("/h\"x\\y?q=\"1\"",
                                  "User-Agent: a\" 200 1 \"-\" \"forged\\ \xfe\xff\t\xc3\xa9\r\n"
                                  "Referer: \"\\\r\n");
  auto r = rawRequest(weir().port(), hostile);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  // Bytes above 0x7f in the target are refused by the parser (before it
  // reads the fields): still one line, with what had arrived.
  auto bad = rawRequest(weir().port(), "GET /h\xff HTTP/1.1\r\nHost: x\r\nUser-Agent: \"\xff\r\n\r\n");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  ASSERT_TRUE(weir().waitForLogLine(weir().accessLogPath(), [](const std::string& l) { return l.find(" 400 ") != std::string::npos; }));

  const std::vector<std::string> all = lines(weir().accessLog());
  ASSERT_EQ(all.size(), 2u) << weir().accessLog();
  const std::string prefix = std::string(R"(127\.0\.0\.1 - - )") + kTimeLocal;
  EXPECT_TRUE(std::regex_match(all[0], std::regex(prefix + R"( "GET /h\\x22x\\x5Cy\?q=\\x221\\x22 HTTP/1\.1" 200 \d+ )"
                                                           R"("\\x22\\x5C" )"
                                                           R"("a\\x22 200 1 \\x22-\\x22 \\x22forged\\x5C \\xFE\\xFF\\x09\\xC3\\xA9")" +
                                                           kNewId)))
      << all[0];
  EXPECT_TRUE(std::regex_match(all[1], std::regex(prefix + R"( "-" 400 \d+ "-" "-")" + kNewId))) << all[1];
  for (const std::string& l : all) {
    for (unsigned char c : l) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << "raw byte " << int(c) << " in " << l;
  }
}

TEST_F(Logs, GarbageRequestLogsDashForTheRequest) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  auto r = rawRequest(weir().port(), "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  auto line = weir().waitForLogLine(weir().accessLogPath(), [](const std::string& l) { return !l.empty(); });
  ASSERT_TRUE(line);
  EXPECT_TRUE(std::regex_match(*line, std::regex(std::string(R"(127\.0\.0\.1 - - )") + kTimeLocal +
                                                 R"( "-" 400 \d+ "-" "-")" + kNewId)))
      << *line;
}

// Issue 5: a refused request logs what it had of its request line.
TEST_F(Logs, RefusedRequestLogsWhatArrivedOfItsRequestLine) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  auto r = rawRequest(weir().port(), "GET /big?x=1 HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(40000, 'b') + "\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 431);
  auto r2 = rawRequest(weir().port(), "GET /bad HTTP/1.1\r\nHost: t\r\nBad Name: x\r\n\r\n");
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->status, 400);
  auto big = weir().waitForLogLine(weir().accessLogPath(), [](const std::string& l) { return l.find(" 431 ") != std::string::npos; });
  ASSERT_TRUE(big) << weir().accessLog();
  EXPECT_NE(big->find("\"GET /big?x=1 HTTP/1.1\" 431 "), std::string::npos) << *big;
  auto bad = weir().waitForLogLine(weir().accessLogPath(), [](const std::string& l) { return l.find(" 400 ") != std::string::npos; });
  ASSERT_TRUE(bad) << weir().accessLog();
  EXPECT_NE(bad->find("\"GET /bad HTTP/1.1\" 400 "), std::string::npos) << *bad;
}

// access_log.time defaults to local time, with the zone's real offset.
TEST(LogsTime, CombinedTimeIsLocalWithItsOffset) {
  const char* old = std::getenv("TZ");
  const std::string saved = old ? old : "";
  ::setenv("TZ", "EST5EDT,M3.2.0,M11.1.0", 1);  // weir inherits it
  ::tzset();
  Origin origin("a");
  ASSERT_TRUE(origin.ok()) << origin.error();
  Weir weir(poolConfig({origin.address()}));
  if (old) {
    ::setenv("TZ", saved.c_str(), 1);
  } else {
    ::unsetenv("TZ");
  }
  ASSERT_TRUE(weir.ok()) << weir.error();
  const time_t before = ::time(nullptr);
  ASSERT_EQ(curl(weir.url("/tz")).status, 200);
  auto line = weir.waitForLogLine(weir.accessLogPath(), [](const std::string& l) { return l.find("/tz") != std::string::npos; });
  ASSERT_TRUE(line);
  // The offset New York has now: -0500, or -0400 in summer.
  ::setenv("TZ", "EST5EDT,M3.2.0,M11.1.0", 1);
  ::tzset();
  tm parts{};
  localtime_r(&before, &parts);
  if (old) {
    ::setenv("TZ", saved.c_str(), 1);
  } else {
    ::unsetenv("TZ");
  }
  ::tzset();
  const std::string offset = parts.tm_isdst > 0 ? " -0400]" : " -0500]";
  EXPECT_NE(line->find(offset), std::string::npos) << "expected " << offset << ": " << *line;
}

TEST_F(Logs, AccessLogOneLinePerRequest) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  RawClient c(weir().port());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(c.send(get("/bytes/" + std::to_string(i + 1) + "?n=" + std::to_string(i))));
    ASSERT_TRUE(c.readResponse(Ms(3000)));
  }
  auto last = weir().waitForLogLine(weir().accessLogPath(),
                                    [](const std::string& l) { return l.find("?n=4") != std::string::npos; });
  ASSERT_TRUE(last);
  std::string log = weir().accessLog();
  for (int i = 0; i < 5; ++i) {
    std::string needle = "?n=" + std::to_string(i) + " ";
    size_t first = log.find(needle);
    EXPECT_NE(first, std::string::npos) << needle;
    EXPECT_EQ(log.find(needle, first + 1), std::string::npos) << "logged twice: " << needle;
  }
}

// The JSON log: every line parses (python3's json, strict UTF-8 input),
// every line has the same keys, and the values are the exchange's.
TEST(LogsJson, EveryLineParsesAndHasTheDocumentedKeys) {
  Origin origin("a");
  ASSERT_TRUE(origin.ok()) << origin.error();
  Weir weir("access_log: { path: ${TMP}/access.json, format: json }\n" + poolConfig({origin.address()}));
  ASSERT_TRUE(weir.ok()) << weir.error();
  const std::string path = testDir() + "/access.json";

  ASSERT_EQ(curl(weir.url("/bytes/123?j=1"), {"-u", "bob:pw", "-e", "http://r.example/"}).status, 200);
  auto hostile = rawRequest(weir.port(), get("/j\"\\?x=\x01", "User-Agent: \"\\\xff\xfe\xc3\x28\t\r\n"));
  ASSERT_TRUE(hostile);  // \x01 in the target: refused
  auto odd = rawRequest(weir.port(), get("/j2\"\\", "User-Agent: \"\\\xff\xfe\xc3\x28\t\xe2\x82\xac\r\n"));
  ASSERT_TRUE(odd);
  EXPECT_EQ(odd->status, 200);
  auto garbage = rawRequest(weir.port(), "\x16\x03\x01\xff\r\n\r\n");
  ASSERT_TRUE(garbage);
  ASSERT_TRUE(weir.waitForLogLine(path, [](const std::string& l) { return l.find("\"status\":400") != std::string::npos; }));
  ASSERT_EQ(lines(readFile(path)).size(), 4u) << readFile(path);

  const char* script = R"PY(
import json, sys
keys = ["time", "client", "user", "host", "method", "target", "protocol", "status", "body_bytes",
        "request_bytes", "referer", "user_agent", "upstream", "upstream_connect_time",
        "upstream_header_time", "request_time", "error", "request_id", "cache_status"]
upstream = sys.argv[2]
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
for r in rows:
    assert list(r.keys()) == keys, r.keys()
    assert r["client"] == "127.0.0.1", r
    assert isinstance(r["request_time"], float) and r["request_time"] >= 0, r
    assert r["time"][19] == "." and r["time"][23] in "+-", r["time"]
    assert len(r["request_id"]) == 32 and all(c in "0123456789abcdef" for c in r["request_id"]), r
ok, bad, odd, garbage = rows
assert ok["method"] == "GET" and ok["target"] == "/bytes/123?j=1" and ok["protocol"] == "HTTP/1.1", ok
assert ok["status"] == 200 and ok["body_bytes"] == 123 and ok["request_bytes"] == 0, ok
assert ok["user"] == "bob" and ok["host"] == "127.0.0.1:" + sys.argv[3], ok
assert ok["referer"] == "http://r.example/" and ok["user_agent"].startswith("curl/"), ok
assert ok["upstream"] == upstream and ok["upstream_header_time"] >= 0 and ok["error"] is None, ok
assert bad["status"] == 400 and bad["method"] is None and bad["error"] == "invalid_request", bad
assert odd["status"] == 200 and odd["target"] == '/j2"\\', odd
assert odd["user_agent"] == '"\\\u00ff\u00fe\u00c3(\t\u20ac', repr(odd["user_agent"])
assert garbage["status"] == 400 and garbage["method"] is None and garbage["protocol"] is None, garbage
assert garbage["upstream"] is None and garbage["upstream_header_time"] is None, garbage
print("ok", len(rows))
)PY";
  RunResult py = run({"/usr/bin/env", "python3", "-c", script, path, origin.address(), std::to_string(weir.port())}, Ms(10000), "python");
  EXPECT_EQ(py.exitCode, 0) << py.err << "\nlog:\n" << readFile(path);
  EXPECT_EQ(py.out, "ok 4\n");
}

// "2026-11-23T04:41:06.123Z [warn] weir[1234]: message", every line.
TEST_F(Logs, ErrorLogLinesCarryThePid) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  ASSERT_EQ(curl(weir().url("/pid")).status, 200);
  const std::regex format(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z \[(debug|info|warn|error)\] weir\[)" +
                          std::to_string(weir().pid()) + R"(\]: .+)");
  ASSERT_TRUE(weir().waitForLogLine(weir().errorLogPath(), [](const std::string& l) { return l.find("/pid") != std::string::npos; }));
  const std::vector<std::string> all = lines(weir().errorLog());
  ASSERT_GE(all.size(), 2u);
  for (const std::string& l : all) EXPECT_TRUE(std::regex_match(l, format)) << l;
}

TEST(LogsOff, AccessLogOffWritesNothing) {
  Origin origin("a");
  ASSERT_TRUE(origin.ok()) << origin.error();
  std::string path = testDir() + "/should-not-exist.log";
  Weir weir("access_log: off\n" + poolConfig({origin.address()}));
  ASSERT_TRUE(weir.ok()) << weir.error();
  auto r = rawRequest(weir.port(), get("/"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  std::this_thread::sleep_for(Ms(300));
  struct stat st {};
  EXPECT_NE(::stat(weir.accessLogPath().c_str(), &st), 0) << "access log written although it is off";
  EXPECT_EQ(readFile(path), "");
}

}  // namespace
}  // namespace weir::itest
