// Shard operations; every function here runs with the shard's mutex held.
#include "cache/storage/shard.h"

#include <xxhash.h>

namespace weir::cache {

void Released::finish() {
  for (const auto& object : abandoned) object->notify();
  abandoned.clear();
  dropped.clear();
}

EntryId Shard::findHash(const Hash128& hash) const {
  auto it = index.find(hash);
  return it == index.end() ? kNoEntry : it->second;
}

EntryId Shard::find(const CacheKey& key) const {
  const EntryId id = findHash(key.hash());
  // The full key, so that a hash collision is a miss, never another object.
  if (id == kNoEntry || entries[id].object->key().str() != key.str()) return kNoEntry;
  return id;
}

bool Shard::current(EntryId id, const Object* object) const {
  return id < entries.size() && entries[id].object.get() == object && entries[id].filling;
}

EntryId Shard::link(std::shared_ptr<Object> object, uint64_t charge) {
  EntryId id;
  if (!free_ids.empty()) {
    id = free_ids.back();
    free_ids.pop_back();
  } else {
    id = static_cast<EntryId>(entries.size());
    entries.emplace_back();
  }
  index.emplace(object->key().hash(), id);
  entries[id] = Entry{std::move(object), charge, nullptr, 0, true};
  used += charge;
  filling_bytes += charge;
  ++filling;
  return id;
}

uint64_t tagHash(std::string_view tag) { return XXH3_64bits(tag.data(), tag.size()); }

void Shard::indexTags(EntryId id, const Object& object) {
  for (const std::string& tag : object.tags()) tags[tagHash(tag)].insert(id);
}

void Shard::unindexTags(EntryId id, const Object& object) {
  for (const std::string& tag : object.tags()) {
    auto it = tags.find(tagHash(tag));
    if (it == tags.end()) continue;
    it->second.erase(id);
    if (it->second.empty()) tags.erase(it);
  }
}

std::shared_ptr<Object> Shard::unlink(EntryId id, bool policy_knows) {
  Entry& e = entries[id];
  unindexTags(id, *e.object);
  if (e.previous) unindexTags(id, *e.previous);
  if (e.filling) {
    filling_bytes -= e.charge;
    --filling;
  } else {
    if (policy_knows) policy->remove(id);
    --objects;
  }
  used -= e.charge;
  index.erase(e.object->key().hash());
  std::shared_ptr<Object> object = std::move(e.object);
  e = Entry{};
  free_ids.push_back(id);
  return object;
}

void Shard::abandon(EntryId id, AbandonReason reason, Released& out) {
  std::shared_ptr<Object> object = unlink(id, false);
  if (object->markTerminal(FillState::kAbandoned, reason)) out.abandoned.push_back(object);
  bump(counters.abandoned);
  if (reason == AbandonReason::kTooLarge) bump(counters.refused[static_cast<size_t>(Refusal::kTooLarge)]);
  if (reason == AbandonReason::kNoSpace) bump(counters.refused[static_cast<size_t>(Refusal::kNoSpace)]);
  out.dropped.push_back(std::move(object));
}

void Shard::erase(EntryId id, Released& out) {
  if (entries[id].filling) {
    abandon(id, AbandonReason::kErased, out);
  } else {
    out.dropped.push_back(unlink(id, true));
  }
  bump(counters.erased);
}

bool Shard::makeRoom(uint64_t need, Released& out) {
  // Fills are never victims: if they alone leave no room, evicting the
  // complete objects would only empty the shard for nothing.
  if (filling_bytes + need > budget) return false;
  while (total() + need > budget) {
    const EntryId victim = policy->evict();
    if (victim != kNoEntry) {
      out.dropped.push_back(unlink(victim, false));
      bump(counters.evictions);
    } else if (!policy->shedOverhead()) {
      return false;  // unreachable while the accounting is right
    }
  }
  return true;
}

void Shard::shrink(Released& out) {
  while (total() > budget) {
    const EntryId victim = policy->evict();
    if (victim != kNoEntry) {
      out.dropped.push_back(unlink(victim, false));
      bump(counters.evictions);
      continue;
    }
    if (policy->shedOverhead()) continue;
    EntryId fill = kNoEntry;
    for (EntryId id = 0; id < entries.size() && fill == kNoEntry; ++id) {
      if (entries[id].object && entries[id].filling) fill = id;
    }
    if (fill == kNoEntry) break;
    abandon(fill, AbandonReason::kResized, out);
  }
}

void Shard::publish() {
  counters.bytes.store(total(), std::memory_order_relaxed);
  counters.objects.store(objects, std::memory_order_relaxed);
  counters.filling.store(filling, std::memory_order_relaxed);
}

}  // namespace weir::cache
