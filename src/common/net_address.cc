// host:port parsing and blocking name resolution, used while loading config.
#include "weir/common/net_address.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstring>
#include <optional>

namespace weir {
namespace {

constexpr std::string_view kExpected = "expected host:port";

Error hostPortError(std::string_view detail) {
  std::string message(kExpected);
  if (!detail.empty()) {
    message += " (";
    message += detail;
    message += ")";
  }
  return Error{std::move(message)};
}

// Port text must be 1..65535 written in plain decimal digits.
Result<uint16_t> parsePort(std::string_view text) {
  if (text.empty()) return hostPortError("the port is missing");
  unsigned value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return hostPortError("the port must be a number");
    value = value * 10 + static_cast<unsigned>(c - '0');
    if (value > 65535) break;
  }
  if (value == 0 || value > 65535) return hostPortError("the port must be between 1 and 65535");
  return static_cast<uint16_t>(value);
}

SocketAddress fromIpv4(const in_addr& ip, uint16_t port) {
  SocketAddress out;
  auto* sin = reinterpret_cast<sockaddr_in*>(&out.storage);
  sin->sin_family = AF_INET;
  sin->sin_port = htons(port);
  sin->sin_addr = ip;
  out.length = sizeof(sockaddr_in);
  return out;
}

SocketAddress fromIpv6(const in6_addr& ip, uint16_t port) {
  SocketAddress out;
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(port);
  sin6->sin6_addr = ip;
  out.length = sizeof(sockaddr_in6);
  return out;
}

}  // namespace

uint16_t SocketAddress::port() const {
  if (family() == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
  }
  if (family() == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
  }
  return 0;
}

std::string SocketAddress::toString() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (family() == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(&storage);
    inet_ntop(AF_INET, &sin->sin_addr, text, sizeof(text));
    return std::string(text) + ":" + std::to_string(port());
  }
  if (family() == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&storage);
    inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof(text));
    std::string out = "[";
    out.append(text).append("]:").append(std::to_string(port()));
    return out;
  }
  std::string out = "(unknown address family ";
  out.append(std::to_string(family())).append(")");
  return out;
}

Result<HostPort> splitHostPort(std::string_view text) {
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return hostPortError("missing \"]\" after the IPv6 address");
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') return hostPortError("the port is missing");
    port = rest.substr(1);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return hostPortError("");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return hostPortError("write IPv6 addresses in brackets, as [::1]:8080");
    }
  }
  if (host.empty()) return hostPortError("the host is missing");
  Result<uint16_t> number = parsePort(port);
  if (!number) return number.error();
  return HostPort{std::string(host), *number};
}

Result<SocketAddress> resolve(const HostPort& hp, bool passive) {
  if (hp.host.empty()) return Error{"cannot resolve an empty host"};
  if (hp.host == "*") return fromIpv4(in_addr{htonl(INADDR_ANY)}, hp.port);

  // Literal addresses need no resolver round trip.
  in_addr ip4{};
  if (inet_pton(AF_INET, hp.host.c_str(), &ip4) == 1) return fromIpv4(ip4, hp.port);
  in6_addr ip6{};
  if (inet_pton(AF_INET6, hp.host.c_str(), &ip6) == 1) return fromIpv6(ip6, hp.port);

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = passive ? AI_PASSIVE : 0;
  addrinfo* found = nullptr;
  std::string service = std::to_string(hp.port);
  int rc = getaddrinfo(hp.host.c_str(), service.c_str(), &hints, &found);
  if (rc != 0 || found == nullptr) {
    const char* why = rc == EAI_SYSTEM ? std::strerror(errno)
                      : rc != 0        ? gai_strerror(rc)
                                       : "no addresses";
    return Error{"cannot resolve \"" + hp.host + "\": " + why};
  }
  SocketAddress out;
  std::memcpy(&out.storage, found->ai_addr, found->ai_addrlen);
  out.length = found->ai_addrlen;
  freeaddrinfo(found);
  return out;
}

}  // namespace weir

namespace weir {

Result<Cidr> parseCidr(std::string_view text) {
  auto bad = [&] {
    return Error{"expected a network such as 10.0.0.0/8 or ::1/128 (got \"" + std::string(text) + "\")"};
  };
  std::string_view addr = text;
  std::optional<unsigned> prefix;
  if (size_t slash = text.find('/'); slash != std::string_view::npos) {
    addr = text.substr(0, slash);
    std::string_view bits = text.substr(slash + 1);
    if (bits.empty() || bits.size() > 3) return bad();
    unsigned v = 0;
    for (char c : bits) {
      if (c < '0' || c > '9') return bad();
      v = v * 10 + static_cast<unsigned>(c - '0');
    }
    prefix = v;
  }
  if (!addr.empty() && addr.front() == '[' && addr.back() == ']') addr = addr.substr(1, addr.size() - 2);
  std::string host(addr);
  Cidr out;
  if (inet_pton(AF_INET, host.c_str(), out.bytes) == 1) {
    out.family = AF_INET;
    out.prefix = prefix.value_or(32);
    if (out.prefix > 32) return bad();
  } else if (inet_pton(AF_INET6, host.c_str(), out.bytes) == 1) {
    out.family = AF_INET6;
    out.prefix = prefix.value_or(128);
    if (out.prefix > 128) return bad();
  } else {
    return bad();
  }
  const unsigned total = out.family == AF_INET ? 4 : 16;
  for (unsigned i = 0; i < total; ++i) {
    unsigned keep = out.prefix >= (i + 1) * 8 ? 8 : (out.prefix > i * 8 ? out.prefix - i * 8 : 0);
    out.bytes[i] &= static_cast<unsigned char>(keep == 0 ? 0 : 0xff << (8 - keep));
  }
  return out;
}

bool Cidr::contains(const sockaddr* addr) const {
  const unsigned char* bytes = nullptr;
  if (addr->sa_family == AF_INET) {
    if (family != AF_INET) return false;
    bytes = reinterpret_cast<const unsigned char*>(&reinterpret_cast<const sockaddr_in*>(addr)->sin_addr);
  } else if (addr->sa_family == AF_INET6) {
    const auto* a6 = &reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr;
    bytes = reinterpret_cast<const unsigned char*>(a6);
    if (family == AF_INET) {
      if (!IN6_IS_ADDR_V4MAPPED(a6)) return false;
      bytes += 12;
    }
  } else {
    return false;
  }
  unsigned full = prefix / 8;
  if (std::memcmp(bytes, this->bytes, full) != 0) return false;
  unsigned rest = prefix % 8;
  if (rest == 0) return true;
  unsigned char mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (bytes[full] & mask) == this->bytes[full];
}

std::string Cidr::toString() const {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(family, bytes, text, sizeof text);
  return std::string(text) + "/" + std::to_string(prefix);
}

bool anyContains(const std::vector<Cidr>& nets, const sockaddr* addr) {
  for (const Cidr& n : nets) {
    if (n.contains(addr)) return true;
  }
  return false;
}

}  // namespace weir
