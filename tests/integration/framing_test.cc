// Message framing through the proxy: Content-Length and chunked in both
// directions, close-delimited responses, HEAD, 204/304, 100-continue,
// HTTP/1.0 clients and trailers.
#include "harness.h"

namespace weir::itest {
namespace {

using Framing = ProxyTest;

std::string bodyFile(const std::string& name, const std::string& data) {
  std::string path = testDir() + "/" + name;
  writeFile(path, data);
  return path;
}

TEST_F(Framing, ChunkedRequestBodyEchoed) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  std::string data = randomBytes(300 * 1000, 7);
  std::string file = bodyFile("chunked.bin", data);
  CurlResult r = curl(weir().url("/echo"), {"-H", "Transfer-Encoding: chunked", "--data-binary", "@" + file});
  EXPECT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.body.size(), data.size());
  EXPECT_TRUE(r.body == data) << "echoed body differs";
}

TEST_F(Framing, ContentLengthRequestBodyEchoed) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  std::string data = randomBytes(1 << 20, 8);
  std::string file = bodyFile("cl.bin", data);
  CurlResult r = curl(weir().url("/echo"), {"--data-binary", "@" + file});
  EXPECT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.body.size(), data.size());
  EXPECT_TRUE(r.body == data) << "echoed body differs";
}

TEST_F(Framing, ChunkedRequestWithExtensionsAndTrailers) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  RawClient c(weir().port());
  ASSERT_TRUE(c.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n"));
  auto r = c.readResponse(Ms(5000));
  ASSERT_TRUE(r) << c.lastError();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello world");
  ASSERT_TRUE(c.send(get("/bytes/3")));
  auto r2 = c.readResponse(Ms(5000));
  ASSERT_TRUE(r2) << "connection unusable after a chunked request with trailers: " << c.lastError();
  EXPECT_EQ(r2->body, pattern(3));
}

TEST_F(Framing, ChunkedResponse) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  CurlResult r = curl(weir().url("/bytes/100000?chunked=1"));
  EXPECT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.body.size(), 100000u);
  EXPECT_TRUE(r.body == pattern(100000));
  RawClient c(weir().port());
  ASSERT_TRUE(c.send(get("/bytes/100000?chunked=1") + get("/bytes/10")));
  auto r1 = c.readResponse(Ms(5000));
  auto r2 = c.readResponse(Ms(5000));
  ASSERT_TRUE(r1 && r2) << c.lastError();
  EXPECT_TRUE(r1->body == pattern(100000));
  EXPECT_EQ(r2->body, pattern(10));
}

TEST_F(Framing, ContentLengthResponseKeepsContentLength) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  auto r = rawRequest(weir().port(), get("/bytes/100000"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("Content-Length").value_or("<missing>"), "100000") << r->rawHead;
  EXPECT_FALSE(r->chunked);
  EXPECT_TRUE(r->body == pattern(100000));
}

TEST_F(Framing, CloseDelimitedResponseToHttp11Client) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  auto direct = rawRequest(origin().port(), get("/close"));
  ASSERT_TRUE(direct) << "origin's /close unreadable";
  ASSERT_FALSE(direct->body.empty());
  RawClient c(weir().port());
  ASSERT_TRUE(c.send(get("/close")));
  auto r = c.readResponse(Ms(5000));
  ASSERT_TRUE(r) << c.lastError();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, direct->body);
  if (!r->closeDelimited) {
    // Re-framed (chunked): the connection must still work.
    ASSERT_TRUE(c.send(get("/bytes/4")));
    auto r2 = c.readResponse(Ms(5000));
    ASSERT_TRUE(r2) << c.lastError();
    EXPECT_EQ(r2->body, pattern(4));
  }
  CurlResult cr = curl(weir().url("/close"));
  EXPECT_EQ(cr.status, 200) << cr.describe();
  EXPECT_EQ(cr.body, direct->body);
}

TEST_F(Framing, CloseDelimitedResponseToHttp10Client) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  auto direct = rawRequest(origin().port(), get("/close"));
  ASSERT_TRUE(direct) << "origin's /close unreadable";
  RawClient c(weir().port());
  ASSERT_TRUE(c.send("GET /close HTTP/1.0\r\nHost: x\r\n\r\n"));
  auto r = c.readResponse(Ms(5000));
  ASSERT_TRUE(r) << c.lastError();
  EXPECT_EQ(r->status, 200);
  EXPECT_FALSE(r->chunked) << "chunked sent to an HTTP/1.0 client";
  EXPECT_EQ(r->body, direct->body);
  CurlResult cr = curl(weir().url("/close"), {"-0"});
  EXPECT_EQ(cr.status, 200) << cr.describe();
  EXPECT_EQ(cr.body, direct->body);
}

TEST_F(Framing, Http10ClientGetsChunkedUpstreamDechunked) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  RawClient c(weir().port());
  ASSERT_TRUE(c.send("GET /bytes/5000?chunked=1 HTTP/1.0\r\nHost: x\r\n\r\n"));
  std::string raw = c.readUntilClose(Ms(5000));
  ASSERT_FALSE(c.timedOut()) << "connection to the HTTP/1.0 client not closed";
  ResponseParser p;
  size_t used = p.feed(raw.data(), raw.size());
  p.feedEof();
  ASSERT_TRUE(p.done()) << p.error() << "\n" << raw.substr(0, 500);
  EXPECT_FALSE(p.response().chunked) << p.response().rawHead;
  EXPECT_FALSE(icontains(p.response().rawHead, "transfer-encoding")) << p.response().rawHead;
  EXPECT_EQ(p.response().body.size(), 5000u);
  EXPECT_TRUE(p.response().body == pattern(5000)) << "body: " << p.response().body.substr(0, 100);
  EXPECT_EQ(used, raw.size());
  CurlResult cr = curl(weir().url("/bytes/5000?chunked=1"), {"-0"});
  EXPECT_EQ(cr.status, 200) << cr.describe();
  EXPECT_TRUE(cr.body == pattern(5000));
}

TEST_F(Framing, HeadHasNoBody) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  CurlResult cr = curl(weir().url("/bytes/1234"), {"-I"});
  EXPECT_EQ(cr.status, 200) << cr.describe();
  EXPECT_EQ(cr.header("Content-Length").value_or("<missing>"), "1234") << cr.describe();
  RawClient c(weir().port());
  ASSERT_TRUE(c.send("HEAD /bytes/1234 HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r = c.readResponse(Ms(3000), true);
  ASSERT_TRUE(r) << c.lastError();
  EXPECT_EQ(r->header("Content-Length").value_or("<missing>"), "1234");
  ASSERT_TRUE(c.send(get("/bytes/9")));
  auto r2 = c.readResponse(Ms(3000));
  ASSERT_TRUE(r2) << c.lastError();
  EXPECT_EQ(r2->status, 200) << "a body after the HEAD response would show up here";
  EXPECT_EQ(r2->body, pattern(9));
}

void expectNoBodyAndReusable(Weir& weir, int code) {
  RawClient c(weir.port());
  ASSERT_TRUE(c.send(get("/status/" + std::to_string(code))));
  auto r = c.readResponse(Ms(3000));
  ASSERT_TRUE(r) << c.lastError();
  EXPECT_EQ(r->status, code);
  EXPECT_FALSE(icontains(r->rawHead, "transfer-encoding")) << r->rawHead;
  ASSERT_TRUE(c.send(get("/")));
  auto r2 = c.readResponse(Ms(3000));
  ASSERT_TRUE(r2) << "connection unusable after " << code << ": " << c.lastError();
  EXPECT_EQ(r2->status, 200);
  EXPECT_EQ(r2->body, "hello from a\n");
  c.readSome(Ms(200));
  EXPECT_EQ(c.buffer(), "") << "stray bytes after the responses";
}

TEST_F(Framing, NoContent204HasNoBody) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  expectNoBodyAndReusable(weir(), 204);
}

TEST_F(Framing, NotModified304HasNoBody) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  expectNoBodyAndReusable(weir(), 304);
}

TEST_F(Framing, Expect100ContinueWithCurlIsFast) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  std::string data = randomBytes(100 * 1000, 9);
  std::string file = bodyFile("expect.bin", data);
  CurlResult r = curl(weir().url("/echo"), {"-H", "Expect: 100-continue", "--data-binary", "@" + file});
  EXPECT_EQ(r.status, 200) << r.describe();
  EXPECT_TRUE(r.body == data) << "echoed body differs";
  EXPECT_LT(r.timeTotal, 0.9) << "curl waited for its expect timeout: no 100 Continue was sent";
}

TEST_F(Framing, Expect100ContinueRaw) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  RawClient c(weir().port());
  ASSERT_TRUE(c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n"));
  auto interim = c.readResponse(Ms(2000));
  ASSERT_TRUE(interim) << "no 100 Continue before the body was sent: " << c.lastError();
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(c.send("hello world"));
  auto r = c.readFinalResponse(Ms(3000));
  ASSERT_TRUE(r) << c.lastError();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello world");
}

TEST_F(Framing, TrailersDoNotBreakTheConnection) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  CurlResult cr = curl(weir().url("/bytes/1000?chunked=1&trailer=1"));
  EXPECT_EQ(cr.status, 200) << cr.describe();
  EXPECT_TRUE(cr.body == pattern(1000));
  RawClient c(weir().port());
  ASSERT_TRUE(c.send(get("/bytes/1000?chunked=1&trailer=1", "TE: trailers\r\n")));
  auto r = c.readResponse(Ms(3000));
  ASSERT_TRUE(r) << c.lastError();
  EXPECT_TRUE(r->body == pattern(1000));
  ASSERT_TRUE(c.send(get("/bytes/2")));
  auto r2 = c.readResponse(Ms(3000));
  ASSERT_TRUE(r2) << "connection unusable after a response with trailers: " << c.lastError();
  EXPECT_EQ(r2->body, pattern(2));
}

TEST_F(Framing, EmptyBodies) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  RawClient c(weir().port());
  ASSERT_TRUE(c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n" +
                     std::string("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n") +
                     get("/bytes/0")));
  for (int i = 0; i < 3; ++i) {
    auto r = c.readResponse(Ms(3000));
    ASSERT_TRUE(r) << "response " << i << ": " << c.lastError();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "");
  }
}

}  // namespace
}  // namespace weir::itest
