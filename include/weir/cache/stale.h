// When a stale response may be served (RFC 5861; RFC 9111 4.2.4), how a
// 304 updates what is stored (RFC 9111 3.2, 4.3.4), and which tags a
// response gives itself for purge by tag. Pure functions; safe from any
// thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "weir/cache/policy.h"
#include "weir/http/message.h"

namespace weir::cache {

// `staleness` is current_age minus the freshness lifetime: above 0 when
// stale (0 for an object just marked stale by a soft purge). A window is in
// seconds; -1 means the directive was not given.

// stale-while-revalidate=`window` of the stored response: it may be sent at
// once while a revalidation runs in the background, for `window` seconds
// past its freshness. Never for must-revalidate, proxy-revalidate,
// s-maxage or no-cache responses (RFC 9111 4.2.4, 5.2.2).
bool mayServeWhileRevalidating(int64_t staleness, int64_t window, ReuseLimits limits);

// stale-if-error: the fetch that would replace the stored response failed
// (see isStaleIfErrorStatus). The window is the response's stale-if-error,
// else the route's default (0: none); a request's own stale-if-error
// widens it (the client accepts more). The same responses as above never
// go out stale.
bool mayServeIfError(int64_t staleness, int64_t response_window, int64_t request_window, int64_t route_default,
                     ReuseLimits limits);

// The answers RFC 5861 4 counts as errors: 500, 502, 503, 504.
bool isStaleIfErrorStatus(int status);

// A 304 freshened a stored response: the stored head (status line, then
// fields, each line ending in CRLF) with every field the 304 carries
// (`update`, in the same form, status line first) replacing the stored
// fields of that name; the 304's Content-Length is not taken (RFC 9111
// 3.2). The stored status line stays.
std::string updateStoredHead(std::string_view stored, std::string_view update);

// The tags of a response for purge by tag: the values of the fields named
// `field_names` (case-insensitive), split at spaces and commas, without
// duplicates; at most kMaxTags, each at most kMaxTagBytes (longer ones are
// skipped).
inline constexpr size_t kMaxTags = 64;
inline constexpr size_t kMaxTagBytes = 256;
std::vector<std::string> responseTags(const http::ResponseHead& res, const std::vector<std::string>& field_names);

}  // namespace weir::cache
