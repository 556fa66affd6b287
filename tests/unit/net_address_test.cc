#include "weir/common/net_address.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <optional>
#include <string_view>

namespace weir {
namespace {

struct SplitCase {
  std::string_view text;
  std::string_view host;  // expected host when accepted
  uint16_t port;          // 0: rejected
};

TEST(NetAddressTest, SplitHostPortTable) {
  const SplitCase cases[] = {
      {"127.0.0.1:9001", "127.0.0.1", 9001},
      {"localhost:80", "localhost", 80},
      {"app-1.internal:65535", "app-1.internal", 65535},
      {"*:8080", "*", 8080},
      {"0.0.0.0:1", "0.0.0.0", 1},
      {"[::]:8080", "::", 8080},
      {"[::1]:9001", "::1", 9001},
      {"[fe80::1%eth0]:80", "fe80::1%eth0", 80},
      {"127.0.0.1", "", 0},        // no port
      {"127.0.0.1:", "", 0},       // empty port
      {":8080", "", 0},            // empty host
      {"[]:8080", "", 0},          // empty IPv6 host
      {"host:0", "", 0},
      {"host:65536", "", 0},
      {"host:99999999999999999999", "", 0},
      {"host:80a", "", 0},
      {"host:-1", "", 0},
      {"host:+80", "", 0},
      {"host: 80", "", 0},
      {"::1:80", "", 0},           // IPv6 needs brackets
      {"[::1]", "", 0},
      {"[::1]80", "", 0},
      {"[::1:80", "", 0},
      {"", "", 0},
  };
  for (const SplitCase& c : cases) {
    SCOPED_TRACE(std::string(c.text));
    Result<HostPort> got = splitHostPort(c.text);
    if (c.port == 0) {
      ASSERT_FALSE(got.ok()) << got->host << " " << got->port;
      EXPECT_EQ(got.error().message.rfind("expected host:port", 0), 0u) << got.error().message;
    } else {
      ASSERT_TRUE(got.ok()) << got.error().message;
      EXPECT_EQ(got->host, c.host);
      EXPECT_EQ(got->port, c.port);
    }
  }
}

TEST(NetAddressTest, SplitHostPortMessages) {
  EXPECT_EQ(splitHostPort("127.0.0.1").error().message, "expected host:port");
  EXPECT_EQ(splitHostPort("a:0").error().message,
            "expected host:port (the port must be between 1 and 65535)");
  EXPECT_EQ(splitHostPort("a:http").error().message,
            "expected host:port (the port must be a number)");
  EXPECT_EQ(splitHostPort(":80").error().message, "expected host:port (the host is missing)");
  EXPECT_EQ(splitHostPort("::1:80").error().message,
            "expected host:port (write IPv6 addresses in brackets, as [::1]:8080)");
}

SocketAddress mustResolve(std::string_view text, bool passive) {
  Result<HostPort> hp = splitHostPort(text);
  EXPECT_TRUE(hp.ok()) << text;
  Result<SocketAddress> addr = resolve(*hp, passive);
  EXPECT_TRUE(addr.ok()) << text << ": " << addr.error().message;
  return addr.ok() ? *addr : SocketAddress{};
}

TEST(NetAddressTest, ResolvesIpv4Literal) {
  SocketAddress addr = mustResolve("127.0.0.1:9001", false);
  EXPECT_EQ(addr.family(), AF_INET);
  EXPECT_EQ(addr.length, sizeof(sockaddr_in));
  EXPECT_EQ(addr.port(), 9001);
  EXPECT_EQ(addr.toString(), "127.0.0.1:9001");
  const auto* sin = reinterpret_cast<const sockaddr_in*>(addr.get());
  EXPECT_EQ(ntohs(sin->sin_port), 9001);
  EXPECT_EQ(ntohl(sin->sin_addr.s_addr), INADDR_LOOPBACK);
}

TEST(NetAddressTest, ResolvesIpv6Literal) {
  SocketAddress addr = mustResolve("[::1]:9001", false);
  EXPECT_EQ(addr.family(), AF_INET6);
  EXPECT_EQ(addr.length, sizeof(sockaddr_in6));
  EXPECT_EQ(addr.port(), 9001);
  EXPECT_EQ(addr.toString(), "[::1]:9001");
}

TEST(NetAddressTest, WildcardsAreAnyAddress) {
  EXPECT_EQ(mustResolve("*:8080", true).toString(), "0.0.0.0:8080");
  EXPECT_EQ(mustResolve("0.0.0.0:8080", true).toString(), "0.0.0.0:8080");
  SocketAddress any6 = mustResolve("[::]:8080", true);
  EXPECT_EQ(any6.family(), AF_INET6);
  EXPECT_EQ(any6.toString(), "[::]:8080");
}

TEST(NetAddressTest, ResolvesLocalhostByName) {
  SocketAddress addr = mustResolve("localhost:7000", false);
  EXPECT_TRUE(addr.family() == AF_INET || addr.family() == AF_INET6);
  EXPECT_EQ(addr.port(), 7000);
  EXPECT_TRUE(addr.toString() == "127.0.0.1:7000" || addr.toString() == "[::1]:7000")
      << addr.toString();
}

TEST(NetAddressTest, UnresolvableHostNamesTheHost) {
  Result<SocketAddress> addr = resolve(HostPort{"no-such-host.invalid", 80}, false);
  ASSERT_FALSE(addr.ok());
  EXPECT_EQ(addr.error().message.rfind("cannot resolve \"no-such-host.invalid\": ", 0), 0u)
      << addr.error().message;
}

TEST(NetAddressTest, EmptyHostIsAnError) {
  EXPECT_FALSE(resolve(HostPort{"", 80}, true).ok());
}

TEST(NetAddressTest, DefaultAddressHasNoPort) {
  SocketAddress empty;
  EXPECT_EQ(empty.port(), 0);
  EXPECT_EQ(empty.length, 0u);
}

}  // namespace
}  // namespace weir

namespace weir {
namespace {

sockaddr_storage ipOf(const char* text) {
  sockaddr_storage ss{};
  if (inet_pton(AF_INET, text, &reinterpret_cast<sockaddr_in*>(&ss)->sin_addr) == 1) {
    ss.ss_family = AF_INET;
  } else if (inet_pton(AF_INET6, text, &reinterpret_cast<sockaddr_in6*>(&ss)->sin6_addr) == 1) {
    ss.ss_family = AF_INET6;
  }
  return ss;
}

bool has(const char* net, const char* ip) {
  auto c = parseCidr(net);
  EXPECT_TRUE(c) << net;
  if (!c) return false;
  sockaddr_storage ss = ipOf(ip);
  return c->contains(reinterpret_cast<const sockaddr*>(&ss));
}

TEST(CidrTest, Ipv4Networks) {
  EXPECT_TRUE(has("10.0.0.0/8", "10.200.3.4"));
  EXPECT_FALSE(has("10.0.0.0/8", "11.0.0.1"));
  EXPECT_TRUE(has("192.168.1.128/25", "192.168.1.200"));
  EXPECT_FALSE(has("192.168.1.128/25", "192.168.1.127"));
  EXPECT_TRUE(has("127.0.0.1", "127.0.0.1"));
  EXPECT_FALSE(has("127.0.0.1", "127.0.0.2"));
  EXPECT_TRUE(has("0.0.0.0/0", "8.8.8.8"));
  EXPECT_EQ(parseCidr("10.1.2.3/8")->toString(), "10.0.0.0/8");
}

TEST(CidrTest, Ipv6AndMappedAddresses) {
  EXPECT_TRUE(has("::1", "::1"));
  EXPECT_TRUE(has("fd00::/8", "fd12:3456::1"));
  EXPECT_FALSE(has("fd00::/8", "fe80::1"));
  EXPECT_TRUE(has("127.0.0.0/8", "::ffff:127.0.0.5"));
  EXPECT_FALSE(has("::1", "127.0.0.1"));
}

TEST(CidrTest, RejectsMalformedNetworks) {
  for (const char* bad : {"", "10.0.0.0/33", "::/129", "10.0.0/8", "10.0.0.0/", "10.0.0.0/x", "host/8", "1.2.3.4/0008"}) {
    EXPECT_FALSE(parseCidr(bad)) << bad;
  }
}

}  // namespace
}  // namespace weir
