// One active health probe: a new non-blocking connection to one server
// (never one of the workers' keep-alive connections), for type http the
// request and then the status line, and a verdict within the timeout, which
// bounds connect, request and status line together.
//
// Failure reasons are short, for the error log: "connect refused",
// "connect failed: <strerror>", "timeout", "status 503", "invalid response",
// "closed before responding", "reset before responding",
// "read failed: <strerror>", "send failed: <strerror>".
//
// The connection is closed with a reset as soon as the verdict is known:
// the probe wants nothing more from it, and no TIME_WAIT socket is left on
// weir's side for every probe.
//
// Threading: health thread only. `done` runs on the loop, from one of the
// probe's own callbacks, so the probe must not be destroyed inside it;
// the owner drops it later (when it starts the next probe, or at stop).
#pragma once

#include <event2/event.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "weir/common/net_address.h"
#include "weir/config/config.h"
#include "weir/core/deadline.h"
#include "weir/core/stream.h"

namespace weir::upstream {

// What to probe and how; built once per server.
struct ProbeSpec {
  SocketAddress addr;
  bool http = true;     // false: tcp, connect only
  std::string request;  // http: the whole request
  std::chrono::milliseconds timeout{1000};
  std::vector<config::HealthCheckConfig::StatusRange> expect;
};

// "GET PATH HTTP/1.1" with Host, User-Agent: weir-health-check and
// Connection: close.
std::string probeRequest(const std::string& path, const std::string& host);

struct ProbeResult {
  bool passed = false;
  std::string detail;  // "status 200", "connected", or the failure reason
};

class Probe final : private core::StreamHandler {
 public:
  using Done = std::function<void(const ProbeResult&)>;

  // `spec` must outlive the probe.
  Probe(event_base* base, const ProbeSpec& spec, Done done);
  ~Probe();
  Probe(const Probe&) = delete;
  Probe& operator=(const Probe&) = delete;

  // Connects. `done` runs once, later, from the loop (also when the
  // connect fails at once).
  void start();
  bool finished() const { return finished_; }

 private:
  void onStreamRead(core::Stream& s) override;
  void onStreamWritable(core::Stream& s) override;
  void onStreamError(core::Stream& s) override;
  static void onTimer(void* arg);
  void takeInput(core::Stream& s);
  void finish(bool passed, std::string detail);

  const ProbeSpec& spec_;
  Done done_;
  core::Stream stream_;
  core::Deadline timer_;
  std::string received_;  // the start of the response, at most kMaxStatusLine
  std::optional<ProbeResult> early_;  // a connect that failed at once, reported from the loop
  bool finished_ = false;
};

}  // namespace weir::upstream
