// Request limits: 431 for big or many header fields, 414 for long targets,
// 413 for big bodies, 501 for unsupported transfer codings. Rejected
// requests never reach the upstream.
#include "harness.h"

namespace weir::itest {
namespace {

const char* kOk = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

class Limits : public ::testing::Test {
 protected:
  void start(const std::string& rest = "") {
    up_ = std::make_unique<FakeUpstream>(FakeUpstream::Mode::kScripted, kOk);
    weir_ = std::make_unique<Weir>(poolConfig({up_->address()}, "", rest));
    ASSERT_TRUE(weir_->ok()) << weir_->error();
  }
  // Sends the request; expects `status`, a closed connection and no upstream traffic.
  void expectRejected(const std::string& request, int status) {
    size_t before = up_->bytesReceived();
    RawClient c(weir_->port());
    ASSERT_TRUE(c.connected());
    c.send(request);  // weir may stop reading early; the response is what matters
    auto r = c.readResponse(Ms(3000));
    ASSERT_TRUE(r) << "no response: " << c.lastError();
    EXPECT_EQ(r->status, status) << r->rawHead << r->body;
    EXPECT_TRUE(c.waitClosed(Ms(3000))) << "connection left open after " << status;
    std::this_thread::sleep_for(Ms(200));
    EXPECT_EQ(up_->bytesReceived(), before) << "the upstream received:\n" << up_->received().substr(before, 500);
  }
  void expectAccepted(const std::string& request) {
    auto r = rawRequest(weir_->port(), request);
    ASSERT_TRUE(r) << "no response to a request within limits";
    EXPECT_EQ(r->status, 200) << r->rawHead << r->body;
    EXPECT_EQ(r->body, "ok");
  }
  std::unique_ptr<FakeUpstream> up_;
  std::unique_ptr<Weir> weir_;
};

// A request target of `bytes` bytes: "/uuu...".
std::string uri(size_t bytes) {
  std::string target(bytes, 'u');
  target[0] = '/';
  return target;
}

std::string manyHeaders(int extra) {
  std::string fields;
  for (int i = 0; i < extra; ++i) fields += "X-H-" + std::to_string(i) + ": v\r\n";
  return fields;
}

TEST_F(Limits, HeaderOver32KiBIs431) {
  ASSERT_NO_FATAL_FAILURE(start());
  expectRejected(get("/", "X-Big: " + std::string(40 * 1024, 'a') + "\r\n"), 431);
}

TEST_F(Limits, HundredAndOneHeadersIs431) {
  ASSERT_NO_FATAL_FAILURE(start());
  expectRejected(get("/", manyHeaders(100)), 431);  // Host + 100
}

TEST_F(Limits, HundredHeadersAccepted) {
  ASSERT_NO_FATAL_FAILURE(start());
  expectAccepted(get("/", manyHeaders(99)));  // Host + 99
}

TEST_F(Limits, UriOver8KiBIs414) {
  ASSERT_NO_FATAL_FAILURE(start());
  expectRejected(get(uri(9 * 1024)), 414);
}

TEST_F(Limits, UriUnder8KiBAccepted) {
  ASSERT_NO_FATAL_FAILURE(start());
  expectAccepted(get(uri(7 * 1024)));
}

TEST_F(Limits, DeclaredBodyOverDefaultLimitIs413) {
  ASSERT_NO_FATAL_FAILURE(start());
  expectRejected("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 2147483648\r\n\r\n", 413);
}

TEST_F(Limits, ChunkedBodyOverConfiguredLimitIs413) {
  ASSERT_NO_FATAL_FAILURE(start("limits: { body_bytes: 1KiB }"));
  std::string kib(1024, 'b');
  expectRejected("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n" + kib + "\r\n400\r\n" +
                     kib + "\r\n0\r\n\r\n",
                 413);
}

TEST_F(Limits, ContentLengthOverConfiguredLimitIs413) {
  ASSERT_NO_FATAL_FAILURE(start("limits: { body_bytes: 1KiB }"));
  expectRejected("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 2048\r\n\r\n" + std::string(2048, 'b'), 413);
}

TEST_F(Limits, BodyUnderConfiguredLimitAccepted) {
  ASSERT_NO_FATAL_FAILURE(start("limits: { body_bytes: 1KiB }"));
  expectAccepted("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3e8\r\n" +
                 std::string(1000, 'b') + "\r\n0\r\n\r\n");
  expectAccepted("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1024\r\n\r\n" + std::string(1024, 'b'));
}

TEST_F(Limits, UnknownTransferCodingIs501) {
  ASSERT_NO_FATAL_FAILURE(start());
  expectRejected("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                 501);
}

TEST_F(Limits, ConfiguredHeaderLimits) {
  ASSERT_NO_FATAL_FAILURE(start("limits: { header_bytes: 2KiB, headers: 10, uri_bytes: 1KiB }"));
  expectAccepted(get("/", "X-Big: " + std::string(1024, 'a') + "\r\n"));
  expectAccepted(get("/", manyHeaders(9)));
  expectAccepted(get(uri(900)));
  expectRejected(get("/", "X-Big: " + std::string(3 * 1024, 'a') + "\r\n"), 431);
  expectRejected(get("/", manyHeaders(10)), 431);
  expectRejected(get(uri(1100)), 414);
}

}  // namespace
}  // namespace weir::itest
