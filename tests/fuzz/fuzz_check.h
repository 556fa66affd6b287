// Shared by the fuzz targets: an invariant that does not hold stops the run
// with its description (libFuzzer then writes the input as a crash).
#pragma once

#include <cstdio>
#include <cstdlib>

namespace weir::fuzz {

inline void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "invariant broken: %s\n", what);
  std::abort();
}

}  // namespace weir::fuzz
