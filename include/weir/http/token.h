// Well-known header names interned as tokens, with the flags the proxy needs
// (hop-by-hop). Lookup is case-insensitive and allocation-free.
#pragma once

#include <cstdint>
#include <string_view>

namespace weir::http {

enum class Token : uint8_t {
  kOther = 0,
  kConnection,
  kContentLength,
  kExpect,
  kForwarded,
  kHost,
  kHttp2Settings,
  kKeepAlive,
  kProxyConnection,
  kTE,
  kTrailer,
  kTransferEncoding,
  kUpgrade,
  kVia,
  kXForwardedFor,
  kXForwardedHost,
  kXForwardedProto,
  kXRealIp,
};

Token lookupToken(std::string_view name);

// For a name containing '_': the token it would be with each '_' read as
// '-' (servers that map fields to CGI/WSGI variables read them the same), so
// "Content_Length" gives kContentLength. kOther for any other name.
Token lookalikeToken(std::string_view name);

// Hop-by-hop by definition (RFC 9110 7.6.1), whatever Connection says, and
// HTTP2-Settings (connection-specific, RFC 9113 3.2; weir never upgrades to
// h2c). Transfer-Encoding is not listed: the forwarders write their own.
inline bool isHopByHop(Token t) {
  return t == Token::kConnection || t == Token::kKeepAlive || t == Token::kProxyConnection ||
         t == Token::kTE || t == Token::kTrailer || t == Token::kUpgrade || t == Token::kHttp2Settings;
}

// ASCII case-insensitive equality.
bool equalsIgnoreCase(std::string_view a, std::string_view b);

// Calls fn(token) for each comma-separated element of a list-valued field,
// trimmed of optional whitespace; empty elements are skipped.
template <class Fn>
void forEachListElement(std::string_view value, Fn&& fn) {
  size_t i = 0;
  while (i <= value.size()) {
    size_t comma = value.find(',', i);
    if (comma == std::string_view::npos) comma = value.size();
    std::string_view item = value.substr(i, comma - i);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (!item.empty()) fn(item);
    i = comma + 1;
  }
}

}  // namespace weir::http
