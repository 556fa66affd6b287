// Private: POST /cache/purge on the admin listener. Admin thread; the Store
// is thread-safe.
//
//   ?url=URL      the object stored for that absolute URL (http or https;
//                 percent-encoded in the query), HEAD and GET alike
//   ?prefix=URL   every object whose URL starts with that one
//   ?tag=TAG      every object the origin tagged TAG (cache.tag_headers),
//                 through the store's tag index, without a scan
//   ?all=1        everything
//   &soft=1       with any of them: mark stale instead of removing, so the
//                 next request revalidates and the object can still be
//                 served stale (stale-if-error) if the origin fails
// Each answers {"purged": N}, the number of objects removed or marked
// (complete or being stored). A purge is visible to every worker once it
// answers: the objects are unlinked from (or marked in) the shared store.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "weir/cache/store.h"

namespace weir::admin {

struct PurgeResult {
  int status = 200;
  std::string body;  // JSON
};

// `query` is the request target's query (after '?'); `store` null when no
// route caches (nothing to purge).
// `key_target`, when set, gives the target as the route for that host
// keys it (its ignore_query and sort_query), so that a URL finds the
// object its requests are stored under.
using KeyTarget = std::function<std::string(std::string_view host, std::string_view target)>;
PurgeResult purge(std::string_view query, cache::Store* store, const KeyTarget& key_target = {});

// The value of `name` in a query string, percent-decoded ('+' is a space);
// false when absent or badly escaped.
bool queryParam(std::string_view query, std::string_view name, std::string& value);

}  // namespace weir::admin
