#include "weir/cache/key.h"

#include <xxhash.h>

#include <cctype>

namespace weir::cache {
namespace {

std::string lowered(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool isGetClass(std::string_view method) { return method == "GET" || method == "HEAD"; }

}  // namespace

std::string normalizeHost(std::string_view scheme, std::string_view host) {
  std::string out = lowered(host);
  // The port follows the last ':' unless that ':' is inside an IPv6 literal.
  const size_t colon = out.rfind(':');
  if (colon == std::string::npos) return out;
  const size_t bracket = out.rfind(']');
  if (bracket != std::string::npos && bracket > colon) return out;
  const std::string_view port = std::string_view(out).substr(colon + 1);
  const std::string s = lowered(scheme);
  if (port.empty() || (s == "http" && port == "80") || (s == "https" && port == "443")) out.resize(colon);
  return out;
}

Hash128 hashKeyString(std::string_view data) {
  const XXH128_hash_t h = XXH3_128bits(data.data(), data.size());
  return Hash128{h.low64, h.high64};
}

CacheKey CacheKey::forRequest(std::string_view method, std::string_view scheme, std::string_view host,
                              std::string_view target) {
  std::string str;
  str.reserve(method.size() + scheme.size() + host.size() + target.size() + 3);
  str.append(isGetClass(method) ? std::string_view("GET") : method);
  str.push_back(' ');
  str.append(lowered(scheme));
  str.push_back(' ');
  str.append(normalizeHost(scheme, host));
  str.push_back(' ');
  str.append(target);
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
    case AbandonReason::kTooLarge: return "too_large";
    case AbandonReason::kNoSpace: return "no_space";
    case AbandonReason::kErased: return "erased";
    case AbandonReason::kResized: return "resized";
    case AbandonReason::kReplaced: return "replaced";
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
