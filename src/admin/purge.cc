#include "admin/purge.h"

#include <ctime>
#include <string>

#include "weir/cache/key.h"
#include "weir/http/target.h"
#include "weir/http/token.h"

namespace weir::admin {
namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

PurgeResult error(int status, std::string_view message) {
  std::string body = "{\"error\": \"";
  body.append(message);
  body += "\"}\n";
  return {status, std::move(body)};
}

PurgeResult purged(size_t n) { return {200, "{\"purged\": " + std::to_string(n) + "}\n"}; }

// The key string of what a request for `url` is stored under (as the
// proxy builds it: the path in normal form, the query as sent).
bool keyOfUrl(std::string_view url, cache::CacheKey& key, const KeyTarget& key_target) {
  http::SplitTarget split;
  if (!http::splitTarget(url, false, split) || split.form != http::TargetForm::kAbsolute) return false;
  std::string path;
  if (!http::normalizePath(split.rest, path)) return false;
  // The proxy keys every request as http (weir does not terminate TLS yet),
  // with the Host a client sends: for https, that leaves out :443.
  std::string_view authority = split.authority;
  if (url.size() >= 8 && http::equalsIgnoreCase(url.substr(0, 8), "https://") && authority.ends_with(":443")) {
    authority.remove_suffix(4);
  }
  key = cache::CacheKey::forRequest("GET", "http", authority, key_target ? key_target(authority, path) : path);
  return true;
}

}  // namespace

bool queryParam(std::string_view query, std::string_view name, std::string& value) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) != name) continue;
    const std::string_view raw = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    value.clear();
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '+') {
        value.push_back(' ');
      } else if (raw[i] == '%') {
        const int hi = i + 1 < raw.size() ? hexValue(raw[i + 1]) : -1;
        const int lo = i + 2 < raw.size() ? hexValue(raw[i + 2]) : -1;
        if (hi < 0 || lo < 0) return false;
        value.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
      } else {
        value.push_back(raw[i]);
      }
    }
    return true;
  }
  return false;
}

PurgeResult purge(std::string_view query, cache::Store* store, const KeyTarget& key_target) {
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  std::string value;
  bool soft = false;
  if (queryParam(query, "soft", value)) {
    if (value != "1" && value != "0") return error(400, "soft takes the value 1 (or 0)");
    soft = value == "1";
  }
  if (queryParam(query, "tag", value)) {
    if (value.empty()) return error(400, "tag needs a value");
    return purged(store ? store->purgeTag(value, soft, now) : 0);
  }
  if (queryParam(query, "all", value)) {
    if (value != "1") return error(400, "all takes the value 1");
    if (store == nullptr) return purged(0);
    auto any = [](const cache::CacheKey&) { return true; };
    return purged(soft ? store->markStaleIf(any, now) : store->eraseIf(any));
  }
  const bool by_url = queryParam(query, "url", value);
  std::string prefix_url;
  const bool by_prefix = !by_url && queryParam(query, "prefix", prefix_url);
  if (!by_url && !by_prefix) return error(400, "say what to purge: ?url=URL, ?prefix=URL, ?tag=TAG or ?all=1");
  cache::CacheKey key;
  if (!keyOfUrl(by_url ? value : prefix_url, key, by_url ? key_target : KeyTarget())) {
    return error(400, "not an absolute http:// or https:// URL (percent-encode it in the query)");
  }
  if (store == nullptr) return purged(0);
  if (by_url) {  // the URL's object (one shard, no scan) and its other variants (the tag index)
    const size_t one = (soft ? store->markStale(key, now) : store->erase(key)) ? 1 : 0;
    return purged(one + store->purgeTag(cache::CacheKey::variantTag(key), soft, now));
  }
  const std::string& prefix = key.str();
  auto under = [&prefix](const cache::CacheKey& k) { return k.str().compare(0, prefix.size(), prefix) == 0; };
  return purged(soft ? store->markStaleIf(under, now) : store->eraseIf(under));
}

}  // namespace weir::admin
