// Request-target and authority rules (RFC 9112 3.2, RFC 3986): which forms
// of target a request may use, what a valid Host value is, and the one
// normal form of a path that routes are matched against and that is sent
// upstream. Pure functions; no allocation except into the caller's output
// string (reused, so none once warm). Safe from any thread.
//
// Path normal form, applied to the path only (the query, from the first
// '?', is kept byte for byte as sent):
//  - a percent-escape of an unreserved character (ALPHA DIGIT - . _ ~) is
//    decoded: "/%61dmin" is "/admin";
//  - every other escape is kept, with its hex digits upper-cased: "%2f" is
//    "%2F". In particular "%2F" stays encoded and is NOT a segment separator,
//    so "/a%2F..%2Fb" is one segment and is left alone;
//  - dot segments are removed (RFC 3986 5.2.4) after that decoding, so
//    "/%2e%2e/admin" and "/app/../admin" are "/admin"; ".." at the root stays
//    at the root;
//  - runs of '/' are merged into one ("//a///b" is "/a/b"), as nginx's
//    merge_slashes does;
//  - a malformed escape ("%zz", "%4" at the end) makes the target invalid.
#pragma once

#include <string>
#include <string_view>

namespace weir::http {

enum class TargetForm : unsigned char {
  kOrigin,    // "/path?query"
  kAbsolute,  // "http://authority/path?query" (http or https)
  kAsterisk,  // "*" (OPTIONS only)
};

struct SplitTarget {
  TargetForm form = TargetForm::kOrigin;
  std::string_view authority;  // absolute-form only: host[:port], never empty
  std::string_view rest;       // path and query ("" or starting with '/' or '?'); "*" for asterisk-form
};

// Classifies a request-target as sent. False for anything that is not
// origin-form, absolute-form with scheme http/https and a valid authority
// without userinfo, or "*" with `is_options`. Views point into `target`.
bool splitTarget(std::string_view target, bool is_options, SplitTarget& out);

// A Host field value or the authority of an absolute-form target:
// host [":" port], where host is an IPv4 address or a name made of
// unreserved characters and the sub-delimiters other than ',' (no
// percent-escapes; a comma would make it read as a list), or an IP literal
// "[v6]" / "[vX.…]", and port is empty or 1–5 digits up to 65535. No
// userinfo, no path. The empty string is valid only with `allow_empty` (an
// HTTP/1.1 request for a URI without authority sends "Host:" empty).
bool isValidAuthority(std::string_view authority, bool allow_empty);

// Writes the normal form of `path_and_query` (empty, or starting with '/'
// or '?'; an empty path becomes "/") into `out`, replacing its contents.
// Returns false, with `out` unspecified, on a malformed percent-escape in
// the path, a fragment ('#' anywhere: a request-target has none) or a path
// that does not start with '/'. The common case, a path with no escape, no
// "//" and no "/.", is a single scan and a copy.
bool normalizePath(std::string_view path_and_query, std::string& out);

}  // namespace weir::http
