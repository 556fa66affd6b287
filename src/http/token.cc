#include "weir/http/token.h"

#include <cstring>
#include <initializer_list>
#include <utility>

namespace weir::http {
namespace {

inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// The token of the one name among names of the same length that matches.
Token among(std::string_view name, std::initializer_list<std::pair<std::string_view, Token>> known) {
  for (const auto& [n, t] : known) {
    if (equalsIgnoreCase(n, name)) return t;
  }
  return Token::kOther;
}

}  // namespace

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

Token lookupToken(std::string_view name) {
  // Most fields are not well known: the length alone rules out nearly all.
  auto is = [&](std::string_view known, Token t) { return equalsIgnoreCase(known, name) ? t : Token::kOther; };
  switch (name.size()) {
    case 2: return is("te", Token::kTE);
    case 3: {
      Token t = is("via", Token::kVia);
      return t != Token::kOther ? t : is("age", Token::kAge);
    }
    case 4:
      return among(name,
                   {{"host", Token::kHost}, {"date", Token::kDate}, {"etag", Token::kETag}, {"vary", Token::kVary}});
    case 5: return is("range", Token::kRange);
    case 6: {
      Token t = is("expect", Token::kExpect);
      return t != Token::kOther ? t : is("pragma", Token::kPragma);
    }
    case 7:
      return among(name, {{"upgrade", Token::kUpgrade}, {"trailer", Token::kTrailer}, {"expires", Token::kExpires}});
    case 8:
      return among(name, {{"location", Token::kLocation}, {"if-match", Token::kIfMatch}, {"if-range", Token::kIfRange}});
    case 9: {
      Token t = is("forwarded", Token::kForwarded);
      return t != Token::kOther ? t : is("x-real-ip", Token::kXRealIp);
    }
    case 10:
      return among(name, {{"connection", Token::kConnection},
                          {"keep-alive", Token::kKeepAlive},
                          {"set-cookie", Token::kSetCookie}});
    case 13:
      return among(name, {{"cache-control", Token::kCacheControl},
                          {"authorization", Token::kAuthorization},
                          {"last-modified", Token::kLastModified},
                          {"content-range", Token::kContentRange},
                          {"if-none-match", Token::kIfNoneMatch}});
    case 14: {
      Token t = is("content-length", Token::kContentLength);
      return t != Token::kOther ? t : is("http2-settings", Token::kHttp2Settings);
    }
    case 15: return is("x-forwarded-for", Token::kXForwardedFor);
    case 16:
      return among(name, {{"x-forwarded-host", Token::kXForwardedHost},
                          {"proxy-connection", Token::kProxyConnection},
                          {"content-location", Token::kContentLocation}});
    case 17:
      return among(name, {{"transfer-encoding", Token::kTransferEncoding},
                          {"x-forwarded-proto", Token::kXForwardedProto},
                          {"if-modified-since", Token::kIfModifiedSince}});
    case 19: return is("if-unmodified-since", Token::kIfUnmodifiedSince);
    default: return Token::kOther;
  }
}

Token lookalikeToken(std::string_view name) {
  // Every token with a '-' is shorter than this; longer names cannot match.
  char buf[24];
  if (name.size() > sizeof buf || std::memchr(name.data(), '_', name.size()) == nullptr) return Token::kOther;
  for (size_t i = 0; i < name.size(); ++i) buf[i] = name[i] == '_' ? '-' : name[i];
  // Only the forwarding rules have look-alike cases; a caching token's
  // look-alike is just a name with '_'.
  const Token t = lookupToken({buf, name.size()});
  return isForwardingToken(t) ? t : Token::kOther;
}

}  // namespace weir::http
