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

// Where the bad request arrives: on a fresh proxy whose first upstream
// connection would still be connecting (cold), after another client has left
// an idle upstream connection in the pool (warm: a request would go out at
// once), or as the second request on a kept-alive client connection.
enum class Where { kCold, kWarm, kSecond };

void PrintTo(Where w, std::ostream* os) { *os << (w == Where::kCold ? "cold" : w == Where::kWarm ? "warm" : "second"); }

class Smuggling : public ::testing::TestWithParam<std::tuple<BadRequest, Where>> {};

TEST_P(Smuggling, RejectedClosedAndNotForwarded) {
  const BadRequest& bad = std::get<0>(GetParam());
  const Where where = std::get<1>(GetParam());
  FakeUpstream up(FakeUpstream::Mode::kScripted, kOk);
  Weir weir(poolConfig({up.address()}));
  ASSERT_TRUE(weir.ok()) << weir.error();
  RawClient c(weir.port());
  ASSERT_TRUE(c.connected());
  size_t before = 0;
  if (where != Where::kCold) {
    RawClient other(weir.port());
    RawClient& first = where == Where::kWarm ? other : c;
    ASSERT_TRUE(first.send(get("/warm-up")));
    auto warm = first.readResponse(Ms(3000));
    ASSERT_TRUE(warm) << first.lastError();
    ASSERT_EQ(warm->status, 200);
    std::this_thread::sleep_for(Ms(50));
    before = up.bytesReceived();
    ASSERT_GT(before, 0u);
  }
  ASSERT_TRUE(c.send(bad.request));
  auto r = c.readResponse(Ms(3000));
  ASSERT_TRUE(r) << "no response: " << c.lastError();
  EXPECT_EQ(r->status, bad.status) << r->rawHead << r->body;
  std::string rest = c.readUntilClose(Ms(3000));
  EXPECT_FALSE(c.timedOut()) << "connection left open after a rejected request";
  EXPECT_EQ(rest.find("HTTP/1."), std::string::npos) << "a second response followed the rejection:\n" << rest;
  std::this_thread::sleep_for(Ms(200));
  EXPECT_EQ(up.bytesReceived(), before) << "the upstream received:\n" << up.received().substr(before);
  EXPECT_LE(up.accepted(), 1) << "one upstream connection at most (a cold pool may open one, and send nothing)";
}

std::string smugglingName(const ::testing::TestParamInfo<std::tuple<BadRequest, Where>>& info) {
  const char* where = std::get<1>(info.param) == Where::kCold   ? "Cold"
                      : std::get<1>(info.param) == Where::kWarm ? "Warm"
                                                                : "Second";
  return std::string(std::get<0>(info.param).name) + "_" + where;
}

INSTANTIATE_TEST_SUITE_P(Strict, Smuggling,
                         ::testing::Combine(::testing::ValuesIn(badRequests()),
                                            ::testing::Values(Where::kCold, Where::kWarm, Where::kSecond)),
                         smugglingName);

// The head of a chunked request waits until its first chunk-size line has
// been validated: on a warm pool the upstream sees nothing of a request whose
// body turns out malformed, even when the body arrives after the head.
TEST(SmugglingHold, ChunkedHeadHeldUntilTheFirstChunkIsValid) {
  FakeUpstream up(FakeUpstream::Mode::kScripted, kOk);
  Weir weir(poolConfig({up.address()}));
  ASSERT_TRUE(weir.ok()) << weir.error();
  ASSERT_EQ(rawRequest(weir.port(), get("/warm-up"))->status, 200);
  std::this_thread::sleep_for(Ms(50));
  size_t before = up.bytesReceived();
  RawClient c(weir.port());
  ASSERT_TRUE(c.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
  std::this_thread::sleep_for(Ms(300));
  EXPECT_EQ(up.bytesReceived(), before) << "the head went upstream before any of its body was seen";
  ASSERT_TRUE(c.send("5x\r\nhello\r\n0\r\n\r\n"));
  auto r = c.readResponse(Ms(3000));
  ASSERT_TRUE(r) << c.lastError();
  EXPECT_EQ(r->status, 400);
  std::this_thread::sleep_for(Ms(200));
  EXPECT_EQ(up.bytesReceived(), before) << up.received().substr(before);
}

// A valid chunked request whose body arrives late still goes through.
TEST(SmugglingHold, ChunkedBodyArrivingLateIsForwarded) {
  Origin o("a");
  ASSERT_TRUE(o.ok()) << o.error();
  Weir weir(poolConfig({o.address()}));
  ASSERT_TRUE(weir.ok()) << weir.error();
  RawClient c(weir.port());
  ASSERT_TRUE(c.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
  std::this_thread::sleep_for(Ms(200));
  ASSERT_TRUE(c.send("5\r\nhello\r\n"));
  std::this_thread::sleep_for(Ms(200));
  ASSERT_TRUE(c.send("0\r\n\r\n"));
  auto r = c.readResponse(Ms(3000));
  ASSERT_TRUE(r) << c.lastError();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello");
}

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
