// Eviction policies by config name. Adding one: a file beside this one and a
// line here.
#include "cache/eviction/lru.h"
#include "cache/eviction/s3fifo.h"
#include "weir/cache/eviction.h"

namespace weir::cache {

std::unique_ptr<EvictionPolicy> makeEvictionPolicy(std::string_view name, uint64_t capacity) {
  if (name == "s3fifo") return std::make_unique<S3FifoPolicy>(capacity);
  if (name == "lru") return std::make_unique<LruPolicy>();
  return nullptr;
}

}  // namespace weir::cache
