#include "weir/cache/key.h"

#include <xxhash.h>


namespace weir::cache {
namespace {

// ASCII only: hosts and schemes are ASCII on the wire (IDNs arrive as punycode).
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c; }

void appendLowered(std::string& out, std::string_view s) {
  for (char c : s) out.push_back(lower(c));
}

bool equalsLower(std::string_view s, std::string_view lower_word) {
  if (s.size() != lower_word.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (lower(s[i]) != lower_word[i]) return false;
  }
  return true;
}

bool isGetClass(std::string_view method) { return method == "GET" || method == "HEAD"; }

// `host` without the scheme's default port or an empty one. The port
// follows the last ':' unless that ':' is inside an IPv6 literal.
std::string_view withoutDefaultPort(std::string_view scheme, std::string_view host) {
  const size_t colon = host.rfind(':');
  if (colon == std::string_view::npos) return host;
  const size_t bracket = host.rfind(']');
  if (bracket != std::string_view::npos && bracket > colon) return host;
  const std::string_view port = host.substr(colon + 1);
  if (port.empty() || (equalsLower(scheme, "http") && port == "80") || (equalsLower(scheme, "https") && port == "443")) {
    return host.substr(0, colon);
  }
  return host;
}

}  // namespace

std::string normalizeHost(std::string_view scheme, std::string_view host) {
  std::string out;
  appendLowered(out, withoutDefaultPort(scheme, host));
  return out;
}

Hash128 hashKeyString(std::string_view data) {
  const XXH128_hash_t h = XXH3_128bits(data.data(), data.size());
  return Hash128{h.low64, h.high64};
}

// One allocation: the parts are appended in place.
CacheKey CacheKey::forRequest(std::string_view method, std::string_view scheme, std::string_view host,
                              std::string_view target) {
  const std::string_view klass = isGetClass(method) ? std::string_view("GET") : method;
  const std::string_view h = withoutDefaultPort(scheme, host);
  std::string str;
  str.reserve(klass.size() + scheme.size() + h.size() + target.size() + 3);
  str.append(klass);
  str.push_back(' ');
  appendLowered(str, scheme);
  str.push_back(' ');
  appendLowered(str, h);
  str.push_back(' ');
  str.append(target);
  const Hash128 hash = hashKeyString(str);
  return CacheKey(std::move(str), hash);
}

CacheKey CacheKey::variant(const CacheKey& base, std::string_view secondary) {
  std::string str;
  str.reserve(base.str().size() + 1 + secondary.size());
  str.append(base.str()).push_back('\x01');
  str.append(secondary);
  const Hash128 hash = hashKeyString(str);
  return CacheKey(std::move(str), hash);
}

CacheKey CacheKey::withHashForTesting(std::string key, Hash128 hash) { return CacheKey(std::move(key), hash); }

const char* toString(FillState state) {
  switch (state) {
    case FillState::kFilling: return "filling";
    case FillState::kComplete: return "complete";
    case FillState::kAbandoned: return "abandoned";
  }
  return "?";
}

const char* toString(AbandonReason reason) {
  switch (reason) {
    case AbandonReason::kNone: return "none";
    case AbandonReason::kFiller: return "filler";
    case AbandonReason::kNotStorable: return "not_storable";
    case AbandonReason::kTooLarge: return "too_large";
    case AbandonReason::kNoSpace: return "no_space";
    case AbandonReason::kErased: return "erased";
    case AbandonReason::kResized: return "resized";
    case AbandonReason::kReplaced: return "replaced";
    case AbandonReason::kRestored: return "restored";
  }
  return "?";
}

const char* toString(Refusal refusal) {
  switch (refusal) {
    case Refusal::kTooLarge: return "too_large";
    case Refusal::kNoSpace: return "no_space";
    case Refusal::kCollision: return "collision";
    case Refusal::kCount: break;
  }
  return "?";
}

}  // namespace weir::cache
