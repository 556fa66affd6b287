#include "pattern_body.h"

#include <event2/buffer.h>

#include <algorithm>
#include <array>

#include "response.h"

namespace weir::origin {
namespace {

constexpr size_t kPlainSlice = 64 * 1024;
constexpr size_t kChunkSlice = 16 * 1024;
// Below this size a copy is cheaper than a referenced chain and keeps the
// head and body of small responses in one iovec.
constexpr size_t kCopyBelow = 4096;

// 64 KiB plus one period, so a slice of up to 64 KiB can start at any phase.
constexpr size_t kPatternSize = kPlainSlice + 26;

const std::array<char, kPatternSize>& pattern() {
  static const std::array<char, kPatternSize> kPattern = [] {
    std::array<char, kPatternSize> p{};
    for (size_t i = 0; i < p.size(); ++i) p[i] = static_cast<char>('a' + i % 26);
    return p;
  }();
  return kPattern;
}

void addSlice(evbuffer* out, uint64_t offset, size_t n) {
  const char* data = pattern().data() + offset % 26;
  if (n < kCopyBelow) {
    evbuffer_add(out, data, n);
  } else {
    evbuffer_add_reference(out, data, n, nullptr, nullptr);
  }
}

}  // namespace

void PatternBody::start(uint64_t size, bool chunked, bool trailer) {
  offset_ = 0;
  remaining_ = size;
  chunked_ = chunked;
  trailer_ = trailer;
  active_ = true;
}

bool PatternBody::fill(evbuffer* out, size_t high) {
  if (!active_) return true;
  const size_t slice = chunked_ ? kChunkSlice : kPlainSlice;
  while (remaining_ > 0 && evbuffer_get_length(out) < high) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, slice));
    if (chunked_) writeChunkHeader(out, n);
    addSlice(out, offset_, n);
    if (chunked_) evbuffer_add(out, "\r\n", 2);
    offset_ += n;
    remaining_ -= n;
  }
  if (remaining_ > 0) return false;
  if (chunked_) writeLastChunk(out, trailer_);
  active_ = false;
  return true;
}

}  // namespace weir::origin
