// One weir-bench thread: its own event loop and connections, sending
// requests closed-loop (each connection sends when its previous response is
// whole) or open-loop (on the Pacer's schedule, latency counted from when a
// request was due), parsing every response whole with weir's HTTP parser,
// and classifying what went wrong.
#pragma once

#include <event2/event.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "histogram.h"
#include "options.h"
#include "pacer.h"
#include "zipf.h"

namespace weir::loadgen {

enum ErrorClass : size_t { kConnect, kReset, kTimeout, kStatus4xx, kStatus5xx, kMalformed, kErrorClasses };
inline constexpr std::array<const char*, kErrorClasses> kErrorNames{"connect",    "reset",      "timeout",
                                                                     "status_4xx", "status_5xx", "malformed"};

int64_t monotonicNs();

struct EngineResult {
  Histogram latency;  // from when each request was due (open loop) or sent (closed loop), µs
  Histogram service;  // from when each request was sent, µs
  uint64_t requests = 0;  // responses received whole, counted (after the warm-up)
  uint64_t bytes = 0;     // response bytes received (heads and bodies)
  std::array<uint64_t, kErrorClasses> errors{};
  int64_t last_response_ns = 0;
};

struct EnginePlan {
  unsigned index = 0;
  unsigned connections = 1;
  double rate = 0;             // this thread's share, 0: closed loop
  uint64_t requests = 0;       // this thread's share of -n, 0: by time
  int64_t start_ns = 0;
  int64_t warmup_end_ns = 0;   // requests due before are not counted
  int64_t end_ns = 0;          // no request sent from then on (INT64_MAX with -n)
};

class Engine {
 public:
  Engine(const Options& options, const EnginePlan& plan);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Runs the loop until the plan is done; from the engine's own thread.
  void run();
  // Any thread: stop now.
  void stop();

  // Any thread: a copy of the counts, as published (five times a second
  // while it runs, and when run() returns).
  void snapshot(EngineResult& into);

 private:
  struct Conn;
  struct Pending {
    int64_t intended_ns;
    int64_t sent_ns;
  };

  void open(Conn& c);
  void connected(Conn& c);
  void closeConn(Conn& c, std::optional<ErrorClass> in_flight_error);
  void dispatch();
  bool sendOne(Conn& c, int64_t intended, int64_t now);
  bool flush(Conn& c);
  void onReadable(Conn& c);
  void onWritable(Conn& c);
  bool feed(Conn& c, const char* data, size_t len, int64_t now);
  void ended(Conn& c, bool reset);
  void completed(Conn& c, int status, int64_t now);
  void countError(ErrorClass e, int64_t intended_ns);
  void markIdle(Conn& c);
  void armTimers(int64_t now);
  void publish();
  bool finished() const;
  int64_t timeoutNs() const;
  const std::string& nextRequest();
  void buildRequest(const std::string& target, std::string& out) const;

  static void onSocket(evutil_socket_t fd, short what, void* arg);
  static void onTick(evutil_socket_t, short, void* arg);

  const Options& o_;
  EnginePlan plan_;
  event_base* base_ = nullptr;
  event* tick_ = nullptr;
  event* due_ = nullptr;  // open loop: the next request's due time
  std::vector<std::unique_ptr<Conn>> conns_;
  std::vector<Conn*> idle_;  // connected, with room for another request in flight
  std::optional<Pacer> pacer_;
  std::optional<Zipf> zipf_;
  size_t path_index_ = 0;
  uint64_t sent_ = 0;
  uint64_t done_ = 0;  // responses and failed requests, for -n
  bool stopping_ = false;
  int ticks_ = 0;
  std::atomic<bool> stop_requested_{false};
  std::string scratch_;
  std::string request_;                     // the one target's request, built once
  std::vector<std::string> path_requests_;  // --paths: one per target
  sockaddr_storage addr_{};
  socklen_t addr_len_ = 0;
  bool resolved_ = false;
  EngineResult result_;  // the engine's thread only
  std::mutex mu_;        // shared_, a copy published every tick and at the end
  EngineResult shared_;
};

}  // namespace weir::loadgen
