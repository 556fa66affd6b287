// The cache key: method class, scheme, host and request target, kept as one
// string and hashed with XXH3-128. The store finds entries by the hash and
// compares the full string on every hit, so two keys whose hashes collide
// can never serve each other's object.
//
// Normalisation (and nothing more; the target is used as given, the
// integrator decides whether to normalise paths first):
//   method class  GET and HEAD share "GET" (a HEAD is answered from a stored
//                 GET); any other method is its own class, kept as given
//                 (methods are case-sensitive)
//   scheme        lower-cased
//   host          lower-cased; the scheme's default port (":80" for http,
//                 ":443" for https) and an empty port (a trailing ':') dropped
//   target        as given
// The string is "<class> <scheme> <host> <target>": none of the parts can hold
// a space (the parser rejects one in each), so distinct inputs give distinct
// strings.
//
// Immutable value type; copies are independent; any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "weir/cache/types.h"

namespace weir::cache {

class CacheKey {
 public:
  CacheKey() = default;

  static CacheKey forRequest(std::string_view method, std::string_view scheme, std::string_view host,
                             std::string_view target);
  // A variant of the URL `base` names (vary.h): "<base>\x01<secondary>".
  // No request target holds a control character, so a variant's key is
  // never a URL's.
  static CacheKey variant(const CacheKey& base, std::string_view secondary);
  // The internal tag every variant of `base` carries (stored under its own
  // key), so that purging or replacing the URL finds them all.
  static std::string variantTag(const CacheKey& base) {
    std::string tag(1, '\x01');
    tag += base.str();
    return tag;
  }
  // A key with a chosen hash, for tests of the collision path. Never in
  // production code: the store trusts that equal hashes are rare.
  static CacheKey withHashForTesting(std::string key, Hash128 hash);

  const std::string& str() const { return str_; }
  const Hash128& hash() const { return hash_; }
  // 64 bits of the hash for the eviction policy's ghost queue.
  uint64_t fingerprint() const { return hash_.low ^ hash_.high; }
  // Shard index for a power-of-two shard count.
  size_t shardIndex(size_t shards) const { return static_cast<size_t>(hash_.high) & (shards - 1); }

  // Full string compared (the hash first, as a shortcut).
  bool operator==(const CacheKey& other) const { return hash_ == other.hash_ && str_ == other.str_; }

 private:
  CacheKey(std::string str, Hash128 hash) : str_(std::move(str)), hash_(hash) {}

  std::string str_;
  Hash128 hash_;
};

// The host part as the key holds it (exposed for tests and for the
// integrator's invalidation of Location / Content-Location, which must build
// the same key).
std::string normalizeHost(std::string_view scheme, std::string_view host);

// XXH3-128 of `data`.
Hash128 hashKeyString(std::string_view data);

}  // namespace weir::cache
