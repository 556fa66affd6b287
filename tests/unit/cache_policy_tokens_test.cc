// The caching fields interned as tokens for the cache policy, and proof that
// interning them changed nothing the forwarding rules do: their '_'
// look-alikes follow the underscore_headers policy like any other name, they
// are forwarded as before, and the request-ID rules treat them as before.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "config_fixture.h"
#include "serialized_head.h"
#include "weir/config/config.h"
#include "weir/http/forward.h"
#include "weir/http/parser.h"
#include "weir/http/token.h"

namespace weir::http {
namespace {

using testing::parseRequest;
using testing::split;

constexpr std::pair<const char*, Token> kCachingTokens[] = {
    {"Age", Token::kAge},
    {"authorization", Token::kAuthorization},
    {"CACHE-CONTROL", Token::kCacheControl},
    {"Content-Location", Token::kContentLocation},
    {"Content-Range", Token::kContentRange},
    {"Date", Token::kDate},
    {"ETag", Token::kETag},
    {"Expires", Token::kExpires},
    {"Last-Modified", Token::kLastModified},
    {"Location", Token::kLocation},
    {"pragma", Token::kPragma},
    {"Set-Cookie", Token::kSetCookie},
    {"Vary", Token::kVary},
    {"If-Match", Token::kIfMatch},
    {"if-none-match", Token::kIfNoneMatch},
    {"If-Modified-Since", Token::kIfModifiedSince},
    {"IF-UNMODIFIED-SINCE", Token::kIfUnmodifiedSince},
    {"If-Range", Token::kIfRange},
    {"Range", Token::kRange},
};

TEST(CachePolicyTokens, CachingFieldsAreInternedCaseInsensitively) {
  for (const auto& [name, token] : kCachingTokens) {
    EXPECT_EQ(lookupToken(name), token) << name;
    EXPECT_FALSE(isForwardingToken(token)) << name;
    EXPECT_FALSE(isHopByHop(token)) << name;
  }
  for (const char* name : {"Ages", "Dates", "Etags", "Set-Cookie2", "Cache-Controls", "Locations", "Cookie"}) {
    EXPECT_EQ(lookupToken(name), Token::kOther) << name;
  }
}

TEST(CachePolicyTokens, ForwardingTokensAreStillForwardingTokens) {
  for (Token t : {Token::kConnection, Token::kContentLength, Token::kExpect, Token::kForwarded, Token::kHost,
                  Token::kHttp2Settings, Token::kKeepAlive, Token::kProxyConnection, Token::kTE, Token::kTrailer,
                  Token::kTransferEncoding, Token::kUpgrade, Token::kVia, Token::kXForwardedFor,
                  Token::kXForwardedHost, Token::kXForwardedProto, Token::kXRealIp}) {
    EXPECT_TRUE(isForwardingToken(t)) << static_cast<int>(t);
  }
  EXPECT_FALSE(isForwardingToken(Token::kOther));
}

// A caching name spelled with '_' is not a look-alike: the look-alike rule
// (never forwarded, whatever the policy) is for framing and hop-by-hop names.
TEST(CachePolicyTokens, UnderscoreSpellingsOfCachingFieldsAreNotLookAlikes) {
  for (const char* name : {"Set_Cookie", "Cache_Control", "Last_Modified", "Content_Location", "Content_Range"}) {
    EXPECT_EQ(lookalikeToken(name), Token::kOther) << name;
  }
  EXPECT_EQ(lookalikeToken("Keep_Alive"), Token::kKeepAlive);
  EXPECT_EQ(lookalikeToken("Content_Length"), Token::kContentLength);
  RequestHead req = parseRequest("GET / HTTP/1.1\r\nHost: a\r\nSet_Cookie: 1\r\nCache_Control: 2\r\n\r\n");
  ASSERT_EQ(req.fields.size(), 3u);
  EXPECT_TRUE(req.fields.field(1).underscore);
  EXPECT_EQ(req.fields.field(1).lookalike, Token::kOther);
  EXPECT_EQ(req.fields.field(2).lookalike, Token::kOther);
}

testing::Serialized forwardWith(const std::string& fields, UnderscoreNames policy, std::string_view id_name = {}) {
  ParserLimits limits;
  limits.underscore_names = policy;
  RequestHead req = parseRequest("GET / HTTP/1.1\r\nHost: a\r\n" + fields + "\r\n", limits);
  ForwardOptions o;
  o.underscore_names = policy;
  o.request_id_header = id_name;
  std::string out;
  writeRequestHead(req, o, {"192.0.2.7", "http", false, id_name.empty() ? "" : "id1"}, out);
  return split(out);
}

TEST(CachePolicyTokens, UnderscoreCachingNamesFollowTheUnderscorePolicy) {
  const std::string fields = "Set_Cookie: a=1\r\nCache_Control: no-cache\r\n";
  auto dropped = forwardWith(fields, UnderscoreNames::kDrop);
  EXPECT_FALSE(dropped.has("Set_Cookie")) << dropped.raw;
  EXPECT_FALSE(dropped.has("Cache_Control")) << dropped.raw;
  auto allowed = forwardWith(fields, UnderscoreNames::kAllow);
  EXPECT_EQ(allowed.values("Set_Cookie"), std::vector<std::string>{"a=1"}) << allowed.raw;
  EXPECT_EQ(allowed.values("Cache_Control"), std::vector<std::string>{"no-cache"}) << allowed.raw;
  ParserLimits reject;
  reject.underscore_names = UnderscoreNames::kReject;
  Parser p(Parser::Kind::kRequest, reject);
  const std::string in = "GET / HTTP/1.1\r\nHost: a\r\nSet_Cookie: 1\r\n\r\n";
  EXPECT_TRUE(p.execute(in.data(), in.size()).flags & Parser::kError);
  EXPECT_EQ(p.errorStatus(), 400);
}

TEST(CachePolicyTokens, CachingFieldsAreForwardedBothWays) {
  const std::string fields =
      "Cache-Control: max-age=0\r\nPragma: no-cache\r\nAuthorization: Basic eDp5\r\nSet-Cookie: s=1\r\n";
  auto h = forwardWith(fields, UnderscoreNames::kDrop);
  for (const char* name : {"Cache-Control", "Pragma", "Authorization", "Set-Cookie"}) EXPECT_TRUE(h.has(name)) << name;
  RequestHead req = parseRequest("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  ResponseHead res = testing::parseResponse(
      "HTTP/1.1 200 OK\r\nCache-Control: max-age=5\r\nAge: 3\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
      "ETag: \"e\"\r\nVary: Accept\r\nSet-Cookie: a=1\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n");
  std::string out;
  writeResponseHead(req, res, planResponse(req, res, false), {}, out);
  auto r = split(out);
  for (const char* name : {"Cache-Control", "Age", "Date", "ETag", "Vary", "Set-Cookie", "Location"}) {
    EXPECT_TRUE(r.has(name)) << name << "\n" << out;
  }
}

// A request-ID field named like a caching field is still weir's own: the
// client's copy is replaced, as before these names had tokens.
TEST(CachePolicyTokens, ARequestIdNamedLikeACachingFieldIsStillReplaced) {
  auto h = forwardWith("ETag: client\r\n", UnderscoreNames::kDrop, "ETag");
  EXPECT_EQ(h.values("ETag"), std::vector<std::string>{"id1"}) << h.raw;
  RequestHead req = parseRequest("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  ResponseHead res = testing::parseResponse("HTTP/1.1 200 OK\r\nETag: origin\r\nContent-Length: 0\r\n\r\n");
  ForwardOptions o;
  o.request_id_header = "ETag";
  std::string out;
  writeResponseHead(req, res, planResponse(req, res, false), o, out, "id1");
  EXPECT_EQ(split(out).values("ETag"), std::vector<std::string>{"id1"}) << out;
}

TEST(CachePolicyTokens, CachingNamesAreStillAcceptedAsRequestIdNames) {
  for (const char* name : {"ETag", "Cache-Control", "Age"}) {
    Result<config::ConfigPtr> r =
        config::loadString(std::string(config::testing::kBase) + "request_id:\n  header: " + name + "\n", "t.yaml");
    ASSERT_TRUE(r.ok()) << name << ": " << r.error().message;
    EXPECT_EQ((*r)->request_id.header, name);
  }
}

}  // namespace
}  // namespace weir::http
