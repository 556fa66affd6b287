// Forwarding rules added for issue 5: framing fields written by weir,
// '_' names, client claims (X-Forwarded-*, Forwarded, X-Real-IP), the
// effective authority and normal-form path, and h2c offers.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "serialized_head.h"
#include "weir/http/forward.h"
#include "weir/http/parser.h"

namespace weir::http {
namespace {

using testing::parseRequest;
using testing::split;
using Head = testing::Serialized;

Head forward(const std::string& in, const ForwardOptions& opts = {}, bool trusted = false,
             std::string_view client = "192.0.2.7") {
  RequestHead req = parseRequest(in);
  std::string out;
  writeRequestHead(req, opts, {client, "https", trusted, {}}, out);
  return split(out);
}

Head forwardResponse(const std::string& request, const std::string& response) {
  RequestHead req = parseRequest(request);
  Parser p(Parser::Kind::kResponse, {});
  Parser::Step s = p.execute(response.data(), response.size());
  EXPECT_TRUE(s.flags & Parser::kHeadComplete) << response << "\n" << p.errorReason();
  ResponsePlan plan = planResponse(req, p.response(), false);
  std::string out;
  writeResponseHead(req, p.response(), plan, {}, out);
  return split(out);
}

// ---------------------------------------------------------------------------
// Framing fields are weir's own

TEST(HttpForwardRulesTest, ChunkedRequestsGoUpstreamWithExactlyChunked) {
  for (const char* te : {"chunked", "Chunked", "CHUNKED", ",chunked", ", chunked", " chunked"}) {
    Head h = forward(std::string("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ") + te + "\r\n\r\n");
    EXPECT_EQ(h.values("Transfer-Encoding"), std::vector<std::string>{"chunked"}) << te << "\n" << h.raw;
    EXPECT_NE(h.raw.find("\r\nTransfer-Encoding: chunked\r\n"), std::string::npos) << h.raw;
  }
}

TEST(HttpForwardRulesTest, ContentLengthGoesUpstreamAsWeirReadIt) {
  Head h = forward("POST / HTTP/1.1\r\nHost: a\r\ncontent-length:   007\r\n\r\n");
  EXPECT_EQ(h.values("Content-Length"), std::vector<std::string>{"7"}) << h.raw;
}

TEST(HttpForwardRulesTest, ChunkedResponsesRelayedAsIsSayExactlyChunked) {
  const std::string get = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  struct Case {
    const char* te;
    const char* sent;
  };
  for (const Case& c : std::vector<Case>{{"Chunked", "chunked"},
                                         {", chunked", "chunked"},
                                         {"CHUNKED", "chunked"},
                                         {"gzip, chunked", "gzip, chunked"},
                                         {"gzip,, Chunked", "gzip, chunked"}}) {
    Head h = forwardResponse(get, std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: ") + c.te + "\r\n\r\n");
    EXPECT_EQ(h.values("Transfer-Encoding"), std::vector<std::string>{c.sent}) << c.te;
  }
  // (A Content-Length beside chunked never gets here: llhttp refuses it, 502.)
  Head h = forwardResponse(get, "HTTP/1.1 200 OK\r\ncontent-length: 012\r\n\r\n");
  EXPECT_EQ(h.values("Content-Length"), std::vector<std::string>{"12"});
}

// ---------------------------------------------------------------------------
// Names with '_'

TEST(HttpForwardRulesTest, UnderscoreNamesAreDroppedByDefault) {
  Head h = forward("GET / HTTP/1.1\r\nHost: a\r\nX_Custom: 1\r\nX-Kept: 2\r\n\r\n");
  EXPECT_FALSE(h.has("X_Custom"));
  EXPECT_TRUE(h.has("X-Kept"));
}

TEST(HttpForwardRulesTest, UnderscoreNamesAreForwardedWhenAllowed) {
  ForwardOptions allow;
  allow.underscore_names = UnderscoreNames::kAllow;
  Head h = forward("GET / HTTP/1.1\r\nHost: a\r\nX_Custom: 1\r\n\r\n", allow);
  EXPECT_EQ(h.values("X_Custom"), std::vector<std::string>{"1"});
}

TEST(HttpForwardRulesTest, LookAlikesOfHopByHopAndProxySetFieldsAreNeverForwarded) {
  ForwardOptions allow;
  allow.underscore_names = UnderscoreNames::kAllow;
  for (const char* name : {"Keep_Alive", "Proxy_Connection", "X_Forwarded_For", "X_Forwarded_Proto",
                           "X_Forwarded_Host", "X_Real_IP", "x_real_ip", "HTTP2_Settings"}) {
    for (bool trusted : {false, true}) {
      Head h = forward(std::string("GET / HTTP/1.1\r\nHost: a\r\n") + name + ": evil\r\n\r\n", allow, trusted);
      EXPECT_FALSE(h.has(name)) << name << "\n" << h.raw;
      EXPECT_EQ(h.raw.find("evil"), std::string::npos) << name << "\n" << h.raw;
    }
  }
}

// ---------------------------------------------------------------------------
// Client claims

TEST(HttpForwardRulesTest, ClientClaimsAreReplacedFromAnUntrustedClient) {
  const std::string in =
      "GET / HTTP/1.1\r\nHost: a.example\r\nX-Forwarded-For: 10.0.0.1\r\nForwarded: for=10.0.0.1\r\n"
      "X-Real-IP: 10.0.0.1\r\nX-Forwarded-Proto: ftp\r\nX-Forwarded-Host: evil.example\r\n"
      "x-forwarded-for: 10.0.0.2\r\n\r\n";
  Head h = forward(in);
  EXPECT_EQ(h.values("X-Forwarded-For"), std::vector<std::string>{"192.0.2.7"});
  EXPECT_EQ(h.values("X-Forwarded-Proto"), std::vector<std::string>{"https"});
  EXPECT_EQ(h.values("X-Forwarded-Host"), std::vector<std::string>{"a.example"});
  EXPECT_FALSE(h.has("Forwarded"));
  EXPECT_FALSE(h.has("X-Real-IP"));
  EXPECT_EQ(h.raw.find("10.0.0."), std::string::npos) << h.raw;
  // With weir's own fields turned off, the client's are still not passed on.
  ForwardOptions none;
  none.x_forwarded_for = none.x_forwarded_proto = none.x_forwarded_host = false;
  h = forward(in, none);
  EXPECT_FALSE(h.has("X-Forwarded-For"));
  EXPECT_FALSE(h.has("X-Forwarded-Proto"));
  EXPECT_FALSE(h.has("X-Forwarded-Host"));
  EXPECT_EQ(h.raw.find("10.0.0."), std::string::npos) << h.raw;
  EXPECT_EQ(h.raw.find("evil"), std::string::npos) << h.raw;
}

TEST(HttpForwardRulesTest, ClientClaimsArePassedOnFromATrustedClient) {
  Head h = forward(
      "GET / HTTP/1.1\r\nHost: a.example\r\nX-Forwarded-For: 10.0.0.1\r\nForwarded: for=10.0.0.1\r\n"
      "X-Real-IP: 10.0.0.1\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: front.example\r\n\r\n",
      {}, true);
  EXPECT_EQ(h.values("X-Forwarded-For"), std::vector<std::string>{"10.0.0.1, 192.0.2.7"});
  EXPECT_EQ(h.values("Forwarded"), std::vector<std::string>{"for=10.0.0.1"});
  EXPECT_EQ(h.values("X-Real-IP"), std::vector<std::string>{"10.0.0.1"});
  EXPECT_EQ(h.values("X-Forwarded-Proto"), std::vector<std::string>{"http"});
  EXPECT_EQ(h.values("X-Forwarded-Host"), std::vector<std::string>{"front.example"});
  // Absent ones are set.
  h = forward("GET / HTTP/1.1\r\nHost: a.example\r\n\r\n", {}, true);
  EXPECT_EQ(h.values("X-Forwarded-For"), std::vector<std::string>{"192.0.2.7"});
  EXPECT_EQ(h.values("X-Forwarded-Proto"), std::vector<std::string>{"https"});
  EXPECT_EQ(h.values("X-Forwarded-Host"), std::vector<std::string>{"a.example"});
}

// Found by the header-rules fuzz target: a well-known field that Connection
// names is hop-by-hop too (RFC 9110 7.6.1) and is not passed on.
TEST(HttpForwardRulesTest, WellKnownFieldsNamedByConnectionAreNotForwarded) {
  ForwardOptions no_via;
  no_via.via = false;
  Head h = forward("GET / HTTP/1.1\r\nHost: a\r\nConnection: X-Real-IP, via, x-forwarded-proto\r\n"
                   "X-Real-IP: 10.0.0.1\r\nVia: 1.0 front\r\nX-Forwarded-Proto: http\r\n\r\n",
                   no_via, true);
  EXPECT_FALSE(h.has("X-Real-IP")) << h.raw;
  EXPECT_FALSE(h.has("Via")) << h.raw;
  EXPECT_EQ(h.values("X-Forwarded-Proto"), std::vector<std::string>{"https"}) << "weir's own, since the client's went";
  Parser p(Parser::Kind::kResponse, {});
  const std::string resp = "HTTP/1.1 200 OK\r\nConnection: via\r\nVia: 1.0 other\r\nContent-Length: 0\r\n\r\n";
  p.execute(resp.data(), resp.size());
  RequestHead req = parseRequest("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  std::string out;
  writeResponseHead(req, p.response(), planResponse(req, p.response(), false), no_via, out);
  EXPECT_EQ(out.find("Via"), std::string::npos) << out;
}

// ---------------------------------------------------------------------------
// Target and Host

TEST(HttpForwardRulesTest, AbsoluteFormIsSentAsOriginFormWithHostFromTheTarget) {
  Head h = forward("GET http://a.example/x?y=1 HTTP/1.1\r\nHost: b.example\r\nAccept: */*\r\n\r\n");
  EXPECT_EQ(h.first_line, "GET /x?y=1 HTTP/1.1");
  EXPECT_EQ(h.values("Host"), std::vector<std::string>{"a.example"});
  EXPECT_EQ(h.values("X-Forwarded-Host"), std::vector<std::string>{"a.example"});
  EXPECT_EQ(h.raw.find("b.example"), std::string::npos) << h.raw;
  h = forward("GET http://a.example:8080 HTTP/1.0\r\n\r\n");
  EXPECT_EQ(h.first_line, "GET / HTTP/1.1");
  EXPECT_EQ(h.values("Host"), std::vector<std::string>{"a.example:8080"});
}

TEST(HttpForwardRulesTest, ThePathIsSentInNormalForm) {
  Head h = forward("GET /app/../%61dmin//x/./y%2fz?q=/../%7e HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(h.first_line, "GET /admin/x/y%2Fz?q=/../%7e HTTP/1.1");
}

// ---------------------------------------------------------------------------
// h2c

TEST(HttpForwardRulesTest, H2cOfferIsDropped) {
  Head h = forward(
      "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
      "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n");
  EXPECT_FALSE(h.has("Upgrade")) << h.raw;
  EXPECT_FALSE(h.has("HTTP2-Settings")) << h.raw;
  EXPECT_FALSE(h.has("Connection")) << h.raw;
  // Even when Connection does not name it, HTTP2-Settings is connection-specific.
  h = forward("GET / HTTP/1.1\r\nHost: a\r\nHTTP2-Settings: AAMA\r\n\r\n");
  EXPECT_FALSE(h.has("HTTP2-Settings")) << h.raw;
}

TEST(HttpForwardRulesTest, H2cIsRemovedFromAnUpgradeThatOffersMore) {
  Head h = forward(
      "GET /chat HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: h2c, websocket\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
  EXPECT_EQ(h.values("Upgrade"), std::vector<std::string>{"websocket"});
  EXPECT_EQ(h.values("Connection"), std::vector<std::string>{"upgrade"});
}

}  // namespace
}  // namespace weir::http
