// weir-bench: an HTTP/1.1 load generator, closed loop like wrk or open loop
// at a fixed rate with latency counted from when each request was due
// (coordinated omission corrected, like wrk2); see `weir-bench --help` and
// the README's "Load tools and benchmarks".
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine.h"
#include "options.h"

namespace {

using weir::loadgen::Engine;
using weir::loadgen::EnginePlan;
using weir::loadgen::EngineResult;
using weir::loadgen::Histogram;
using weir::loadgen::Options;

std::atomic<bool> g_interrupted{false};

void onSignal(int) { g_interrupted.store(true); }

double ms(uint64_t us) { return static_cast<double>(us) / 1000.0; }

struct Total {
  EngineResult r;
  double duration_s = 0;
};

void merge(std::vector<std::unique_ptr<Engine>>& engines, Total& t) {
  t.r = EngineResult{};
  EngineResult one;
  for (auto& e : engines) {
    e->snapshot(one);  // published by the engine (at the end too)
    t.r.latency.merge(one.latency);
    t.r.service.merge(one.service);
    t.r.requests += one.requests;
    t.r.bytes += one.bytes;
    for (size_t i = 0; i < one.errors.size(); ++i) t.r.errors[i] += one.errors[i];
    t.r.last_response_ns = std::max(t.r.last_response_ns, one.last_response_ns);
  }
}

uint64_t errorCount(const EngineResult& r) {
  uint64_t n = 0;
  for (uint64_t e : r.errors) n += e;
  return n;
}

void printPercentiles(const char* label, const Histogram& h) {
  std::printf("  %-13s p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  p99.99 %.3f  max %.3f\n", label, ms(h.percentile(50)),
              ms(h.percentile(90)), ms(h.percentile(99)), ms(h.percentile(99.9)), ms(h.percentile(99.99)), ms(h.max()));
}

// The named percentiles scripts read, then "curve": [[percentile, ms], ...]
// for plots (bench/compare/plot.py).
void jsonPercentiles(std::string& out, const char* name, const Histogram& h) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "\"%s\": {\"p50\": %.3f, \"p90\": %.3f, \"p99\": %.3f, \"p99.9\": %.3f, \"p99.99\": %.3f, \"max\": %.3f, "
                "\"mean\": %.3f, \"curve\": [",
                name, ms(h.percentile(50)), ms(h.percentile(90)), ms(h.percentile(99)), ms(h.percentile(99.9)),
                ms(h.percentile(99.99)), ms(h.max()), h.mean() / 1000.0);
  out += buf;
  const double points[] = {0, 10, 25, 50, 75, 90, 95, 97.5, 99, 99.5, 99.75, 99.9, 99.95, 99.99, 99.995, 99.999, 100};
  for (size_t i = 0; i < sizeof points / sizeof points[0]; ++i) {
    std::snprintf(buf, sizeof buf, "%s[%g, %.3f]", i ? ", " : "", points[i], ms(h.percentile(points[i])));
    out += buf;
  }
  out += "]}";
}

std::string toJson(const Options& o, const Total& t) {
  std::string out = "{\"url\": \"http://" + o.authority + o.path + "\", ";
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "\"connections\": %u, \"threads\": %u, \"rate\": %.0f, \"requests\": %llu, \"duration_s\": %.3f, "
                "\"rps\": %.1f, \"bytes\": %llu, ",
                o.connections, o.threads, o.rate, static_cast<unsigned long long>(t.r.requests), t.duration_s,
                t.duration_s > 0 ? static_cast<double>(t.r.requests) / t.duration_s : 0.0,
                static_cast<unsigned long long>(t.r.bytes));
  out += buf;
  out += "\"errors\": {";
  for (size_t i = 0; i < t.r.errors.size(); ++i) {
    std::snprintf(buf, sizeof buf, "%s\"%s\": %llu", i ? ", " : "", weir::loadgen::kErrorNames[i],
                  static_cast<unsigned long long>(t.r.errors[i]));
    out += buf;
  }
  std::snprintf(buf, sizeof buf, ", \"total\": %llu}, ", static_cast<unsigned long long>(errorCount(t.r)));
  out += buf;
  jsonPercentiles(out, "latency_ms", t.r.latency);
  out += ", ";
  jsonPercentiles(out, "service_time_ms", t.r.service);
  out += "}\n";
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "-h" || std::string(argv[i]) == "--help") {
      std::fputs(weir::loadgen::usage(), stdout);
      return 0;
    }
  }
  Options o;
  std::string error;
  if (!weir::loadgen::parseOptions(argc, argv, o, error)) {
    std::fprintf(stderr, "weir-bench: %s\n%s", error.c_str(), weir::loadgen::usage());
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  signal(SIGINT, onSignal);
  signal(SIGTERM, onSignal);

  const int64_t start = weir::loadgen::monotonicNs();
  const int64_t warmup_end = start + static_cast<int64_t>(o.warmup_s * 1e9);
  const int64_t end = o.duration_s > 0 ? warmup_end + static_cast<int64_t>(o.duration_s * 1e9) : INT64_MAX;
  std::vector<std::unique_ptr<Engine>> engines;
  for (unsigned i = 0; i < o.threads; ++i) {
    EnginePlan plan;
    plan.index = i;
    plan.connections = o.connections / o.threads + (i < o.connections % o.threads ? 1 : 0);
    plan.rate = o.rate / o.threads;
    plan.requests = o.requests / o.threads + (i < o.requests % o.threads ? 1 : 0);
    if (o.requests > 0 && plan.requests == 0) continue;
    plan.start_ns = start;
    plan.warmup_end_ns = warmup_end;
    plan.end_ns = end;
    engines.push_back(std::make_unique<Engine>(o, plan));
  }
  std::vector<std::thread> threads;
  std::atomic<size_t> running{engines.size()};
  for (auto& e : engines) threads.emplace_back([&e, &running] {
      e->run();
      running.fetch_sub(1);
    });

  const bool progress = !o.quiet && isatty(STDOUT_FILENO);
  std::printf("weir-bench: http://%s%s, %u threads, %u connections, %s", o.authority.c_str(), o.path.c_str(),
              static_cast<unsigned>(engines.size()), o.connections,
              o.rate > 0 ? ("open loop at " + std::to_string(static_cast<long long>(o.rate)) + " req/s").c_str()
                         : "closed loop");
  if (o.requests > 0) {
    std::printf(", %llu requests\n", static_cast<unsigned long long>(o.requests));
  } else {
    std::printf(", %.1fs (+%.1fs warm-up)\n", o.duration_s, o.warmup_s);
  }
  std::fflush(stdout);
  uint64_t last_requests = 0;
  int64_t next_line = start + 1'000'000'000;
  Total live;
  while (running.load() > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (g_interrupted.load()) {
      for (auto& e : engines) e->stop();
    }
    const int64_t now = weir::loadgen::monotonicNs();
    if (progress && now >= next_line) {
      merge(engines, live);
      std::printf("  %5.1fs  %10.0f req/s  p50 %.3f ms  p99 %.3f ms  errors %llu\n",
                  static_cast<double>(now - start) / 1e9, static_cast<double>(live.r.requests - last_requests),
                  ms(live.r.latency.percentile(50)), ms(live.r.latency.percentile(99)),
                  static_cast<unsigned long long>(errorCount(live.r)));
      std::fflush(stdout);
      last_requests = live.r.requests;
      next_line += 1'000'000'000;
    }
  }
  for (std::thread& t : threads) t.join();

  Total total;
  merge(engines, total);
  const int64_t stopped = o.duration_s > 0 ? std::min(end, weir::loadgen::monotonicNs())
                                           : std::max(total.r.last_response_ns, warmup_end);
  total.duration_s = static_cast<double>(stopped - warmup_end) / 1e9;
  const double rps = total.duration_s > 0 ? static_cast<double>(total.r.requests) / total.duration_s : 0;
  std::printf("  requests      %llu in %.2fs: %.1f req/s, %.2f MB/s\n", static_cast<unsigned long long>(total.r.requests),
              total.duration_s, rps, total.duration_s > 0 ? static_cast<double>(total.r.bytes) / total.duration_s / 1e6 : 0);
  printPercentiles("latency (ms)", total.r.latency);
  if (o.rate > 0) printPercentiles("service (ms)", total.r.service);
  std::printf("  errors        ");
  if (errorCount(total.r) == 0) {
    std::printf("none\n");
  } else {
    bool first = true;
    for (size_t i = 0; i < total.r.errors.size(); ++i) {
      if (total.r.errors[i] == 0) continue;
      std::printf("%s%s %llu", first ? "" : ", ", weir::loadgen::kErrorNames[i],
                  static_cast<unsigned long long>(total.r.errors[i]));
      first = false;
    }
    std::printf("\n");
  }
  if (o.rate > 0) {
    std::printf("  (latency counts from when each request was due on the %.0f req/s schedule; service time from when it was sent)\n",
                o.rate);
  }
  if (!o.json_path.empty()) {
    std::ofstream out(o.json_path);
    out << toJson(o, total);
    if (!out) {
      std::fprintf(stderr, "weir-bench: cannot write %s\n", o.json_path.c_str());
      return 1;
    }
  }
  return 0;
}
