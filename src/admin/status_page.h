// Private: the /status page, one self-contained HTML document (inline CSS
// and JavaScript, no external assets) that polls /status.json every second
// and updates its tables in place. Each server row is
// <tr data-server="POOL/HOST:PORT"> with cells data-field="state", "weight",
// "in_flight", "rps", "errors", "p50", "p99" (hooks for tests and scripts).
#pragma once

#include <string_view>

namespace weir::admin {

std::string_view statusPage();

}  // namespace weir::admin
