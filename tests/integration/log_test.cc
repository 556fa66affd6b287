// Access and error logs.
#include <regex>
#include <sys/stat.h>

#include "harness.h"

namespace weir::itest {
namespace {

using Logs = ProxyTest;

TEST_F(Logs, AccessLogLineHasRequestStatusUpstreamAndTimings) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  CurlResult r = curl(weir().url("/bytes/123?x=1"));
  ASSERT_EQ(r.status, 200) << r.describe();
  auto line = weir().waitForLogLine(weir().accessLogPath(), [](const std::string& l) {
    return l.find("/bytes/123?x=1") != std::string::npos;
  });
  ASSERT_TRUE(line) << "no access-log line for the request; log:\n" << tailFile(weir().accessLogPath());
  const std::string& l = *line;
  EXPECT_EQ(l.rfind("127.0.0.1 ", 0), 0u) << "client address first (combined format): " << l;
  EXPECT_NE(l.find("\"GET /bytes/123?x=1 HTTP/1.1\""), std::string::npos) << l;
  EXPECT_TRUE(std::regex_search(l, std::regex("\" 200 \\d+"))) << "status and bytes sent: " << l;
  EXPECT_NE(l.find("curl/"), std::string::npos) << "combined format has the user agent: " << l;
  size_t up = l.find(origin().address());
  ASSERT_NE(up, std::string::npos) << "upstream address " << origin().address() << " missing: " << l;
  std::string after = l.substr(up + origin().address().size());
  static const std::regex number(R"(\d+(\.\d+)?)");
  auto numbers = std::distance(std::sregex_iterator(after.begin(), after.end(), number), std::sregex_iterator());
  EXPECT_GE(numbers, 2) << "upstream time and total time expected after the upstream address: " << l;
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
