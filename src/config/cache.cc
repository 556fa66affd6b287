// Parsers for the cache section and routes[].cache. The sizes are checked
// against each other here, so that a cache that could hold nothing, or an
// object limit above the whole cache, is a load error with its position.
#include <algorithm>
#include <bit>

#include "config/sections.h"
#include "weir/http/token.h"

namespace weir::config::detail {
namespace {

constexpr uint64_t kMinCacheSize = 1ull << 20;  // 1 MiB: below it a shard holds next to nothing
constexpr unsigned kMaxShards = 1024;

unsigned readShards(const Item& item) {
  const int64_t n = readInteger(item, 1, kMaxShards);
  if (!std::has_single_bit(static_cast<uint64_t>(n))) {
    item.fail("expected a power of two (1, 2, 4, ... " + std::to_string(kMaxShards) + ")");
  }
  return static_cast<unsigned>(n);
}

// A list of field names ([] turns tags off).
std::vector<std::string> readFieldNames(const Item& item) {
  if (!item.node.IsSequence()) item.fail("expected a list of header names, such as [Surrogate-Key, Cache-Tag]");
  std::vector<std::string> out;
  for (const Item& entry : listItems(item)) {
    std::string name = entry.node.IsScalar() ? readString(entry) : std::string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), http::isTokenChar)) {
      entry.fail("expected a header name (letters, digits and !#$%&'*+-.^_`|~)");
    }
    out.push_back(std::move(name));
  }
  return out;
}

// Names of query parameters or cookies: non-empty, without '&', '=', ';',
// spaces or control characters.
std::vector<std::string> readNames(const Item& item, std::string_view what) {
  if (!item.node.IsSequence()) item.fail("expected a list of " + std::string(what));
  std::vector<std::string> out;
  for (const Item& entry : listItems(item)) {
    std::string name = entry.node.IsScalar() ? readString(entry) : std::string();
    const bool bad = name.empty() || std::any_of(name.begin(), name.end(), [](unsigned char c) {
      return c <= ' ' || c == 0x7f || c == '&' || c == '=' || c == ';' || c == ',';
    });
    if (bad) entry.fail("expected one of the " + std::string(what) + " (no spaces, '&', '=', ';' or ',')");
    out.push_back(std::move(name));
  }
  return out;
}

CacheKeyConfig readCacheKey(const Item& item) {
  if (!item.node.IsMap()) item.fail("expected a map with ignore_query, sort_query, headers, cookies");
  MapReader map(item, {"ignore_query", "sort_query", "headers", "cookies"});
  CacheKeyConfig out;
  if (auto v = map.get("ignore_query")) {
    if (v->node.IsScalar()) {
      out.ignore_all_query = readBool(*v);
    } else {
      out.ignore_query = readNames(*v, "query parameter names (a trailing * matches a prefix)");
    }
  }
  if (auto v = map.get("sort_query")) out.sort_query = readBool(*v);
  if (auto v = map.get("headers")) out.headers = readFieldNames(*v);
  if (auto v = map.get("cookies")) out.cookies = readNames(*v, "cookie names");
  return out;
}

}  // namespace

CacheConfig parseCache(const Item& item) {
  MapReader map(item, {"max_size", "max_object_size", "eviction", "shards", "lock_timeout", "heuristic_fraction",
                       "heuristic_max", "tag_headers", "max_variants", "purge_method_allow"});
  CacheConfig out;
  out.configured = true;
  std::optional<Item> max_size = map.get("max_size");
  if (max_size) {
    out.max_size = readSize(*max_size);
    if (out.max_size < kMinCacheSize) max_size->fail("expected at least 1MiB");
  }
  if (auto v = map.get("max_object_size")) {
    out.max_object_size = readSize(*v);
    if (out.max_object_size > out.max_size) {
      v->fail("is larger than max_size (" + std::to_string(out.max_size) + " bytes): no such object could be stored");
    }
  } else if (out.max_object_size > out.max_size) {
    out.max_object_size = out.max_size;
  }
  if (auto v = map.get("eviction")) {
    out.eviction = readChoice(*v, {"s3fifo", "lru"}) == "lru" ? Eviction::kLru : Eviction::kS3Fifo;
  }
  if (auto v = map.get("shards")) out.shards = readShards(*v);
  if (auto v = map.get("lock_timeout")) out.lock_timeout = readDuration(*v);
  if (auto v = map.get("heuristic_fraction")) out.heuristic_fraction = readNumber(*v, 0.0, 1.0);
  if (auto v = map.get("heuristic_max")) out.heuristic_max = readDuration(*v);
  if (auto v = map.get("tag_headers")) out.tag_headers = readFieldNames(*v);
  if (auto v = map.get("purge_method_allow")) out.purge_method_allow = readNetworks(*v);
  if (auto v = map.get("max_variants")) out.max_variants = static_cast<unsigned>(readInteger(*v, 1, 1024));
  return out;
}

void parseRouteCache(const Item& item, RouteConfig& route) {
  if (item.node.IsScalar()) {
    route.cache = readBool(item);
    return;
  }
  if (!item.node.IsMap()) {
    item.fail("expected true, false, or a map with enabled, store_set_cookie, stale_if_error, stale_while_revalidate");
  }
  MapReader map(item, {"enabled", "store_set_cookie", "stale_if_error", "stale_while_revalidate", "key"});
  route.cache = true;
  if (auto v = map.get("enabled")) route.cache = readBool(*v);
  if (auto v = map.get("store_set_cookie")) route.cache_store_set_cookie = readBool(*v);
  if (auto v = map.get("stale_if_error")) route.cache_stale_if_error = readDuration(*v);
  if (auto v = map.get("stale_while_revalidate")) route.cache_stale_while_revalidate = readDuration(*v);
  if (auto v = map.get("key")) route.cache_key = readCacheKey(*v);
}

}  // namespace weir::config::detail
