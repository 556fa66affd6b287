// Buffer limits and byte-moving helpers shared by the proxy's connection
// classes. Private to src/proxy.
#pragma once

#include <event2/buffer.h>

#include <cstddef>
#include <cstdint>

namespace weir::proxy {

// Above kHighWater bytes waiting for one side, reading from the other side
// stops; it resumes once the waiting bytes fall to kLowWater. Together with
// the stream's read size this bounds a connection's buffered bytes.
constexpr size_t kHighWater = 512 * 1024;
constexpr size_t kLowWater = 128 * 1024;
// After an early response (a 404 to an upload, say), up to this many body
// bytes are read and dropped to keep the connection; a larger remainder
// closes it.
constexpr uint64_t kDiscardLimit = 1024 * 1024;

// Moves n bytes from `in` to `out`. Large runs relink evbuffer chains (no
// copy); a small run is copied into the room after the head already queued
// in `out`, so a small message leaves as one piece with one send().
inline void moveBytes(evbuffer* in, evbuffer* out, size_t n) {
  constexpr size_t kCopyBelow = 2048;
  if (n < kCopyBelow) {
    evbuffer_iovec vec;
    if (evbuffer_peek(in, static_cast<ev_ssize_t>(n), nullptr, &vec, 1) == 1 && vec.iov_len >= n) {
      evbuffer_add(out, vec.iov_base, n);
      evbuffer_drain(in, n);
      return;
    }
  }
  evbuffer_remove_buffer(in, out, n);
}

// The first contiguous piece of a buffer.
inline bool firstSegment(evbuffer* buf, const char*& data, size_t& len) {
  evbuffer_iovec vec;
  if (evbuffer_peek(buf, -1, nullptr, &vec, 1) < 1 || vec.iov_len == 0) return false;
  data = static_cast<const char*>(vec.iov_base);
  len = vec.iov_len;
  return true;
}

}  // namespace weir::proxy
