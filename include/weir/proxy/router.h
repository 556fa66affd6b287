// Picks the route for a request: the first route whose host pattern and path
// prefix both match. Built once per config snapshot; read-only afterwards.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "weir/config/config.h"

namespace weir::proxy {

class Router {
 public:
  explicit Router(const config::Config& cfg);
  // Index into Config::routes, or -1 when nothing matches. `authority` is
  // the request's effective host (http::RequestHead::authority: the
  // absolute-form target's authority, else Host; a port and letter case are
  // ignored); `path` is the normal-form origin-form target
  // (http::RequestHead::path), matched by prefix.
  int match(std::string_view authority, std::string_view path) const;

 private:
  struct Entry {
    std::string host;    // lower case; "" = any
    bool wildcard;       // host was "*.suffix": `host` holds ".suffix"
    std::string prefix;  // "" = any
  };
  std::vector<Entry> entries_;
};

// "Example.COM:8080" -> "example.com" into `out` (reused buffer).
void normalizeHost(std::string_view host, std::string& out);

}  // namespace weir::proxy
