// The key a consistent_hash pool balances a request by (pools.NAME.hash.key):
// a header, a cookie, a query parameter, the path, the whole target or the
// client's address. Pure; loop thread only as far as its arguments go.
#pragma once

#include <cstdint>
#include <string_view>

#include "weir/config/config.h"
#include "weir/http/message.h"

namespace weir::proxy {

// True with `key` set to the part of the request the key names (a view into
// `req` or `client_ip`); false when the request does not carry it, or
// carries it empty (the pool then falls back to round robin). `client_ip` is
// the client's address without its port.
bool requestKey(const config::HashConfig& hash, const http::RequestHead& req, std::string_view client_ip,
                std::string_view& key);

// XXH3-64 of the key, as PickContext::key_hash.
uint64_t hashKey(std::string_view key);

}  // namespace weir::proxy
