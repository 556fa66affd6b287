// Cache-Status (RFC 9211) members, written as Structured Fields (RFC 8941).
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "weir/cache/cache_status.h"
#include "weir/http/token.h"

namespace weir::cache {
namespace {

constexpr int64_t kSfIntegerMax = 999'999'999'999'999;  // RFC 8941 3.3.1: 15 digits

bool isAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// sf-token (RFC 8941 3.3.4): ( ALPHA / "*" ) *( tchar / ":" / "/" ).
bool isSfToken(std::string_view s) {
  if (s.empty() || !(isAlpha(s[0]) || s[0] == '*')) return false;
  return std::all_of(s.begin() + 1, s.end(), [](char c) { return http::isTokenChar(c) || c == ':' || c == '/'; });
}

// sf-string (RFC 8941 3.3.3): printable ASCII, '"' and '\' escaped.
void appendSfString(std::string_view s, std::string& out) {
  out.push_back('"');
  for (char c : s) {
    if (c < 0x20 || c > 0x7e) continue;
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
}

void appendTokenOrString(std::string_view s, std::string& out) {
  if (isSfToken(s)) {
    out.append(s);
  } else {
    appendSfString(s, out);
  }
}

// A parameter: "; name" for true, "; name=value" otherwise.
void appendKey(std::string_view name, std::string& out) {
  out.append("; ");
  out.append(name);
}

void appendInteger(std::string_view name, int64_t v, std::string& out) {
  appendKey(name, out);
  out.push_back('=');
  out.append(std::to_string(std::clamp(v, -kSfIntegerMax, kSfIntegerMax)));
}

}  // namespace

const char* fwdName(Fwd fwd) {
  switch (fwd) {
    case Fwd::kNone: return "";
    case Fwd::kBypass: return "bypass";
    case Fwd::kMethod: return "method";
    case Fwd::kUriMiss: return "uri-miss";
    case Fwd::kVaryMiss: return "vary-miss";
    case Fwd::kMiss: return "miss";
    case Fwd::kRequest: return "request";
    case Fwd::kStale: return "stale";
    case Fwd::kPartial: return "partial";
  }
  return "";
}

void appendCacheStatus(const CacheStatus& status, std::string& out) {
  if (!out.empty()) out.append(", ");
  appendTokenOrString(status.cache, out);
  if (status.hit) {
    appendKey("hit", out);
  } else if (status.fwd != Fwd::kNone) {
    appendKey("fwd", out);
    out.push_back('=');
    out.append(fwdName(status.fwd));
  }
  if (!status.hit && status.fwd_status > 0) appendInteger("fwd-status", status.fwd_status, out);
  if (status.collapsed) {
    appendKey("collapsed", out);
    if (!*status.collapsed) out.append("=?0");
  }
  if (status.stored) appendKey("stored", out);
  if (status.ttl) appendInteger("ttl", *status.ttl, out);
  if (!status.key.empty()) {
    appendKey("key", out);
    out.push_back('=');
    appendSfString(status.key, out);
  }
  if (!status.detail.empty()) {
    appendKey("detail", out);
    out.push_back('=');
    appendTokenOrString(status.detail, out);
  }
}

}  // namespace weir::cache
