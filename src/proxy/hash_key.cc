#include "weir/proxy/hash_key.h"

#include <strings.h>
#include <xxhash.h>

namespace weir::proxy {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool headerValue(const http::HeaderBlock& fields, std::string_view name, std::string_view& out) {
  for (size_t i = 0; i < fields.size(); ++i) {
    const std::string_view n = fields.name(i);
    if (n.size() == name.size() && strncasecmp(n.data(), name.data(), n.size()) == 0) {
      out = fields.value(i);
      return !out.empty();
    }
  }
  return false;
}

// Finds NAME in "a=1<sep>b=2"; the value may be empty only if present.
bool pairValue(std::string_view list, char sep, std::string_view name, std::string_view& out) {
  while (!list.empty()) {
    const size_t end = list.find(sep);
    std::string_view pair = trim(list.substr(0, end));
    list = end == std::string_view::npos ? std::string_view() : list.substr(end + 1);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) != name) continue;
    out = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    return !out.empty();
  }
  return false;
}

bool cookieValue(const http::HeaderBlock& fields, std::string_view name, std::string_view& out) {
  // RFC 6265 5.4: one Cookie field, but HTTP/1.1 clients may send several.
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields.field(i).token != http::Token::kOther) continue;
    const std::string_view n = fields.name(i);
    if (n.size() == 6 && strncasecmp(n.data(), "cookie", 6) == 0 && pairValue(fields.value(i), ';', name, out)) {
      return true;
    }
  }
  return false;
}

}  // namespace

bool requestKey(const config::HashConfig& hash, const http::RequestHead& req, std::string_view client_ip,
                std::string_view& key) {
  using S = config::HashConfig::Source;
  const std::string_view uri = req.path;
  const size_t q = uri.find('?');
  switch (hash.source) {
    case S::kNone: return false;
    case S::kHeader: return headerValue(req.fields, hash.name, key);
    case S::kCookie: return cookieValue(req.fields, hash.name, key);
    case S::kQuery:
      return q != std::string_view::npos && pairValue(uri.substr(q + 1), '&', hash.name, key);
    case S::kPath: key = uri.substr(0, q); return !key.empty();
    case S::kUri: key = uri; return !key.empty();
    case S::kClientIp: key = client_ip; return !key.empty();
  }
  return false;
}

uint64_t hashKey(std::string_view key) { return XXH3_64bits(key.data(), key.size()); }

}  // namespace weir::proxy
