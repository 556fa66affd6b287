#include "weir/http/token.h"

#include <array>

namespace weir::http {
namespace {

inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

struct Known {
  std::string_view name;  // lower case
  Token token;
};

constexpr std::array<Known, 14> kKnown{{
    {"connection", Token::kConnection},
    {"content-length", Token::kContentLength},
    {"expect", Token::kExpect},
    {"host", Token::kHost},
    {"keep-alive", Token::kKeepAlive},
    {"proxy-connection", Token::kProxyConnection},
    {"te", Token::kTE},
    {"trailer", Token::kTrailer},
    {"transfer-encoding", Token::kTransferEncoding},
    {"upgrade", Token::kUpgrade},
    {"via", Token::kVia},
    {"x-forwarded-for", Token::kXForwardedFor},
    {"x-forwarded-host", Token::kXForwardedHost},
    {"x-forwarded-proto", Token::kXForwardedProto},
}};

}  // namespace

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

Token lookupToken(std::string_view name) {
  // Most fields are not well known: reject on length and first letter before
  // comparing whole names.
  if (name.size() < 2 || name.size() > 17) return Token::kOther;
  char first = lower(name[0]);
  for (const Known& k : kKnown) {
    if (k.name.size() == name.size() && k.name[0] == first && equalsIgnoreCase(k.name, name)) {
      return k.token;
    }
  }
  return Token::kOther;
}

}  // namespace weir::http
