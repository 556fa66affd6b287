// Preconditions evaluated against a stored response (RFC 9110 13.1 and
// 13.2.2): If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since,
// in that order, for GET and HEAD. Pure functions; safe from any thread.
// The proxy answers only If-None-Match and If-Modified-Since from the cache
// (RFC 9111 4.3.2: the other two are not a cache's to apply), and only for
// a stored 2xx (RFC 9110 13.2.1); it sends requests with If-Match or
// If-Unmodified-Since to the origin.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "weir/http/message.h"

namespace weir::cache {

// What a stored response offers to compare with.
struct StoredValidators {
  std::string_view etag;                 // the ETag field value as stored, "" when none
  std::optional<int64_t> last_modified;  // Last-Modified, when present and valid
  int64_t date = 0;                      // Date, else when the response was received
};

// The stored head's ETag, Last-Modified and Date (RFC 9111 4.3.2: without
// Last-Modified, If-Modified-Since is evaluated against Date, and without
// Date against `received`). Views into `head`.
StoredValidators validatorsOf(std::string_view head, int64_t received);

enum class Precondition : uint8_t {
  kNone,          // no precondition, or all hold: answer as usual (200)
  kNotModified,   // If-None-Match or If-Modified-Since says the client's copy is current: 304
  kFailed,        // If-Match or If-Unmodified-Since does not hold: 412
};

// True when the request has any of the four fields (a fast test on a hit).
bool hasPreconditions(const http::RequestHead& req);

// RFC 9110 13.2.2 for a GET or HEAD answered from a stored response.
// If-Range belongs to the range decision (ranges.h).
Precondition evaluatePreconditions(const http::RequestHead& req, const StoredValidators& stored);

// Entity-tag comparison (RFC 9110 8.8.3.2) of two entity-tag values as
// they appear in fields (`"xyzzy"`, `W/"xyzzy"`); false when either is
// malformed. Strong: both strong and equal. Weak: the opaque tags equal.
bool strongMatch(std::string_view a, std::string_view b);
bool weakMatch(std::string_view a, std::string_view b);

}  // namespace weir::cache
