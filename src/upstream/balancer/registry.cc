// Balancers by config name. Adding one: a file beside this one and a line here.
#include "upstream/balancer/consistent_hash.h"
#include "upstream/balancer/least_request.h"
#include "upstream/balancer/random.h"
#include "upstream/balancer/round_robin.h"
#include "weir/upstream/balancer.h"

namespace weir::upstream {

const Balancer* findBalancer(std::string_view name) {
  static const RoundRobinBalancer round_robin;
  static const LeastRequestBalancer least_request;
  static const RandomBalancer random;
  static const ConsistentHashBalancer consistent_hash;
  if (name == "round_robin") return &round_robin;
  if (name == "least_request") return &least_request;
  if (name == "random") return &random;
  if (name == "consistent_hash") return &consistent_hash;
  return nullptr;
}

}  // namespace weir::upstream
