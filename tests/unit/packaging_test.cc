// The systemd unit in packaging/ (issue 5): reload must not be mapped to
// something else until weir can reload its configuration.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace {

std::string unitText() {
  std::ifstream in(std::string(WEIR_SOURCE_DIR) + "/packaging/weir.service");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool hasDirective(const std::string& unit, const std::string& prefix) {
  std::istringstream lines(unit);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

TEST(PackagingTest, ServiceReloadsThroughWeirSignalAndItsPidFile) {
  std::string unit = unitText();
  ASSERT_FALSE(unit.empty());
  EXPECT_TRUE(hasDirective(unit, "ExecReload=/usr/bin/weir -c /etc/weir/weir.yaml -s reload"))
      << "systemctl reload must wait for the result and fail on a bad file";
  EXPECT_TRUE(hasDirective(unit, "Environment=WEIR_PID_FILE=/run/weir/weir.pid"));
  EXPECT_TRUE(hasDirective(unit, "RuntimeDirectory=weir")) << "the pid file's directory, writable by DynamicUser";
  EXPECT_TRUE(hasDirective(unit, "ExecStartPre=/usr/bin/weir -t -c /etc/weir/weir.yaml"));
  EXPECT_TRUE(hasDirective(unit, "ExecStart=/usr/bin/weir -c /etc/weir/weir.yaml"));
  EXPECT_NE(unit.find("systemctl kill -s USR1 weir"), std::string::npos) << "say how to reopen the logs";
}

}  // namespace
