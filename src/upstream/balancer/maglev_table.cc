#include "upstream/balancer/maglev_table.h"

#include <xxhash.h>

#include <algorithm>
#include <limits>

namespace weir::upstream {
namespace {

constexpr uint32_t kPrimes[] = {65537, 131071, 262139, 524287, 1048573, 2097143, 4194301, 8388593, 16777213};
constexpr uint64_t kOffsetSeed = 0x6d61676c65766f66ull;  // "maglevof"
constexpr uint64_t kSkipSeed = 0x6d61676c65767370ull;    // "maglevsp"
constexpr uint32_t kEmpty = std::numeric_limits<uint32_t>::max();

// Where a server is in its own permutation of the slots: offset, then
// offset + skip, offset + 2 skip, ... mod M. M prime and 1 <= skip < M make
// it visit every slot once.
struct Preference {
  uint64_t slot;
  uint64_t skip;
  uint64_t credit = 0;
};

}  // namespace

uint32_t MaglevTable::sizeFor(size_t servers) {
  for (uint32_t p : kPrimes) {
    if (p >= 100 * static_cast<uint64_t>(servers)) return p;
  }
  return kPrimes[std::size(kPrimes) - 1];
}

// Servers take turns claiming their next preferred free slot. Weighted: each
// round adds its weight to a server's credit and it claims one slot per
// max-weight of credit, so the heaviest server claims one slot a round and a
// server of half its weight one every other round. Turns go in name order,
// not config order: the table, hence every key's server, does not depend on
// how the servers are listed.
MaglevTable::MaglevTable(const std::vector<Server>& listed) {
  if (listed.empty()) return;
  std::vector<Server> servers = listed;
  std::sort(servers.begin(), servers.end(), [](const Server& a, const Server& b) { return a.name < b.name; });
  const uint64_t m = sizeFor(servers.size());
  std::vector<Preference> prefs;
  prefs.reserve(servers.size());
  uint32_t max_weight = 1;
  for (const Server& s : servers) {
    const uint64_t offset = XXH3_64bits_withSeed(s.name.data(), s.name.size(), kOffsetSeed) % m;
    const uint64_t skip = XXH3_64bits_withSeed(s.name.data(), s.name.size(), kSkipSeed) % (m - 1) + 1;
    prefs.push_back(Preference{offset, skip});
    max_weight = std::max(max_weight, s.weight);
  }
  slots_.assign(m, kEmpty);
  uint64_t filled = 0;
  while (filled < m) {
    for (size_t k = 0; k < servers.size() && filled < m; ++k) {
      Preference& p = prefs[k];
      for (p.credit += std::max<uint32_t>(servers[k].weight, 1); p.credit >= max_weight && filled < m;
           p.credit -= max_weight) {
        while (slots_[p.slot] != kEmpty) p.slot = p.slot + p.skip >= m ? p.slot + p.skip - m : p.slot + p.skip;
        slots_[p.slot] = servers[k].id;
        ++filled;
      }
    }
  }
}

}  // namespace weir::upstream
