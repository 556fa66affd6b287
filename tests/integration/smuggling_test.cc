// Strict request parsing: ambiguous or malformed requests get 400 (or 501),
// the connection is closed, and nothing reaches the upstream.
#include <ostream>

#include "harness.h"

namespace weir::itest {
namespace {

const char* kOk = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

struct BadRequest {
  const char* name;
  std::string request;
  int status;
};

// Test names come from `name`; this keeps CTest's names free of byte dumps.
void PrintTo(const BadRequest& bad, std::ostream* os) { *os << bad.name; }

std::string post(const std::string& fields, const std::string& body) {
  return "POST /echo HTTP/1.1\r\nHost: x\r\n" + fields + "\r\n" + body;
}

const std::string kNext = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";

std::vector<BadRequest> badRequests() {
  using namespace std::string_literals;
  return {
      {"ContentLengthWithTransferEncoding",
       post("Content-Length: 6\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n" + kNext), 400},
      {"TransferEncodingWithContentLength",
       post("Transfer-Encoding: chunked\r\nContent-Length: 6\r\n", "0\r\n\r\n" + kNext), 400},
      {"DuplicateContentLengthDiffering", post("Content-Length: 5\r\nContent-Length: 6\r\n", "hello!"), 400},
      {"ContentLengthListDiffering", post("Content-Length: 5, 6\r\n", "hello!"), 400},
      {"ContentLengthNotANumber", post("Content-Length: 5x\r\n", "hello"), 400},
      {"ContentLengthNegative", post("Content-Length: -1\r\n", "hello"), 400},
      {"TransferEncodingIdentity", post("Transfer-Encoding: identity\r\n", "hello"), 400},
      {"TransferEncodingChunkedNotFinal", post("Transfer-Encoding: chunked, identity\r\n", "0\r\n\r\n"), 400},
      {"TransferEncodingTwoFieldsChunkedNotFinal",
       post("Transfer-Encoding: chunked\r\nTransfer-Encoding: xchunked\r\n", "0\r\n\r\n"), 400},
      {"InvalidChunkSize", post("Transfer-Encoding: chunked\r\n", "zz\r\nhello\r\n0\r\n\r\n"), 400},
      {"ChunkSizeOverflow", post("Transfer-Encoding: chunked\r\n", "fffffffffffffffffff\r\nhello\r\n0\r\n\r\n"), 400},
      {"ChunkDataWithoutCrlf", post("Transfer-Encoding: chunked\r\n", "5\r\nhelloXX0\r\n\r\n"), 400},
      {"BareLfInChunkSize", post("Transfer-Encoding: chunked\r\n", "5\nhello\r\n0\r\n\r\n"), 400},
      {"ObsFoldSpace", "GET / HTTP/1.1\r\nHost: x\r\nX-Foo: a\r\n b\r\n\r\n", 400},
      {"ObsFoldTab", "GET / HTTP/1.1\r\nHost: x\r\nX-Foo: a\r\n\tb\r\n\r\n", 400},
      {"BareLfLineEndings", "GET / HTTP/1.1\nHost: x\n\n", 400},
      {"BareLfInOneHeaderLine", "GET / HTTP/1.1\r\nHost: x\r\nX-A: b\n\r\n", 400},
      {"BareCrInHeaderLine", "GET / HTTP/1.1\r\nHost: x\r\nX-A: b\rX-B: c\r\n\r\n", 400},
      {"NulInFieldValue", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n"s, 400},
      {"ControlCharInFieldValue", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x01z\r\n\r\n", 400},
      {"EscapeInFieldValue", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x1bz\r\n\r\n", 400},
      {"SpaceBeforeColon", "GET / HTTP/1.1\r\nHost: x\r\nX-Foo : bar\r\n\r\n", 400},
      {"NonTokenCharInFieldName", "GET / HTTP/1.1\r\nHost: x\r\nX(Foo): bar\r\n\r\n", 400},
      {"SpaceInFieldName", "GET / HTTP/1.1\r\nHost: x\r\nX Foo: bar\r\n\r\n", 400},
      {"EmptyFieldName", "GET / HTTP/1.1\r\nHost: x\r\n: bar\r\n\r\n", 400},
      {"MissingHostHttp11", "GET / HTTP/1.1\r\nX-A: b\r\n\r\n", 400},
      {"TwoHostFieldsDiffering", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
      {"TwoHostFieldsSame", "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400},
      {"SpaceInRequestTarget", "GET /a b HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"UnknownTransferCoding", post("Transfer-Encoding: gzip, chunked\r\n", "5\r\nhello\r\n0\r\n\r\n"), 501},
  };
}

class Smuggling : public ::testing::TestWithParam<BadRequest> {};

TEST_P(Smuggling, RejectedClosedAndNotForwarded) {
  const BadRequest& bad = GetParam();
  FakeUpstream up(FakeUpstream::Mode::kScripted, kOk);
  Weir weir(poolConfig({up.address()}));
  ASSERT_TRUE(weir.ok()) << weir.error();
  RawClient c(weir.port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send(bad.request));
  auto r = c.readResponse(Ms(3000));
  ASSERT_TRUE(r) << "no response: " << c.lastError();
  EXPECT_EQ(r->status, bad.status) << r->rawHead << r->body;
  std::string rest = c.readUntilClose(Ms(3000));
  EXPECT_FALSE(c.timedOut()) << "connection left open after a rejected request";
  EXPECT_EQ(rest.find("HTTP/1."), std::string::npos) << "a second response followed the rejection:\n" << rest;
  std::this_thread::sleep_for(Ms(200));
  EXPECT_EQ(up.bytesReceived(), 0u) << "the upstream received:\n" << up.received();
}

INSTANTIATE_TEST_SUITE_P(Strict, Smuggling, ::testing::ValuesIn(badRequests()),
                         [](const ::testing::TestParamInfo<BadRequest>& info) { return std::string(info.param.name); });

// The fake upstream and weir do talk for valid requests, so the checks above
// are not passing merely because nothing works.
TEST(SmugglingControl, ValidRequestsReachTheUpstream) {
  FakeUpstream up(FakeUpstream::Mode::kScripted, kOk);
  Weir weir(poolConfig({up.address()}));
  ASSERT_TRUE(weir.ok()) << weir.error();
  RawClient c(weir.port());
  ASSERT_TRUE(c.send(post("Content-Length: 5\r\n", "hello") +
                     post("Transfer-Encoding: chunked\r\n", "5\r\nhello\r\n0\r\n\r\n") + get("/", "X-A: a\tb\r\n")));
  for (int i = 0; i < 3; ++i) {
    auto r = c.readResponse(Ms(3000));
    ASSERT_TRUE(r) << "response " << i << ": " << c.lastError();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "ok");
  }
  auto r10 = rawRequest(weir.port(), "GET / HTTP/1.0\r\n\r\n");
  ASSERT_TRUE(r10) << "HTTP/1.0 without Host is valid";
  EXPECT_EQ(r10->status, 200);
  std::string seen = up.received();
  EXPECT_NE(seen.find("hello"), std::string::npos) << seen;
  EXPECT_TRUE(icontains(seen, "X-A: a\tb")) << "HTAB inside a value is valid:\n" << seen;
}

}  // namespace
}  // namespace weir::itest
