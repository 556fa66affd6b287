// Small enums shared by the http module's parser and forwarders.
#pragma once

#include <cstdint>

namespace weir::http {

// What happens to a request field whose name contains '_' (and that is not a
// look-alike of a framing, hop-by-hop or proxy-set field: those are always
// refused or dropped, see parser.h and forward.h).
enum class UnderscoreNames : uint8_t {
  kDrop,    // not forwarded (the default, as nginx's underscores_in_headers off)
  kAllow,   // forwarded as sent
  kReject,  // the request is refused with 400
};

}  // namespace weir::http
