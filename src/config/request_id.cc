// Parser for the request_id section: on by default, "off" or enabled:
// false turns it off, header: renames the field. The name must be one weir
// can own: a plain token, and not a field weir already writes, removes or
// frames messages by.
#include <algorithm>
#include <cctype>

#include "config/sections.h"
#include "weir/http/token.h"

namespace weir::config::detail {
namespace {

constexpr size_t kMaxHeaderName = 64;

bool tokenChar(unsigned char c) {
  if (std::isalnum(c)) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-': case '.':
    case '^': case '`': case '|': case '~':
      return true;
    default:
      return false;  // '_' too: see below
  }
}

bool startsWithIgnoreCase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && http::equalsIgnoreCase(text.substr(0, prefix.size()), prefix);
}

// Fields weir writes, removes or reads the framing from: Host, the framing
// and hop-by-hop fields, Expect, Forwarded, Via, X-Real-IP and X-Forwarded-*
// (http::isForwardingToken knows them all), and what weir's own answers carry.
bool managedByWeir(std::string_view name) {
  if (http::isForwardingToken(http::lookupToken(name))) return true;
  if (startsWithIgnoreCase(name, "x-forwarded-")) return true;
  for (std::string_view own : {"server", "content-type", "retry-after"}) {
    if (http::equalsIgnoreCase(name, own)) return true;
  }
  return false;
}

std::string readHeaderName(const Item& item) {
  if (!item.node.IsScalar()) item.fail("expected a header name such as X-Request-Id");
  std::string name = readString(item);  // never empty
  if (name.size() > kMaxHeaderName) {
    item.fail("expected a header name of 1 to " + std::to_string(kMaxHeaderName) + " characters");
  }
  if (name.find('_') != std::string::npos) {
    item.fail("\"" + name + "\": use '-', not '_' (fields named with '_' are dropped or refused by default)");
  }
  if (!std::all_of(name.begin(), name.end(), [](char c) { return tokenChar(static_cast<unsigned char>(c)); })) {
    item.fail("\"" + name + "\" is not a header name (letters, digits and !#$%&'*+-.^`|~ only)");
  }
  if (managedByWeir(name)) {
    item.fail("\"" + name + "\" is a field weir manages itself; choose another name");
  }
  return name;
}

}  // namespace

RequestIdConfig parseRequestId(const Item& item) {
  RequestIdConfig out;
  const char* expected = "expected off, or a map with enabled and header";
  if (item.node.IsScalar()) {
    std::string text = item.node.Scalar();
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
    if (text == "off" || text == "false" || text == "no") {
      out.enabled = false;
      return out;
    }
    if (text == "on" || text == "true" || text == "yes") return out;
    item.fail(expected);
  }
  if (!item.node.IsMap()) item.fail(expected);
  MapReader map(item, {"enabled", "header"});
  if (auto v = map.get("enabled")) out.enabled = readBool(*v);
  if (auto v = map.get("header")) out.header = readHeaderName(*v);
  return out;
}

}  // namespace weir::config::detail
