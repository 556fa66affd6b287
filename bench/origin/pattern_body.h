// Streams the deterministic /bytes/N body (byte i is 'a' + i % 26) without
// materialising it: the output buffer references slices of one static
// pattern, and is topped up only while it is below a caller-given level.
//
// Single-threaded: owned by one Connection.
#pragma once

#include <cstddef>
#include <cstdint>

struct evbuffer;

namespace weir::origin {

class PatternBody {
 public:
  // Starts a body of `size` bytes; `chunked` frames it in chunks of at most
  // 16 KiB, ending with a last chunk (and "X-Trailer: yes" when `trailer`).
  void start(uint64_t size, bool chunked, bool trailer);

  // Appends body bytes to `out` until its length reaches `high` or the body
  // ends. Returns true once the whole body (and terminator) has been queued.
  bool fill(evbuffer* out, size_t high);

  bool active() const { return active_; }

 private:
  uint64_t offset_ = 0;
  uint64_t remaining_ = 0;
  bool chunked_ = false;
  bool trailer_ = false;
  bool active_ = false;
};

}  // namespace weir::origin
