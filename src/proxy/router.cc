#include "weir/proxy/router.h"

#include <cctype>

namespace weir::proxy {

void normalizeHost(std::string_view host, std::string& out) {
  out.clear();
  if (!host.empty() && host.front() == '[') {  // IPv6 literal: keep through ']'
    size_t end = host.find(']');
    host = host.substr(0, end == std::string_view::npos ? host.size() : end + 1);
  } else {
    size_t colon = host.rfind(':');
    if (colon != std::string_view::npos) host = host.substr(0, colon);
  }
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  out.reserve(host.size());
  for (char c : host) out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
}

Router::Router(const config::Config& cfg) {
  for (const auto& r : cfg.routes) {
    Entry e;
    e.wildcard = r.host.size() > 2 && r.host[0] == '*' && r.host[1] == '.';
    normalizeHost(e.wildcard ? std::string_view(r.host).substr(1) : std::string_view(r.host), e.host);
    if (e.wildcard && (e.host.empty() || e.host[0] != '.')) e.host.insert(e.host.begin(), '.');
    e.prefix = r.path_prefix;
    entries_.push_back(std::move(e));
  }
}

int Router::match(std::string_view authority, std::string_view path) const {
  thread_local std::string h;
  bool normalized = false;
  for (size_t i = 0; i < entries_.size(); ++i) {
    const Entry& e = entries_[i];
    if (!e.prefix.empty() && path.compare(0, e.prefix.size(), e.prefix) != 0) continue;
    if (!e.host.empty()) {
      if (!normalized) {
        normalizeHost(authority, h);
        normalized = true;
      }
      if (e.wildcard) {
        if (h.size() <= e.host.size() || h.compare(h.size() - e.host.size(), e.host.size(), e.host) != 0) continue;
      } else if (h != e.host) {
        continue;
      }
    }
    return static_cast<int>(i);
  }
  return -1;
}

}  // namespace weir::proxy
