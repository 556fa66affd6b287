// The request_id section (issue 7): default on as X-Request-Id, off in
// either spelling, renamed, and refused names with their file:line:col.
#include <gtest/gtest.h>

#include <string>

#include "config_fixture.h"
#include "weir/config/config.h"

namespace weir::config {
namespace {

using testing::kBase;  // request_id starts on line 9

Result<ConfigPtr> load(const std::string& section) { return loadString(kBase + section, "t.yaml"); }

RequestIdConfig loaded(const std::string& section) {
  Result<ConfigPtr> r = load(section);
  EXPECT_TRUE(r.ok()) << section << (r.ok() ? "" : r.error().message);
  return r.ok() ? (*r)->request_id : RequestIdConfig{false, "(failed)"};
}

TEST(ConfigRequestIdTest, OnByDefaultAsXRequestId) {
  RequestIdConfig c = loaded("");
  EXPECT_TRUE(c.enabled);
  EXPECT_EQ(c.header, "X-Request-Id");
  EXPECT_TRUE(loaded("request_id: on\n").enabled);
  EXPECT_TRUE(loaded("request_id: {}\n").enabled);
}

TEST(ConfigRequestIdTest, OffInEverySpelling) {
  for (const char* off : {"request_id: off\n", "request_id: false\n", "request_id: no\n", "request_id: Off\n",
                          "request_id: { enabled: false }\n", "request_id: { enabled: off, header: X-Trace }\n"}) {
    EXPECT_FALSE(loaded(off).enabled) << off;
  }
}

TEST(ConfigRequestIdTest, Renamed) {
  RequestIdConfig c = loaded("request_id: { header: X-Correlation-ID }\n");
  EXPECT_TRUE(c.enabled);
  EXPECT_EQ(c.header, "X-Correlation-ID");
  EXPECT_EQ(loaded("request_id:\n  header: Request-Id\n").header, "Request-Id");
}

TEST(ConfigRequestIdTest, BadValuesSayWhereAndWhy) {
  struct Case {
    const char* yaml;
    const char* expected;
  };
  const Case cases[] = {
      {"request_id: maybe\n", "9:13: request_id: expected off, or a map with enabled and header"},
      {"request_id: [X-Id]\n", "9:13: request_id: expected off, or a map with enabled and header"},
      {"request_id: { name: X-Id }\n", "9:15: request_id.name: unknown key \"name\""},
      {"request_id: { enabled: sometimes }\n", "9:24: request_id.enabled: expected true or false"},
      {"request_id: { header: \"\" }\n", "9:23: request_id.header: must not be empty"},
      {"request_id: { header: \"X Id\" }\n",
       "9:23: request_id.header: \"X Id\" is not a header name (letters, digits and !#$%&'*+-.^`|~ only)"},
      {"request_id: { header: \"X-Id:\" }\n",
       "9:23: request_id.header: \"X-Id:\" is not a header name (letters, digits and !#$%&'*+-.^`|~ only)"},
      {"request_id: { header: X_Request_Id }\n",
       "9:23: request_id.header: \"X_Request_Id\": use '-', not '_' (fields named with '_' are dropped or refused by "
       "default)"},
      {"request_id: { header: [a] }\n", "9:23: request_id.header: expected a header name such as X-Request-Id"},
  };
  for (const Case& c : cases) {
    Result<ConfigPtr> r = load(c.yaml);
    ASSERT_FALSE(r.ok()) << c.yaml;
    EXPECT_EQ(r.error().message, std::string("t.yaml:") + c.expected) << c.yaml;
  }
  Result<ConfigPtr> long_name = load("request_id: { header: " + std::string(65, 'x') + " }\n");
  ASSERT_FALSE(long_name.ok());
  EXPECT_EQ(long_name.error().message, "t.yaml:9:23: request_id.header: expected a header name of 1 to 64 characters");
}

TEST(ConfigRequestIdTest, NamesWeirManagesAreRefused) {
  for (const char* name : {"Host", "content-length", "Transfer-Encoding", "Connection", "Keep-Alive", "TE", "Trailer",
                           "Upgrade", "Proxy-Connection", "HTTP2-Settings", "Expect", "Via", "Forwarded", "X-Real-IP",
                           "X-Forwarded-For", "x-forwarded-proto", "X-Forwarded-Host", "X-Forwarded-Port",
                           "Server", "Content-Type", "Retry-After"}) {
    Result<ConfigPtr> r = load(std::string("request_id:\n  header: ") + name + "\n");
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_EQ(r.error().message, std::string("t.yaml:10:11: request_id.header: \"") + name +
                                     "\" is a field weir manages itself; choose another name");
  }
}

}  // namespace
}  // namespace weir::config
