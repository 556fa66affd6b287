// Parser rules added for issue 5: trailers, chunk lines, Transfer-Encoding,
// '_' field names, request-target and Host, version-less request lines,
// status codes below 100, h2 prior knowledge, h2c offers, per-message reset
// and the words of every error.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "weir/http/parser.h"

namespace weir::http {
namespace {

using Step = Parser::Step;
using Kind = Parser::Kind;
constexpr unsigned kHead = Parser::kHeadComplete;
constexpr unsigned kDone = Parser::kMessageComplete;
constexpr unsigned kUpgrade = Parser::kUpgrade;
constexpr unsigned kError = Parser::kError;

struct Outcome {
  unsigned flags = 0;
  size_t consumed = 0;
  int status = 0;
  std::string reason;
  bool accepted() const { return (flags & kDone) && !(flags & kError); }
};

// Feeds `in` in pieces of `piece` bytes (0: all at once), moving past each
// step's consumed bytes as a connection does, until the message completes,
// fails or the input runs out. Bounded in steps.
Outcome feed(Parser& p, std::string_view in, size_t piece = 0) {
  Outcome o;
  size_t off = 0;
  size_t avail = piece == 0 ? in.size() : std::min(piece, in.size());
  for (int guard = 0; guard < 100000; ++guard) {
    Step s = p.execute(in.data() + off, avail - off);
    o.flags |= s.flags;
    off += s.consumed;
    if (s.flags & (kDone | kError | kUpgrade)) break;
    if (s.consumed == 0) {
      if (avail == in.size()) break;
      avail = piece == 0 ? in.size() : std::min(avail + piece, in.size());
    }
  }
  o.consumed = off;
  o.status = p.errorStatus();
  o.reason = std::string(p.errorReason());
  return o;
}

Outcome parse(Kind kind, std::string_view in, const ParserLimits& limits = {}, size_t piece = 0) {
  Parser p(kind, limits);
  return feed(p, in, piece);
}

// Whether fed whole, in pieces of 7 or one byte at a time, the message is
// refused with `status`.
void expectRefused(Kind kind, const std::string& in, int status, const ParserLimits& limits = {}) {
  SCOPED_TRACE(in);
  for (size_t piece : {size_t{0}, size_t{7}, size_t{1}}) {
    Outcome o = parse(kind, in, limits, piece);
    EXPECT_TRUE(o.flags & kError) << "accepted, piece " << piece;
    EXPECT_FALSE(o.flags & kDone) << "piece " << piece;
    EXPECT_EQ(o.status, status) << "piece " << piece << ": " << o.reason;
  }
}

void expectAccepted(Kind kind, const std::string& in, const ParserLimits& limits = {}) {
  SCOPED_TRACE(in);
  for (size_t piece : {size_t{0}, size_t{7}, size_t{1}}) {
    Outcome o = parse(kind, in, limits, piece);
    EXPECT_TRUE(o.accepted()) << "piece " << piece << ": " << o.reason;
    EXPECT_EQ(o.consumed, in.size()) << "piece " << piece;
  }
}

const std::string kChunkedRequestHead = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
const std::string kChunkedResponseHead = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";

std::string chunkedRequest(const std::string& body) { return kChunkedRequestHead + body; }
std::string chunkedResponse(const std::string& body) { return kChunkedResponseHead + body; }

// ---------------------------------------------------------------------------
// Trailers

TEST(HttpParserRulesTest, TrailersAreNotStoredWithTheHead) {
  Parser p(Kind::kRequest, {});
  Outcome o = feed(p, chunkedRequest("3\r\nabc\r\n0\r\nX-Sum: 1\r\nX-Other: 2\r\n\r\n"));
  ASSERT_TRUE(o.accepted()) << o.reason;
  ASSERT_EQ(p.request().fields.size(), 2u);
  EXPECT_EQ(p.request().fields.name(0), "Host");
  EXPECT_EQ(p.request().fields.name(1), "Transfer-Encoding");

  Parser r(Kind::kResponse, {});
  o = feed(r, chunkedResponse("3\r\nabc\r\n0\r\nX-Sum: 1\r\n\r\n"));
  ASSERT_TRUE(o.accepted()) << o.reason;
  EXPECT_EQ(r.response().fields.size(), 1u);
}

TEST(HttpParserRulesTest, TrailerBytesAreBoundedSeparatelyFromTheHead) {
  ParserLimits l;
  l.header_bytes = 1024;
  // A head close to the limit and a trailer section close to it: each is
  // counted on its own.
  std::string head = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nX-Pad: ";
  head += std::string(1024 - head.size() - 4, 'h') + "\r\n\r\n";
  ASSERT_EQ(head.size(), 1024u);
  std::string trailer_pad = "X-T: " + std::string(1024 - 5 - 4, 't') + "\r\n";
  std::string ok = head + "1\r\na\r\n0\r\n" + trailer_pad + "\r\n";
  expectAccepted(Kind::kRequest, ok, l);
  std::string over = head + "1\r\na\r\n0\r\n" + "X-T: " + std::string(1024 - 5 - 4 + 1, 't') + "\r\n\r\n";
  expectRefused(Kind::kRequest, over, 431, l);
  // Responses: 502.
  std::string resp = chunkedResponse("1\r\na\r\n0\r\nX-T: " + std::string(2000, 't') + "\r\n\r\n");
  expectRefused(Kind::kResponse, resp, 502, l);
}

TEST(HttpParserRulesTest, AnEndlessTrailerFieldFailsAtTheLimit) {
  // "0\r\nX-Big: " and then value bytes forever: refused once past the
  // limit, whatever the piece size, and nothing is held meanwhile.
  ParserLimits l;
  l.header_bytes = 4096;
  for (Kind kind : {Kind::kRequest, Kind::kResponse}) {
    Parser p(kind, l);
    std::string head = kind == Kind::kRequest ? kChunkedRequestHead : kChunkedResponseHead;
    ASSERT_EQ(feed(p, head).flags, kHead);
    const std::string_view start = "0\r\nX-Big: ";
    Step s = p.execute(start.data(), start.size());
    size_t fed = s.consumed;
    s = p.execute(start.data() + s.consumed, start.size() - s.consumed);
    fed += s.consumed;
    std::string chunk(1000, 'v');
    unsigned flags = 0;
    for (int i = 0; i < 100 && !(flags & kError); ++i) {
      Step t = p.execute(chunk.data(), chunk.size());
      flags |= t.flags;
      fed += t.consumed;
    }
    EXPECT_TRUE(flags & kError);
    EXPECT_EQ(p.errorStatus(), kind == Kind::kRequest ? 431 : 502);
    EXPECT_EQ(p.errorReason(), "trailer section too large");
    EXPECT_LE(fed, l.header_bytes + 10 + chunk.size());
  }
}

TEST(HttpParserRulesTest, TrailerFieldCountIsBounded) {
  ParserLimits l;
  l.headers = 5;
  std::string five, six;
  for (int i = 0; i < 5; ++i) five += "X-" + std::to_string(i) + ": v\r\n";
  six = five + "X-5: v\r\n";
  // The head has 2 fields; the trailer section may have 5 of its own.
  expectAccepted(Kind::kRequest, chunkedRequest("0\r\n" + five + "\r\n"), l);
  expectRefused(Kind::kRequest, chunkedRequest("0\r\n" + six + "\r\n"), 431, l);
  expectRefused(Kind::kResponse, chunkedResponse("0\r\n" + six + "\r\n"), 502, l);
}

TEST(HttpParserRulesTest, TrailerLineEndingsFollowTheHeadRules) {
  for (const char* body : {
           "0\r\n\n",                     // bare LF ending the trailer section
           "0\r\nX: a\n\r\n",              // bare LF after a trailer field
           "0\r\nX: a\r\n\n",              // bare LF as the last line
           "0\r\nX: a\r\n b\r\n\r\n",      // obs-fold
           "0\r\nX: a\r\n\tb\r\n\r\n",     // obs-fold with HTAB
           "0\r\nX: a\rY: b\r\n\r\n",      // bare CR
           "0\r\n\r\r\n",                  // bare CR in the last line
           "3\r\nabc\r\n0\r\nX: 1\r\n\n",  // after data
       }) {
    expectRefused(Kind::kRequest, chunkedRequest(body), 400);
    expectRefused(Kind::kResponse, chunkedResponse(body), 502);
  }
}

TEST(HttpParserRulesTest, ChunkLineEndingsFollowTheHeadRules) {
  for (const char* body : {
           "3\nabc\r\n0\r\n\r\n",    // bare LF after the size
           "3\r\nabc\n0\r\n\r\n",    // bare LF after the data
           "3\r\nabc\r\n0\n\r\n",    // bare LF after the last chunk
           "3\rabc\r\n0\r\n\r\n",    // bare CR after the size
           "3\r\nabc\r0\r\n\r\n",    // bare CR after the data
           "3\r\nabc\r\r\n0\r\n\r\n",
           "3;a=b\nabc\r\n0\r\n\r\n",  // bare LF after an extension
           "3\r\nabc\r\n 0\r\n\r\n",   // whitespace starting a chunk line
       }) {
    expectRefused(Kind::kRequest, chunkedRequest(body), 400);
    expectRefused(Kind::kResponse, chunkedResponse(body), 502);
  }
}

TEST(HttpParserRulesTest, ChunkDataMayHoldAnyBytes) {
  // Only framing is checked: bare LF, CR and leading spaces inside chunk
  // data are content.
  std::string data = " \n\r x\r\n\n";
  std::string body = "8\r\n" + data + "\r\n2\r\n\r\r\r\n0\r\n\r\n";
  expectAccepted(Kind::kRequest, chunkedRequest(body));
  expectAccepted(Kind::kResponse, chunkedResponse(body));
}

TEST(HttpParserRulesTest, ValidTrailersAndExtensionsAreAccepted) {
  for (const char* body : {"0\r\n\r\n", "3\r\nabc\r\n0\r\nX-Checksum: 1\r\ngrpc-status: 0\r\n\r\n",
                           "3;a=b\r\nabc\r\n0;x=\"q\"\r\n\r\n", "003\r\nabc\r\n0\r\n\r\n", "0\r\nX-Empty:\r\n\r\n"}) {
    expectAccepted(Kind::kRequest, chunkedRequest(body));
    expectAccepted(Kind::kResponse, chunkedResponse(body));
  }
}

TEST(HttpParserRulesTest, FramingAndRoutingFieldsAreRefusedInTrailers) {
  for (const char* field : {"Content-Length: 5", "Transfer-Encoding: chunked", "Host: b", "Connection: close",
                            "Keep-Alive: 5", "Proxy-Connection: x", "TE: trailers", "Trailer: X", "Upgrade: h2c",
                            "HTTP2-Settings: AAA", "content_length: 5", "TRANSFER_ENCODING: chunked",
                            "Keep_Alive: 5"}) {
    std::string body = std::string("3\r\nabc\r\n0\r\n") + field + "\r\n\r\n";
    expectRefused(Kind::kRequest, chunkedRequest(body), 400);
    expectRefused(Kind::kResponse, chunkedResponse(body), 502);
  }
}

TEST(HttpParserRulesTest, ChunkExtensionsAreBounded) {
  ParserLimits l;
  l.chunk_line_bytes = 64;
  // 64 framing bytes between two pieces of data are fine...
  std::string ext = ";" + std::string(64 - 2 - 1 - 2 - 1, 'e');  // CRLF, "3", ";", CRLF
  expectAccepted(Kind::kRequest, chunkedRequest("3\r\nabc\r\n3" + ext + "\r\nabc\r\n0\r\n\r\n"), l);
  // ...one more is not, also on the last chunk and on the first.
  expectRefused(Kind::kRequest, chunkedRequest("3\r\nabc\r\n3" + ext + "e\r\nabc\r\n0\r\n\r\n"), 400, l);
  expectRefused(Kind::kRequest, chunkedRequest("3\r\nabc\r\n0" + ext + "ee\r\n\r\n"), 400, l);
  expectRefused(Kind::kResponse, chunkedResponse("3" + ext + "eeeee\r\nabc\r\n0\r\n\r\n"), 502, l);
  // Leading zeros count too.
  expectRefused(Kind::kRequest, chunkedRequest(std::string(100, '0') + "3\r\nabc\r\n0\r\n\r\n"), 400, l);
}

TEST(HttpParserRulesTest, AnEndlessChunkExtensionFailsAtTheDefaultLimit) {
  Parser p(Kind::kRequest, {});
  ASSERT_EQ(feed(p, kChunkedRequestHead).flags, kHead);
  Step s = p.execute("5;name=", 7);
  ASSERT_EQ(s.consumed, 7u);
  std::string more(512, 'v');
  unsigned flags = 0;
  size_t fed = 7;
  for (int i = 0; i < 100 && !(flags & kError); ++i) {
    Step t = p.execute(more.data(), more.size());
    flags |= t.flags;
    fed += t.consumed;
  }
  EXPECT_TRUE(flags & kError);
  EXPECT_EQ(p.errorStatus(), 400);
  EXPECT_LE(fed, ParserLimits{}.chunk_line_bytes + more.size());
}

// ---------------------------------------------------------------------------
// One reset for all per-message state

TEST(HttpParserRulesTest, Issue5ResponseCutInAHeaderValueThenTheNextResponse) {
  Parser p(Kind::kResponse, {});
  Step s = p.execute("HTTP/1.1 200 OK\r\nX-Long: abc", 27);
  ASSERT_FALSE(s.flags & kError);
  ASSERT_TRUE(p.inHead());
  p.reset();  // the upstream closed; the next exchange reuses the parser
  std::string next = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: b\r\n\r\n0\r\n\r\n";
  Outcome o = feed(p, next);
  ASSERT_TRUE(o.accepted()) << o.reason;
  const HeaderBlock& f = p.response().fields;
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f.name(0), "Transfer-Encoding");
  EXPECT_EQ(f.value(0), "chunked");
  EXPECT_EQ(f.name(1), "X-A");
  EXPECT_EQ(f.value(1), "b");
}

TEST(HttpParserRulesTest, Issue5RequestCutInAHeaderNameOrValueThenTheNextRequest) {
  for (std::string cut : {"GET / HTTP/1.1\r\nHost: a\r\nX-Lo", "GET / HTTP/1.1\r\nHost: a\r\nX-Long: ab",
                          "GET / HTTP/1.1\r\nHost: a\r\nX-Long:", "GET / HTTP/1.1\r\nHost: a\r\nX-Long: ab\r"}) {
    SCOPED_TRACE(cut);
    Parser p(Kind::kRequest, {});
    Step s = p.execute(cut.data(), cut.size());
    ASSERT_FALSE(s.flags & kError) << p.errorReason();
    p.reset();
    Outcome o = feed(p, "GET /n HTTP/1.1\r\nHost: next\r\nCookie: c=1\r\n\r\n");
    ASSERT_TRUE(o.accepted()) << o.reason;
    const HeaderBlock& f = p.request().fields;
    ASSERT_EQ(f.size(), 2u);
    EXPECT_EQ(f.name(0), "Host");
    EXPECT_EQ(f.value(0), "next");
    EXPECT_EQ(f.name(1), "Cookie");
    EXPECT_EQ(f.value(1), "c=1");
  }
}

TEST(HttpParserRulesTest, HeaderBlockClearForgetsAFieldLeftOpen) {
  HeaderBlock b;
  b.beginField();
  b.appendName("X-Long");
  b.appendValue("abc");  // no endField: the message was cut here
  b.clear();
  b.beginField();
  b.appendName("Transfer-Encoding");
  b.appendValue("chun");
  b.appendValue("ked");
  b.endField();
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b.name(0), "Transfer-Encoding");
  EXPECT_EQ(b.value(0), "chunked");
  EXPECT_EQ(b.field(0).token, Token::kTransferEncoding);
}

TEST(HttpParserRulesTest, ResetAfterAnErrorOrInsideTrailersStartsClean) {
  Parser p(Kind::kRequest, {});
  Outcome bad = feed(p, "GET / HTTP/1.1\r\nHost: a\r\nX: a\nb\r\n\r\n");
  ASSERT_TRUE(bad.flags & kError);
  p.reset();
  EXPECT_EQ(p.errorStatus(), 0);
  EXPECT_TRUE(feed(p, "GET / HTTP/1.1\r\nHost: a\r\n\r\n").accepted());

  p.reset();
  ASSERT_EQ(feed(p, kChunkedRequestHead).flags, kHead);
  Step s = p.execute("0\r\nX-T: v", 9);  // inside the trailer section
  ASSERT_FALSE(s.flags & kError);
  p.reset();
  // A new message: "Host" is a head field again, not a refused trailer.
  Outcome o = feed(p, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_TRUE(o.accepted()) << o.reason;
  EXPECT_EQ(p.request().fields.size(), 1u);
}

// ---------------------------------------------------------------------------
// Transfer-Encoding (RFC 9112 6)

TEST(HttpParserRulesTest, TransferEncodingSpellingsRfcAllowsAreChunked) {
  for (const char* te : {"chunked", "Chunked", "CHUNKED", ",chunked", ", chunked", ",, chunked", " chunked"}) {
    SCOPED_TRACE(te);
    Parser p(Kind::kRequest, {});
    Outcome o = feed(p, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: " + std::string(te) +
                            "\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
    EXPECT_TRUE(o.accepted()) << o.reason;
    EXPECT_TRUE(p.request().chunked);
    EXPECT_EQ(p.bodyBytes(), 3u);
  }
}

TEST(HttpParserRulesTest, TransferEncodingRfcRefusesIsRefused) {
  const std::string body = "\r\n0\r\n\r\n";
  struct Bad {
    const char* fields;
    int status;
  };
  for (const Bad& b : std::vector<Bad>{
           {"Transfer-Encoding:\r\nTransfer-Encoding: chunked\r\n", 400},  // an empty field beside chunked
           {"Transfer-Encoding: chunked\r\nTransfer-Encoding:\r\n", 400},
           {"Transfer-Encoding: ,\r\nTransfer-Encoding: chunked\r\n", 400},
           {"Transfer-Encoding: chunked, chunked\r\n", 400},
           {"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", 400},
           {"Transfer-Encoding: chunked, gzip\r\n", 400},
           {"Transfer-Encoding: gzip\r\n", 400},
           {"Transfer-Encoding: chunked,\r\n", 400},  // llhttp refuses a trailing empty element
           {"Transfer-Encoding: gzip, chunked\r\n", 501},
           {"Transfer-Encoding: Gzip, Chunked\r\n", 501},
       }) {
    expectRefused(Kind::kRequest, std::string("POST / HTTP/1.1\r\nHost: a\r\n") + b.fields + body, b.status);
  }
}

TEST(HttpParserRulesTest, TransferEncodingOnHttp10IsRefused) {
  expectRefused(Kind::kRequest, "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400);
  expectRefused(Kind::kRequest, "POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
                400);
  expectRefused(Kind::kResponse, "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 502);
  expectRefused(Kind::kResponse, "HTTP/1.0 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabc", 502);
  // A HEAD response's framing fields frame nothing.
  Parser p(Kind::kResponse, {});
  p.setNoBodyExpected(true);
  EXPECT_TRUE(feed(p, "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").accepted());
}

TEST(HttpParserRulesTest, ResponseTransferEncodingRules) {
  for (const char* te : {"Chunked", ", chunked", "gzip, chunked"}) {
    SCOPED_TRACE(te);
    Parser p(Kind::kResponse, {});
    Outcome o = feed(p, "HTTP/1.1 200 OK\r\nTransfer-Encoding: " + std::string(te) + "\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
    EXPECT_TRUE(o.accepted()) << o.reason;
    EXPECT_TRUE(p.response().chunked);
  }
  for (const char* fields : {"Transfer-Encoding: chunked, gzip\r\n", "Transfer-Encoding:\r\nTransfer-Encoding: chunked\r\n",
                             "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"}) {
    expectRefused(Kind::kResponse, std::string("HTTP/1.1 200 OK\r\n") + fields + "\r\n0\r\n\r\n", 502);
  }
}

// ---------------------------------------------------------------------------
// Field names with '_'

TEST(HttpParserRulesTest, FramingLookAlikesWithUnderscoreAreRefused) {
  for (UnderscoreNames policy : {UnderscoreNames::kDrop, UnderscoreNames::kAllow, UnderscoreNames::kReject}) {
    ParserLimits l;
    l.underscore_names = policy;
    for (const char* field : {"Transfer_Encoding: chunked", "Content_Length: 5", "content_length: 5",
                              "TRANSFER_ENCODING: gzip"}) {
      expectRefused(Kind::kRequest, std::string("GET / HTTP/1.1\r\nHost: a\r\n") + field + "\r\n\r\n", 400, l);
    }
  }
}

TEST(HttpParserRulesTest, OtherUnderscoreNamesFollowThePolicy) {
  const std::string in = "GET / HTTP/1.1\r\nHost: a\r\nX_Custom: 1\r\nKeep_Alive: 5\r\n\r\n";
  for (UnderscoreNames policy : {UnderscoreNames::kDrop, UnderscoreNames::kAllow}) {
    ParserLimits l;
    l.underscore_names = policy;
    Parser p(Kind::kRequest, l);
    ASSERT_TRUE(feed(p, in).accepted());
    const HeaderBlock& f = p.request().fields;
    ASSERT_EQ(f.size(), 3u);
    EXPECT_FALSE(f.field(0).underscore);
    EXPECT_TRUE(f.field(1).underscore);
    EXPECT_EQ(f.field(1).lookalike, Token::kOther);
    EXPECT_TRUE(f.field(2).underscore);
    EXPECT_EQ(f.field(2).lookalike, Token::kKeepAlive);
    EXPECT_EQ(f.field(2).token, Token::kOther);
  }
  ParserLimits reject;
  reject.underscore_names = UnderscoreNames::kReject;
  expectRefused(Kind::kRequest, in, 400, reject);
  // Responses are not subject to the request policy.
  Parser r(Kind::kResponse, reject);
  EXPECT_TRUE(feed(r, "HTTP/1.1 200 OK\r\nX_Custom: 1\r\nContent-Length: 0\r\n\r\n").accepted());
}

// ---------------------------------------------------------------------------
// Request-target and Host

TEST(HttpParserRulesTest, AbsoluteFormAuthorityWinsOverHost) {
  Parser p(Kind::kRequest, {});
  ASSERT_TRUE(feed(p, "GET http://a.example/x/../y?q=/.. HTTP/1.1\r\nHost: b.example\r\n\r\n").accepted());
  const RequestHead& r = p.request();
  EXPECT_EQ(r.target, "http://a.example/x/../y?q=/..");
  EXPECT_EQ(r.path, "/y?q=/..");
  EXPECT_EQ(r.authority, "a.example");
  EXPECT_TRUE(r.absolute_form);

  p.reset();
  ASSERT_TRUE(feed(p, "GET HTTPS://A.example:8443 HTTP/1.0\r\n\r\n").accepted());
  EXPECT_EQ(p.request().path, "/");
  EXPECT_EQ(p.request().authority, "A.example:8443");
}

TEST(HttpParserRulesTest, OriginFormAuthorityIsHost) {
  Parser p(Kind::kRequest, {});
  ASSERT_TRUE(feed(p, "GET /app/../admin/x HTTP/1.1\r\nHost: Shop.Example:80\r\n\r\n").accepted());
  EXPECT_EQ(p.request().target, "/app/../admin/x");
  EXPECT_EQ(p.request().path, "/admin/x");
  EXPECT_EQ(p.request().authority, "Shop.Example:80");
  EXPECT_FALSE(p.request().absolute_form);
  p.reset();
  ASSERT_TRUE(feed(p, "GET /%61dmin/x HTTP/1.0\r\n\r\n").accepted());
  EXPECT_EQ(p.request().path, "/admin/x");
  EXPECT_EQ(p.request().authority, "");
  p.reset();
  ASSERT_TRUE(feed(p, "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n").accepted());
  EXPECT_EQ(p.request().path, "*");
  p.reset();
  ASSERT_TRUE(feed(p, "GET / HTTP/1.1\r\nHost:\r\n\r\n").accepted()) << "an empty Host is valid";
}

TEST(HttpParserRulesTest, InvalidHostValuesAreRefused) {
  for (const char* host : {"a b", "a/b@c", "user@a.example", "a.example:x", "a.example:99999", "[::1", "[zz::1]",
                           "a,b", ":80", "a.example:80:80"}) {
    expectRefused(Kind::kRequest, std::string("GET / HTTP/1.1\r\nHost: ") + host + "\r\n\r\n", 400);
  }
}

TEST(HttpParserRulesTest, InvalidTargetsAreRefused) {
  for (const char* line : {"GET /%zz HTTP/1.1", "GET /a%4 HTTP/1.1", "GET * HTTP/1.1", "GET http://u@a/x HTTP/1.1",
                           "GET ftp://a/x HTTP/1.1", "GET /x#frag HTTP/1.1", "GET http:///x HTTP/1.1",
                           "GET a.example:80 HTTP/1.1"}) {
    expectRefused(Kind::kRequest, std::string(line) + "\r\nHost: a\r\n\r\n", 400);
  }
}

// ---------------------------------------------------------------------------
// Start lines

TEST(HttpParserRulesTest, RequestLineWithoutVersionFailsWhenTheLineEnds) {
  for (size_t piece : {size_t{0}, size_t{1}, size_t{3}}) {
    Parser p(Kind::kRequest, {});
    Outcome o = feed(p, "GET /x\r\n", piece);
    EXPECT_TRUE(o.flags & kError) << "piece " << piece;  // at once, no second CRLF needed
    EXPECT_EQ(o.status, 400);
    EXPECT_EQ(o.reason, "request line has no HTTP/1.x version");
  }
  Outcome o = parse(Kind::kRequest, "GET /x\r\nHost: a\r\n\r\n");
  EXPECT_EQ(o.status, 400);
  EXPECT_EQ(o.reason, "request line has no HTTP/1.x version");
  // Before the line ends, nothing is decided.
  Parser p(Kind::kRequest, {});
  EXPECT_FALSE(p.execute("GET /x", 6).flags & kError);
}

TEST(HttpParserRulesTest, StatusBelow100IsAnInvalidResponse) {
  for (const char* code : {"000", "099", "001", "010"}) {
    expectRefused(Kind::kResponse, std::string("HTTP/1.1 ") + code + " X\r\nContent-Length: 0\r\n\r\n", 502);
  }
  EXPECT_TRUE(parse(Kind::kResponse, "HTTP/1.1 100 Continue\r\n\r\n").accepted());
}

TEST(HttpParserRulesTest, ResponseOtherThanHttp1IsInvalid) {
  for (const char* version : {"HTTP/2.0", "HTTP/0.9", "HTTP/3.0"}) {
    expectRefused(Kind::kResponse, std::string(version) + " 200 OK\r\nContent-Length: 0\r\n\r\n", 502);
  }
  EXPECT_TRUE(parse(Kind::kResponse, "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").accepted());
}

TEST(HttpParserRulesTest, StatusAbove599IsAnInvalidResponse) {
  for (const char* code : {"600", "700", "999"}) {
    expectRefused(Kind::kResponse, std::string("HTTP/1.1 ") + code + " X\r\nContent-Length: 0\r\n\r\n", 502);
  }
  EXPECT_TRUE(parse(Kind::kResponse, "HTTP/1.1 599 Edge\r\nContent-Length: 0\r\n\r\n").accepted());
}

TEST(HttpParserRulesTest, HttpTwoPriorKnowledgeIsACleanRefusal) {
  Outcome o = parse(Kind::kRequest, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
  EXPECT_TRUE(o.flags & kError);
  EXPECT_EQ(o.status, 400);
  EXPECT_NE(o.reason.find("HTTP/2"), std::string::npos) << o.reason;
  EXPECT_EQ(o.reason.find("Pause"), std::string::npos) << o.reason;
}

TEST(HttpParserRulesTest, SwitchingProtocolsLeavesTheNewProtocolsBytes) {
  // Found by the fuzz target: with a Content-Length, llhttp read that many
  // bytes of the tunnel as a body (and the proxy dropped them).
  for (const char* fields : {"Upgrade: websocket\r\nConnection: Upgrade\r\nContent-Length: 4\r\n",
                             "Upgrade: x\r\nContent-Length: 4\r\n", "Upgrade: x\r\nTransfer-Encoding: chunked\r\n"}) {
    std::string head = std::string("HTTP/1.1 101 Switching Protocols\r\n") + fields + "\r\n";
    std::string in = head + "abcdef";
    Parser p(Kind::kResponse, {});
    Step s = p.execute(in.data(), in.size());
    EXPECT_EQ(s.flags, kHead | kDone | kUpgrade) << fields;
    EXPECT_EQ(s.consumed, head.size()) << fields;
    EXPECT_EQ(p.bodyBytes(), 0u) << fields;
  }
}

// ---------------------------------------------------------------------------
// h2c upgrade offers

TEST(HttpParserRulesTest, H2cOfferIsAPlainRequestAndTheNextOneParses) {
  const std::string h2c =
      "GET /x HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
      "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n";
  const std::string next = "GET /y HTTP/1.1\r\nHost: a\r\n\r\n";
  const std::string in = h2c + next;
  Parser p(Kind::kRequest, {});
  Step s = p.execute(in.data(), in.size());
  EXPECT_EQ(s.flags, kHead | kDone) << "no kUpgrade: HTTP goes on";
  EXPECT_EQ(s.consumed, h2c.size());
  EXPECT_FALSE(p.request().upgrade);
  EXPECT_TRUE(p.request().keep_alive);
  p.reset();
  s = p.execute(in.data() + h2c.size(), next.size());
  EXPECT_EQ(s.flags, kHead | kDone);
  EXPECT_EQ(p.request().path, "/y");

  // With a body, the body is parsed as HTTP too.
  const std::string post =
      "POST /x HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: H2C\r\nContent-Length: 3\r\n\r\nabc";
  p.reset();
  Outcome o = feed(p, post + next);
  EXPECT_TRUE(o.accepted());
  EXPECT_FALSE(o.flags & kUpgrade);
  EXPECT_EQ(o.consumed, post.size());
}

TEST(HttpParserRulesTest, OtherUpgradeOffersStayUpgrades) {
  Parser p(Kind::kRequest, {});
  Outcome o = feed(p, "GET /x HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: h2c, websocket\r\n\r\n");
  EXPECT_TRUE(o.flags & kUpgrade);
  EXPECT_TRUE(p.request().upgrade);
}

// ---------------------------------------------------------------------------
// Error words

// Phrases that only llhttp uses; none may reach an error response or a log.
bool soundsLikeLlhttp(std::string_view reason) {
  for (const char* marker : {"Pause", "encountered", "Expected", "Invalid", "Unexpected", "Missing", "callback",
                             "Span", "`", "Paused", "HPE_", "overflow", "Duplicate", "Empty", "Request has",
                             "Response overflow", "Data after"}) {
    if (reason.find(marker) != std::string_view::npos) return true;
  }
  return false;
}

TEST(HttpParserRulesTest, EveryLlhttpErrorHasOperatorWords) {
  for (int e = 0; e <= 40; ++e) {
    for (Kind kind : {Kind::kRequest, Kind::kResponse}) {
      for (bool in_body : {false, true}) {
        const char* w = Parser::describeError(static_cast<llhttp_errno_t>(e), kind, in_body);
        ASSERT_NE(w, nullptr);
        EXPECT_GT(std::strlen(w), 3u) << e;
        EXPECT_FALSE(soundsLikeLlhttp(w)) << e << ": " << w;
      }
    }
  }
  EXPECT_STREQ(Parser::describeError(HPE_INVALID_METHOD, Kind::kRequest, false), "invalid method");
  EXPECT_STREQ(Parser::describeError(HPE_INVALID_CHUNK_SIZE, Kind::kRequest, true), "malformed chunk-size line");
}

// llhttp has one code for two faults; the words name the one that happened.
TEST(HttpParserRulesTest, ContentLengthFaultsAreNamedForWhatTheyAre) {
  for (Kind kind : {Kind::kRequest, Kind::kResponse}) {
    const std::string first = kind == Kind::kRequest ? "POST / HTTP/1.1\r\nHost: a\r\n" : "HTTP/1.1 200 OK\r\n";
    Outcome twice = parse(kind, first + "Content-Length: 2\r\nContent-Length: 3\r\n\r\nok");
    EXPECT_TRUE(twice.flags & kError);
    EXPECT_EQ(twice.reason, "Content-Length given more than once");
    Outcome both = parse(kind, first + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n");
    EXPECT_TRUE(both.flags & kError);
    EXPECT_NE(both.reason.find("Transfer-Encoding"), std::string::npos) << both.reason;
  }
}

TEST(HttpParserRulesTest, RefusedMessagesNeverCarryLlhttpWords) {
  const std::vector<std::string> requests = {
      "FOO / HTTP/1.1\r\nHost: a\r\n\r\n",
      "GET / HTTP/1.1 x\r\nHost: a\r\n\r\n",
      "GET / HTTP/9.9\r\nHost: a\r\n\r\n",
      "GET / XTTP/1.1\r\nHost: a\r\n\r\n",
      "GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n",
      "GET / HTTP/1.1\r\nHo st: a\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\x01\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
      chunkedRequest("zz\r\n"),
      chunkedRequest("3\r\nabcX"),
      chunkedRequest("fffffffffffffffffff\r\n"),
      chunkedRequest("3;\x01\r\nabc\r\n0\r\n\r\n"),
      chunkedRequest("0\r\nX\x01: a\r\n\r\n"),
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
      "GET /x\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\n X: b\r\n\r\n",
      " GET / HTTP/1.1\r\nHost: a\r\n\r\n",
  };
  for (const std::string& in : requests) {
    Outcome o = parse(Kind::kRequest, in);
    ASSERT_TRUE(o.flags & kError) << in;
    EXPECT_FALSE(soundsLikeLlhttp(o.reason)) << in << " -> " << o.reason;
    EXPECT_FALSE(o.reason.empty()) << in;
  }
  const std::vector<std::string> responses = {
      "HTTP/1.1 2000 OK\r\n\r\n",
      "HTTP/1.1 20 OK\r\n\r\n",
      "XTTP/1.1 200 OK\r\n\r\n",
      "HTTP/1.1 200 OK\r\nX: \x01\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
      chunkedResponse("zz\r\n"),
      chunkedResponse("3\r\nabcX"),
  };
  for (const std::string& in : responses) {
    Outcome o = parse(Kind::kResponse, in);
    ASSERT_TRUE(o.flags & kError) << in;
    EXPECT_EQ(o.status, 502);
    EXPECT_FALSE(soundsLikeLlhttp(o.reason)) << in << " -> " << o.reason;
  }
}

}  // namespace
}  // namespace weir::http

namespace weir::http {
namespace {

// Found by the header-rules fuzz target: a 101 without Upgrade was relayed.
TEST(HttpParserRulesTest, SwitchingProtocolsWithoutUpgradeIsInvalid) {
  Parser p(Parser::Kind::kResponse, {});
  const std::string in = "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\n\r\n";
  Parser::Step s = p.execute(in.data(), in.size());
  EXPECT_TRUE(s.flags & Parser::kError);
  EXPECT_EQ(p.errorStatus(), 502);
  EXPECT_EQ(p.errorReason(), "101 Switching Protocols without Upgrade");
}

}  // namespace
}  // namespace weir::http
