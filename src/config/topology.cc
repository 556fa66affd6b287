// Parsers for the sections that shape traffic: listeners, pools and routes.
// Addresses are resolved here, once, so a running proxy never blocks on DNS.
#include <netinet/in.h>

#include <cctype>
#include <cstring>

#include "config/sections.h"

namespace weir::config::detail {
namespace {

// Balancer names accepted in pools. config sits below upstream and cannot ask
// its registry, so a new balancer adds its name here too (STYLE.md).
constexpr std::string_view kBalancers[] = {"round_robin", "least_request", "random", "consistent_hash"};

bool sameAddress(const SocketAddress& a, const SocketAddress& b) {
  if (a.family() != b.family() || a.port() != b.port()) return false;
  if (a.family() == AF_INET) {
    const auto* x = reinterpret_cast<const sockaddr_in*>(&a.storage);
    const auto* y = reinterpret_cast<const sockaddr_in*>(&b.storage);
    return x->sin_addr.s_addr == y->sin_addr.s_addr;
  }
  if (a.family() == AF_INET6) {
    const auto* x = reinterpret_cast<const sockaddr_in6*>(&a.storage);
    const auto* y = reinterpret_cast<const sockaddr_in6*>(&b.storage);
    return std::memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(in6_addr)) == 0 &&
           x->sin6_scope_id == y->sin6_scope_id;
  }
  return false;
}

struct Address {
  std::string written;
  HostPort host_port;
  SocketAddress resolved;
};

// What an address looks like to YAML when it was not quoted: "[::1]:80"
// arrives as a list, so say what to write instead of "expected a string".
void requireAddressScalar(const Item& item) {
  if (item.node.IsSequence() || item.node.IsMap()) {
    item.fail("expected host:port; write IPv6 addresses in quotes, as \"[::1]:8080\" (YAML reads an "
              "unquoted [ as the start of a list)");
  }
}

// Listeners, as in nginx and HAProxy: "8080" (YAML hands over the integer's
// text) and ":8080" mean every IPv4 address, port 8080.
std::string listenerShorthand(const std::string& text) {
  bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
  if (digits) return "*:" + text;
  if (text.size() > 1 && text[0] == ':' && text[1] != ':') return "*" + text;
  return text;
}

// Reads "host:port" and resolves it; errors carry the item's position.
Address readAddress(const Item& item, bool passive) {
  requireAddressScalar(item);
  Address out;
  out.written = readString(item);
  Result<HostPort> hp = splitHostPort(passive ? listenerShorthand(out.written) : out.written);
  if (!hp) item.fail(hp.error().message);
  out.host_port = *hp;
  if (!passive && out.host_port.host == "*") {
    item.fail("expected host:port (a server needs a host to connect to, not \"*\")");
  }
  Result<SocketAddress> addr = resolve(out.host_port, passive);
  if (!addr) item.fail(addr.error().message);
  out.resolved = *addr;
  return out;
}

// `address` receives the address item, for errors found later.
ListenerConfig parseListener(const Item& item, std::optional<Item>& address) {
  MapReader map(item, {"address", "backlog"});
  ListenerConfig out;
  address = map.require("address");
  Address parsed = readAddress(*address, /*passive=*/true);
  out.address = parsed.written;
  out.addr = parsed.resolved;
  if (auto v = map.get("backlog")) out.backlog = static_cast<int>(readInteger(*v, 1, 65535));
  return out;
}

// `address` receives the address item, for errors found later.
ServerConfig parseServer(const Item& item, std::optional<Item>& address) {
  MapReader map(item, {"address", "weight", "backup"});
  ServerConfig out;
  address = map.require("address");
  Address parsed = readAddress(*address, /*passive=*/false);
  out.address = parsed.written;
  out.addr = parsed.resolved;
  if (auto v = map.get("weight")) out.weight = static_cast<uint32_t>(readInteger(*v, 1, 1000));
  if (auto v = map.get("backup")) out.backup = readBool(*v);
  return out;
}

bool validPoolName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string readBalancer(const Item& item) {
  const std::string text = readString(item);
  for (std::string_view known : kBalancers) {
    if (text == known) return text;
  }
  std::string accepted;
  for (std::string_view known : kBalancers) accepted += (accepted.empty() ? "" : ", ") + std::string(known);
  item.fail("unknown balancer \"" + text + "\" (accepted: " + accepted + ")");
}

// The same server twice in a pool silently doubles its share; weight says
// that on purpose, so a repeat is a mistake.
std::vector<ServerConfig> parseServers(const Item& servers) {
  std::vector<ServerConfig> out;
  for (const Item& entry : listItems(servers)) {
    std::optional<Item> address;
    ServerConfig server = parseServer(entry, address);
    for (size_t j = 0; j < out.size(); ++j) {
      if (sameAddress(out[j].addr, server.addr)) {
        address->fail("duplicate server " + server.addr.toString() + " (same as servers[" +
                      std::to_string(j) + "]); to send it more requests, raise its weight");
      }
    }
    out.push_back(std::move(server));
  }
  if (out.empty()) servers.fail("at least one server is required");
  bool any_primary = false;
  for (const ServerConfig& s : out) any_primary = any_primary || !s.backup;
  if (!any_primary) servers.fail("at least one server must not be a backup");
  return out;
}

PoolConfig parsePool(const std::string& name, const Item& item) {
  MapReader map(item, {"servers", "keepalive", "retries", "balancer", "timeouts", "health_check", "passive", "hash",
                       "slow_start", "retry_on", "retry_budget"});
  PoolConfig out;
  out.name = name;
  out.servers = parseServers(map.require("servers"));
  if (auto v = map.get("keepalive")) out.keepalive = static_cast<uint32_t>(readInteger(*v, 0, 100000));
  if (auto v = map.get("retries")) out.retries = static_cast<uint32_t>(readInteger(*v, 0, 100));
  if (auto v = map.get("balancer")) out.balancer = readBalancer(*v);
  if (auto v = map.get("timeouts")) out.timeouts = parsePoolTimeouts(*v);
  if (auto v = map.get("health_check")) out.health_check = parseHealthCheck(*v);
  if (auto v = map.get("passive")) out.passive = parsePassive(*v);
  if (auto v = map.get("slow_start")) out.slow_start = readDuration(*v);
  if (auto v = map.get("retry_on")) out.retry_on = parseRetryOn(*v);
  if (auto v = map.get("retry_budget")) out.retry_budget = parseRetryBudget(*v);
  const bool hashing = out.balancer == "consistent_hash";
  if (auto v = map.get("hash")) {
    if (!hashing) v->fail("applies only to balancer: consistent_hash");
    out.hash = parseHash(*v);
  } else if (hashing) {
    map.get("balancer")->fail("consistent_hash needs hash.key (header:NAME, cookie:NAME, query:NAME, path, uri or client_ip)");
  }
  return out;
}

// "" or "*" (any host), an exact name, or "*.suffix". Stored lower-case since
// host matching is case-insensitive.
std::string readHostPattern(const Item& item) {
  std::string host = readString(item);
  if (host == "*") return "";
  for (char& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view name = host;
  if (name.starts_with("*.")) name.remove_prefix(2);
  bool ok = !name.empty() && name.front() != '.' && name.back() != '.';
  for (char c : name) {
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_');
  }
  if (!ok) item.fail("expected a host name such as www.example.com or *.example.com, without a port");
  return host;
}

}  // namespace

SocketAddress readListenAddress(const Item& item, std::string& written) {
  Address parsed = readAddress(item, /*passive=*/true);
  written = parsed.written;
  return parsed.resolved;
}

bool sameSocketAddress(const SocketAddress& a, const SocketAddress& b) { return sameAddress(a, b); }

std::string readPath(const Item& item) {
  std::string prefix = readString(item);
  if (prefix.front() != '/') item.fail("must start with \"/\"");
  for (char c : prefix) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) item.fail("must not contain spaces or control characters");
  }
  return prefix;
}

namespace {

// True if pattern `wide` matches every host that `narrow` matches. Both are
// as readHostPattern stores them: "" (any), "name" or "*.suffix".
bool hostCovers(std::string_view wide, std::string_view narrow) {
  if (wide.empty() || wide == narrow) return true;
  if (narrow.empty() || !wide.starts_with("*.")) return false;
  std::string_view suffix = wide.substr(1);  // ".example.com"
  if (narrow.starts_with("*.")) narrow.remove_prefix(1);
  return narrow.size() > suffix.size() && narrow.ends_with(suffix);
}

// An earlier route `first` takes every request `later` would get (first
// match wins), so `later` is dead. Path prefixes compare byte for byte, as
// the router does.
bool routeCovers(const RouteConfig& first, const RouteConfig& later) {
  return hostCovers(first.host, later.host) &&
         std::string_view(later.path_prefix).starts_with(first.path_prefix);
}

// routes[].name: the route's label in metrics and status.
std::string readRouteName(const Item& item) {
  std::string name = readString(item);
  for (char c : name) {
    if (static_cast<unsigned char>(c) < ' ' || c == 0x7f) item.fail("must not contain control characters");
  }
  return name;
}

void checkRouteNames(const std::vector<Item>& items, const std::vector<RouteConfig>& routes) {
  for (size_t j = 1; j < routes.size(); ++j) {
    if (routes[j].name.empty()) continue;
    for (size_t i = 0; i < j; ++i) {
      if (routes[i].name != routes[j].name) continue;
      MapReader map(items[j], {"name", "match", "pool", "cache"});
      map.get("name")->fail("duplicate route name \"" + routes[j].name + "\" (same as routes[" + std::to_string(i) + "])");
    }
  }
}

RouteConfig parseRoute(const Item& item, const Config& config) {
  MapReader map(item, {"name", "match", "pool", "cache"});
  RouteConfig out;
  if (auto v = map.get("name")) out.name = readRouteName(*v);
  if (auto match = map.get("match")) {
    MapReader conditions(*match, {"host", "path_prefix"});
    if (auto v = conditions.get("host")) out.host = readHostPattern(*v);
    if (auto v = conditions.get("path_prefix")) out.path_prefix = readPath(*v);
  }
  Item pool = map.require("pool");
  out.pool = readString(pool);
  int index = config.poolIndex(out.pool);
  if (index < 0) {
    std::vector<std::string_view> names;
    for (const PoolConfig& p : config.pools) names.push_back(p.name);
    pool.fail("pool \"" + out.pool + "\" is not defined" + didYouMean(out.pool, names));
  }
  out.pool_index = static_cast<size_t>(index);
  if (auto v = map.get("cache")) parseRouteCache(*v, out);
  return out;
}

}  // namespace

std::vector<ListenerConfig> parseListeners(const Item& item) {
  std::vector<ListenerConfig> out;
  std::vector<Item> items = listItems(item);
  if (items.empty()) item.fail("at least one listener is required");
  for (const Item& entry : items) {
    std::optional<Item> address;
    ListenerConfig listener = parseListener(entry, address);
    for (size_t j = 0; j < out.size(); ++j) {
      if (sameAddress(out[j].addr, listener.addr)) {
        address->fail("duplicate listener address " + listener.addr.toString() +
                      " (same as listeners[" + std::to_string(j) + "])");
      }
    }
    out.push_back(std::move(listener));
  }
  return out;
}

std::vector<PoolConfig> parsePools(const Item& item) {
  MapReader map(item);
  if (map.entries().empty()) item.fail("at least one pool is required");
  std::vector<PoolConfig> out;
  for (const MapReader::Entry& entry : map.entries()) {
    if (!validPoolName(entry.key)) {
      entry.key_item.fail("invalid pool name \"" + entry.key +
                          "\" (use letters, digits, \"_\", \".\" and \"-\")");
    }
    out.push_back(parsePool(entry.key, entry.value));
  }
  return out;
}

std::vector<RouteConfig> parseRoutes(const Item& item, const Config& config) {
  std::vector<Item> items = listItems(item);
  if (items.empty()) item.fail("at least one route is required");
  std::vector<RouteConfig> out;
  for (const Item& route : items) out.push_back(parseRoute(route, config));
  checkRouteNames(items, out);
  for (size_t j = 1; j < out.size(); ++j) {
    for (size_t i = 0; i < j; ++i) {
      if (!routeCovers(out[i], out[j])) continue;
      std::string why = "never matches: routes[" + std::to_string(i) + "] (line " +
                        std::to_string(items[i].mark.line + 1) + ") matches every request it would";
      if (out[i].host.empty() && out[i].path_prefix.empty()) why += "; put the catch-all route last";
      items[j].fail(why);
    }
  }
  return out;
}

}  // namespace weir::config::detail
