// Microbenchmarks for the access-log formatters, which run once per request
// on the worker's loop. The output string is reused as the worker's batch
// buffer is, so the figures are for a warm buffer (no allocation per call).
#include <benchmark/benchmark.h>

#include <string>

#include "weir/log/access_format.h"

namespace {

using weir::log::AccessRecord;
using weir::log::LogTime;

// A browser request relayed from an upstream: the common line.
AccessRecord browserRecord() {
  AccessRecord r;
  r.client = "203.0.113.195";
  r.method = "GET";
  r.target = "/products/category/shoes?page=2&sort=price_asc";
  r.has_version = true;
  r.host = "shop.example.com";
  r.referer = "https://shop.example.com/products/category/shoes?page=1";
  r.user_agent = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
  r.status = 200;
  r.body_bytes = 48213;
  r.upstream = "10.0.3.17:8080";
  r.upstream_header_time = 0.004;
  r.request_time = 0.006;
  return r;
}

void runFormatter(benchmark::State& state, void (*fn)(const AccessRecord&, LogTime, std::string&),
                  const AccessRecord& r, LogTime tz) {
  std::string out;
  out.reserve(64 * 1024);
  size_t bytes = 0;
  for (auto _ : state) {
    if (out.size() > 60 * 1024) out.clear();
    size_t before = out.size();
    fn(r, tz, out);
    bytes += out.size() - before;
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

void BM_AppendCombined(benchmark::State& state) {
  runFormatter(state, &weir::log::appendCombined, browserRecord(), LogTime::kLocal);
}
BENCHMARK(BM_AppendCombined);

void BM_AppendCombinedUtc(benchmark::State& state) {
  runFormatter(state, &weir::log::appendCombined, browserRecord(), LogTime::kUtc);
}
BENCHMARK(BM_AppendCombinedUtc);

// Basic auth to decode, and a user agent full of bytes to escape.
void BM_AppendCombinedAuthAndEscapes(benchmark::State& state) {
  AccessRecord r = browserRecord();
  r.authorization = "Basic YWxpY2U6c2VjcmV0";
  r.user_agent = "\"quoted\" \\back\\slashes\\ \xff\xfe\xc3\xa9 and\ttabs\r\n";
  runFormatter(state, &weir::log::appendCombined, r, LogTime::kLocal);
}
BENCHMARK(BM_AppendCombinedAuthAndEscapes);

void BM_AppendJson(benchmark::State& state) {
  runFormatter(state, &weir::log::appendJson, browserRecord(), LogTime::kLocal);
}
BENCHMARK(BM_AppendJson);

}  // namespace
