#include "cache/storage/chunk_pool.h"

#include <sys/mman.h>

#include <cstdlib>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define WEIR_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define WEIR_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define WEIR_POISON(p, n) ((void)(p), (void)(n))
#define WEIR_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace weir::cache {

ChunkPool& ChunkPool::instance() {
  static ChunkPool* pool = new ChunkPool();  // leaked on purpose: see the header
  return *pool;
}

void ChunkPool::grow() {
  void* slab = ::mmap(nullptr, kSlabBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (slab == MAP_FAILED) std::abort();  // out of memory: abort (STYLE.md)
  mapped_ += kSlabBytes;
  char* base = static_cast<char*>(slab);
  // Pushed in reverse, so that slots are handed out in address order.
  for (size_t off = kSlabBytes; off >= kSlotBytes; off -= kSlotBytes) {
    void* slot = base + off - kSlotBytes;
    WEIR_POISON(slot, kSlotBytes);
    free_.push_back(slot);
  }
}

void* ChunkPool::allocate() {
  void* slot;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (free_.empty()) grow();
    slot = free_.back();
    free_.pop_back();
  }
  WEIR_UNPOISON(slot, kSlotBytes);
  return slot;
}

void ChunkPool::free(void* slot) {
  WEIR_POISON(slot, kSlotBytes);
  std::lock_guard<std::mutex> lock(mu_);
  free_.push_back(slot);
}

void ChunkPool::trim() {
  std::lock_guard<std::mutex> lock(mu_);
  for (void* slot : free_) ::madvise(slot, kSlotBytes, MADV_DONTNEED);
}

ChunkPool::Stats ChunkPool::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {mapped_, free_.size()};
}

}  // namespace weir::cache
