// Memory for full-size body chunks, kept apart from the general heap.
//
// Why. Chunks live long and are freed in eviction order; the network
// buffers around them (evbuffer chains of every size) live for one read.
// Sharing one malloc heap, the two interleave: a freed chunk's hole is taken
// by a chain, the next chunk goes to fresh memory, and the heap's resident
// size drifts past what the cache holds (measured: 25% over a 64 MiB
// max_size after 4x max_size of 64 KiB objects). From slabs of its own, the
// cache's resident chunk memory is at most the most it ever held live,
// which the byte budget caps.
//
// Slots are exactly kSlotBytes (a Chunk header and kChunkSize bytes), carved
// from 1 MiB anonymous mappings; freed slots are kept on a free stack (not
// inside the slot, so trim() can drop their pages) and reused first. The
// mappings are never unmapped (chunks may outlive the Store); trim() gives
// the free slots' pages back after a shrinking resize.
//
// Thread-safe: one mutex, held for a push or a pop (allocations happen once
// per 16 KiB stored, frees once per 16 KiB evicted or sent).
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

namespace weir::cache {

class ChunkPool {
 public:
  static constexpr size_t kSlotBytes = 16 * 1024;
  static constexpr size_t kSlabBytes = size_t{1} << 20;

  // The process's pool (never destroyed: chunks may be released at exit).
  static ChunkPool& instance();

  // A kSlotBytes block, 16-byte aligned; aborts when out of memory.
  void* allocate();
  void free(void* slot);
  // Returns the pages of every free slot to the kernel (MADV_DONTNEED).
  void trim();

  struct Stats {
    uint64_t mapped_bytes = 0;  // slabs mapped
    uint64_t free_slots = 0;
  };
  Stats stats() const;

 private:
  ChunkPool() = default;
  void grow();  // mu_ held

  mutable std::mutex mu_;
  std::vector<void*> free_;
  uint64_t mapped_ = 0;
};

}  // namespace weir::cache
