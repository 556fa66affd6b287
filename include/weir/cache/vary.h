// Variants (RFC 9111 4.1): a response with Vary is stored for the values
// the request had in the fields it names, and a later request is answered
// from it only when its own values match. Pure functions; any thread.
//
// A variant is identified by its secondary key: for each name the response
// varies on (lower-cased, sorted, without duplicates), a line
// "name:value\n" with the request's value normalised, or "name\n" when the
// request had no such field. Normalisation: the field lines joined with
// ", ", optional whitespace around list commas and at the ends removed,
// runs of spaces and tabs made one space; for Accept-Encoding, whose
// members are case-insensitive tokens, each member lower-cased, its
// whitespace removed, and the members sorted and deduplicated, so
// "gzip, br" and "BR,gzip" select the same variant.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "weir/http/message.h"

namespace weir::cache {

// The field names a response varies on, as above; {"*"} for Vary: *
// (never matched, RFC 9111 4.1), and for a member that is not a field
// name (it could not be matched either); empty without Vary.
std::vector<std::string> varyNames(const http::ResponseHead& res);

// The secondary key of `req` for `names` (as varyNames returns them).
std::string secondaryKey(const http::RequestHead& req, const std::vector<std::string>& names);

// The names a secondary key was made from.
std::vector<std::string> namesOfSecondaryKey(std::string_view secondary);

// The request's fields named `name` (case-insensitive) joined with ", ";
// false when there is none.
bool joinedRequestField(const http::RequestHead& req, std::string_view name, std::string* out);

// The normalised value of one request field (exposed for tests).
std::string normalizeVaryValue(std::string_view name, std::string_view value);

}  // namespace weir::cache
