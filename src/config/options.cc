// Parsers for the optional, process-wide config sections: workers, timeouts,
// limits, proxy_headers, access_log, error_log, user and group.
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "config/sections.h"

namespace weir::config::detail {
namespace {

constexpr int64_t kMaxWorkers = 256;
constexpr int64_t kMaxConnections = 10000000;

std::string lowered(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// getpwnam_r/getgrnam_r want a caller buffer whose needed size is only
// known by trying; grow it on ERANGE.
template <class Entry, class Lookup>
bool lookupEntry(Lookup lookup, const std::string& name, Entry& entry, std::vector<char>& buffer, int& error) {
  buffer.resize(1024);
  for (;;) {
    Entry* found = nullptr;
    error = lookup(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
    if (error == ERANGE && buffer.size() < (1u << 20)) {
      buffer.resize(buffer.size() * 2);
      continue;
    }
    return error == 0 && found != nullptr;
  }
}

std::string lookupFailure(const char* what, const std::string& name, int error) {
  // "Not found" comes back as 0 or as one of several errno values,
  // depending on the NSS module.
  bool missing = error == 0 || error == ENOENT || error == ESRCH || error == EBADF || error == EPERM;
  if (missing) return std::string("no such ") + what + " \"" + name + "\" on this system";
  return std::string("cannot look up ") + what + " \"" + name + "\": " + std::strerror(error);
}

}  // namespace

unsigned usableCpuCount() {
  cpu_set_t set;
  CPU_ZERO(&set);
  long count = 0;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) count = CPU_COUNT(&set);
  if (count <= 0) count = sysconf(_SC_NPROCESSORS_ONLN);
  if (count <= 0) count = 1;
  return static_cast<unsigned>(std::min<long>(count, kMaxWorkers));
}

unsigned parseWorkers(const Item& item) {
  if (item.node.IsScalar() && item.node.Scalar() == "auto") return usableCpuCount();
  if (!item.node.IsScalar()) item.fail("expected auto or a number of workers");
  const std::string& text = item.node.Scalar();
  if (text.empty() || text.find_first_not_of("-0123456789") != std::string::npos) {
    item.fail("expected auto or a number between 1 and " + std::to_string(kMaxWorkers));
  }
  return static_cast<unsigned>(readInteger(item, 1, kMaxWorkers));
}

Timeouts parseTimeouts(const Item& item) {
  MapReader map(item, {"client_header", "client_idle", "client_body", "upstream_connect",
                       "upstream_response", "upstream_send", "upstream_idle", "send", "tunnel",
                       "drain"});
  Timeouts out;
  if (auto v = map.get("client_header")) out.client_header = readTimeout(*v);
  if (auto v = map.get("client_idle")) out.client_idle = readTimeout(*v);
  if (auto v = map.get("client_body")) out.client_body = readTimeout(*v);
  if (auto v = map.get("upstream_connect")) out.upstream_connect = readTimeout(*v);
  if (auto v = map.get("upstream_response")) out.upstream_response = readTimeout(*v);
  if (auto v = map.get("upstream_send")) out.upstream_send = readTimeout(*v);
  if (auto v = map.get("upstream_idle")) out.upstream_idle = readTimeout(*v);
  if (auto v = map.get("send")) out.send = readTimeout(*v);
  if (auto v = map.get("tunnel")) out.tunnel = readTimeout(*v);
  if (auto v = map.get("drain")) out.drain = readTimeout(*v);
  return out;
}

PoolTimeouts parsePoolTimeouts(const Item& item) {
  MapReader map(item, {"upstream_connect", "upstream_response", "upstream_send", "upstream_idle"});
  PoolTimeouts out;
  if (auto v = map.get("upstream_connect")) out.upstream_connect = readTimeout(*v);
  if (auto v = map.get("upstream_response")) out.upstream_response = readTimeout(*v);
  if (auto v = map.get("upstream_send")) out.upstream_send = readTimeout(*v);
  if (auto v = map.get("upstream_idle")) out.upstream_idle = readTimeout(*v);
  return out;
}

// "auto" (0: derived from the descriptor limit at start) or a count.
uint32_t readConnections(const Item& item) {
  const std::string expected = "expected auto or a number between 1 and " + std::to_string(kMaxConnections);
  if (!item.node.IsScalar()) item.fail(expected);
  const std::string& text = item.node.Scalar();
  if (text == "auto") return 0;
  if (text.empty() || text.find_first_not_of("-0123456789") != std::string::npos) item.fail(expected);
  return static_cast<uint32_t>(readInteger(item, 1, kMaxConnections));
}

Limits parseLimits(const Item& item) {
  MapReader map(item, {"header_bytes", "headers", "uri_bytes", "body_bytes", "connections"});
  Limits out;
  if (auto v = map.get("header_bytes")) {
    out.header_bytes = readSize(*v);
    if (out.header_bytes < 1024) v->fail("must be at least 1KiB");
  }
  if (auto v = map.get("headers")) out.headers = static_cast<uint32_t>(readInteger(*v, 1, 100000));
  if (auto v = map.get("uri_bytes")) out.uri_bytes = readSize(*v);
  if (auto v = map.get("body_bytes")) out.body_bytes = readSize(*v);
  if (auto v = map.get("connections")) out.connections = readConnections(*v);
  return out;
}

// A list of networks such as [10.0.0.0/8, "::1"]; a bare address is one host.
std::vector<Cidr> readNetworks(const Item& item) {
  std::vector<Cidr> out;
  for (const Item& entry : listItems(item)) {
    if (!entry.node.IsScalar()) {
      entry.fail("expected a network such as 10.0.0.0/8 or ::1/128");
    }
    Result<Cidr> net = parseCidr(readString(entry));
    if (!net) entry.fail(net.error().message);
    out.push_back(*net);
  }
  return out;
}

ProxyHeaders parseProxyHeaders(const Item& item) {
  MapReader map(item, {"x_forwarded_for", "x_forwarded_proto", "x_forwarded_host", "via",
                       "trusted_clients", "underscore_headers"});
  ProxyHeaders out;
  if (auto v = map.get("x_forwarded_for")) out.x_forwarded_for = readBool(*v);
  if (auto v = map.get("x_forwarded_proto")) out.x_forwarded_proto = readBool(*v);
  if (auto v = map.get("x_forwarded_host")) out.x_forwarded_host = readBool(*v);
  if (auto v = map.get("via")) out.via = readBool(*v);
  if (auto v = map.get("trusted_clients")) out.trusted_clients = readNetworks(*v);
  if (auto v = map.get("underscore_headers")) {
    std::string policy = readChoice(*v, {"drop", "allow", "reject"});
    out.underscore_headers = policy == "drop"    ? UnderscoreHeaders::kDrop
                             : policy == "allow" ? UnderscoreHeaders::kAllow
                                                 : UnderscoreHeaders::kReject;
  }
  return out;
}

AccessLogConfig parseAccessLog(const Item& item) {
  AccessLogConfig out;
  // "access_log: off" (a YAML boolean or the word) turns it off; "on" keeps
  // the defaults.
  if (item.node.IsScalar()) {
    std::string text = lowered(item.node.Scalar());
    if (text == "off" || text == "false" || text == "no") {
      out.enabled = false;
      return out;
    }
    if (text == "on" || text == "true" || text == "yes") return out;
    item.fail("expected a map with path and format, or off");
  }
  if (!item.node.IsMap()) item.fail("expected a map with path and format, or off");
  MapReader map(item, {"path", "format", "time"});
  if (auto v = map.get("path")) out.path = readString(*v);
  if (auto v = map.get("format")) out.format = readChoice(*v, {"combined", "json"});
  if (auto v = map.get("time")) out.local_time = readChoice(*v, {"local", "utc"}) == "local";
  return out;
}

ErrorLogConfig parseErrorLog(const Item& item) {
  MapReader map(item, {"path", "level"});
  ErrorLogConfig out;
  if (auto v = map.get("path")) out.path = readString(*v);
  if (auto v = map.get("level")) {
    std::string level = readChoice(*v, {"debug", "info", "warn", "error"});
    out.level = level == "debug"  ? LogLevel::kDebug
                : level == "info" ? LogLevel::kInfo
                : level == "warn" ? LogLevel::kWarn
                                  : LogLevel::kError;
  }
  return out;
}

std::string parsePidFile(const Item& item) {
  std::string path = readString(item);
  if (path == "off") return "";
  if (path.empty() || path.front() != '/') item.fail("expected an absolute path, or off");
  if (path.back() == '/') item.fail("names a directory; expected a file");
  return path;
}

void parseRunAs(const std::optional<Item>& user, const std::optional<Item>& group, Config& config) {
  if (group && !user) {
    group->fail("needs user as well (a group alone would leave weir running as root)");
  }
  if (!user) return;
  config.user = readString(*user);
  std::vector<char> buffer;
  int error = 0;
  passwd pw{};
  if (!lookupEntry(getpwnam_r, config.user, pw, buffer, error)) {
    user->fail(lookupFailure("user", config.user, error));
  }
  config.uid = pw.pw_uid;
  config.gid = pw.pw_gid;
  if (!group) return;
  config.group = readString(*group);
  struct group gr {};
  if (!lookupEntry(getgrnam_r, config.group, gr, buffer, error)) {
    group->fail(lookupFailure("group", config.group, error));
  }
  config.gid = gr.gr_gid;
}

}  // namespace weir::config::detail
