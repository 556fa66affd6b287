// The admin listener (config `admin:`): Prometheus metrics, the status page
// and its JSON, liveness and readiness, on a thread of its own
// ("weir-admin", its own event loop), never on a data listener.
//
//   GET /metrics      Prometheus text format 0.0.4
//   GET /status       an HTML page that updates itself from /status.json
//   GET /status.json  pools, servers, rates and latencies over the last ~10 s
//   GET /healthz      200 "ok" while the process runs (liveness)
//   GET /ready        200 when listeners are open and every pool has a
//                     usable server, else 503 with the reason (readiness)
//
// Other paths are 404, other methods 405, clients outside admin.allow 403.
// One request per connection (Connection: close); heads are bounded (8 KiB),
// a connection that sends nothing whole within 5 s is closed, and at most 64
// connections are open at once; clients outside admin.allow have their own
// 16 connections and 1 s, so they cannot crowd out a scraper or a probe.
//
// Threading: constructed, opened, started and stopped by the main thread.
// The admin thread reads the stats registry (relaxed loads of the workers'
// slots), the shared server state, the process info (under its mutex) and
// the Runtime the getter returns; it writes nothing the workers read.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "weir/common/result.h"
#include "weir/config/config.h"
#include "weir/core/server.h"
#include "weir/proxy/runtime.h"
#include "weir/stats/process_info.h"
#include "weir/stats/registry.h"

namespace weir::admin {

struct AdminOptions {
  config::AdminConfig config;
  stats::Registry* registry = nullptr;     // not owned; outlives the server
  stats::ProcessInfo* process = nullptr;   // not owned; outlives the server
  // The Runtime the workers use now. Called on the admin thread; must be
  // thread-safe (a reload swaps what it returns).
  std::function<proxy::RuntimePtr()> runtime;
  // Whether the data listeners are open (readiness). Called on the admin
  // thread; thread-safe. Unset: open while the server runs.
  std::function<bool()> listening;
};

class AdminServer {
 public:
  explicit AdminServer(AdminOptions options);
  // Stops the thread if it runs.
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Binds the admin address (main thread; before privileges are dropped,
  // so a port below 1024 works). The error names the address. A socket
  // handed over by a binary upgrade that listens on that address is taken
  // instead (the process that gave up root could not bind it again);
  // any other in `inherited` is closed.
  Status open(const std::vector<core::InheritedSocket>& inherited = {});
  // The listening socket (for a binary upgrade to hand over), -1 if none.
  int listeningSocket() const;
  // Starts the admin thread: serving, and sampling for /status every second.
  void start();
  // Closes the listener and joins the thread. Idempotent.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace weir::admin
