// HTTP-date (RFC 9110 5.6.7): the preferred IMF-fixdate and the two
// obsolete forms a recipient must still accept. Pure functions, no clock,
// no allocation; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace weir::cache {

// Seconds since the Unix epoch (negative before 1970) of
//   "Sun, 06 Nov 1994 08:49:37 GMT"   IMF-fixdate
//   "Sunday, 06-Nov-94 08:49:37 GMT"  rfc850-date (obsolete)
//   "Sun Nov  6 08:49:37 1994"        asctime-date (obsolete)
// exactly as the grammar has them (names are case-sensitive, the spaces
// single, GMT spelled out), or nullopt for anything else, including a day
// the month does not have or a time such as 24:00:00. A second of 60 (a
// leap second) is accepted and counts as the first second of the next
// minute. The day name is checked to be one but not compared with the date.
//
// `reference_time` (seconds since the epoch, normally when the message was
// received) places a two-digit rfc850 year: a year more than 50 years after
// the reference's is read as the most recent past year with the same last
// two digits (RFC 9110 5.6.7). Only rfc850-date reads it.
std::optional<int64_t> parseHttpDate(std::string_view text, int64_t reference_time);

// Appends `t` as an IMF-fixdate, e.g. for the Date field a cache adds to a
// stored response that had none (RFC 9110 6.6.1).
void appendHttpDate(int64_t t, std::string& out);

}  // namespace weir::cache
