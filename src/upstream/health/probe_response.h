// What a probe makes of the bytes an HTTP health check gets back: the
// status line, and whether its status is one the check accepts. Pure
// functions, so that split reads and garbage can be tested without sockets.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "weir/config/config.h"

namespace weir::upstream {

// A probe reads at most this much before it must have a status line.
constexpr size_t kMaxStatusLine = 4096;

struct StatusLine {
  enum class State { kIncomplete, kComplete, kInvalid };
  State state = State::kIncomplete;
  int status = 0;  // with kComplete
};

// Parses the start of a response, everything received so far (call again
// with more bytes after a short read). Complete once "HTTP/1.x NNN" and the
// line's end (CRLF, or a bare LF) are in; invalid as soon as the bytes
// cannot begin such a line, or when no line end comes within kMaxStatusLine.
// The reason phrase is not looked at. HTTP/1.0 and 1.1 are accepted.
StatusLine parseStatusLine(std::string_view received);

// True when `status` is in one of the ranges (health_check.expect).
bool statusExpected(int status, const std::vector<config::HealthCheckConfig::StatusRange>& expect);

}  // namespace weir::upstream
