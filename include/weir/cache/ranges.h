// Byte ranges answered from a stored complete object (RFC 9110 14): which
// part of it a GET's Range asks for, honouring If-Range. Pure functions;
// safe from any thread.
//
// Choices: one satisfiable range gets a 206; several ranges get the whole
// object (a 200, which RFC 9110 14.2 always allows) rather than
// multipart/byteranges; a Range with another unit, a syntax error or more
// than one Range field is ignored (14.2), so is one on a stored response
// other than 200.
#pragma once

#include <cstdint>

#include "weir/cache/preconditions.h"
#include "weir/http/message.h"

namespace weir::cache {

enum class RangeAnswer : uint8_t {
  kWhole,          // no (usable) Range, or If-Range does not match: 200 with everything
  kPartial,        // 206 with bytes [first, last]
  kUnsatisfiable,  // 416 with Content-Range: bytes */length
};

struct RangeDecision {
  RangeAnswer answer = RangeAnswer::kWhole;
  uint64_t first = 0;
  uint64_t last = 0;  // inclusive
};

// `length`: the stored body's length; `status`: the stored response's.
RangeDecision decideRange(const http::RequestHead& req, int status, uint64_t length, const StoredValidators& stored);

}  // namespace weir::cache
