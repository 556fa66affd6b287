#include "weir/http/token.h"

#include <cstring>

namespace weir::http {
namespace {

inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

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
    case 3: return is("via", Token::kVia);
    case 4: return is("host", Token::kHost);
    case 6: return is("expect", Token::kExpect);
    case 9: {
      Token t = is("forwarded", Token::kForwarded);
      return t != Token::kOther ? t : is("x-real-ip", Token::kXRealIp);
    }
    case 7: {
      Token t = is("upgrade", Token::kUpgrade);
      return t != Token::kOther ? t : is("trailer", Token::kTrailer);
    }
    case 10: {
      Token t = is("connection", Token::kConnection);
      return t != Token::kOther ? t : is("keep-alive", Token::kKeepAlive);
    }
    case 14: {
      Token t = is("content-length", Token::kContentLength);
      return t != Token::kOther ? t : is("http2-settings", Token::kHttp2Settings);
    }
    case 15: return is("x-forwarded-for", Token::kXForwardedFor);
    case 16: {
      Token t = is("x-forwarded-host", Token::kXForwardedHost);
      return t != Token::kOther ? t : is("proxy-connection", Token::kProxyConnection);
    }
    case 17: {
      Token t = is("transfer-encoding", Token::kTransferEncoding);
      return t != Token::kOther ? t : is("x-forwarded-proto", Token::kXForwardedProto);
    }
    default: return Token::kOther;
  }
}

Token lookalikeToken(std::string_view name) {
  // Every token with a '-' is shorter than this; longer names cannot match.
  char buf[24];
  if (name.size() > sizeof buf || std::memchr(name.data(), '_', name.size()) == nullptr) return Token::kOther;
  for (size_t i = 0; i < name.size(); ++i) buf[i] = name[i] == '_' ? '-' : name[i];
  return lookupToken({buf, name.size()});
}

}  // namespace weir::http
