// Private: one parser per top-level config section. Each fills its part of
// Config from an Item and throws LoadError (yaml_reader.h) on the first
// mistake. Called only by loadString in config.cc.
#pragma once

#include "config/yaml_reader.h"
#include "weir/config/config.h"

namespace weir::config::detail {

// topology.cc: what traffic flows where.
std::vector<ListenerConfig> parseListeners(const Item& item);
std::vector<PoolConfig> parsePools(const Item& item);
// Needs the pools, to resolve each route's pool_index.
std::vector<RouteConfig> parseRoutes(const Item& item, const Config& config);

// A listening address as listeners take it ("8080", ":8080", "host:port"),
// resolved; `written` receives the text as written.
SocketAddress readListenAddress(const Item& item, std::string& written);
bool sameSocketAddress(const SocketAddress& a, const SocketAddress& b);

// A path or path prefix: starts with '/', no spaces or control characters.
std::string readPath(const Item& item);

// pool_health.cc: pools.NAME.{health_check, passive, hash, retry_on, retry_budget}.
HealthCheckConfig parseHealthCheck(const Item& item);
PassiveHealthConfig parsePassive(const Item& item);
HashConfig parseHash(const Item& item);
uint32_t parseRetryOn(const Item& item);
RetryBudgetConfig parseRetryBudget(const Item& item);

// options.cc: process-wide settings, all optional with defaults.
unsigned parseWorkers(const Item& item);
unsigned usableCpuCount();
Timeouts parseTimeouts(const Item& item);
PoolTimeouts parsePoolTimeouts(const Item& item);  // pools.NAME.timeouts
Limits parseLimits(const Item& item);
// A list of networks such as [10.0.0.0/8, "::1"].
std::vector<Cidr> readNetworks(const Item& item);
ProxyHeaders parseProxyHeaders(const Item& item);
AccessLogConfig parseAccessLog(const Item& item);
RequestIdConfig parseRequestId(const Item& item);  // request_id.cc
ErrorLogConfig parseErrorLog(const Item& item);
// cache.cc: the cache section, and routes[].cache.
CacheConfig parseCache(const Item& item);
void parseRouteCache(const Item& item, RouteConfig& route);
// admin.cc: the admin listener; needs the listeners, which it must not equal.
AdminConfig parseAdmin(const Item& item, const Config& config);
// user and group: looked up now (getpwnam/getgrnam), so a name that does not
// exist is a load error with its position; fills user, group, uid and gid.
// pid_file: an absolute path, or "off" ("" in Config).
std::string parsePidFile(const Item& item);
void parseRunAs(const std::optional<Item>& user, const std::optional<Item>& group, Config& config);

}  // namespace weir::config::detail
