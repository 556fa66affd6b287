// Microbenchmarks for the HTTP/1.1 hot path: parsing a request and a response
// head and serializing the heads the proxy forwards (picking a server is in
// balancer_bench.cc).
// Parsers are reused across iterations as a keep-alive connection reuses its
// own, so the numbers are for warm buffers.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "weir/http/forward.h"
#include "weir/http/parser.h"

namespace {

using weir::http::Parser;

// A browser navigation: request line and 10 fields, about 500 bytes.
const std::string kRequest =
    "GET /products/category/shoes?page=2&sort=price_asc HTTP/1.1\r\n"
    "Host: shop.example.com\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
    "Accept-Language: en-US,en;q=0.5\r\n"
    "Accept-Encoding: gzip, deflate, br, zstd\r\n"
    "Referer: https://shop.example.com/products/category/shoes?page=1\r\n"
    "Connection: keep-alive\r\n"
    "Cookie: session=7f3a9c2e41b84d6fa0e5c1d29b7e8f30; theme=dark; cart=3\r\n"
    "Upgrade-Insecure-Requests: 1\r\n"
    "Sec-Fetch-Mode: navigate\r\n"
    "\r\n";

// A typical origin response head, about 250 bytes, and a short body so the
// parser ends each iteration between messages.
const std::string kResponseHead =
    "HTTP/1.1 200 OK\r\n"
    "Date: Sat, 23 Nov 2024 10:15:42 GMT\r\n"
    "Server: origin/2.4\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "Content-Length: 16\r\n"
    "Cache-Control: private, max-age=0\r\n"
    "ETag: \"5e1f-61a3c8b2e9a40\"\r\n"
    "Vary: Accept-Encoding\r\n"
    "X-Request-Id: 4b2d8e7f-1c3a-4f5e-9d6b-0a8c7e2f1b3d\r\n"
    "\r\n";
const std::string kResponseBody = "<html>ok</html>\n";

void failIf(bool bad, benchmark::State& state, const char* what) {
  if (bad) state.SkipWithError(what);
}

void BM_ParseRequest(benchmark::State& state) {
  Parser parser(Parser::Kind::kRequest, {});
  for (auto _ : state) {
    parser.reset();
    Parser::Step step = parser.execute(kRequest.data(), kRequest.size());
    benchmark::DoNotOptimize(step);
    if (step.flags != (Parser::kHeadComplete | Parser::kMessageComplete)) {
      failIf(true, state, "request did not parse");
      break;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(kRequest.size()));
  state.counters["fields"] = static_cast<double>(parser.request().fields.size());
}
BENCHMARK(BM_ParseRequest);

// The same request arriving in small TCP-sized pieces.
void BM_ParseRequestInPieces(benchmark::State& state) {
  const size_t piece = static_cast<size_t>(state.range(0));
  Parser parser(Parser::Kind::kRequest, {});
  for (auto _ : state) {
    parser.reset();
    unsigned flags = 0;
    for (size_t off = 0; off < kRequest.size();) {
      Parser::Step step = parser.execute(kRequest.data() + off, std::min(piece, kRequest.size() - off));
      flags |= step.flags;
      off += step.consumed;
      if (step.consumed == 0) break;
    }
    benchmark::DoNotOptimize(flags);
    if (!(flags & Parser::kMessageComplete) || (flags & Parser::kError)) {
      failIf(true, state, "request did not parse");
      break;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(kRequest.size()));
}
BENCHMARK(BM_ParseRequestInPieces)->Arg(64)->Arg(16);

void BM_ParseResponse(benchmark::State& state) {
  Parser parser(Parser::Kind::kResponse, {});
  const std::string message = kResponseHead + kResponseBody;
  for (auto _ : state) {
    parser.reset();
    Parser::Step head = parser.execute(message.data(), message.size());
    Parser::Step body = parser.execute(message.data() + head.consumed, message.size() - head.consumed);
    benchmark::DoNotOptimize(body);
    if (head.flags != Parser::kHeadComplete || body.flags != Parser::kMessageComplete) {
      failIf(true, state, "response did not parse");
      break;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(message.size()));
  state.counters["head_bytes"] = static_cast<double>(kResponseHead.size());
}
BENCHMARK(BM_ParseResponse);

void BM_WriteRequestHead(benchmark::State& state) {
  Parser parser(Parser::Kind::kRequest, {});
  parser.execute(kRequest.data(), kRequest.size());
  const weir::http::RequestHead& req = parser.request();
  const weir::http::ForwardOptions opts;
  std::string out;
  size_t bytes = 0;
  for (auto _ : state) {
    out.clear();  // reused, as a connection reuses its output buffer
    weir::http::writeRequestHead(req, opts, {"203.0.113.42", "https", false, {}}, out);
    benchmark::DoNotOptimize(out.data());
    bytes += out.size();
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_WriteRequestHead);

void BM_WriteResponseHead(benchmark::State& state) {
  Parser request_parser(Parser::Kind::kRequest, {});
  request_parser.execute(kRequest.data(), kRequest.size());
  Parser response_parser(Parser::Kind::kResponse, {});
  response_parser.execute(kResponseHead.data(), kResponseHead.size());
  const weir::http::RequestHead& req = request_parser.request();
  const weir::http::ResponseHead& resp = response_parser.response();
  const weir::http::ResponsePlan plan = weir::http::planResponse(req, resp, false);
  const weir::http::ForwardOptions opts;
  std::string out;
  size_t bytes = 0;
  for (auto _ : state) {
    out.clear();
    weir::http::writeResponseHead(req, resp, plan, opts, out);
    benchmark::DoNotOptimize(out.data());
    bytes += out.size();
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_WriteResponseHead);

}  // namespace
