// Well-known header names interned as tokens, with the flags the proxy needs
// (hop-by-hop). Lookup is case-insensitive and allocation-free.
//
// Two groups. The forwarding tokens (kConnection to kXRealIp) are the fields
// the framing, hop-by-hop, forwarded-field and '_' look-alike rules act on.
// The caching tokens after them (kAge to kRange) are interned only so the
// cache policy finds its fields without comparing names; no forwarding rule
// treats them differently from an unknown name. A rule that asks "is this a
// field weir manages?" asks isForwardingToken(), never `!= kOther`.
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
  kXRealIp,  // last forwarding token: see isForwardingToken()
  // Caching fields (RFC 9111, RFC 9110): read by weir::cache, forwarded as
  // any other end-to-end field.
  kAge,
  kAuthorization,
  kCacheControl,
  kContentLocation,
  kContentRange,
  kDate,
  kETag,
  kExpires,
  kLastModified,
  kLocation,
  kPragma,
  kSetCookie,
  kVary,
  // Preconditions (RFC 9110 13.1), which the cache evaluates on a hit.
  kIfMatch,
  kIfNoneMatch,
  kIfModifiedSince,
  kIfUnmodifiedSince,
  kIfRange,
  kRange,
};

// One of the tokens the forwarding rules act on (see the top of this file);
// false for kOther and the caching tokens.
inline bool isForwardingToken(Token t) { return t != Token::kOther && t <= Token::kXRealIp; }

Token lookupToken(std::string_view name);

// tchar (RFC 9110 5.6.2): the characters of a token, such as a field name
// or a directive name.
inline bool isTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

// A field value, or a list element, without the optional whitespace (SP,
// HTAB) around it (RFC 9110 5.6.3).
inline std::string_view trimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// For a name containing '_': the forwarding token it would be with each '_'
// read as '-' (servers that map fields to CGI/WSGI variables read them the
// same), so "Content_Length" gives kContentLength. kOther for any other name,
// and for look-alikes of caching tokens ("Set_Cookie", "Cache_Control"):
// those follow the underscore_headers policy like any other '_' name.
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
