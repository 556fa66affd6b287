// Parsing of values with units as operators write them in config files.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace weir {

// "30s", "500ms", "2m", "1h", "1.5s", "250us"; a bare number is seconds.
// Returns nullopt on anything else (negative, empty, unknown unit, overflow).
std::optional<std::chrono::milliseconds> parseDuration(std::string_view text);

// "64KiB", "1GiB", "32KB" (1000-based), "16k"/"16K"/"1m"/"1g" (1024-based, as
// nginx), "512B" or a bare number of bytes. Returns nullopt on anything else.
std::optional<uint64_t> parseByteSize(std::string_view text);

}  // namespace weir
