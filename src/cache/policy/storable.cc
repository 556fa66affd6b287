// What a shared cache may store (RFC 9111 3, 3.5, 5.2).
#include <algorithm>
#include <string_view>

#include "weir/cache/policy.h"
#include "weir/http/token.h"

namespace weir::cache {
namespace {

bool hasField(const http::HeaderBlock& fields, http::Token t) { return fields.find(t) >= 0; }

// Vary (RFC 9110 12.5.5): is "*" among its members, or any member at all.
struct VaryMembers {
  bool any = false;
  bool star = false;
};

VaryMembers varyMembers(const http::HeaderBlock& fields) {
  VaryMembers v;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields.field(i).token != http::Token::kVary) continue;
    http::forEachListElement(fields.value(i), [&](std::string_view member) {
      v.any = true;
      // A member that is not a field name can never be matched either.
      v.star |= member == "*" || !std::all_of(member.begin(), member.end(), http::isTokenChar);
    });
  }
  return v;
}

// The checks on the status line and the method, before any directive.
StoreRefusal messageRefusal(const http::RequestHead& req, const http::ResponseHead& res) {
  if (req.method_name != "GET") return StoreRefusal::kMethod;
  if (res.status < 200 || res.status == 304) return StoreRefusal::kStatus;
  if (res.status == 206 || hasField(res.fields, http::Token::kContentRange)) return StoreRefusal::kPartial;
  return StoreRefusal::kNone;
}

// no-store, must-understand and private (5.2.2.3, 5.2.2.5, 5.2.2.7).
StoreRefusal directiveRefusal(const http::ResponseHead& res, const CacheControl& cc) {
  if (cc.must_understand) {
    if (!understoodStatus(res.status)) return StoreRefusal::kMustUnderstand;
  } else if (cc.no_store) {
    return StoreRefusal::kNoStore;
  }
  if (cc.private_) return StoreRefusal::kPrivate;
  return StoreRefusal::kNone;
}

// 3: at least one of public, max-age, s-maxage, Expires, or a status that
// is cacheable by default.
bool explicitlyOrHeuristicallyCacheable(const http::ResponseHead& res, const CacheControl& cc) {
  return cc.public_ || cc.max_age.present || cc.s_maxage.present || hasField(res.fields, http::Token::kExpires) ||
         heuristicallyCacheable(res.status);
}

}  // namespace

const char* refusalName(StoreRefusal refusal) {
  switch (refusal) {
    case StoreRefusal::kNone: return "";
    case StoreRefusal::kMethod: return "method";
    case StoreRefusal::kStatus: return "status";
    case StoreRefusal::kPartial: return "partial";
    case StoreRefusal::kRequestNoStore: return "request_no_store";
    case StoreRefusal::kMustUnderstand: return "must_understand";
    case StoreRefusal::kNoStore: return "no_store";
    case StoreRefusal::kPrivate: return "private";
    case StoreRefusal::kAuthorization: return "authorization";
    case StoreRefusal::kSetCookie: return "set_cookie";
    case StoreRefusal::kVaryStar: return "vary_star";
    case StoreRefusal::kVary: return "vary";
    case StoreRefusal::kNoFreshness: return "no_freshness";
  }
  return "";
}

bool heuristicallyCacheable(int status) {
  switch (status) {
    case 200: case 203: case 204: case 206: case 300: case 301: case 308:
    case 404: case 405: case 410: case 414: case 501:
      return true;
    default:
      return false;
  }
}

bool understoodStatus(int status) {
  if (status == 206 || status == 304) return false;
  if (status >= 200 && status <= 206) return true;
  if (status >= 300 && status <= 308) return status != 306;  // 306 is unused (RFC 9110 15.4.7)
  if (status >= 400 && status <= 417) return true;
  if (status >= 421 && status <= 422) return true;
  if (status == 426) return true;
  return status >= 500 && status <= 505;
}

StoreDecision storable(const http::RequestHead& req, const http::ResponseHead& res, const StorableOptions& opts) {
  return storable(req, requestCacheControl(req), res, responseCacheControl(res), opts);
}

StoreDecision storable(const http::RequestHead& req, const CacheControl& request_cc, const http::ResponseHead& res,
                       const CacheControl& response_cc, const StorableOptions& opts) {
  auto refuse = [](StoreRefusal r) { return StoreDecision{r}; };
  if (StoreRefusal r = messageRefusal(req, res); r != StoreRefusal::kNone) return refuse(r);
  if (request_cc.no_store) return refuse(StoreRefusal::kRequestNoStore);
  if (StoreRefusal r = directiveRefusal(res, response_cc); r != StoreRefusal::kNone) return refuse(r);
  // 3.5: a shared cache stores an answer to an authenticated request only
  // when the response says it may be shared.
  if (hasField(req.fields, http::Token::kAuthorization) && !response_cc.must_revalidate && !response_cc.public_ &&
      !response_cc.s_maxage.present) {
    return refuse(StoreRefusal::kAuthorization);
  }
  if (!opts.allow_set_cookie && hasField(res.fields, http::Token::kSetCookie)) {
    return refuse(StoreRefusal::kSetCookie);
  }
  const VaryMembers vary = varyMembers(res.fields);
  if (vary.star) return refuse(StoreRefusal::kVaryStar);
  if (vary.any && !opts.allow_vary) return refuse(StoreRefusal::kVary);
  if (!explicitlyOrHeuristicallyCacheable(res, response_cc)) return refuse(StoreRefusal::kNoFreshness);
  return {};
}

}  // namespace weir::cache
