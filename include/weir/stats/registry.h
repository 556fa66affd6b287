// The process-wide registry of metric series. A series is keyed by its kind
// and label values (route and pool names, pool and server address), not by
// a position in a configuration snapshot, so a reload that keeps a route,
// pool or server keeps its counters; series of things that went away stay
// (and keep their last values) until the process ends.
//
// Every series has one block of slots per worker. Each worker's blocks sit
// in chunks of its own, allocated apart and aligned to cache lines, so two
// workers never write the same cache line; the scraper sums the workers'
// slots when it reads.
//
// Threading: series() (allocation) and the listing functions take a mutex;
// the main thread (building a Runtime) and the admin thread (scraping) call
// them. The slot pointers a Series hands out never move and are written
// only by their worker, without any lock.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "weir/stats/types.h"

namespace weir::stats {

struct Series {
  Kind kind;
  std::vector<std::string> labels;  // route: {route, pool}; pool: {pool}; server: {pool, server}; process: {}
  size_t size = 0;                  // slots per worker
  std::vector<Slot*> per_worker;    // per_worker[w] points at worker w's `size` slots

  Slot* at(unsigned worker) const { return per_worker[worker]; }
  // Slot `slot` summed over every worker.
  uint64_t sum(size_t slot) const;
  // Slots [first, first + n) summed over every worker, into out[0..n).
  void sumInto(size_t first, size_t n, uint64_t* out) const;
};

class Registry {
 public:
  // `workers` is fixed for the life of the process.
  explicit Registry(unsigned workers);
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  unsigned workers() const { return workers_; }

  // The series of this kind and labels, created (zeroed) on first use. The
  // pointer stays valid as long as the registry.
  const Series* series(Kind kind, std::vector<std::string> labels);

  // Every series of `kind`, ordered by labels.
  std::vector<const Series*> list(Kind kind) const;

 private:
  struct Chunk;
  Slot* allocate(unsigned worker, size_t chunk, size_t pos);

  const unsigned workers_;
  mutable std::mutex mu_;
  std::map<std::pair<Kind, std::vector<std::string>>, std::unique_ptr<Series>> series_;
  std::vector<std::vector<std::unique_ptr<Chunk>>> chunks_;  // [worker][chunk]
  size_t used_in_last_ = 0;  // slots used in the newest chunk of every worker
};

}  // namespace weir::stats
