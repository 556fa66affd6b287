// Responses from a scripted upstream with unusual or ambiguous framing.
#include <cstdio>

#include "harness.h"

namespace weir::itest {
namespace {

struct Scripted {
  explicit Scripted(const std::string& response)
      : up(FakeUpstream::Mode::kScripted, response), weir(poolConfig({up.address()})) {}
  FakeUpstream up;
  Weir weir;
};

TEST(UpstreamFraming, InterimResponseThenFinal) {
  Scripted s("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
             "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  ASSERT_TRUE(s.weir.ok()) << s.weir.error();
  RawClient c(s.weir.port());
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(c.send(get("/")));
    auto r = c.readFinalResponse(Ms(3000));
    ASSERT_TRUE(r) << "request " << i << ": " << c.lastError();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "ok");
  }
}

TEST(UpstreamFraming, ContentLengthAndChunkedResponseIs502) {
  // RFC 9112 6.3: a message with both "ought to be handled as an error"
  // (it may be an attempt at response splitting); weir refuses it rather
  // than pick one framing, and the client gets a clean 502.
  Scripted s("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  ASSERT_TRUE(s.weir.ok()) << s.weir.error();
  RawClient c(s.weir.port());
  ASSERT_TRUE(c.send(get("/")));
  auto r = c.readResponse(Ms(3000));
  ASSERT_TRUE(r) << c.lastError();
  EXPECT_EQ(r->status, 502) << r->rawHead << r->body;
  EXPECT_EQ(r->body.find("hello"), std::string::npos) << "bytes of the refused response reached the client";
}

TEST(UpstreamFraming, ConflictingContentLengthsAre502) {
  Scripted s("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nokk");
  ASSERT_TRUE(s.weir.ok()) << s.weir.error();
  auto r = rawRequest(s.weir.port(), get("/"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 502) << r->rawHead << r->body;
}

TEST(UpstreamFraming, ChunkedResponseSplitAcrossManyChunks) {
  std::string body;
  std::string wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 1; i <= 50; ++i) {
    std::string part(static_cast<size_t>(i), static_cast<char>('A' + i % 26));
    body += part;
    char hex[16];
    std::snprintf(hex, sizeof hex, "%x", i);
    wire += std::string(hex) + "\r\n" + part + "\r\n";
  }
  wire += "0\r\n\r\n";
  Scripted s(wire);
  ASSERT_TRUE(s.weir.ok()) << s.weir.error();
  RawClient c(s.weir.port());
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(c.send(get("/")));
    auto r = c.readResponse(Ms(3000));
    ASSERT_TRUE(r) << c.lastError();
    EXPECT_EQ(r->body, body);
  }
}

}  // namespace
}  // namespace weir::itest
