// Request-target interpretation for weir-origin: which endpoint a path names
// and which behaviour-changing query parameters it carries. Pure functions.
#pragma once

#include <cstdint>
#include <string_view>

namespace weir::origin {

enum class Route { kHello, kBytes, kStatus, kEcho, kHeaders, kStats, kWebSocket, kClose, kHealth, kHealthControl };

struct Target {
  Route route = Route::kHello;
  bool bad = false;            // malformed endpoint argument or query value: answer 400
  uint64_t bytes = 0;          // /bytes/N
  int path_status = 0;         // /status/CODE
  int status_override = 0;     // ?status=CODE (0: none)
  bool chunked = false;        // ?chunked=1
  bool close = false;          // ?close=1
  bool trailer = false;        // ?trailer=1
  bool expect_continue = false;  // ?continue=1 (100 Continue is sent by default anyway)
  uint32_t delay_ms = 0;       // ?delay=MS
  int64_t cache_seconds = -1;  // ?cache=SECONDS (-1: none)
};

// Parses an origin-form or absolute-form request target. Unknown paths map
// to kHello; unknown query parameters are ignored.
Target parseTarget(std::string_view url);

}  // namespace weir::origin
