// Helpers for the cache tests: keys, bodies with checkable contents, filling
// and reading whole objects.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "weir/cache/key.h"
#include "weir/cache/object.h"
#include "weir/cache/store.h"

namespace weir::cache::cachetest {

inline CacheKey keyFor(const std::string& path, const std::string& host = "example.com") {
  return CacheKey::forRequest("GET", "http", host, path);
}

// A body whose every byte depends on a seed and its offset, so a reader can
// tell a wrong or torn object from the right one.
inline std::string patternBody(size_t length, uint64_t seed) {
  std::string body(length, '\0');
  for (size_t i = 0; i < length; ++i) body[i] = static_cast<char>((seed * 131 + i * 7 + (i >> 8)) & 0xff);
  return body;
}

inline std::string headFor(uint64_t seed) { return "HTTP/1.1 200 OK\r\nX-Seed: " + std::to_string(seed) + "\r\n\r\n"; }

// Every committed body byte, read span by span (any state).
inline std::string readAll(const Object& object) {
  std::vector<ChunkSpan> spans;
  object.readFrom(0, &spans);
  std::string out;
  for (const ChunkSpan& s : spans) out.append(s.data(), s.length);
  return out;
}

// Whole body of a complete object through chunks() (the zero-copy path).
inline std::string readChunks(const Object& object) {
  std::string out;
  for (const ChunkRef& c : object.chunks()) out.append(c->data(), c->size());
  return out;
}

struct FillSpec {
  bool declare_length = true;
  size_t piece = 4096;  // bytes per append
};

// Fills `handle` with head and body and completes it.
inline Status fillWith(FillHandle& handle, const std::string& head, const std::string& body, FillSpec spec = {}) {
  ObjectMeta meta;
  meta.status = 200;
  meta.body_length = spec.declare_length ? static_cast<int64_t>(body.size()) : -1;
  Status s = handle.setHead(head, meta);
  if (!s) return s;
  for (size_t off = 0; off < body.size(); off += spec.piece) {
    s = handle.append(body.data() + off, std::min(spec.piece, body.size() - off));
    if (!s) return s;
  }
  return handle.complete();
}

// beginFill + fillWith; false when the store did not hand out a fill.
inline Status store(Store& st, const CacheKey& key, const std::string& body, FillSpec spec = {}, uint64_t seed = 1) {
  BeginFill b = st.beginFill(key, true);
  if (b.kind != BeginFill::Kind::kFill) return Error{"no fill"};
  return fillWith(b.fill, headFor(seed), body, spec);
}

inline std::unique_ptr<Store> makeStore(uint64_t max_bytes, const std::string& eviction = "s3fifo", size_t shards = 1,
                                        uint64_t max_object = uint64_t{1} << 20) {
  StoreOptions o;
  o.max_bytes = max_bytes;
  o.max_object_size = max_object;
  o.shards = shards;
  o.eviction = eviction;
  auto r = Store::create(o);
  EXPECT_TRUE(r.ok());
  return r.ok() ? std::move(r.value()) : nullptr;
}

}  // namespace weir::cache::cachetest
