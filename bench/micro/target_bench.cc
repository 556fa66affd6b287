// Microbenchmarks for the per-request target rules: path normal form (the
// common case, nothing to change, must be a scan and a copy into a reused
// string) and Host validation.
#include <benchmark/benchmark.h>

#include <string>

#include "weir/http/target.h"

namespace {

void runNormalize(benchmark::State& state, const std::string& target) {
  std::string out;  // reused, as RequestHead::path is across requests
  out.reserve(256);
  for (auto _ : state) {
    bool ok = weir::http::normalizePath(target, out);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(target.size()));
}

// Nothing to normalise: the usual request.
void BM_NormalizePathPlain(benchmark::State& state) {
  runNormalize(state, "/products/category/shoes?page=2&sort=price_asc");
}
BENCHMARK(BM_NormalizePathPlain);

void BM_NormalizePathLongPlain(benchmark::State& state) {
  runNormalize(state, "/static/assets/js/vendor/2024/11/bundle.min.3f9a2c7e41b84d6f.js?v=1732356942&cache=1");
}
BENCHMARK(BM_NormalizePathLongPlain);

// Escapes to decode and dot segments to remove.
void BM_NormalizePathDirty(benchmark::State& state) {
  runNormalize(state, "/app/./v1/../%61dmin//users/%7euser/%2e%2e/profile%2fx?page=2");
}
BENCHMARK(BM_NormalizePathDirty);

void BM_ValidateHost(benchmark::State& state) {
  const std::string host = "shop.example.com:8443";
  for (auto _ : state) {
    bool ok = weir::http::isValidAuthority(host, true);
    benchmark::DoNotOptimize(ok);
  }
}
BENCHMARK(BM_ValidateHost);

}  // namespace
