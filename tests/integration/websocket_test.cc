// WebSocket: the Upgrade request is forwarded and, after 101, bytes are
// tunnelled both ways.
#include "harness.h"

namespace weir::itest {
namespace {

// RFC 6455 section 1.3 example key and its accept value.
const char* kKey = "dGhlIHNhbXBsZSBub25jZQ==";
const char* kAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

std::string clientFrame(uint8_t opcode, const std::string& payload) {
  std::string f;
  f.push_back(static_cast<char>(0x80 | opcode));
  size_t n = payload.size();
  if (n < 126) {
    f.push_back(static_cast<char>(0x80 | n));
  } else if (n < 65536) {
    f.push_back(static_cast<char>(0x80 | 126));
    f.push_back(static_cast<char>(n >> 8));
    f.push_back(static_cast<char>(n & 0xff));
  } else {
    f.push_back(static_cast<char>(0x80 | 127));
    for (int i = 7; i >= 0; --i) f.push_back(static_cast<char>((static_cast<uint64_t>(n) >> (8 * i)) & 0xff));
  }
  const uint8_t mask[4] = {0x12, 0x34, 0x56, 0x78};
  for (uint8_t m : mask) f.push_back(static_cast<char>(m));
  for (size_t i = 0; i < n; ++i) f.push_back(static_cast<char>(payload[i] ^ static_cast<char>(mask[i % 4])));
  return f;
}

struct Frame {
  uint8_t opcode = 0;
  bool fin = false;
  bool masked = false;
  std::string payload;
};

// Reads one server frame from the client's buffer/socket.
std::optional<Frame> readFrame(RawClient& c, Ms timeout) {
  auto deadline = Clock::now() + timeout;
  auto need = [&](size_t n) { return c.readAtLeast(n, std::chrono::duration_cast<Ms>(deadline - Clock::now())); };
  if (!need(2)) return std::nullopt;
  auto& b = c.buffer();
  Frame f;
  f.fin = (static_cast<uint8_t>(b[0]) & 0x80) != 0;
  f.opcode = static_cast<uint8_t>(b[0]) & 0x0f;
  f.masked = (static_cast<uint8_t>(b[1]) & 0x80) != 0;
  uint64_t len = static_cast<uint8_t>(b[1]) & 0x7f;
  size_t hdr = 2;
  if (len == 126) {
    if (!need(4)) return std::nullopt;
    len = (static_cast<uint64_t>(static_cast<uint8_t>(b[2])) << 8) | static_cast<uint8_t>(b[3]);
    hdr = 4;
  } else if (len == 127) {
    if (!need(10)) return std::nullopt;
    len = 0;
    for (int i = 0; i < 8; ++i) len = (len << 8) | static_cast<uint8_t>(b[2 + i]);
    hdr = 10;
  }
  size_t maskLen = f.masked ? 4 : 0;
  if (!need(hdr + maskLen + len)) return std::nullopt;
  f.payload = b.substr(hdr + maskLen, len);
  if (f.masked) {
    for (size_t i = 0; i < f.payload.size(); ++i) f.payload[i] ^= b[hdr + i % 4];
  }
  b.erase(0, hdr + maskLen + len);
  return f;
}

// Reads a whole (possibly fragmented) message: returns the first frame's
// opcode and the concatenated payload.
std::optional<Frame> readMessage(RawClient& c, Ms timeout) {
  auto first = readFrame(c, timeout);
  if (!first) return std::nullopt;
  Frame msg = *first;
  while (!msg.fin) {
    auto next = readFrame(c, timeout);
    if (!next) return std::nullopt;
    msg.payload += next->payload;
    msg.fin = next->fin;
  }
  return msg;
}

std::string upgradeRequest(const std::string& path) {
  return "GET " + path +
         " HTTP/1.1\r\nHost: ws.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: " +
         std::string(kKey) + "\r\nSec-WebSocket-Version: 13\r\n\r\n";
}

using WebSocket = ProxyTest;

TEST_F(WebSocket, UpgradeEchoAndClose) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  RawClient c(weir().port());
  ASSERT_TRUE(c.send(upgradeRequest("/ws")));
  auto r = c.readResponse(Ms(3000));
  ASSERT_TRUE(r) << c.lastError();
  ASSERT_EQ(r->status, 101) << r->rawHead;
  EXPECT_EQ(r->header("Sec-WebSocket-Accept").value_or("<missing>"), kAccept) << r->rawHead;
  EXPECT_TRUE(icontains(r->header("Upgrade").value_or(""), "websocket")) << r->rawHead;
  EXPECT_TRUE(icontains(r->header("Connection").value_or(""), "upgrade")) << r->rawHead;

  ASSERT_TRUE(c.send(clientFrame(0x1, "hello weir")));
  auto echo = readMessage(c, Ms(3000));
  ASSERT_TRUE(echo) << "no echo through the tunnel: " << c.lastError();
  EXPECT_EQ(echo->opcode, 0x1);
  EXPECT_FALSE(echo->masked) << "server frames are not masked";
  EXPECT_EQ(echo->payload, "hello weir");

  std::string big = randomBytes(100000, 3);
  ASSERT_TRUE(c.send(clientFrame(0x2, big)));
  auto bigEcho = readMessage(c, Ms(5000));
  ASSERT_TRUE(bigEcho) << "no echo of the 100 kB frame: " << c.lastError();
  EXPECT_EQ(bigEcho->opcode, 0x2);
  EXPECT_TRUE(bigEcho->payload == big) << "binary echo differs (size " << bigEcho->payload.size() << ")";

  ASSERT_TRUE(c.send(clientFrame(0x8, std::string("\x03\xe8", 2))));
  auto closeFrame = readFrame(c, Ms(3000));
  ASSERT_TRUE(closeFrame) << "no close frame back: " << c.lastError();
  EXPECT_EQ(closeFrame->opcode, 0x8);
  c.shutdownWrite();
  EXPECT_TRUE(c.waitClosed(Ms(3000))) << "tunnel not torn down after the close handshake";
}

TEST_F(WebSocket, ManySmallMessagesInBothDirections) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  RawClient c(weir().port());
  ASSERT_TRUE(c.send(upgradeRequest("/ws")));
  auto r = c.readResponse(Ms(3000));
  ASSERT_TRUE(r) << c.lastError();
  ASSERT_EQ(r->status, 101) << r->rawHead;
  std::string batch;
  for (int i = 0; i < 100; ++i) batch += clientFrame(0x1, "msg " + std::to_string(i));
  ASSERT_TRUE(c.send(batch));
  for (int i = 0; i < 100; ++i) {
    auto m = readMessage(c, Ms(3000));
    ASSERT_TRUE(m) << "message " << i << ": " << c.lastError();
    EXPECT_EQ(m->payload, "msg " + std::to_string(i));
  }
}

TEST_F(WebSocket, UpgradeRefusedByOriginStaysHttp) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  RawClient c(weir().port());
  // /bytes does not upgrade: the origin answers 200 and the connection stays HTTP.
  ASSERT_TRUE(c.send(upgradeRequest("/bytes/12")));
  auto r = c.readResponse(Ms(3000));
  ASSERT_TRUE(r) << c.lastError();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, pattern(12));
  EXPECT_FALSE(icontains(r->header("Connection").value_or(""), "close")) << r->rawHead;
  ASSERT_TRUE(c.send(get("/bytes/5")));
  auto r2 = c.readResponse(Ms(3000));
  ASSERT_TRUE(r2) << "the connection did not stay HTTP after a refused upgrade: " << c.lastError();
  EXPECT_EQ(r2->status, 200);
  EXPECT_EQ(r2->body, pattern(5));
}

}  // namespace
}  // namespace weir::itest
