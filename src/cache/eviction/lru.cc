#include "cache/eviction/lru.h"

namespace weir::cache {

void LruPolicy::admit(EntryId id, uint64_t /*fingerprint*/, uint64_t /*charge*/) {
  if (id >= nodes_.size()) nodes_.resize(id + 1);
  nodes_[id].linked = true;
  list_.pushHead(nodes_, id);
}

void LruPolicy::touch(EntryId id) {
  if (list_.head() == id) return;
  list_.unlink(nodes_, id);
  list_.pushHead(nodes_, id);
}

void LruPolicy::remove(EntryId id) {
  if (id >= nodes_.size() || !nodes_[id].linked) return;
  list_.unlink(nodes_, id);
  nodes_[id].linked = false;
}

EntryId LruPolicy::evict() {
  const EntryId victim = list_.tail();
  if (victim != kNoEntry) remove(victim);
  return victim;
}

}  // namespace weir::cache
