// A compiled, immutable configuration snapshot: what every worker reads on
// the request path. Built on the main thread from a validated Config; workers
// hold it by shared_ptr, so a later reload can publish a new one while
// in-flight requests finish on the old.
#pragma once

#include <memory>

#include "weir/config/config.h"
#include "weir/http/forward.h"
#include "weir/http/parser.h"
#include "weir/proxy/router.h"
#include "weir/upstream/balancer.h"

namespace weir::proxy {

struct Runtime {
  explicit Runtime(config::ConfigPtr cfg);

  config::ConfigPtr config;
  http::ParserLimits request_limits;
  http::ParserLimits response_limits;
  http::ForwardOptions forward;
  bool access_log_json = false;  // else combined
  Router router;
  std::vector<const upstream::Balancer*> balancers;  // per pool
  std::vector<std::vector<std::string>> server_names;  // per pool, per server: "host:port"
};

using RuntimePtr = std::shared_ptr<const Runtime>;

// nullptr with `error` set when a pool names an unknown balancer.
RuntimePtr buildRuntime(config::ConfigPtr cfg, std::string& error);

}  // namespace weir::proxy
