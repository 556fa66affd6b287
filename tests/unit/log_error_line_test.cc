#include <gtest/gtest.h>
#include <unistd.h>

#include <regex>
#include <string>

#include "weir/log/log.h"

namespace weir::log {
namespace {

TEST(LogErrorLine, HasTimeLevelAndPid) {
  const std::string line = errorLine(Level::kWarn, "upstream 127.0.0.1:9001: connect failed");
  const std::regex format(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z \[warn\] weir\[)" + std::to_string(::getpid()) +
                          R"(\]: upstream 127\.0\.0\.1:9001: connect failed\n)");
  EXPECT_TRUE(std::regex_match(line, format)) << line;
  EXPECT_NE(errorLine(Level::kDebug, "x").find(" [debug] weir["), std::string::npos);
  EXPECT_NE(errorLine(Level::kInfo, "x").find(" [info] weir["), std::string::npos);
  EXPECT_NE(errorLine(Level::kError, "x").find(" [error] weir["), std::string::npos);
}

// Messages quote client input (targets, addresses): a CR, LF or other
// control byte in one must not end the line or start a forged one.
TEST(LogErrorLine, ControlBytesAreEscaped) {
  const std::string line = errorLine(Level::kInfo, std::string("GET /a\r\n2026-01-01T00:00:00.000Z [error] x\0\x7f\t\xc3\xa9", 47));
  const std::string message = line.substr(line.find("]: ") + 3);
  EXPECT_EQ(message, "GET /a\\x0D\\x0A2026-01-01T00:00:00.000Z [error] x\\x00\\x7F\\x09\xc3\xa9\n");
}

}  // namespace
}  // namespace weir::log
