// Test helpers shared by the config tests: a minimal valid file and loaders
// that record a failure without crashing the rest of the suite.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "weir/config/config.h"

namespace weir::config::testing {

// Eight lines; sections appended to it start on line 9.
inline constexpr const char* kBase =
    "listeners:\n"
    "  - address: 127.0.0.1:8080\n"
    "pools:\n"
    "  app:\n"
    "    servers:\n"
    "      - address: 127.0.0.1:9001\n"
    "routes:\n"
    "  - pool: app\n";

inline ConfigPtr mustLoad(const std::string& yaml) {
  Result<ConfigPtr> result = loadString(yaml, "t.yaml");
  EXPECT_TRUE(result.ok()) << result.error().message;
  return result.ok() ? *result : nullptr;
}

// The loaded config, or defaults after a recorded failure.
inline Config loadOrDefaults(const std::string& yaml) {
  ConfigPtr config = mustLoad(yaml);
  return config ? *config : Config{};
}

// The error message of a file that must fail to load ("(loaded)" if it did).
inline std::string errorOf(const std::string& yaml) {
  Result<ConfigPtr> result = loadString(yaml, "t.yaml");
  EXPECT_FALSE(result.ok()) << yaml;
  return result.ok() ? std::string("(loaded)") : result.error().message;
}

}  // namespace weir::config::testing
