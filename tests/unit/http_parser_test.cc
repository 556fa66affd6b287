#include "weir/http/parser.h"

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <string>
#include <vector>

namespace weir::http {
namespace {

using Step = Parser::Step;
constexpr unsigned kHead = Parser::kHeadComplete;
constexpr unsigned kDone = Parser::kMessageComplete;
constexpr unsigned kUpgrade = Parser::kUpgrade;
constexpr unsigned kError = Parser::kError;

// Feeds `in` until the message completes, fails or the input runs out, moving
// past each step's consumed bytes as a connection would. Returns every step.
std::vector<Step> feedMessage(Parser& p, std::string_view in) {
  std::vector<Step> steps;
  size_t off = 0;
  for (int guard = 0; guard < 64; ++guard) {
    Step s = p.execute(in.data() + off, in.size() - off);
    steps.push_back(s);
    off += s.consumed;
    if (s.flags & (kDone | kError | kUpgrade)) break;
    if (off == in.size()) break;
    if (s.consumed == 0 && s.flags == 0) break;  // no progress: let the test see it
  }
  return steps;
}

unsigned allFlags(const std::vector<Step>& steps) {
  unsigned f = 0;
  for (const Step& s : steps) f |= s.flags;
  return f;
}

size_t allConsumed(const std::vector<Step>& steps) {
  size_t n = 0;
  for (const Step& s : steps) n += s.consumed;
  return n;
}

// The parsed head as one comparable string.
std::string describe(const RequestHead& r) {
  std::string out = r.method_name + " " + r.target + " " + std::to_string(r.version_major) + "." +
                    std::to_string(r.version_minor) + "\n";
  for (size_t i = 0; i < r.fields.size(); ++i) {
    out += std::string(r.fields.name(i)) + "=" + std::string(r.fields.value(i)) + " token=" +
           std::to_string(static_cast<int>(r.fields.field(i).token)) + "\n";
  }
  out += "chunked=" + std::to_string(r.chunked) + " cl=" + std::to_string(r.has_content_length) + ":" +
         std::to_string(r.content_length) + " ka=" + std::to_string(r.keep_alive) +
         " upgrade=" + std::to_string(r.upgrade) + " expect=" + std::to_string(r.expect_continue);
  return out;
}

std::string describe(const ResponseHead& r) {
  std::string out = std::to_string(r.status) + " " + r.reason + " " + std::to_string(r.version_major) + "." +
                    std::to_string(r.version_minor) + "\n";
  for (size_t i = 0; i < r.fields.size(); ++i) {
    out += std::string(r.fields.name(i)) + "=" + std::string(r.fields.value(i)) + "\n";
  }
  out += "chunked=" + std::to_string(r.chunked) + " cl=" + std::to_string(r.has_content_length) + ":" +
         std::to_string(r.content_length) + " ka=" + std::to_string(r.keep_alive) +
         " no_body=" + std::to_string(r.no_body) + " until_close=" + std::to_string(r.until_close);
  return out;
}

// Expects the request to be refused with `status`, whether the failure comes
// in the head or in the body.
void expectRejected(const std::string& in, int status, const ParserLimits& limits = {}) {
  SCOPED_TRACE(in);
  Parser p(Parser::Kind::kRequest, limits);
  std::vector<Step> steps = feedMessage(p, in);
  ASSERT_TRUE(allFlags(steps) & kError) << "accepted";
  EXPECT_EQ(p.errorStatus(), status);
  EXPECT_FALSE(p.errorReason().empty());
  // Once failed, the parser stays failed.
  Step again = p.execute("GET / HTTP/1.1\r\nHost: a\r\n\r\n", 27);
  EXPECT_EQ(again.flags, kError);
  EXPECT_EQ(again.consumed, 0u);
}

// Expects the request to parse completely with no error.
void expectAccepted(const std::string& in, const ParserLimits& limits = {}) {
  SCOPED_TRACE(in);
  Parser p(Parser::Kind::kRequest, limits);
  std::vector<Step> steps = feedMessage(p, in);
  EXPECT_FALSE(allFlags(steps) & kError) << p.errorReason();
  EXPECT_TRUE(allFlags(steps) & kDone);
  EXPECT_EQ(allConsumed(steps), in.size());
  EXPECT_EQ(p.errorStatus(), 0);
}

std::string withHeaders(const std::string& request_line, const std::string& fields,
                        const std::string& body = "") {
  return request_line + "\r\n" + fields + "\r\n" + body;
}

// ---------------------------------------------------------------------------
// Requests: what is parsed

TEST(HttpParserTest, ParsesRequestLineAndFields) {
  Parser p(Parser::Kind::kRequest, {});
  std::string in =
      "GET /search?q=weir HTTP/1.1\r\n"
      "Host: example.com\r\n"
      "User-Agent: test/1.0   \r\n"
      "X-Empty:\r\n"
      "Accept:  text/html\r\n"
      "\r\n";
  Step s = p.execute(in.data(), in.size());
  EXPECT_EQ(s.flags, kHead | kDone);
  EXPECT_EQ(s.consumed, in.size());
  const RequestHead& r = p.request();
  EXPECT_EQ(r.method, HTTP_GET);
  EXPECT_EQ(r.method_name, "GET");
  EXPECT_EQ(r.target, "/search?q=weir");
  EXPECT_EQ(r.version_major, 1);
  EXPECT_EQ(r.version_minor, 1);
  ASSERT_EQ(r.fields.size(), 4u);
  EXPECT_EQ(r.fields.name(0), "Host");
  EXPECT_EQ(r.fields.value(0), "example.com");
  EXPECT_EQ(r.fields.field(0).token, Token::kHost);
  EXPECT_EQ(r.fields.name(1), "User-Agent");
  EXPECT_EQ(r.fields.value(1), "test/1.0");  // trailing whitespace trimmed
  EXPECT_EQ(r.fields.field(1).token, Token::kOther);
  EXPECT_EQ(r.fields.name(2), "X-Empty");
  EXPECT_EQ(r.fields.value(2), "");
  EXPECT_EQ(r.fields.value(3), "text/html");  // leading whitespace skipped
  EXPECT_FALSE(r.hasBody());
  EXPECT_TRUE(r.keep_alive);
  EXPECT_FALSE(r.upgrade);
  EXPECT_FALSE(r.expect_continue);
  EXPECT_TRUE(p.started());
  EXPECT_FALSE(p.inHead());
}

TEST(HttpParserTest, BodylessRequestCompletesInOneStep) {
  for (std::string in : {withHeaders("GET / HTTP/1.1", "Host: a\r\n"),
                         withHeaders("POST / HTTP/1.1", "Host: a\r\nContent-Length: 0\r\n"),
                         withHeaders("DELETE /x HTTP/1.0", "")}) {
    SCOPED_TRACE(in);
    Parser p(Parser::Kind::kRequest, {});
    Step s = p.execute(in.data(), in.size());
    EXPECT_EQ(s.flags, kHead | kDone);
    EXPECT_EQ(s.consumed, in.size());
    EXPECT_EQ(p.bodyBytes(), 0u);
  }
}

TEST(HttpParserTest, HeadThenBodyThenMessageComplete) {
  std::string head = withHeaders("POST /upload HTTP/1.1", "Host: a\r\nContent-Length: 10\r\n");
  std::string in = head + "0123456789" + "GET /next HTTP/1.1\r\n";
  Parser p(Parser::Kind::kRequest, {});

  Step s = p.execute(in.data(), in.size());
  EXPECT_EQ(s.flags, kHead);  // stops right after the head
  EXPECT_EQ(s.consumed, head.size());
  EXPECT_TRUE(p.request().has_content_length);
  EXPECT_EQ(p.request().content_length, 10u);
  EXPECT_TRUE(p.request().hasBody());
  EXPECT_FALSE(p.inHead());

  size_t off = s.consumed;
  s = p.execute(in.data() + off, 4);  // part of the body
  EXPECT_EQ(s.flags, 0u);
  EXPECT_EQ(s.consumed, 4u);
  EXPECT_EQ(p.bodyBytes(), 4u);
  off += s.consumed;

  s = p.execute(in.data() + off, in.size() - off);  // rest of the body and the next request
  EXPECT_EQ(s.flags, kDone);
  EXPECT_EQ(s.consumed, 6u);  // not one byte of the next request
  EXPECT_EQ(p.bodyBytes(), 10u);
}

TEST(HttpParserTest, PipelinedRequestsSplitExactly) {
  std::vector<std::string> messages = {
      withHeaders("GET /a HTTP/1.1", "Host: a\r\n"),
      withHeaders("POST /b HTTP/1.1", "Host: a\r\nContent-Length: 5\r\n", "hello"),
      withHeaders("PUT /c HTTP/1.1", "Host: a\r\nTransfer-Encoding: chunked\r\n", "3\r\nabc\r\n0\r\n\r\n"),
      withHeaders("HEAD /d HTTP/1.1", "Host: a\r\n"),
  };
  std::string in;
  for (const std::string& m : messages) in += m;

  Parser p(Parser::Kind::kRequest, {});
  size_t off = 0;
  std::vector<std::string> targets;
  for (const std::string& m : messages) {
    SCOPED_TRACE(m);
    size_t start = off;
    std::vector<Step> steps = feedMessage(p, std::string_view(in).substr(off));
    ASSERT_FALSE(allFlags(steps) & kError) << p.errorReason();
    ASSERT_TRUE(steps.back().flags & kDone);
    off += allConsumed(steps);
    EXPECT_EQ(off - start, m.size());
    targets.push_back(p.request().target);
    p.reset();
  }
  EXPECT_EQ(off, in.size());
  EXPECT_EQ(targets, (std::vector<std::string>{"/a", "/b", "/c", "/d"}));
}

TEST(HttpParserTest, ResetClearsThePreviousHead) {
  Parser p(Parser::Kind::kRequest, {});
  std::string first = withHeaders("POST /one HTTP/1.1", "Host: a\r\nContent-Length: 2\r\nX-A: 1\r\n", "hi");
  std::string second = withHeaders("GET /two HTTP/1.0", "");
  std::vector<Step> steps = feedMessage(p, first);
  ASSERT_TRUE(allFlags(steps) & kDone);
  p.reset();
  EXPECT_FALSE(p.started());
  EXPECT_TRUE(p.inHead());
  EXPECT_EQ(p.bodyBytes(), 0u);
  steps = feedMessage(p, second);
  ASSERT_TRUE(allFlags(steps) & kDone);
  EXPECT_EQ(p.request().target, "/two");
  EXPECT_EQ(p.request().fields.size(), 0u);
  EXPECT_FALSE(p.request().has_content_length);
  EXPECT_EQ(p.request().version_minor, 0);
}

TEST(HttpParserTest, HeadSplitAtEveryBytePosition) {
  std::string in = withHeaders("GET /path/to/resource?x=1&y=2 HTTP/1.1",
                               "Host: www.example.com:8080\r\n"
                               "User-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\n"
                               "Accept: text/html,application/xhtml+xml\r\n"
                               "Accept-Language: en-US,en;q=0.5\r\n"
                               "Connection: keep-alive, Upgrade-Insecure-Requests\r\n"
                               "X-Trailing:  spaced value  \r\n"
                               "Cookie: a=1; b=2\r\n");
  Parser whole(Parser::Kind::kRequest, {});
  Step s = whole.execute(in.data(), in.size());
  ASSERT_EQ(s.flags, kHead | kDone);
  const std::string expected = describe(whole.request());

  for (size_t cut = 1; cut < in.size(); ++cut) {
    SCOPED_TRACE("split at " + std::to_string(cut));
    Parser p(Parser::Kind::kRequest, {});
    Step a = p.execute(in.data(), cut);
    EXPECT_EQ(a.flags, 0u);
    EXPECT_EQ(a.consumed, cut);
    Step b = p.execute(in.data() + cut, in.size() - cut);
    EXPECT_EQ(b.flags, kHead | kDone);
    EXPECT_EQ(b.consumed, in.size() - cut);
    EXPECT_EQ(describe(p.request()), expected);
  }
}

TEST(HttpParserTest, HeadFedOneByteAtATime) {
  std::string in = withHeaders("POST /form HTTP/1.1",
                               "Host: a.example\r\n"
                               "Content-Type: application/x-www-form-urlencoded\r\n"
                               "Content-Length: 7\r\n"
                               "Expect: 100-continue\r\n"
                               "X-Long: " + std::string(300, 'v') + "\r\n");
  Parser whole(Parser::Kind::kRequest, {});
  ASSERT_EQ(whole.execute(in.data(), in.size()).flags, kHead);

  Parser p(Parser::Kind::kRequest, {});
  unsigned flags = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    Step s = p.execute(in.data() + i, 1);
    ASSERT_EQ(s.consumed, 1u) << "at byte " << i;
    ASSERT_FALSE(s.flags & kError) << "at byte " << i << ": " << p.errorReason();
    if (i + 1 < in.size()) {
      ASSERT_EQ(s.flags, 0u) << "at byte " << i;
    }
    flags |= s.flags;
  }
  EXPECT_EQ(flags, kHead);
  EXPECT_EQ(describe(p.request()), describe(whole.request()));
  // Then the body, one byte at a time as well.
  std::string body = "a=1&b=2";
  for (size_t i = 0; i < body.size(); ++i) {
    Step s = p.execute(body.data() + i, 1);
    EXPECT_EQ(s.consumed, 1u);
    EXPECT_EQ(s.flags, i + 1 == body.size() ? kDone : 0u);
  }
  EXPECT_EQ(p.bodyBytes(), 7u);
}

TEST(HttpParserTest, ChunkedBodyFramesTheMessage) {
  std::string head = withHeaders("POST / HTTP/1.1", "Host: a\r\nTransfer-Encoding: chunked\r\n");
  std::string body = "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n";
  std::string in = head + body + "GET";
  Parser p(Parser::Kind::kRequest, {});
  Step s = p.execute(in.data(), in.size());
  EXPECT_EQ(s.flags, kHead);
  EXPECT_EQ(s.consumed, head.size());
  EXPECT_TRUE(p.request().chunked);
  EXPECT_FALSE(p.request().has_content_length);
  // The body may take more than one step (the parser stops where the
  // trailer section starts), but it ends exactly at the message boundary.
  std::vector<Step> steps = feedMessage(p, std::string_view(in).substr(head.size()));
  EXPECT_EQ(allFlags(steps), kDone);
  EXPECT_EQ(allConsumed(steps), body.size());
  EXPECT_EQ(p.bodyBytes(), 11u);  // payload only, not the chunk framing
  EXPECT_EQ(p.request().fields.size(), 2u) << "trailer fields are not stored with the head";
}

// ---------------------------------------------------------------------------
// Requests: connection semantics

TEST(HttpParserTest, KeepAliveFollowsVersionAndConnection) {
  struct Case {
    const char* line;
    const char* fields;
    bool keep_alive;
  };
  const Case cases[] = {
      {"GET / HTTP/1.1", "Host: a\r\n", true},
      {"GET / HTTP/1.1", "Host: a\r\nConnection: close\r\n", false},
      {"GET / HTTP/1.1", "Host: a\r\nConnection: Close\r\n", false},
      {"GET / HTTP/1.1", "Host: a\r\nConnection: keep-alive\r\n", true},
      {"GET / HTTP/1.0", "", false},
      {"GET / HTTP/1.0", "Connection: keep-alive\r\n", true},
      {"GET / HTTP/1.0", "Connection: Keep-Alive\r\n", true},
      {"GET / HTTP/1.0", "Connection: close\r\n", false},
  };
  for (const Case& c : cases) {
    std::string in = withHeaders(c.line, c.fields);
    SCOPED_TRACE(in);
    Parser p(Parser::Kind::kRequest, {});
    Step s = p.execute(in.data(), in.size());
    ASSERT_EQ(s.flags, kHead | kDone) << p.errorReason();
    EXPECT_EQ(p.request().keep_alive, c.keep_alive);
  }
}

TEST(HttpParserTest, UpgradeRequestStopsAtTheHead) {
  std::string head = withHeaders("GET /chat HTTP/1.1",
                                 "Host: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                 "Sec-WebSocket-Version: 13\r\n");
  std::string in = head + "\x81\x05hello";  // a websocket frame follows
  Parser p(Parser::Kind::kRequest, {});
  Step s = p.execute(in.data(), in.size());
  EXPECT_EQ(s.flags, kHead | kDone | kUpgrade);
  EXPECT_EQ(s.consumed, head.size());
  EXPECT_TRUE(p.request().upgrade);
}

TEST(HttpParserTest, UpgradeWithoutConnectionUpgradeIsPlain) {
  std::string in = withHeaders("GET / HTTP/1.1", "Host: a\r\nUpgrade: websocket\r\n");
  Parser p(Parser::Kind::kRequest, {});
  Step s = p.execute(in.data(), in.size());
  EXPECT_EQ(s.flags, kHead | kDone);
  EXPECT_FALSE(p.request().upgrade);
}

TEST(HttpParserTest, ExpectContinueIsDetected) {
  struct Case {
    const char* fields;
    bool expect;
  };
  const Case cases[] = {
      {"Host: a\r\nContent-Length: 3\r\nExpect: 100-continue\r\n", true},
      {"Host: a\r\nContent-Length: 3\r\nexpect: 100-Continue\r\n", true},
      {"Host: a\r\nContent-Length: 3\r\n", false},
      {"Host: a\r\nContent-Length: 3\r\nExpect: something-else\r\n", false},
  };
  for (const Case& c : cases) {
    std::string in = withHeaders("PUT /x HTTP/1.1", c.fields);
    SCOPED_TRACE(in);
    Parser p(Parser::Kind::kRequest, {});
    Step s = p.execute(in.data(), in.size());
    ASSERT_EQ(s.flags, kHead);
    EXPECT_EQ(p.request().expect_continue, c.expect);
  }
}

// ---------------------------------------------------------------------------
// Requests: framing errors (request smuggling vectors)

TEST(HttpParserTest, RejectsContentLengthWithTransferEncoding) {
  expectRejected(withHeaders("POST / HTTP/1.1", "Host: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n",
                             "0\r\n\r\n"),
                 400);
  expectRejected(withHeaders("POST / HTTP/1.1", "Host: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n",
                             "0\r\n\r\n"),
                 400);
}

TEST(HttpParserTest, RejectsDuplicateContentLength) {
  expectRejected(withHeaders("POST / HTTP/1.1", "Host: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n", "abc"),
                 400);
  expectRejected(withHeaders("POST / HTTP/1.1", "Host: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n", "abcd"),
                 400);
}

TEST(HttpParserTest, RejectsInvalidContentLength) {
  expectRejected(withHeaders("POST / HTTP/1.1", "Host: a\r\nContent-Length: +3\r\n", "abc"), 400);
  expectRejected(withHeaders("POST / HTTP/1.1", "Host: a\r\nContent-Length: 3, 3\r\n", "abc"), 400);
  expectRejected(withHeaders("POST / HTTP/1.1", "Host: a\r\nContent-Length: \r\n", ""), 400);
}

TEST(HttpParserTest, RejectsTransferEncodingNotEndingWithChunked) {
  expectRejected(withHeaders("POST / HTTP/1.1", "Host: a\r\nTransfer-Encoding: gzip\r\n", "abc"), 400);
  expectRejected(withHeaders("POST / HTTP/1.1", "Host: a\r\nTransfer-Encoding: chunked, gzip\r\n", "abc"), 400);
}

TEST(HttpParserTest, RejectsUnsupportedCodingBeforeChunkedWith501) {
  expectRejected(withHeaders("POST / HTTP/1.1", "Host: a\r\nTransfer-Encoding: gzip, chunked\r\n", "0\r\n\r\n"),
                 501);
  expectRejected(
      withHeaders("POST / HTTP/1.1", "Host: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n",
                  "0\r\n\r\n"),
      501);
}

TEST(HttpParserTest, RejectsRepeatedChunked) {
  expectRejected(withHeaders("POST / HTTP/1.1", "Host: a\r\nTransfer-Encoding: chunked, chunked\r\n", "0\r\n\r\n"),
                 400);
  expectRejected(
      withHeaders("POST / HTTP/1.1", "Host: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
                  "0\r\n\r\n"),
      400);
}

TEST(HttpParserTest, RejectsInvalidChunkSizeWhileParsingTheBody) {
  std::string head = withHeaders("POST / HTTP/1.1", "Host: a\r\nTransfer-Encoding: chunked\r\n");
  for (std::string body : {"zz\r\nhello\r\n0\r\n\r\n", "-1\r\n", "5 5\r\nhello\r\n", "0x5\r\nhello\r\n"}) {
    SCOPED_TRACE(body);
    std::string in = head + body;
    Parser p(Parser::Kind::kRequest, {});
    Step s = p.execute(in.data(), in.size());
    ASSERT_EQ(s.flags, kHead);  // the head itself is fine
    ASSERT_EQ(s.consumed, head.size());
    s = p.execute(in.data() + head.size(), in.size() - head.size());
    EXPECT_TRUE(s.flags & kError);
    EXPECT_FALSE(s.flags & kDone);
    EXPECT_EQ(p.errorStatus(), 400);
  }
}

TEST(HttpParserTest, RejectsObsFold) {
  expectRejected(withHeaders("GET / HTTP/1.1", "Host: a\r\nX-Folded: one\r\n two\r\n"), 400);
  expectRejected(withHeaders("GET / HTTP/1.1", "Host: a\r\nX-Folded: one\r\n\ttwo\r\n"), 400);
  expectRejected(withHeaders("GET / HTTP/1.1", "X-Folded: one\r\n two\r\nHost: a\r\n"), 400);
}

TEST(HttpParserTest, RejectsObsFoldAfterEmptyValue) {
  // The folded line is the only content of the field value.
  expectRejected(withHeaders("GET / HTTP/1.1", "Host: a\r\nX-Folded:\r\n two\r\n"), 400);
  expectRejected(withHeaders("GET / HTTP/1.1", "Host: a\r\nX-Folded: \r\n two\r\n"), 400);
}

TEST(HttpParserTest, RejectsObsFoldSplitAtEveryBytePosition) {
  std::string in = withHeaders("GET / HTTP/1.1", "Host: a\r\nX-Folded: one\r\n two\r\n");
  for (size_t cut = 1; cut < in.size(); ++cut) {
    SCOPED_TRACE("split at " + std::to_string(cut));
    Parser p(Parser::Kind::kRequest, {});
    Step a = p.execute(in.data(), cut);
    Step b = p.execute(in.data() + cut, in.size() - cut);
    EXPECT_TRUE((a.flags | b.flags) & kError);
    EXPECT_EQ(p.errorStatus(), 400);
  }
}

// A connection feeds each read from its own buffer, which may well start at
// the same address every time (a drained, reused read buffer). Folding must
// be caught whatever the addresses of the pieces.
TEST(HttpParserTest, RejectsObsFoldFedFromAReusedBuffer) {
  const std::vector<std::string> reads = {"GET / HTTP/1.1\r\nHost: a\r\nX-Folded: one", "\r\n", " two\r\n\r\n"};
  std::array<char, 64> buffer{};
  Parser p(Parser::Kind::kRequest, {});
  unsigned flags = 0;
  for (const std::string& r : reads) {
    std::memcpy(buffer.data(), r.data(), r.size());
    flags |= p.execute(buffer.data(), r.size()).flags;
  }
  EXPECT_TRUE(flags & kError) << "accepted X-Folded as '" << p.request().fields.value(1) << "'";
  EXPECT_EQ(p.errorStatus(), 400);
}

TEST(HttpParserTest, RejectsObsFoldFedByteByByteFromOneAddress) {
  std::string in = withHeaders("GET / HTTP/1.1", "Host: a\r\nX-Folded: one\r\n two\r\n");
  Parser p(Parser::Kind::kRequest, {});
  unsigned flags = 0;
  char byte = 0;
  for (char c : in) {
    byte = c;
    flags |= p.execute(&byte, 1).flags;
    if (flags & kError) break;
  }
  EXPECT_TRUE(flags & kError);
  EXPECT_EQ(p.errorStatus(), 400);
}

TEST(HttpParserTest, RejectsBareLfInHeaderField) {
  expectRejected("GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n", 400);
}

TEST(HttpParserTest, RejectsBareLfAfterRequestLine) {
  expectRejected("GET / HTTP/1.1\nHost: a\r\n\r\n", 400);
}

TEST(HttpParserTest, RejectsBareLfEndingTheHead) {
  expectRejected("GET / HTTP/1.1\r\nHost: a\r\n\n", 400);
}

TEST(HttpParserTest, RejectsBareCr) {
  expectRejected("GET / HTTP/1.1\rHost: a\r\n\r\n", 400);
  expectRejected("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", 400);
  expectRejected("GET / HTTP/1.1\r\nHost: a\r\n\rX", 400);
}

TEST(HttpParserTest, RejectsControlCharactersInFieldValues) {
  expectRejected(withHeaders("GET / HTTP/1.1", std::string("Host: a\r\nX: a\0b\r\n", 18)), 400);
  expectRejected(withHeaders("GET / HTTP/1.1", "Host: a\r\nX: a\x01" "b\r\n"), 400);
  expectRejected(withHeaders("GET / HTTP/1.1", "Host: a\r\nX: a\x1f" "b\r\n"), 400);
  expectRejected(withHeaders("GET / HTTP/1.1", "Host: a\r\nX: a\x7f" "b\r\n"), 400);
  // A tab inside a value is fine.
  expectAccepted(withHeaders("GET / HTTP/1.1", "Host: a\r\nX: a\tb\r\n"));
}

TEST(HttpParserTest, RejectsInvalidFieldNames) {
  expectRejected(withHeaders("GET / HTTP/1.1", "Host : a\r\n"), 400);
  expectRejected(withHeaders("GET / HTTP/1.1", "Host: a\r\nX Y: b\r\n"), 400);
  expectRejected(withHeaders("GET / HTTP/1.1", "Host: a\r\nX(y): b\r\n"), 400);
  expectRejected(withHeaders("GET / HTTP/1.1", "Host: a\r\nno-colon\r\n"), 400);
}

// A field line with no name at all (field-name is 1*tchar, RFC 9110 5.1);
// forwarded as is it would reach the upstream as ": b".
TEST(HttpParserTest, RejectsEmptyFieldName) {
  expectRejected(withHeaders("GET / HTTP/1.1", "Host: a\r\n: b\r\n"), 400);
}

TEST(HttpParserTest, RejectsMalformedRequestLines) {
  expectRejected("GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400);
  expectRejected("GET / http/1.1\r\nHost: a\r\n\r\n", 400);
  expectRejected("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 400);
}

TEST(HttpParserTest, HostIsRequiredOnHttp11Only) {
  expectRejected(withHeaders("GET / HTTP/1.1", "Accept: */*\r\n"), 400);
  expectAccepted(withHeaders("GET / HTTP/1.0", "Accept: */*\r\n"));
  expectAccepted(withHeaders("GET / HTTP/1.1", "Host:\r\n"));  // empty Host is allowed (RFC 9110 7.2)
}

TEST(HttpParserTest, RejectsSeveralHostFields) {
  expectRejected(withHeaders("GET / HTTP/1.1", "Host: a\r\nHost: b\r\n"), 400);
  expectRejected(withHeaders("GET / HTTP/1.1", "Host: a\r\nhost: a\r\n"), 400);
  expectRejected(withHeaders("GET / HTTP/1.0", "Host: a\r\nHOST: b\r\n"), 400);
}

TEST(HttpParserTest, RejectsConnectWith501) {
  expectRejected(withHeaders("CONNECT example.com:443 HTTP/1.1", "Host: example.com:443\r\n"), 501);
}

// ---------------------------------------------------------------------------
// Requests: limits

TEST(HttpParserTest, HeaderSectionOverLimitIs431) {
  std::string in = withHeaders("GET / HTTP/1.1", "Host: a\r\nX-Pad: " + std::string(200, 'p') + "\r\n");
  ParserLimits exact;
  exact.header_bytes = in.size();
  expectAccepted(in, exact);

  ParserLimits small;
  small.header_bytes = in.size() - 1;
  expectRejected(in, 431, small);

  // Fed one byte at a time, the parser never holds more than the limit.
  Parser p(Parser::Kind::kRequest, small);
  size_t fed = 0;
  unsigned flags = 0;
  for (size_t i = 0; i < in.size() && !(flags & kError); ++i) {
    Step s = p.execute(in.data() + i, 1);
    flags |= s.flags;
    fed += s.consumed;
  }
  EXPECT_TRUE(flags & kError);
  EXPECT_EQ(p.errorStatus(), 431);
  EXPECT_LE(fed, small.header_bytes + 1);
}

TEST(HttpParserTest, HeaderLimitDoesNotCountTheBody) {
  std::string head = withHeaders("POST / HTTP/1.1", "Host: a\r\nContent-Length: 100\r\n");
  ParserLimits l;
  l.header_bytes = head.size();
  expectAccepted(head + std::string(100, 'b'), l);
}

TEST(HttpParserTest, HugeHeaderLimitMeansUnlimited) {
  // UINT64_MAX as "no limit", as body_bytes defaults to.
  ParserLimits l;
  l.header_bytes = UINT64_MAX;
  expectAccepted(withHeaders("GET / HTTP/1.1", "Host: a\r\n"), l);
}

TEST(HttpParserTest, TooManyFieldsIs431) {
  std::string fields = "Host: a\r\n";
  for (int i = 1; i < 10; ++i) fields += "X-" + std::to_string(i) + ": v\r\n";  // 10 fields
  ParserLimits l;
  l.headers = 10;
  expectAccepted(withHeaders("GET / HTTP/1.1", fields), l);
  l.headers = 9;
  expectRejected(withHeaders("GET / HTTP/1.1", fields), 431, l);
}

TEST(HttpParserTest, TargetOverLimitIs414) {
  std::string target = "/" + std::string(99, 'x');  // 100 bytes
  ParserLimits l;
  l.uri_bytes = 100;
  expectAccepted(withHeaders("GET " + target + " HTTP/1.1", "Host: a\r\n"), l);
  l.uri_bytes = 99;
  expectRejected(withHeaders("GET " + target + " HTTP/1.1", "Host: a\r\n"), 414, l);
}

TEST(HttpParserTest, TargetLimitHoldsWhenFedInPieces) {
  std::string in = withHeaders("GET /" + std::string(99, 'x') + " HTTP/1.1", "Host: a\r\n");
  ParserLimits l;
  l.uri_bytes = 99;
  Parser p(Parser::Kind::kRequest, l);
  unsigned flags = 0;
  for (size_t i = 0; i < in.size() && !(flags & kError); i += 7) {
    flags |= p.execute(in.data() + i, std::min<size_t>(7, in.size() - i)).flags;
  }
  EXPECT_TRUE(flags & kError);
  EXPECT_EQ(p.errorStatus(), 414);
}

TEST(HttpParserTest, ContentLengthOverLimitIs413AtTheHead) {
  ParserLimits l;
  l.body_bytes = 10;
  expectAccepted(withHeaders("POST / HTTP/1.1", "Host: a\r\nContent-Length: 10\r\n", "0123456789"), l);
  std::string in = withHeaders("POST / HTTP/1.1", "Host: a\r\nContent-Length: 11\r\n");
  Parser p(Parser::Kind::kRequest, l);
  Step s = p.execute(in.data(), in.size());  // no body bytes needed to refuse
  EXPECT_TRUE(s.flags & kError);
  EXPECT_EQ(p.errorStatus(), 413);
}

TEST(HttpParserTest, ChunkedBodyOverLimitIs413) {
  ParserLimits l;
  l.body_bytes = 10;
  std::string head = withHeaders("POST / HTTP/1.1", "Host: a\r\nTransfer-Encoding: chunked\r\n");
  expectAccepted(head + "5\r\n01234\r\n5\r\n56789\r\n0\r\n\r\n", l);

  std::string in = head + "5\r\n01234\r\n6\r\n56789a\r\n0\r\n\r\n";
  Parser p(Parser::Kind::kRequest, l);
  Step s = p.execute(in.data(), in.size());
  ASSERT_EQ(s.flags, kHead);
  s = p.execute(in.data() + s.consumed, in.size() - s.consumed);
  EXPECT_TRUE(s.flags & kError);
  EXPECT_EQ(p.errorStatus(), 413);
}

// ---------------------------------------------------------------------------
// Requests: the end of the stream

TEST(HttpParserTest, FinishBetweenRequestsIsACleanClose) {
  Parser fresh(Parser::Kind::kRequest, {});
  Step s = fresh.finish();
  EXPECT_EQ(s.flags, 0u);
  EXPECT_EQ(fresh.errorStatus(), 0);

  Parser p(Parser::Kind::kRequest, {});
  std::string in = withHeaders("GET / HTTP/1.1", "Host: a\r\n");
  ASSERT_EQ(p.execute(in.data(), in.size()).flags, kHead | kDone);
  p.reset();
  s = p.finish();
  EXPECT_EQ(s.flags, 0u);
  EXPECT_EQ(p.errorStatus(), 0);
}

TEST(HttpParserTest, FinishInsideARequestIsAnError) {
  std::string partial_head = "GET / HTTP/1.1\r\nHost: a\r\n";
  Parser p(Parser::Kind::kRequest, {});
  ASSERT_EQ(p.execute(partial_head.data(), partial_head.size()).flags, 0u);
  EXPECT_EQ(p.finish().flags, kError);
  EXPECT_EQ(p.errorStatus(), 400);

  std::string in = withHeaders("POST / HTTP/1.1", "Host: a\r\nContent-Length: 5\r\n", "abc");
  Parser q(Parser::Kind::kRequest, {});
  std::vector<Step> steps = feedMessage(q, in);
  ASSERT_FALSE(allFlags(steps) & (kDone | kError));
  EXPECT_EQ(q.finish().flags, kError);
  EXPECT_EQ(q.errorStatus(), 400);
}

// ---------------------------------------------------------------------------
// Responses

class RecordingSink : public BodySink {
 public:
  void onBodyData(const char* data, size_t len) override { bytes.append(data, len); }
  std::string bytes;
};

// Parses one whole response from `in` (feeding body bytes as they come).
struct ParsedResponse {
  std::vector<Step> steps;
  size_t consumed = 0;
};

ParsedResponse parseResponse(Parser& p, std::string_view in) {
  ParsedResponse r;
  r.steps = feedMessage(p, in);
  r.consumed = allConsumed(r.steps);
  return r;
}

TEST(HttpParserTest, ResponseStatusLineAndFields) {
  std::string in = "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n\r\n";
  Parser p(Parser::Kind::kResponse, {});
  Step s = p.execute(in.data(), in.size());
  EXPECT_EQ(s.flags, kHead | kDone);
  EXPECT_EQ(s.consumed, in.size());
  const ResponseHead& r = p.response();
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.reason, "Not Found");
  EXPECT_EQ(r.version_major, 1);
  EXPECT_EQ(r.version_minor, 1);
  ASSERT_EQ(r.fields.size(), 2u);
  EXPECT_EQ(r.fields.value(0), "text/plain");
  EXPECT_EQ(r.fields.field(1).token, Token::kContentLength);
  EXPECT_TRUE(r.keep_alive);
  EXPECT_FALSE(r.no_body);
}

TEST(HttpParserTest, ResponseHeadSplitAtEveryBytePosition) {
  std::string in =
      "HTTP/1.1 200 Everything Is Fine\r\nServer: origin\r\nContent-Type: text/html; charset=utf-8\r\n"
      "Cache-Control: max-age=60\r\nContent-Length: 4\r\n\r\n";
  Parser whole(Parser::Kind::kResponse, {});
  ASSERT_EQ(whole.execute(in.data(), in.size()).flags, kHead);
  for (size_t cut = 1; cut < in.size(); ++cut) {
    SCOPED_TRACE("split at " + std::to_string(cut));
    Parser p(Parser::Kind::kResponse, {});
    EXPECT_EQ(p.execute(in.data(), cut).flags, 0u);
    Step b = p.execute(in.data() + cut, in.size() - cut);
    EXPECT_EQ(b.flags, kHead);
    EXPECT_EQ(b.consumed, in.size() - cut);
    EXPECT_EQ(describe(p.response()), describe(whole.response()));
  }
}

TEST(HttpParserTest, ResponseWithContentLength) {
  std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n";
  std::string in = head + "hello world" + "HTTP/1.1 200 OK\r\n";
  Parser p(Parser::Kind::kResponse, {});
  RecordingSink sink;
  Step s = p.execute(in.data(), in.size());
  ASSERT_EQ(s.flags, kHead);
  EXPECT_EQ(s.consumed, head.size());
  EXPECT_TRUE(p.response().has_content_length);
  EXPECT_EQ(p.response().content_length, 11u);
  p.setBodySink(&sink);
  s = p.execute(in.data() + head.size(), in.size() - head.size());
  EXPECT_EQ(s.flags, kDone);
  EXPECT_EQ(s.consumed, 11u);
  EXPECT_EQ(sink.bytes, "hello world");
  EXPECT_TRUE(p.response().keep_alive);
}

TEST(HttpParserTest, ChunkedResponseBodyReachesTheSinkDechunked) {
  std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  std::string body = "5\r\nhello\r\n1\r\n \r\n5;name=value\r\nworld\r\n0\r\nTrailer-Field: x\r\n\r\n";
  std::string in = head + body;
  Parser p(Parser::Kind::kResponse, {});
  RecordingSink sink;
  p.setBodySink(&sink);
  Step s = p.execute(in.data(), in.size());
  ASSERT_EQ(s.flags, kHead);
  EXPECT_TRUE(p.response().chunked);
  EXPECT_FALSE(p.response().until_close);
  // The body in small pieces: the sink sees only payload bytes.
  size_t off = s.consumed;
  unsigned flags = 0;
  while (off < in.size() && !(flags & (kDone | kError))) {
    size_t n = std::min<size_t>(3, in.size() - off);
    Step b = p.execute(in.data() + off, n);
    flags |= b.flags;
    off += b.consumed;
  }
  EXPECT_EQ(flags, kDone);
  EXPECT_EQ(off, in.size());
  EXPECT_EQ(sink.bytes, "hello world");
  EXPECT_EQ(p.bodyBytes(), 11u);
}

TEST(HttpParserTest, CloseDelimitedResponseCompletesOnFinish) {
  std::string head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n";
  std::string in = head + "all of this until close";
  Parser p(Parser::Kind::kResponse, {});
  RecordingSink sink;
  p.setBodySink(&sink);
  Step s = p.execute(in.data(), in.size());
  ASSERT_EQ(s.flags, kHead);
  EXPECT_TRUE(p.response().until_close);
  EXPECT_FALSE(p.response().keep_alive);
  s = p.execute(in.data() + head.size(), in.size() - head.size());
  EXPECT_EQ(s.flags, 0u);
  EXPECT_EQ(s.consumed, in.size() - head.size());
  s = p.finish();
  EXPECT_EQ(s.flags, kDone);
  EXPECT_EQ(sink.bytes, "all of this until close");
  EXPECT_EQ(p.errorStatus(), 0);
}

TEST(HttpParserTest, CloseDelimitedHttp10Response) {
  std::string in = "HTTP/1.0 200 OK\r\n\r\nbody";
  Parser p(Parser::Kind::kResponse, {});
  ParsedResponse r = parseResponse(p, in);
  EXPECT_EQ(allFlags(r.steps), kHead);
  EXPECT_EQ(r.consumed, in.size());
  EXPECT_EQ(p.response().version_minor, 0);
  EXPECT_TRUE(p.response().until_close);
  EXPECT_EQ(p.finish().flags, kDone);
  EXPECT_EQ(p.bodyBytes(), 4u);
}

// The upstream sends a head announcing a close-delimited body and closes at
// once: an empty body, which is a complete response.
TEST(HttpParserTest, CloseDelimitedEmptyBodyCompletesOnFinish) {
  for (std::string in : {"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", "HTTP/1.0 200 OK\r\n\r\n"}) {
    SCOPED_TRACE(in);
    Parser p(Parser::Kind::kResponse, {});
    Step s = p.execute(in.data(), in.size());
    ASSERT_EQ(s.flags, kHead);
    ASSERT_EQ(s.consumed, in.size());
    s = p.finish();
    EXPECT_EQ(s.flags, kDone) << p.errorReason();
    EXPECT_EQ(p.errorStatus(), 0);
  }
}

// Found in issue 2: a response ended by close left llhttp in its finished
// state, and the next response parsed by the same Parser (the next exchange
// of the same client, on another upstream connection) was never recognised.
TEST(HttpParserTest, Issue2ResetAfterCloseDelimitedResponseParsesTheNextOne) {
  Parser p(Parser::Kind::kResponse, {});
  std::string first = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nclosed body\n";
  Step s = p.execute(first.data(), first.size());
  ASSERT_EQ(s.flags, kHead);
  s = p.execute(first.data() + s.consumed, first.size() - s.consumed);
  ASSERT_EQ(s.flags, 0u);
  ASSERT_EQ(p.finish().flags, kDone);

  p.reset();
  std::string second = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nabcd";
  s = p.execute(second.data(), second.size());
  ASSERT_EQ(s.flags, kHead) << p.errorReason();
  EXPECT_EQ(p.response().content_length, 4u);
  s = p.execute(second.data() + s.consumed, second.size() - s.consumed);
  EXPECT_EQ(s.flags, kDone);
  EXPECT_EQ(s.consumed, 4u);
}

TEST(HttpParserTest, ResponseCutShortFailsOnFinish) {
  std::string in = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
  Parser p(Parser::Kind::kResponse, {});
  ParsedResponse r = parseResponse(p, in);
  ASSERT_FALSE(allFlags(r.steps) & (kDone | kError));
  EXPECT_EQ(p.finish().flags, kError);
  EXPECT_EQ(p.errorStatus(), 502);

  std::string chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab";
  Parser q(Parser::Kind::kResponse, {});
  r = parseResponse(q, chunked);
  ASSERT_FALSE(allFlags(r.steps) & (kDone | kError));
  EXPECT_EQ(q.finish().flags, kError);
  EXPECT_EQ(q.errorStatus(), 502);
}

TEST(HttpParserTest, HeadResponseHasNoBody) {
  std::string first = "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nContent-Type: text/html\r\n\r\n";
  std::string second = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  std::string in = first + second;
  Parser p(Parser::Kind::kResponse, {});
  p.setNoBodyExpected(true);
  Step s = p.execute(in.data(), in.size());
  EXPECT_EQ(s.flags, kHead | kDone);
  EXPECT_EQ(s.consumed, first.size());  // the announced body is not waited for
  EXPECT_TRUE(p.response().no_body);
  EXPECT_EQ(p.response().content_length, 1234u);  // kept for the client
  EXPECT_TRUE(p.response().keep_alive);
  EXPECT_EQ(p.bodyBytes(), 0u);

  // The next response on the connection parses normally.
  p.reset();
  ParsedResponse r = parseResponse(p, std::string_view(in).substr(first.size()));
  EXPECT_EQ(allFlags(r.steps), kHead | kDone);
  EXPECT_EQ(r.consumed, second.size());
  EXPECT_EQ(p.bodyBytes(), 2u);
}

TEST(HttpParserTest, HeadResponseWithChunkedFramingHasNoBody) {
  std::string in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  Parser p(Parser::Kind::kResponse, {});
  p.setNoBodyExpected(true);
  Step s = p.execute(in.data(), in.size());
  EXPECT_EQ(s.flags, kHead | kDone);
  EXPECT_EQ(s.consumed, in.size());
  EXPECT_TRUE(p.response().keep_alive);
}

// A HEAD response without Content-Length has no body whatever its framing
// says, so the connection can be reused (RFC 9112 6.3).
TEST(HttpParserTest, HeadResponseWithoutLengthKeepsTheConnection) {
  std::string in = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n";
  Parser p(Parser::Kind::kResponse, {});
  p.setNoBodyExpected(true);
  Step s = p.execute(in.data(), in.size());
  EXPECT_EQ(s.flags, kHead | kDone);
  EXPECT_FALSE(p.response().until_close);
  EXPECT_TRUE(p.response().keep_alive);
}

TEST(HttpParserTest, ResetClearsNoBodyExpected) {
  Parser p(Parser::Kind::kResponse, {});
  p.setNoBodyExpected(true);
  p.reset();
  std::string in = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  ParsedResponse r = parseResponse(p, in);
  EXPECT_EQ(allFlags(r.steps), kHead | kDone);
  EXPECT_EQ(p.bodyBytes(), 2u);
  EXPECT_FALSE(p.response().no_body);
}

TEST(HttpParserTest, InterimResponsesThenFinal) {
  std::string interim1 = "HTTP/1.1 100 Continue\r\n\r\n";
  std::string interim2 = "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n";
  std::string final_head = "HTTP/1.1 201 Created\r\nContent-Length: 3\r\n\r\n";
  std::string in = interim1 + interim2 + final_head + "abc";
  Parser p(Parser::Kind::kResponse, {});

  Step s = p.execute(in.data(), in.size());
  EXPECT_EQ(s.flags, kHead | kDone);
  EXPECT_EQ(s.consumed, interim1.size());
  EXPECT_EQ(p.response().status, 100);
  EXPECT_TRUE(p.response().no_body);
  size_t off = s.consumed;
  p.reset();

  s = p.execute(in.data() + off, in.size() - off);
  EXPECT_EQ(s.flags, kHead | kDone);
  EXPECT_EQ(s.consumed, interim2.size());
  EXPECT_EQ(p.response().status, 103);
  off += s.consumed;
  p.reset();

  ParsedResponse r = parseResponse(p, std::string_view(in).substr(off));
  EXPECT_EQ(allFlags(r.steps), kHead | kDone);
  EXPECT_EQ(p.response().status, 201);
  EXPECT_EQ(off + r.consumed, in.size());
  EXPECT_EQ(p.bodyBytes(), 3u);
}

TEST(HttpParserTest, NoContentAndNotModifiedHaveNoBody) {
  for (std::string head : {"HTTP/1.1 204 No Content\r\nServer: o\r\n\r\n", "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n"}) {
    SCOPED_TRACE(head);
    std::string next = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    std::string in = head + next;
    Parser p(Parser::Kind::kResponse, {});
    Step s = p.execute(in.data(), in.size());
    EXPECT_EQ(s.flags, kHead | kDone);
    EXPECT_EQ(s.consumed, head.size());
    EXPECT_TRUE(p.response().no_body);
    EXPECT_FALSE(p.response().until_close);
    EXPECT_TRUE(p.response().keep_alive);
  }
}

// 304 responses commonly carry the Content-Length of the representation
// (RFC 9110 8.6); no body follows a 1xx, 204 or 304, whatever Content-Length
// says (RFC 9112 6.3), so the bytes after the head are the next response.
TEST(HttpParserTest, NoBodyStatusesIgnoreContentLength) {
  for (std::string head : {"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n",
                           "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
                           "HTTP/1.1 103 Early Hints\r\nContent-Length: 5\r\n\r\n"}) {
    SCOPED_TRACE(head);
    std::string next = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    std::string in = head + next;
    Parser p(Parser::Kind::kResponse, {});
    Step s = p.execute(in.data(), in.size());
    EXPECT_EQ(s.flags, kHead | kDone);
    EXPECT_EQ(s.consumed, head.size());
    EXPECT_EQ(p.bodyBytes(), 0u);
  }
}

TEST(HttpParserTest, SwitchingProtocolsResponseIsAnUpgrade) {
  std::string head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
  std::string in = head + "\x81\x02hi";
  Parser p(Parser::Kind::kResponse, {});
  Step s = p.execute(in.data(), in.size());
  EXPECT_EQ(s.flags, kHead | kDone | kUpgrade);
  EXPECT_EQ(s.consumed, head.size());
  EXPECT_EQ(p.response().status, 101);
}

TEST(HttpParserTest, ResponseKeepAlive) {
  struct Case {
    const char* in;
    bool keep_alive;
  };
  const Case cases[] = {
      {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true},
      {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", false},
      {"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false},
      {"HTTP/1.0 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n", true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.in);
    Parser p(Parser::Kind::kResponse, {});
    std::string in = c.in;
    ASSERT_EQ(p.execute(in.data(), in.size()).flags, kHead | kDone);
    EXPECT_EQ(p.response().keep_alive, c.keep_alive);
  }
}

TEST(HttpParserTest, ResponseErrorsAre502) {
  for (std::string in : {std::string("HTTP/1.1 2000 OK\r\n\r\n"), std::string("HTTX/1.1 200 OK\r\n\r\n"),
                         std::string("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
                         std::string("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"),
                         std::string("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n"),
                         std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n")}) {
    SCOPED_TRACE(in);
    Parser p(Parser::Kind::kResponse, {});
    ParsedResponse r = parseResponse(p, in);
    EXPECT_TRUE(allFlags(r.steps) & kError);
    EXPECT_EQ(p.errorStatus(), 502);
  }
}

TEST(HttpParserTest, ResponseHeadOverLimitIs502) {
  ParserLimits l;
  l.header_bytes = 64;
  std::string in = "HTTP/1.1 200 OK\r\nX-Pad: " + std::string(100, 'p') + "\r\n\r\n";
  Parser p(Parser::Kind::kResponse, l);
  ParsedResponse r = parseResponse(p, in);
  EXPECT_TRUE(allFlags(r.steps) & kError);
  EXPECT_EQ(p.errorStatus(), 502);
}

}  // namespace
}  // namespace weir::http
