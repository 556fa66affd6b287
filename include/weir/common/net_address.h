// A resolved socket address (IPv4 or IPv6) and host:port parsing.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "weir/common/result.h"

namespace weir {

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;

  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
  int family() const { return storage.ss_family; }
  uint16_t port() const;
  // "127.0.0.1:9001" or "[::1]:9001".
  std::string toString() const;
};

struct HostPort {
  std::string host;  // without brackets for IPv6
  uint16_t port = 0;
};

// Splits "host:port", "[v6]:port" or "*:port" (any address). The port must be
// 1..65535. The error message says what was expected, without a location.
Result<HostPort> splitHostPort(std::string_view text);

// An IPv4 or IPv6 network, "10.0.0.0/8", "::1/128"; a bare address is a
// single host (/32 or /128). An IPv4-mapped IPv6 peer (::ffff:a.b.c.d)
// matches IPv4 networks.
struct Cidr {
  int family = 0;             // AF_INET or AF_INET6
  unsigned char bytes[16]{};  // network address, host bits zero
  unsigned prefix = 0;        // 0..32 or 0..128

  bool contains(const sockaddr* addr) const;
  std::string toString() const;
};

// Parses "a.b.c.d/n", "v6/n" or a bare address. The error says what was expected.
Result<Cidr> parseCidr(std::string_view text);

// True if any of `nets` contains addr.
bool anyContains(const std::vector<Cidr>& nets, const sockaddr* addr);

// Resolves a host (name or literal; "*" or "0.0.0.0" means any IPv4 address)
// with getaddrinfo, blocking. Meant for config load, never for the hot path.
Result<SocketAddress> resolve(const HostPort& hp, bool passive);

}  // namespace weir
