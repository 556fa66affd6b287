// A route's cache key options: which query parameters count, in what
// order, and which request fields and cookies are added to the key. Pure
// functions; any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "weir/http/message.h"

namespace weir::cache {

// The request target as the key holds it: the path as given, then the
// query without the parameters `ignore` names (a name, or a prefix ending
// in '*': "utm_*"; `ignore_all` drops the whole query), sorted by name
// (then by value, stable) with `sort`. Parameters are compared raw (as
// sent, not percent-decoded). No '?' is left when no parameter is.
std::string keyTarget(std::string_view target, const std::vector<std::string>& ignore, bool ignore_all, bool sort);

// What `headers` and `cookies` add to the key: "h:name=value\n" per field
// (its lines joined, whitespace normalised as for Vary; "h:name\n" when
// absent) and "c:name=value\n" per cookie of the Cookie fields ("c:name\n"
// when absent). Names compared case-insensitively for fields, exactly for
// cookies. "" when both lists are empty.
std::string keyParts(const http::RequestHead& req, const std::vector<std::string>& headers,
                     const std::vector<std::string>& cookies);

// A query parameter name against an ignore pattern ("name" or "prefix*").
bool queryNameMatches(std::string_view name, std::string_view pattern);

}  // namespace weir::cache
