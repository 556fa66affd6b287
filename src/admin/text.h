// Private: text helpers for the admin endpoints' output formats.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace weir::admin {

// A Prometheus label value: backslash, double quote and newline escaped.
void appendLabelValue(std::string& out, std::string_view value);
// A JSON string, quotes included; control characters as \u00XX.
void appendJsonString(std::string& out, std::string_view value);
// A number for either format: integers exactly, others with up to 9
// significant digits; NaN and infinities as Prometheus writes them.
void appendNumber(std::string& out, double v);
void appendNumber(std::string& out, uint64_t v);

}  // namespace weir::admin
