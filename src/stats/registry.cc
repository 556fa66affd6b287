#include "weir/stats/registry.h"

#include <algorithm>

namespace weir::stats {
namespace {

// 512 KiB per chunk and worker; a series' block never spans two chunks.
constexpr size_t kChunkSlots = 64 * 1024;

}  // namespace

// Aligned to a cache line (and allocated on its own): no two workers' slots
// share a line.
struct alignas(64) Registry::Chunk {
  Slot slots[kChunkSlots]{};
};

size_t latencyBucket(double seconds) {
  size_t i = 0;
  while (i < kLatencyBounds.size() && seconds > kLatencyBounds[i]) ++i;
  return i;
}

uint64_t Series::sum(size_t slot) const {
  uint64_t total = 0;
  for (Slot* w : per_worker) total += value(w[slot]);
  return total;
}

void Series::sumInto(size_t first, size_t n, uint64_t* out) const {
  std::fill(out, out + n, 0);
  for (Slot* w : per_worker) {
    for (size_t i = 0; i < n; ++i) out[i] += value(w[first + i]);
  }
}

Registry::Registry(unsigned workers) : workers_(std::max(1u, workers)), chunks_(workers_) {}

Registry::~Registry() = default;

Slot* Registry::allocate(unsigned worker, size_t chunk, size_t pos) { return &chunks_[worker][chunk]->slots[pos]; }

const Series* Registry::series(Kind kind, std::vector<std::string> labels) {
  std::lock_guard<std::mutex> lock(mu_);
  auto key = std::make_pair(kind, labels);
  auto it = series_.find(key);
  if (it != series_.end()) return it->second.get();
  size_t size = 0;
  switch (kind) {
    case Kind::kProcess: size = process_slots::kSize; break;
    case Kind::kRoute: size = route_slots::kSize; break;
    case Kind::kPool: size = pool_slots::kSize; break;
    case Kind::kServer: size = server_slots::kSize; break;
    case Kind::kCache: size = cache_slots::kSize; break;
  }
  if (chunks_[0].empty() || used_in_last_ + size > kChunkSlots) {
    for (auto& per_worker : chunks_) per_worker.push_back(std::make_unique<Chunk>());
    used_in_last_ = 0;
  }
  auto s = std::make_unique<Series>();
  s->kind = kind;
  s->labels = std::move(labels);
  s->size = size;
  for (unsigned w = 0; w < workers_; ++w) s->per_worker.push_back(allocate(w, chunks_[w].size() - 1, used_in_last_));
  used_in_last_ += size;
  const Series* out = s.get();
  series_.emplace(std::move(key), std::move(s));
  return out;
}

std::vector<const Series*> Registry::list(Kind kind) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<const Series*> out;
  for (const auto& [key, s] : series_) {
    if (key.first == kind) out.push_back(s.get());
  }
  return out;
}

}  // namespace weir::stats
