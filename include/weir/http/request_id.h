// Request IDs: the rule for a client-sent ID weir keeps, a fixed-size value
// type that holds one ID without allocating, and the per-worker generator of
// new IDs.
//
// Well-formed (kept end to end): 1 to kMaxRequestIdBytes bytes, each one of
// A-Z a-z 0-9 and . _ : + / = -. Nothing else is ever forwarded or logged as
// a client's ID: an empty value, a longer one, spaces, quotes, commas,
// control bytes, bytes above 0x7f, or several fields with the name are all
// replaced by a new ID. So an ID needs no escaping in a log line and cannot
// forge a field there.
//
// New IDs are 32 lower-case hex digits (128 bits, nginx's $request_id
// shape). They are unique, not secret: do not use them as tokens.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "weir/common/fast_random.h"
#include "weir/http/message.h"

namespace weir::http {

inline constexpr size_t kMaxRequestIdBytes = 128;
inline constexpr size_t kNewRequestIdBytes = 32;

// True for a value weir keeps as the request's ID (see above).
bool isWellFormedRequestId(std::string_view value);

// One request's ID, stored inline. Empty means "none" (the feature is off,
// or no request has started yet).
class RequestId {
 public:
  std::string_view view() const { return {bytes_, size_}; }
  bool empty() const { return size_ == 0; }
  void clear() { size_ = 0; }
  // Precondition: value.size() <= kMaxRequestIdBytes (isWellFormedRequestId).
  void assign(std::string_view value) {
    size_ = static_cast<uint8_t>(value.size());
    std::memcpy(bytes_, value.data(), value.size());
  }
  char* data() { return bytes_; }
  void setSize(size_t n) { size_ = static_cast<uint8_t>(n); }

 private:
  char bytes_[kMaxRequestIdBytes];
  uint8_t size_ = 0;
};

// Makes new IDs from two FastRandom (splitmix64) streams, each seeded from
// std::random_device (getrandom) when the generator is built, one generator
// per worker. Within one generator the first half alone never repeats for
// 2^64 draws (splitmix64 is a bijection of a counter); IDs of two
// generators (other workers, other runs) match only if both 128-bit seeds
// put the two streams at the same distance, about one chance in 2^64 per
// pair of draws that already share their first half. A draw is a few
// multiplications and 32 table lookups: no lock, no system call, no
// allocation. Loop thread of its owner only.
class RequestIdGenerator {
 public:
  RequestIdGenerator();  // seeds from std::random_device
  RequestIdGenerator(uint64_t seed_a, uint64_t seed_b) : a_(seed_a), b_(seed_b) {}  // for tests

  // Writes a new ID (kNewRequestIdBytes hex digits) into `out`.
  void next(RequestId& out);

 private:
  FastRandom a_;  // the first 16 hex digits
  FastRandom b_;  // the last 16
};

// The request's ID: the value of the one field named `name` (compared
// without case) when there is exactly one and it is well-formed, otherwise
// a new one from `gen`. Fields whose name has '_' never count (see
// forward.h: their look-alikes of the name are dropped).
void chooseRequestId(const HeaderBlock& fields, std::string_view name, RequestIdGenerator& gen, RequestId& out);

}  // namespace weir::http
