// Invalidation after an unsafe request (RFC 9111 4.4): the target URI, and
// the Location and Content-Location URIs of the same authority.
#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "weir/cache/policy.h"
#include "weir/http/target.h"
#include "weir/http/token.h"

namespace weir::cache {
namespace {

std::string_view trimOws(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

// host[:port] lower-cased, without the scheme's default port (or an empty
// one), for comparing authorities.
std::string canonicalAuthority(std::string_view authority, std::string_view scheme) {
  std::string out(authority);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  const size_t bracket = out.rfind(']');
  const size_t colon = out.rfind(':');
  if (colon == std::string::npos || (bracket != std::string::npos && colon < bracket)) return out;
  const std::string_view port = std::string_view(out).substr(colon + 1);
  const bool https = http::equalsIgnoreCase(scheme, "https");
  if (port.empty() || port == (https ? "443" : "80")) out.resize(colon);
  return out;
}

// The scheme of an absolute URI ("http" of "http://..."), or "" for a
// relative reference (RFC 3986 3.1, 4.2).
std::string_view schemeOf(std::string_view uri) {
  const size_t colon = uri.find(':');
  if (colon == std::string_view::npos || colon == 0) return {};
  const std::string_view scheme = uri.substr(0, colon);
  if (scheme.find_first_of("/?#") != std::string_view::npos) return {};
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (!alpha(scheme[0])) return {};
  for (char c : scheme) {
    if (!alpha(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.') return {};
  }
  return scheme;
}

// For "//authority/rest": whether the authority is the request's, and the rest.
bool sameAuthorityPath(std::string_view network_path, std::string_view uri_scheme, const http::RequestHead& req,
                       std::string_view req_scheme, std::string& path) {
  network_path.remove_prefix(2);
  const size_t end = std::min(network_path.find_first_of("/?"), network_path.size());
  const std::string_view authority = network_path.substr(0, end);
  if (req.authority.empty() || authority.find('@') != std::string_view::npos) return false;
  if (canonicalAuthority(authority, uri_scheme) != canonicalAuthority(req.authority, req_scheme)) return false;
  path.assign(network_path.substr(end));
  return true;
}

// The path and query `uri` names on the request's authority (RFC 3986 5.2,
// without dot-segment removal, which normalizePath does), or false.
bool resolve(std::string_view uri, const http::RequestHead& req, std::string_view req_scheme, std::string& path) {
  uri = uri.substr(0, uri.find('#'));
  if (uri.empty()) return false;
  const std::string_view scheme = schemeOf(uri);
  if (!scheme.empty()) {
    if (!http::equalsIgnoreCase(scheme, "http") && !http::equalsIgnoreCase(scheme, "https")) return false;
    const std::string_view rest = uri.substr(scheme.size() + 1);
    if (rest.substr(0, 2) != "//") return false;
    return sameAuthorityPath(rest, scheme, req, req_scheme, path);
  }
  if (uri.substr(0, 2) == "//") return sameAuthorityPath(uri, req_scheme, req, req_scheme, path);
  const std::string_view base = std::string_view(req.path).substr(0, req.path.find('?'));
  if (uri[0] == '/') {
    path.assign(uri);
  } else if (uri[0] == '?') {
    path.assign(base);
    path.append(uri);
  } else {
    const size_t slash = base.rfind('/');
    path.assign(slash == std::string_view::npos ? std::string_view("/") : base.substr(0, slash + 1));
    path.append(uri);
  }
  return true;
}

// A URI reference has no whitespace or control characters (RFC 3986 2);
// a field value may (HTAB, SP, obs-text), and normalizePath, made for
// targets the parser already checked, would keep them.
bool uriCharacters(std::string_view path) {
  return std::all_of(path.begin(), path.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

void addTarget(std::string_view path, std::vector<std::string>& targets) {
  if (!uriCharacters(path)) return;
  std::string normal;
  if (!http::normalizePath(path, normal)) return;
  if (std::find(targets.begin(), targets.end(), normal) == targets.end()) targets.push_back(std::move(normal));
}

}  // namespace

bool isSafeMethod(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE";
}

std::vector<std::string> invalidationTargets(const http::RequestHead& req, const http::ResponseHead& res,
                                             std::string_view scheme) {
  std::vector<std::string> targets;
  if (isSafeMethod(req.method_name) || res.status < 200 || res.status >= 400) return targets;
  if (!req.path.empty() && req.path[0] == '/') targets.push_back(req.path);  // already in normal form
  for (http::Token t : {http::Token::kLocation, http::Token::kContentLocation}) {
    const int i = res.fields.find(t);
    if (i < 0) continue;
    std::string path;
    if (resolve(trimOws(res.fields.value(static_cast<size_t>(i))), req, scheme, path)) addTarget(path, targets);
  }
  return targets;
}

}  // namespace weir::cache
