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
  kHost,
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
};

Token lookupToken(std::string_view name);

// Hop-by-hop by definition (RFC 9110 7.6.1), whatever Connection says.
// Transfer-Encoding is not listed: it is kept when the body is relayed as is.
inline bool isHopByHop(Token t) {
  return t == Token::kConnection || t == Token::kKeepAlive || t == Token::kProxyConnection ||
         t == Token::kTE || t == Token::kTrailer || t == Token::kUpgrade;
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
