// The store: shard selection, the one-filler-per-key decision, budget
// reservations for fills, invalidation, resizing and stats.
#include "weir/cache/store.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "cache/storage/chunk_pool.h"
#include "cache/storage/shard.h"

namespace weir::cache {
namespace {

size_t roundUpPow2(size_t n) {
  size_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

size_t chooseShards(const StoreOptions& o) {
  if (o.shards != 0) return roundUpPow2(o.shards);
  size_t n = roundUpPow2(std::max<size_t>(1, o.workers) * 4);
  while (n > 1 && o.max_bytes / n < Store::kMinMaxObjectsPerShard * o.max_object_size) n /= 2;
  return n;
}

Error abandonedError(AbandonReason reason) {
  return Error{std::string("cache: fill abandoned (") + toString(reason) + ")"};
}

}  // namespace

Result<std::unique_ptr<Store>> Store::create(const StoreOptions& options) {
  if (options.max_bytes == 0) return Error{"cache: max_size must be positive"};
  if (!makeEvictionPolicy(options.eviction, 0)) {
    return Error{"cache: unknown eviction policy \"" + options.eviction + "\" (s3fifo, lru)"};
  }
  return std::unique_ptr<Store>(new Store(options, chooseShards(options)));
}

Store::Store(const StoreOptions& options, size_t shards)
    : shard_count_(shards),
      eviction_(options.eviction),
      max_object_size_(options.max_object_size),
      max_bytes_(options.max_bytes),
      shards_(new Shard[shards]) {
  const uint64_t budget = options.max_bytes / shards;
  for (size_t i = 0; i < shards; ++i) {
    shards_[i].budget = budget;
    shards_[i].policy = makeEvictionPolicy(eviction_, budget);
  }
}

Store::~Store() = default;

Shard& Store::shardFor(const CacheKey& key) { return shards_[key.shardIndex(shard_count_)]; }

uint64_t Store::shardBudget() const { return max_bytes_.load(std::memory_order_relaxed) / shard_count_; }

uint64_t Store::entryOverheadBytes() const { return kIndexEntryBytes + shards_[0].policy->entryBytes(); }

ObjectPtr Store::lookup(const CacheKey& key) {
  Shard& s = shardFor(key);
  std::lock_guard<std::mutex> lock(s.mu);
  const EntryId id = s.find(key);
  if (id == kNoEntry || s.entries[id].filling) {
    bump(s.counters.misses);
    return nullptr;
  }
  s.policy->touch(id);
  bump(s.counters.hits);
  return s.entries[id].object;
}

BeginFill Store::beginFill(const CacheKey& key, bool replace) {
  // Made before the lock: a miss usually becomes a fill.
  auto object = std::make_shared<Object>(key);
  const size_t index = key.shardIndex(shard_count_);
  Shard& s = shards_[index];
  BeginFill out;
  Released released;
  std::shared_ptr<Object> previous;
  uint64_t previous_charge = 0;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    const EntryId existing = s.findHash(key.hash());
    if (existing != kNoEntry) {
      const Entry& e = s.entries[existing];
      const bool same = e.object->key().str() == key.str();
      if (same && (e.filling || !replace)) {
        out.kind = e.filling ? BeginFill::Kind::kWait : BeginFill::Kind::kHit;
        out.object = e.object;
        return out;
      }
      if (!same && e.filling) {
        bump(s.counters.refused[static_cast<size_t>(Refusal::kCollision)]);
        out.refusal = Refusal::kCollision;
        return out;
      }
      // A stale object refetched (kept as the fill's previous one, its
      // bytes still charged), or another key's object under the same hash.
      if (same) {
        previous_charge = e.charge - kIndexEntryBytes - s.policy->entryBytes();
        previous = s.unlink(existing, true);
        object->previous_ = previous;  // nobody else sees `object` yet
      } else {
        released.dropped.push_back(s.unlink(existing, true));
      }
    }
    const uint64_t charge = object->baseCharge() + kIndexEntryBytes + s.policy->entryBytes();
    if (s.makeRoom(charge + previous_charge, released)) {
      out.kind = BeginFill::Kind::kFill;
      const EntryId id = s.link(object, charge + previous_charge);
      s.entries[id].previous_charge = previous_charge;
      if (previous) {
        s.entries[id].previous = previous;
        s.indexTags(id, *previous);
      }
      out.fill = FillHandle(this, object, index, id, std::move(previous));
    } else {
      object->previous_.reset();
      if (previous) released.dropped.push_back(std::move(previous));
      bump(s.counters.refused[static_cast<size_t>(Refusal::kNoSpace)]);
      out.refusal = Refusal::kNoSpace;
    }
    s.publish();
  }
  released.finish();
  return out;
}

// The filler's thread. Charges `bytes` more to the fill's entry, evicting for
// room; on failure the fill is abandoned (if it was not already) and
// `*reason` says why.
bool Store::reserve(FillHandle& fill, uint64_t bytes, AbandonReason* reason) {
  Shard& s = shards_[fill.shard_];
  Released released;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    if (!s.current(fill.id_, fill.object_.get())) {
      *reason = fill.object_->snapshot().reason;
      return false;
    }
    Entry& e = s.entries[fill.id_];
    const bool room = e.charge + bytes <= s.budget && s.makeRoom(bytes, released);
    if (room) {
      e.charge += bytes;
      s.used += bytes;
      s.filling_bytes += bytes;
    } else {
      *reason = AbandonReason::kNoSpace;
      s.abandon(fill.id_, AbandonReason::kNoSpace, released);
    }
    s.publish();
    if (room) return true;  // nothing abandoned: `released` holds only victims
  }
  released.finish();
  return false;
}

Status Store::completeFill(FillHandle& fill) {
  Shard& s = shards_[fill.shard_];
  {
    std::lock_guard<std::mutex> lock(s.mu);
    if (!s.current(fill.id_, fill.object_.get())) return abandonedError(fill.object_->snapshot().reason);
    Entry& e = s.entries[fill.id_];
    fill.object_->markTerminal(FillState::kComplete, AbandonReason::kNone);
    e.filling = false;
    s.filling_bytes -= e.charge;
    --s.filling;
    ++s.objects;
    s.policy->admit(fill.id_, fill.object_->key().fingerprint(), e.charge);
    bump(s.counters.inserts);
    s.publish();
  }
  fill.object_->notify();
  return Ok{};
}

void Store::abandonFill(FillHandle& fill, AbandonReason reason) {
  Shard& s = shards_[fill.shard_];
  Released released;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    if (!s.current(fill.id_, fill.object_.get())) return;  // abandoned already, and told
    s.abandon(fill.id_, reason, released);
    s.publish();
  }
  released.finish();
}

// setHead: the response replaces the previous object; its bytes stop counting.
void Store::releasePrevious(FillHandle& fill) {
  Shard& s = shards_[fill.shard_];
  std::lock_guard<std::mutex> lock(s.mu);
  if (!s.current(fill.id_, fill.object_.get())) return;
  Entry& e = s.entries[fill.id_];
  if (e.previous) s.unindexTags(fill.id_, *e.previous);
  e.previous.reset();  // the fill's handle still holds it
  e.charge -= e.previous_charge;
  s.used -= e.previous_charge;
  s.filling_bytes -= e.previous_charge;
  e.previous_charge = 0;
  s.publish();
}

// Under the lock: unlink() reads an object's tags from any thread.
bool Store::indexTags(FillHandle& fill, std::vector<std::string> tags) {
  Shard& s = shards_[fill.shard_];
  std::lock_guard<std::mutex> lock(s.mu);
  if (!s.current(fill.id_, fill.object_.get())) return false;
  fill.object_->tags_ = std::move(tags);
  s.indexTags(fill.id_, *fill.object_);
  return true;
}

bool Store::restoreFill(FillHandle& fill) {
  Shard& s = shards_[fill.shard_];
  Released released;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    if (!s.current(fill.id_, fill.object_.get())) return false;
    Entry& e = s.entries[fill.id_];
    if (e.previous_charge == 0 || fill.object_->hasHead()) return false;
    const uint64_t charge = kIndexEntryBytes + s.policy->entryBytes() + e.previous_charge;
    s.filling_bytes -= e.charge;
    s.used -= e.charge - charge;
    --s.filling;
    ++s.objects;
    if (fill.object_->markTerminal(FillState::kAbandoned, AbandonReason::kRestored)) {
      released.abandoned.push_back(fill.object_);
    }
    e.object = fill.previous_;  // its tags are indexed under this entry already
    e.previous.reset();
    e.charge = charge;
    e.previous_charge = 0;
    e.filling = false;
    s.policy->admit(fill.id_, e.object->key().fingerprint(), charge);
    s.publish();
  }
  released.finish();
  return true;
}

size_t Store::countTagged(std::string_view tag) {
  const uint64_t hash = tagHash(tag);
  size_t count = 0;
  for (size_t i = 0; i < shard_count_; ++i) {
    Shard& s = shards_[i];
    std::lock_guard<std::mutex> lock(s.mu);
    auto it = s.tags.find(hash);
    if (it != s.tags.end()) count += it->second.size();
  }
  return count;
}

// Few objects (a URL's variants): each round finds the least recently used
// across the shards, then erases it under its own shard's lock.
size_t Store::trimTagged(std::string_view tag, size_t keep) {
  const uint64_t hash = tagHash(tag);
  size_t erased = 0;
  while (countTagged(tag) > keep) {
    CacheKey victim;
    int64_t oldest = INT64_MAX;
    bool found = false;
    for (size_t i = 0; i < shard_count_; ++i) {
      Shard& s = shards_[i];
      std::lock_guard<std::mutex> lock(s.mu);
      auto it = s.tags.find(hash);
      if (it == s.tags.end()) continue;
      for (const EntryId id : it->second) {
        const Entry& e = s.entries[id];
        if (e.filling || e.object->lastUsed() >= oldest) continue;
        oldest = e.object->lastUsed();
        victim = e.object->key();
        found = true;
      }
    }
    if (!found || !erase(victim)) break;
    ++erased;
  }
  return erased;
}

// A fill's previous object is marked too: it may be restored.
static void markEntryStale(const Entry& e, int64_t now) {
  e.object->markStale(now);
  if (e.previous) e.previous->markStale(now);
}

bool Store::markStale(const CacheKey& key, int64_t now) {
  Shard& s = shardFor(key);
  std::lock_guard<std::mutex> lock(s.mu);
  const EntryId id = s.find(key);
  if (id == kNoEntry) return false;
  markEntryStale(s.entries[id], now);
  return true;
}

size_t Store::markStaleIf(const std::function<bool(const CacheKey&)>& match, int64_t now) {
  size_t count = 0;
  for (size_t i = 0; i < shard_count_; ++i) {
    Shard& s = shards_[i];
    std::lock_guard<std::mutex> lock(s.mu);
    for (const Entry& e : s.entries) {
      if (!e.object || !match(e.object->key())) continue;
      markEntryStale(e, now);
      ++count;
    }
  }
  return count;
}

// Unlinking goes in batches of kTagBatch per lock hold, so that a tag on
// 100,000 objects never holds a shard's hits up for long; marking stale is
// one atomic store per object, done in one hold.
size_t Store::purgeTag(std::string_view tag, bool soft, int64_t now) {
  const uint64_t hash = tagHash(tag);
  size_t count = 0;
  auto tagged = [tag](const Entry& e) {
    auto in = [tag](const Object& o) { return std::find(o.tags().begin(), o.tags().end(), tag) != o.tags().end(); };
    return in(*e.object) || (e.previous && in(*e.previous));
  };
  std::vector<EntryId> ids;
  for (size_t i = 0; i < shard_count_; ++i) {
    Shard& s = shards_[i];
    for (bool more = true; more;) {
      Released released;
      std::lock_guard<std::mutex> lock(s.mu);
      auto it = s.tags.find(hash);
      if (it == s.tags.end()) break;
      if (soft) {
        for (const EntryId id : it->second) {
          if (tagged(s.entries[id])) {
            markEntryStale(s.entries[id], now);
            ++count;
          }
        }
        break;
      }
      ids.clear();
      for (const EntryId id : it->second) {
        if (tagged(s.entries[id])) ids.push_back(id);
        if (ids.size() == kTagBatch) break;
      }
      more = ids.size() == kTagBatch;
      for (const EntryId id : ids) s.erase(id, released);
      count += ids.size();
      s.publish();
    }
  }
  return count;
}

bool Store::erase(const CacheKey& key) {
  Shard& s = shardFor(key);
  Released released;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    const EntryId id = s.find(key);
    if (id == kNoEntry) return false;
    s.erase(id, released);
    s.publish();
  }
  released.finish();
  return true;
}

size_t Store::eraseIf(const std::function<bool(const CacheKey&)>& match) {
  size_t count = 0;
  for (size_t i = 0; i < shard_count_; ++i) {
    Shard& s = shards_[i];
    Released released;
    {
      std::lock_guard<std::mutex> lock(s.mu);
      for (EntryId id = 0; id < s.entries.size(); ++id) {
        const Entry& e = s.entries[id];
        if (!e.object || !match(e.object->key())) continue;
        s.erase(id, released);
        ++count;
      }
      s.publish();
    }
  }
  return count;
}

// Reloads are rare: one resize at a time, and stats() waits for it, so that
// no reader sees shards of the new size against the old max_bytes.
void Store::resize(uint64_t max_bytes) {
  std::lock_guard<std::mutex> resizing(resize_mu_);
  max_bytes_.store(max_bytes, std::memory_order_relaxed);
  const uint64_t budget = max_bytes / shard_count_;
  for (size_t i = 0; i < shard_count_; ++i) {
    Shard& s = shards_[i];
    Released released;
    {
      std::lock_guard<std::mutex> lock(s.mu);
      s.budget = budget;
      s.policy->setCapacity(budget);
      s.shrink(released);
      s.publish();
    }
    released.finish();
  }
  ChunkPool::instance().trim();  // what a smaller cache freed leaves the process
}

StoreStats Store::stats() const {
  std::lock_guard<std::mutex> resizing(resize_mu_);
  StoreStats out;
  out.max_bytes = max_bytes_.load(std::memory_order_relaxed);
  auto get = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  for (size_t i = 0; i < shard_count_; ++i) {
    const ShardCounters& c = shards_[i].counters;
    out.bytes += get(c.bytes);
    out.objects += get(c.objects);
    out.filling += get(c.filling);
    out.hits += get(c.hits);
    out.misses += get(c.misses);
    out.inserts += get(c.inserts);
    out.evictions += get(c.evictions);
    out.erased += get(c.erased);
    out.abandoned += get(c.abandoned);
    for (size_t r = 0; r < out.refused.size(); ++r) out.refused[r] += get(c.refused[r]);
  }
  return out;
}

}  // namespace weir::cache
