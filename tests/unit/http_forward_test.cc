#include "weir/http/forward.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "serialized_head.h"
#include "weir/http/parser.h"
#include "weir/http/token.h"

namespace weir::http {
namespace {

constexpr unsigned kHead = Parser::kHeadComplete;
constexpr unsigned kDone = Parser::kMessageComplete;

using testing::Fields;
using testing::parseRequest;
using testing::parseResponse;
using testing::Serialized;
using testing::split;

Serialized forwardRequest(const std::string& in, const ForwardOptions& opts = {},
                          std::string_view client = "192.0.2.7", std::string_view scheme = "http",
                          bool trusted = false) {
  RequestHead req = parseRequest(in);
  std::string out;
  writeRequestHead(req, opts, {client, scheme, trusted, {}}, out);
  Serialized s = split(out);
  EXPECT_TRUE(s.well_formed) << out;
  return s;
}

// ---------------------------------------------------------------------------
// Request heads

TEST(HttpForwardTest, RequestLineIsHttp11WithTargetAsSent) {
  Serialized s = forwardRequest("GET /a/b?c=d%20e HTTP/1.1\r\nHost: example.com\r\n\r\n");
  EXPECT_EQ(s.first_line, "GET /a/b?c=d%20e HTTP/1.1");
  s = forwardRequest("OPTIONS * HTTP/1.0\r\nHost: example.com\r\n\r\n");
  EXPECT_EQ(s.first_line, "OPTIONS * HTTP/1.1");
}

TEST(HttpForwardTest, EndToEndFieldsKeptInOrder) {
  Serialized s = forwardRequest(
      "POST /x HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\nCookie: a=1\r\n"
      "Content-Length: 3\r\nX-Custom: y\r\nCookie: b=2\r\n\r\n");
  ASSERT_GE(s.fields.size(), 5u);
  Fields first(s.fields.begin(), s.fields.begin() + 5);
  EXPECT_EQ(first, (Fields{{"Host", "example.com"},
                           {"Accept", "*/*"},
                           {"Cookie", "a=1"},
                           {"X-Custom", "y"},
                           {"Cookie", "b=2"}}));
  // Framing fields are weir's own, written after the end-to-end ones.
  EXPECT_EQ(s.values("Content-Length"), std::vector<std::string>{"3"});
}

TEST(HttpForwardTest, HopByHopFieldsAreStripped) {
  Serialized s = forwardRequest(
      "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\n"
      "Trailer: X-Sum\r\nUpgrade: h2c\r\nProxy-Connection: keep-alive\r\nX-Kept: 1\r\n\r\n");
  for (const char* name : {"Connection", "Keep-Alive", "TE", "Trailer", "Upgrade", "Proxy-Connection"}) {
    EXPECT_FALSE(s.has(name)) << name;
  }
  EXPECT_EQ(s.values("X-Kept"), std::vector<std::string>{"1"});
}

TEST(HttpForwardTest, FieldsNamedByConnectionAreStripped) {
  Serialized s = forwardRequest(
      "GET / HTTP/1.1\r\nHost: a\r\nConnection: close, X-Secret\r\nX-Secret: s\r\n"
      "connection: x-other ,\r\nX-OTHER: o\r\nX-Kept: k\r\n\r\n");
  EXPECT_FALSE(s.has("X-Secret"));
  EXPECT_FALSE(s.has("X-Other"));
  EXPECT_FALSE(s.has("Connection"));
  EXPECT_TRUE(s.has("X-Kept"));
}

TEST(HttpForwardTest, ManyConnectionOptionsAreAllStripped) {
  // More names than the fast path holds.
  std::string fields = "Host: a\r\nConnection: ";
  for (int i = 0; i < 12; ++i) fields += (i ? ", X-Opt-" : "X-Opt-") + std::to_string(i);
  fields += "\r\n";
  for (int i = 0; i < 12; ++i) fields += "X-Opt-" + std::to_string(i) + ": v\r\n";
  fields += "X-Kept: k\r\n";
  Serialized s = forwardRequest("GET / HTTP/1.1\r\n" + fields + "\r\n");
  for (int i = 0; i < 12; ++i) EXPECT_FALSE(s.has("X-Opt-" + std::to_string(i))) << i;
  EXPECT_TRUE(s.has("X-Kept"));
}

TEST(HttpForwardTest, XForwardedForIsAppendedForATrustedClient) {
  Serialized s = forwardRequest("GET / HTTP/1.1\r\nHost: a\r\n\r\n", {}, "192.0.2.7", "http", true);
  EXPECT_EQ(s.values("X-Forwarded-For"), std::vector<std::string>{"192.0.2.7"});

  s = forwardRequest(
      "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 198.51.100.1\r\nx-forwarded-for: 198.51.100.2, "
      "198.51.100.3\r\n\r\n",
      {}, "2001:db8::1", "http", true);
  EXPECT_EQ(s.values("X-Forwarded-For"),
            std::vector<std::string>{"198.51.100.1, 198.51.100.2, 198.51.100.3, 2001:db8::1"});
}

TEST(HttpForwardTest, XForwardedProtoAndHostAreSet) {
  Serialized s = forwardRequest(
      "GET / HTTP/1.1\r\nHost: Shop.Example.com:8443\r\nX-Forwarded-Proto: ftp\r\n"
      "X-Forwarded-Host: evil.example\r\n\r\n",
      {}, "192.0.2.7", "https");
  EXPECT_EQ(s.values("X-Forwarded-Proto"), std::vector<std::string>{"https"});
  EXPECT_EQ(s.values("X-Forwarded-Host"), std::vector<std::string>{"Shop.Example.com:8443"});
  EXPECT_EQ(s.values("Host"), std::vector<std::string>{"Shop.Example.com:8443"});
}

TEST(HttpForwardTest, ViaIsAppendedWithTheSendersVersion) {
  Serialized s = forwardRequest("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(s.values("Via"), std::vector<std::string>{"1.1 weir"});
  s = forwardRequest("GET / HTTP/1.0\r\nHost: a\r\n\r\n");
  EXPECT_EQ(s.values("Via"), std::vector<std::string>{"1.0 weir"});
  s = forwardRequest("GET / HTTP/1.1\r\nHost: a\r\nVia: 1.1 cdn\r\nVia: 1.0 corp (Squid)\r\n\r\n");
  EXPECT_EQ(s.values("Via"), std::vector<std::string>{"1.1 cdn, 1.0 corp (Squid), 1.1 weir"});
}

TEST(HttpForwardTest, Http10WithoutHostGetsAnEmptyHost) {
  Serialized s = forwardRequest("GET / HTTP/1.0\r\nAccept: */*\r\n\r\n");
  EXPECT_EQ(s.values("Host"), std::vector<std::string>{""});
  EXPECT_FALSE(s.has("X-Forwarded-Host"));
  // and with a Host, exactly the one it sent
  s = forwardRequest("GET / HTTP/1.0\r\nHost: old.example\r\n\r\n");
  EXPECT_EQ(s.values("Host"), std::vector<std::string>{"old.example"});
}

TEST(HttpForwardTest, OptionsTurnEachFieldOff) {
  const std::string in =
      "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 198.51.100.1\r\nX-Forwarded-Proto: https\r\n"
      "X-Forwarded-Host: b\r\nVia: 1.1 cdn\r\n\r\n";
  // From a trusted client (untrusted ones: ClientClaimsAreReplacedFromAnUntrustedClient).
  auto forwardTrusted = [](const std::string& req, const ForwardOptions& o) {
    return forwardRequest(req, o, "192.0.2.7", "http", true);
  };
  ForwardOptions all_on;
  Serialized on = forwardTrusted(in, all_on);
  EXPECT_EQ(on.values("X-Forwarded-For"), std::vector<std::string>{"198.51.100.1, 192.0.2.7"});

  ForwardOptions no_xff;
  no_xff.x_forwarded_for = false;
  Serialized s = forwardTrusted(in, no_xff);
  EXPECT_EQ(s.values("X-Forwarded-For"), std::vector<std::string>{"198.51.100.1"});  // passed on untouched
  EXPECT_EQ(s.values("X-Forwarded-Proto"), std::vector<std::string>{"https"});  // the trusted client's

  ForwardOptions no_xfp;
  no_xfp.x_forwarded_proto = false;
  s = forwardTrusted(in, no_xfp);
  EXPECT_EQ(s.values("X-Forwarded-Proto"), std::vector<std::string>{"https"});
  EXPECT_EQ(s.values("X-Forwarded-Host"), std::vector<std::string>{"b"});  // the trusted client's

  ForwardOptions no_xfh;
  no_xfh.x_forwarded_host = false;
  s = forwardTrusted(in, no_xfh);
  EXPECT_EQ(s.values("X-Forwarded-Host"), std::vector<std::string>{"b"});
  EXPECT_EQ(s.values("Via"), std::vector<std::string>{"1.1 cdn, 1.1 weir"});

  ForwardOptions no_via;
  no_via.via = false;
  s = forwardTrusted(in, no_via);
  EXPECT_EQ(s.values("Via"), std::vector<std::string>{"1.1 cdn"});

  ForwardOptions none{false, false, false, false};
  s = forwardRequest("GET / HTTP/1.1\r\nHost: a\r\n\r\n", none);
  EXPECT_EQ(s.names(), std::vector<std::string>{"Host"});
}

TEST(HttpForwardTest, UpgradeRequestKeepsUpgrade) {
  Serialized s = forwardRequest(
      "GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
  EXPECT_EQ(s.values("Upgrade"), std::vector<std::string>{"websocket"});
  EXPECT_EQ(s.values("Connection"), std::vector<std::string>{"upgrade"});
  EXPECT_EQ(s.values("Sec-WebSocket-Key"), std::vector<std::string>{"dGhlIHNhbXBsZSBub25jZQ=="});
}

TEST(HttpForwardTest, BodyFramingFieldsPassThrough) {
  Serialized s = forwardRequest("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_EQ(s.values("Transfer-Encoding"), std::vector<std::string>{"chunked"});
  s = forwardRequest("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 42\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_EQ(s.values("Content-Length"), std::vector<std::string>{"42"});
  EXPECT_EQ(s.values("Expect"), std::vector<std::string>{"100-continue"});
}

TEST(HttpForwardTest, ForwardedRequestParsesBackToTheSameMessage) {
  std::string in =
      "PUT /doc HTTP/1.0\r\nHost: a.example\r\nConnection: keep-alive\r\nContent-Length: 5\r\n"
      "X-Forwarded-For: 198.51.100.1\r\nUser-Agent: t\r\n\r\n";
  RequestHead req = parseRequest(in);
  std::string out;
  out = "stale";  // output is appended to
  writeRequestHead(req, {}, {"192.0.2.7", "http", false, {}}, out);
  ASSERT_EQ(out.rfind("stale", 0), 0u);
  out.erase(0, 5);
  Parser p(Parser::Kind::kRequest, {});
  Parser::Step st = p.execute(out.data(), out.size());
  ASSERT_EQ(st.flags, kHead) << out << p.errorReason();
  EXPECT_EQ(st.consumed, out.size());
  EXPECT_EQ(p.request().target, "/doc");
  EXPECT_TRUE(p.request().keep_alive);  // HTTP/1.1 upstream, persistent
  EXPECT_EQ(p.request().content_length, 5u);
}

// ---------------------------------------------------------------------------
// Response framing

struct PlanCase {
  const char* request;
  const char* response;
  bool head = false;
  bool want_close = false;
  BodyMode body;
  bool close;
  bool upgrade = false;
};

TEST(HttpForwardTest, PlanResponseFramingTable) {
  const char* get11 = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  const char* get11_close = "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
  const char* get10 = "GET / HTTP/1.0\r\n\r\n";
  const char* get10_ka = "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
  const char* head11 = "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n";
  const char* ws = "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n";
  const char* cl = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
  const char* chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  const char* eof = "HTTP/1.1 200 OK\r\n\r\n";
  const char* eof10 = "HTTP/1.0 200 OK\r\n\r\n";
  const PlanCase cases[] = {
      {get11, cl, false, false, BodyMode::kAsIs, false},
      {get11, chunked, false, false, BodyMode::kAsIs, false},
      {get11, eof, false, false, BodyMode::kChunkWrap, false},
      {get11, eof10, false, false, BodyMode::kChunkWrap, false},
      {get11_close, cl, false, false, BodyMode::kAsIs, true},
      {get11_close, eof, false, false, BodyMode::kChunkWrap, true},
      {get11, cl, false, true, BodyMode::kAsIs, true},
      {get10, cl, false, false, BodyMode::kAsIs, true},
      {get10_ka, cl, false, false, BodyMode::kAsIs, false},
      {get10_ka, chunked, false, false, BodyMode::kDechunk, true},
      {get10, chunked, false, false, BodyMode::kDechunk, true},
      {get10_ka, eof, false, false, BodyMode::kAsIs, true},
      {get10, eof, false, false, BodyMode::kAsIs, true},
      {head11, cl, true, false, BodyMode::kNone, false},
      {head11, chunked, true, false, BodyMode::kNone, false},
      {get11, "HTTP/1.1 204 No Content\r\n\r\n", false, false, BodyMode::kNone, false},
      {get11, "HTTP/1.1 304 Not Modified\r\nETag: \"e\"\r\n\r\n", false, false, BodyMode::kNone, false},
      {get10_ka, "HTTP/1.1 304 Not Modified\r\n\r\n", false, false, BodyMode::kNone, false},
      {get11, "HTTP/1.1 100 Continue\r\n\r\n", false, false, BodyMode::kNone, false},
      {ws, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n", false,
       false, BodyMode::kNone, false, true},
  };
  for (const PlanCase& c : cases) {
    SCOPED_TRACE(std::string(c.request) + c.response + (c.want_close ? "want_close" : ""));
    RequestHead req = parseRequest(c.request);
    ResponseHead resp = parseResponse(c.response, c.head);
    ResponsePlan plan = planResponse(req, resp, c.want_close);
    EXPECT_EQ(static_cast<int>(plan.body), static_cast<int>(c.body));
    EXPECT_EQ(plan.close, c.close);
    EXPECT_EQ(plan.upgrade, c.upgrade);
  }
}

Serialized forwardResponse(const std::string& request, const std::string& response, bool want_close = false,
                           const ForwardOptions& opts = {}, ResponsePlan* plan_out = nullptr) {
  RequestHead req = parseRequest(request);
  ResponseHead resp = parseResponse(response, req.method == HTTP_HEAD);
  ResponsePlan plan = planResponse(req, resp, want_close);
  if (plan_out) *plan_out = plan;
  std::string out;
  writeResponseHead(req, resp, plan, opts, out);
  Serialized s = split(out);
  EXPECT_TRUE(s.well_formed) << out;
  return s;
}

TEST(HttpForwardTest, ResponseStatusLine) {
  Serialized s = forwardResponse("GET / HTTP/1.1\r\nHost: a\r\n\r\n",
                                 "HTTP/1.1 418 I'm a teapot\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(s.first_line, "HTTP/1.1 418 I'm a teapot");
  s = forwardResponse("GET / HTTP/1.1\r\nHost: a\r\n\r\n", "HTTP/1.0 404 \r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(s.first_line, "HTTP/1.1 404 Not Found");  // empty reason: ours
}

TEST(HttpForwardTest, ResponseConnectionField) {
  // closing: Connection: close
  Serialized s = forwardResponse("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
                                 "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_EQ(s.values("Connection"), std::vector<std::string>{"close"});
  // HTTP/1.0 client kept alive: it must be told
  s = forwardResponse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
                      "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(s.values("Connection"), std::vector<std::string>{"keep-alive"});
  // HTTP/1.1 client kept alive: nothing to say, and the upstream's own
  // Connection field is hop-by-hop
  s = forwardResponse("GET / HTTP/1.1\r\nHost: a\r\n\r\n",
                      "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  EXPECT_FALSE(s.has("Connection"));
  // the proxy's own reason to close
  s = forwardResponse("GET / HTTP/1.1\r\nHost: a\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true);
  EXPECT_EQ(s.values("Connection"), std::vector<std::string>{"close"});
}

TEST(HttpForwardTest, ResponseHopByHopFieldsAreStripped) {
  Serialized s = forwardResponse(
      "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: X-Internal\r\nX-Internal: secret\r\n"
      "Keep-Alive: timeout=5\r\nTrailer: X-Sum\r\nProxy-Connection: close\r\nUpgrade: h2c\r\n"
      "Set-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n");
  for (const char* name : {"X-Internal", "Keep-Alive", "Trailer", "Proxy-Connection", "Upgrade", "Connection"}) {
    EXPECT_FALSE(s.has(name)) << name;
  }
  EXPECT_EQ(s.values("Set-Cookie"), (std::vector<std::string>{"a=1", "b=2"}));
  EXPECT_EQ(s.values("Content-Length"), std::vector<std::string>{"0"});
}

TEST(HttpForwardTest, ChunkWrapAddsTransferEncoding) {
  ResponsePlan plan;
  Serialized s = forwardResponse("GET / HTTP/1.1\r\nHost: a\r\n\r\n", "HTTP/1.0 200 OK\r\nServer: old\r\n\r\n",
                                 false, {}, &plan);
  ASSERT_EQ(plan.body, BodyMode::kChunkWrap);
  EXPECT_EQ(s.values("Transfer-Encoding"), std::vector<std::string>{"chunked"});
  EXPECT_FALSE(s.has("Content-Length"));
  EXPECT_FALSE(s.has("Connection"));  // the client connection stays open
}

TEST(HttpForwardTest, ChunkWrapKeepsTheUpstreamCodings) {
  ResponsePlan plan;
  Serialized s = forwardResponse("GET / HTTP/1.1\r\nHost: a\r\n\r\n",
                                 "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nConnection: close\r\n\r\n", false,
                                 {}, &plan);
  ASSERT_EQ(plan.body, BodyMode::kChunkWrap);
  EXPECT_EQ(s.values("Transfer-Encoding"), std::vector<std::string>{"gzip, chunked"});
}

TEST(HttpForwardTest, DechunkDropsTransferEncodingAndCloses) {
  ResponsePlan plan;
  Serialized s = forwardResponse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
                                 "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nServer: new\r\n\r\n", false, {},
                                 &plan);
  ASSERT_EQ(plan.body, BodyMode::kDechunk);
  EXPECT_FALSE(s.has("Transfer-Encoding"));
  EXPECT_FALSE(s.has("Content-Length"));
  EXPECT_EQ(s.values("Connection"), std::vector<std::string>{"close"});
  EXPECT_EQ(s.values("Server"), std::vector<std::string>{"new"});
}

TEST(HttpForwardTest, ChunkedRelayedAsIsKeepsOneTransferEncoding) {
  Serialized s = forwardResponse("GET / HTTP/1.1\r\nHost: a\r\n\r\n",
                                 "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_EQ(s.values("Transfer-Encoding"), std::vector<std::string>{"chunked"});
}

TEST(HttpForwardTest, HeadResponseKeepsItsFramingFields) {
  ResponsePlan plan;
  Serialized s = forwardResponse("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n",
                                 "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", false, {}, &plan);
  ASSERT_EQ(plan.body, BodyMode::kNone);
  EXPECT_EQ(s.values("Content-Length"), std::vector<std::string>{"1234"});
  EXPECT_FALSE(s.has("Transfer-Encoding"));
}

TEST(HttpForwardTest, ResponseViaUsesTheUpstreamVersion) {
  Serialized s = forwardResponse("GET / HTTP/1.1\r\nHost: a\r\n\r\n",
                                 "HTTP/1.0 200 OK\r\nContent-Length: 0\r\nVia: 1.1 inner\r\n\r\n");
  EXPECT_EQ(s.values("Via"), std::vector<std::string>{"1.1 inner, 1.0 weir"});
  s = forwardResponse("GET / HTTP/1.0\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(s.values("Via"), std::vector<std::string>{"1.1 weir"});
  ForwardOptions no_via;
  no_via.via = false;
  s = forwardResponse("GET / HTTP/1.1\r\nHost: a\r\n\r\n",
                      "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nVia: 1.1 inner\r\n\r\n", false, no_via);
  EXPECT_EQ(s.values("Via"), std::vector<std::string>{"1.1 inner"});
}

TEST(HttpForwardTest, SwitchingProtocolsKeepsUpgrade) {
  ResponsePlan plan;
  Serialized s = forwardResponse(
      "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
      false, {}, &plan);
  ASSERT_TRUE(plan.upgrade);
  EXPECT_EQ(s.first_line, "HTTP/1.1 101 Switching Protocols");
  EXPECT_EQ(s.values("Connection"), std::vector<std::string>{"upgrade"});
  EXPECT_EQ(s.values("Upgrade"), std::vector<std::string>{"websocket"});
  EXPECT_EQ(s.values("Sec-WebSocket-Accept"), std::vector<std::string>{"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="});
}

TEST(HttpForwardTest, ForwardedResponseParsesWithTheChosenFraming) {
  struct Case {
    const char* request;
    const char* response;
    bool chunked;
    bool until_close;
  };
  const Case cases[] = {
      {"GET / HTTP/1.1\r\nHost: a\r\n\r\n", "HTTP/1.0 200 OK\r\n\r\n", true, false},
      {"GET / HTTP/1.0\r\n\r\n", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false, true},
      {"GET / HTTP/1.1\r\nHost: a\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", false, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.request) + c.response);
    RequestHead req = parseRequest(c.request);
    ResponseHead resp = parseResponse(c.response);
    std::string out;
    writeResponseHead(req, resp, planResponse(req, resp, false), {}, out);
    Parser p(Parser::Kind::kResponse, {});
    Parser::Step st = p.execute(out.data(), out.size());
    ASSERT_TRUE(st.flags & kHead) << out << p.errorReason();
    EXPECT_EQ(st.consumed, out.size());
    EXPECT_EQ(p.response().chunked, c.chunked);
    EXPECT_EQ(p.response().until_close, c.until_close);
  }
}

// ---------------------------------------------------------------------------
// Error responses

TEST(HttpForwardTest, ErrorResponseIsCompleteAndFramed) {
  for (int status : {400, 404, 408, 413, 414, 431, 500, 501, 502, 503, 504, 299, 499, 599}) {
    for (bool close : {false, true}) {
      SCOPED_TRACE(std::to_string(status) + (close ? " close" : " keep"));
      std::string out;
      writeErrorResponse(status, close, out);
      Parser p(Parser::Kind::kResponse, {});
      std::string next = "HTTP/1.1 200 OK\r\n";
      std::string in = out + next;
      size_t off = 0;
      unsigned flags = 0;
      while (!(flags & (kDone | Parser::kError)) && off < in.size()) {
        Parser::Step st = p.execute(in.data() + off, in.size() - off);
        flags |= st.flags;
        off += st.consumed;
        if (st.consumed == 0 && !(st.flags & kDone)) break;
      }
      ASSERT_EQ(flags, kHead | kDone) << out << p.errorReason();
      EXPECT_EQ(off, out.size());  // Content-Length covers exactly the body
      EXPECT_EQ(p.response().status, status);
      EXPECT_EQ(p.response().reason, reasonPhrase(status));
      EXPECT_EQ(p.bodyBytes(), p.response().content_length);
      EXPECT_GT(p.bodyBytes(), 0u);
      EXPECT_EQ(p.response().keep_alive, !close);
      std::string body = out.substr(out.size() - p.bodyBytes());
      EXPECT_EQ(body.rfind(std::to_string(status), 0), 0u) << body;
    }
  }
}

TEST(HttpForwardTest, ReasonPhrases) {
  EXPECT_EQ(reasonPhrase(200), "OK");
  EXPECT_EQ(reasonPhrase(404), "Not Found");
  EXPECT_EQ(reasonPhrase(413), "Content Too Large");
  EXPECT_EQ(reasonPhrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(reasonPhrase(502), "Bad Gateway");
  EXPECT_EQ(reasonPhrase(299), "Unknown");
  EXPECT_EQ(reasonPhrase(451), "Client Error");
  EXPECT_EQ(reasonPhrase(599), "Server Error");
}

// ---------------------------------------------------------------------------
// Header tokens (weir/http/token.h)

TEST(HttpForwardTokenTest, LookupIsCaseInsensitive) {
  const std::pair<const char*, Token> known[] = {
      {"Connection", Token::kConnection},       {"CONTENT-LENGTH", Token::kContentLength},
      {"expect", Token::kExpect},               {"hOsT", Token::kHost},
      {"Keep-Alive", Token::kKeepAlive},        {"Proxy-Connection", Token::kProxyConnection},
      {"TE", Token::kTE},                       {"te", Token::kTE},
      {"Trailer", Token::kTrailer},             {"Transfer-Encoding", Token::kTransferEncoding},
      {"Upgrade", Token::kUpgrade},             {"VIA", Token::kVia},
      {"X-Forwarded-For", Token::kXForwardedFor}, {"x-forwarded-host", Token::kXForwardedHost},
      {"X-Forwarded-Proto", Token::kXForwardedProto},
  };
  for (const auto& [name, token] : known) {
    EXPECT_EQ(lookupToken(name), token) << name;
  }
}

TEST(HttpForwardTokenTest, UnknownNamesAreOther) {
  for (const char* name : {"", "T", "Hos", "Hostt", "Host ", " Host", "Content-Lengt", "Transfer-Encodings",
                           "X-Forwarded-Port", "Trailers", "Vias", "Connectio", "Cookie", "Tf"}) {
    EXPECT_EQ(lookupToken(name), Token::kOther) << '"' << name << '"';
  }
}

TEST(HttpForwardTokenTest, HopByHopSet) {
  for (Token t : {Token::kConnection, Token::kKeepAlive, Token::kProxyConnection, Token::kTE, Token::kTrailer,
                  Token::kUpgrade}) {
    EXPECT_TRUE(isHopByHop(t)) << static_cast<int>(t);
  }
  for (Token t : {Token::kOther, Token::kContentLength, Token::kTransferEncoding, Token::kHost, Token::kVia,
                  Token::kExpect, Token::kXForwardedFor}) {
    EXPECT_FALSE(isHopByHop(t)) << static_cast<int>(t);
  }
}

TEST(HttpForwardTokenTest, EqualsIgnoreCase) {
  EXPECT_TRUE(equalsIgnoreCase("Chunked", "cHUNKED"));
  EXPECT_TRUE(equalsIgnoreCase("", ""));
  EXPECT_FALSE(equalsIgnoreCase("chunked", "chunke"));
  EXPECT_FALSE(equalsIgnoreCase("a-b", "a_b"));
  EXPECT_FALSE(equalsIgnoreCase("[", "{"));  // only letters fold
}

std::vector<std::string> elements(std::string_view value) {
  std::vector<std::string> out;
  forEachListElement(value, [&](std::string_view e) { out.emplace_back(e); });
  return out;
}

TEST(HttpForwardTokenTest, ForEachListElement) {
  using V = std::vector<std::string>;
  EXPECT_EQ(elements("gzip, chunked"), (V{"gzip", "chunked"}));
  EXPECT_EQ(elements("chunked"), (V{"chunked"}));
  EXPECT_EQ(elements(" \ta ,\tb\t, c d "), (V{"a", "b", "c d"}));
  EXPECT_EQ(elements(",, a,,b ,"), (V{"a", "b"}));
  EXPECT_EQ(elements(""), V{});
  EXPECT_EQ(elements(" , ,"), V{});
  EXPECT_EQ(elements("close,"), (V{"close"}));
}

}  // namespace
}  // namespace weir::http
