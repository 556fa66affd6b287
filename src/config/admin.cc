// admin: the admin listener (metrics, status page, health endpoints).
#include <netinet/in.h>

#include <cstring>

#include "config/sections.h"

namespace weir::config::detail {
namespace {

bool isWildcard(const SocketAddress& a) {
  if (a.family() == AF_INET) return reinterpret_cast<const sockaddr_in*>(&a.storage)->sin_addr.s_addr == INADDR_ANY;
  if (a.family() == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&a.storage);
    return std::memcmp(&v6->sin6_addr, &in6addr_any, sizeof(in6_addr)) == 0;
  }
  return false;
}

// The same address, or the same port where either side listens on every
// address of the family (binding the second would fail, or steal traffic).
bool overlaps(const SocketAddress& a, const SocketAddress& b) {
  if (sameSocketAddress(a, b)) return true;
  return a.port() == b.port() && a.family() == b.family() && (isWildcard(a) || isWildcard(b));
}

std::vector<Cidr> loopbackOnly() {
  std::vector<Cidr> out;
  for (const char* net : {"127.0.0.0/8", "::1/128"}) out.push_back(*parseCidr(net));
  return out;
}

}  // namespace

AdminConfig parseAdmin(const Item& item, const Config& config) {
  MapReader map(item, {"address", "allow"});
  AdminConfig out;
  out.enabled = true;
  Item address = map.require("address");
  out.addr = readListenAddress(address, out.address);
  for (size_t i = 0; i < config.listeners.size(); ++i) {
    if (overlaps(out.addr, config.listeners[i].addr)) {
      address.fail("the admin listener must not share an address with a data listener (" +
                   config.listeners[i].addr.toString() + " is listeners[" + std::to_string(i) + "])");
    }
  }
  out.allow = loopbackOnly();
  if (auto v = map.get("allow")) out.allow = readNetworks(*v);
  return out;
}

}  // namespace weir::config::detail
