#include "weir/http/target.h"

#include <arpa/inet.h>

#include <array>
#include <cstring>

#include "weir/http/token.h"

namespace weir::http {
namespace {

enum CharClass : unsigned char {
  kUnreserved = 1,  // ALPHA DIGIT - . _ ~
  kHostOther = 2,   // sub-delims allowed in a host name: ! $ & ' ( ) * + ; =  (not ',')
  kHexDigit = 4,
  kPathSpecial = 8,  // what the path scan stops at: % / ? #
};

constexpr std::array<unsigned char, 256> makeClasses() {
  std::array<unsigned char, 256> t{};
  for (int c = 'a'; c <= 'z'; ++c) t[static_cast<size_t>(c)] |= kUnreserved;
  for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<size_t>(c)] |= kUnreserved;
  for (int c = '0'; c <= '9'; ++c) t[static_cast<size_t>(c)] |= kUnreserved | kHexDigit;
  for (int c = 'a'; c <= 'f'; ++c) t[static_cast<size_t>(c)] |= kHexDigit;
  for (int c = 'A'; c <= 'F'; ++c) t[static_cast<size_t>(c)] |= kHexDigit;
  for (char c : {'-', '.', '_', '~'}) t[static_cast<unsigned char>(c)] |= kUnreserved;
  for (char c : {'!', '$', '&', '\'', '(', ')', '*', '+', ';', '='}) t[static_cast<unsigned char>(c)] |= kHostOther;
  for (char c : {'%', '/', '?', '#'}) t[static_cast<unsigned char>(c)] |= kPathSpecial;
  return t;
}
constexpr std::array<unsigned char, 256> kClasses = makeClasses();

inline bool is(char c, unsigned char cls) { return (kClasses[static_cast<unsigned char>(c)] & cls) != 0; }

inline int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

inline char upperHex(char c) { return (c >= 'a' && c <= 'f') ? static_cast<char>(c - 32) : c; }

bool validPort(std::string_view port) {
  if (port.size() > 5) return false;
  unsigned value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  return value <= 65535;
}

// "[...]" without the brackets: an IPv6 address (no zone id) or IPvFuture
// ("v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )).
bool validIpLiteral(std::string_view inside) {
  if (inside.empty()) return false;
  if (inside[0] == 'v' || inside[0] == 'V') {
    size_t dot = inside.find('.');
    if (dot == std::string_view::npos || dot < 2 || dot + 1 == inside.size()) return false;
    for (size_t i = 1; i < dot; ++i) {
      if (!is(inside[i], kHexDigit)) return false;
    }
    for (size_t i = dot + 1; i < inside.size(); ++i) {
      char c = inside[i];
      if (!is(c, kUnreserved | kHostOther) && c != ',' && c != ':') return false;
    }
    return true;
  }
  char buf[INET6_ADDRSTRLEN + 1];
  if (inside.size() >= sizeof buf) return false;
  std::memcpy(buf, inside.data(), inside.size());
  buf[inside.size()] = '\0';
  in6_addr addr;
  return inet_pton(AF_INET6, buf, &addr) == 1;
}

// Decodes unreserved escapes and upper-cases the others, in place over
// out[0, n). Returns the new length, or npos on a malformed escape.
size_t decodeEscapes(char* p, size_t n) {
  size_t w = 0;
  for (size_t r = 0; r < n; ++r) {
    char c = p[r];
    if (c != '%') {
      p[w++] = c;
      continue;
    }
    if (r + 2 >= n) return std::string::npos;  // fewer than two characters follow
    int hi = hexValue(p[r + 1]);
    int lo = hexValue(p[r + 2]);
    if (hi < 0 || lo < 0) return std::string::npos;
    char decoded = static_cast<char>(hi * 16 + lo);
    if (is(decoded, kUnreserved)) {
      p[w++] = decoded;
    } else {
      p[w++] = '%';
      p[w++] = upperHex(p[r + 1]);
      p[w++] = upperHex(p[r + 2]);
    }
    r += 2;
  }
  return w;
}

// RFC 3986 5.2.4 over a path that starts with '/', in place, also merging
// empty segments. The output is a sequence of "/segment" written at w, which
// never passes the read position, so memmove suffices.
size_t removeDotSegments(char* p, size_t n) {
  size_t w = 0;
  size_t r = 0;  // p[r] == '/'
  while (r < n) {
    size_t start = r + 1;
    const void* slash = start < n ? std::memchr(p + start, '/', n - start) : nullptr;
    size_t end = slash != nullptr ? static_cast<size_t>(static_cast<const char*>(slash) - p) : n;
    size_t len = end - start;
    const bool last = end == n;
    if (len == 0 || (len == 1 && p[start] == '.')) {
      if (last) p[w++] = '/';  // "/a/" and "/a/." keep their trailing slash
    } else if (len == 2 && p[start] == '.' && p[start + 1] == '.') {
      while (w > 0 && p[w - 1] != '/') --w;
      if (w > 0) --w;
      if (last) p[w++] = '/';
    } else {
      p[w++] = '/';
      std::memmove(p + w, p + start, len);
      w += len;
    }
    r = end;
  }
  if (w == 0) p[w++] = '/';
  return w;
}

}  // namespace

bool isValidAuthority(std::string_view a, bool allow_empty) {
  if (a.empty()) return allow_empty;
  std::string_view port;
  if (a[0] == '[') {
    size_t close = a.find(']');
    if (close == std::string_view::npos || !validIpLiteral(a.substr(1, close - 1))) return false;
    std::string_view after = a.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return false;
      port = after.substr(1);
    }
  } else {
    size_t colon = a.find(':');
    std::string_view host = a.substr(0, colon);
    if (host.empty()) return false;
    for (char c : host) {
      if (!is(c, kUnreserved | kHostOther)) return false;
    }
    if (colon != std::string_view::npos) port = a.substr(colon + 1);
  }
  return validPort(port);
}

bool splitTarget(std::string_view target, bool is_options, SplitTarget& out) {
  if (target.empty()) return false;
  if (target[0] == '/') {
    out.form = TargetForm::kOrigin;
    out.authority = {};
    out.rest = target;
    return true;
  }
  if (target == "*") {
    if (!is_options) return false;
    out.form = TargetForm::kAsterisk;
    out.authority = {};
    out.rest = target;
    return true;
  }
  size_t sep = target.find("://");
  if (sep == std::string_view::npos) return false;
  std::string_view scheme = target.substr(0, sep);
  if (!equalsIgnoreCase(scheme, "http") && !equalsIgnoreCase(scheme, "https")) return false;
  std::string_view rest = target.substr(sep + 3);
  size_t end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, end);
  if (!isValidAuthority(authority, false)) return false;  // '@' (userinfo) is not allowed in it
  out.form = TargetForm::kAbsolute;
  out.authority = authority;
  out.rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  return true;
}

bool normalizePath(std::string_view in, std::string& out) {
  // One scan of the path: it ends at '?', and anything that could change it
  // is a '%', or a '/' or '.' right after a '/' ("/.well-known" takes the
  // slow path and comes out the same). A fragment is refused anywhere.
  const char* p = in.data();
  const size_t n = in.size();
  size_t path_len = 0;
  bool simple = true;
  for (; path_len < n; ++path_len) {
    char c = p[path_len];
    if (!is(c, kPathSpecial)) continue;
    if (c == '?') break;
    if (c == '#') return false;
    if (c == '%') {
      simple = false;
    } else if (path_len + 1 < n && (p[path_len + 1] == '/' || p[path_len + 1] == '.')) {
      simple = false;
    }
  }
  std::string_view query = in.substr(path_len);
  if (!query.empty() && std::memchr(query.data(), '#', query.size()) != nullptr) return false;
  if (path_len == 0) {
    out.clear();
    out.push_back('/');
    out.append(query);
    return true;
  }
  if (p[0] != '/') return false;
  if (simple) {
    out.assign(in);
    return true;
  }
  out.assign(in.substr(0, path_len));
  size_t len = decodeEscapes(out.data(), out.size());
  if (len == std::string::npos) return false;
  len = removeDotSegments(out.data(), len);
  out.resize(len);
  out.append(query);
  return true;
}

}  // namespace weir::http
