// Checks `weir -t` makes beyond loading the configuration: what would stop
// a start and can be known without binding or changing anything. Main
// thread; blocking calls (file system, /proc).
#pragma once

#include <string>

#include "weir/common/net_address.h"
#include "weir/common/result.h"

namespace weir::core {

// A log path weir can open for appending: an existing file it may write,
// or a missing one in a directory where it may create it. "/dev/stdout"
// and "/dev/stderr" always pass. The error is "PATH: cannot ...: reason".
Status checkLogPath(const std::string& path);

// Binding a port below net.ipv4.ip_unprivileged_port_start needs root or
// CAP_NET_BIND_SERVICE. The error names the address and what is missing.
Status checkBindPermission(const SocketAddress& addr);

}  // namespace weir::core
