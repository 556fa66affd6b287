#include "websocket.h"

#include <event2/buffer.h>
#include <openssl/evp.h>

#include <cstring>

namespace weir::origin {
namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
constexpr uint8_t kOpContinuation = 0x0;
constexpr uint8_t kOpText = 0x1;
constexpr uint8_t kOpBinary = 0x2;
constexpr uint8_t kOpClose = 0x8;
constexpr uint8_t kOpPing = 0x9;
constexpr uint8_t kOpPong = 0xA;
constexpr size_t kMaxControlPayload = 125;

bool isDataOpcode(uint8_t op) { return op == kOpContinuation || op == kOpText || op == kOpBinary; }
bool isControlOpcode(uint8_t op) { return op == kOpClose || op == kOpPing || op == kOpPong; }

// Appends an unmasked frame header.
void writeFrameHeader(evbuffer* out, uint8_t first_byte, uint64_t len) {
  uint8_t h[10];
  size_t n = 2;
  h[0] = first_byte;
  if (len < 126) {
    h[1] = static_cast<uint8_t>(len);
  } else if (len <= 0xFFFF) {
    h[1] = 126;
    h[2] = static_cast<uint8_t>(len >> 8);
    h[3] = static_cast<uint8_t>(len);
    n = 4;
  } else {
    h[1] = 127;
    for (int i = 0; i < 8; ++i) h[2 + i] = static_cast<uint8_t>(len >> (56 - 8 * i));
    n = 10;
  }
  evbuffer_add(out, h, n);
}

// Unmasks in place, eight bytes at a time once the mask phase is aligned.
void unmask(char* data, size_t len, const uint8_t mask[4], size_t& mask_pos) {
  size_t i = 0;
  for (; i < len && mask_pos != 0; ++i) {
    data[i] = static_cast<char>(static_cast<uint8_t>(data[i]) ^ mask[mask_pos]);
    mask_pos = (mask_pos + 1) & 3;
  }
  uint32_t m4;
  std::memcpy(&m4, mask, 4);
  const uint64_t m8 = (uint64_t{m4} << 32) | m4;
  for (; i + 8 <= len; i += 8) {
    uint64_t w;
    std::memcpy(&w, data + i, 8);
    w ^= m8;
    std::memcpy(data + i, &w, 8);
  }
  for (; i < len; ++i) {
    data[i] = static_cast<char>(static_cast<uint8_t>(data[i]) ^ mask[mask_pos]);
    mask_pos = (mask_pos + 1) & 3;
  }
}

}  // namespace

bool isWebSocketUpgrade(const RequestInfo& req) {
  return req.method == HTTP_GET && req.isHttp11() && req.upgrade_websocket &&
         req.connection_upgrade && !req.ws_key.empty() && req.ws_version == "13";
}

std::string webSocketAccept(std::string_view key) {
  std::string input(key);
  input += kGuid;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  EVP_Digest(input.data(), input.size(), digest, &digest_len, EVP_sha1(), nullptr);
  unsigned char encoded[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
  int n = EVP_EncodeBlock(encoded, digest, static_cast<int>(digest_len));
  return std::string(reinterpret_cast<char*>(encoded), static_cast<size_t>(n));
}

void writeWebSocketHandshake(evbuffer* out, const RequestInfo& req, std::string_view origin_header) {
  std::string h =
      "HTTP/1.1 101 Switching Protocols\r\n"
      "Upgrade: websocket\r\n"
      "Connection: Upgrade\r\n"
      "Sec-WebSocket-Accept: ";
  h += webSocketAccept(req.ws_key);
  h += "\r\n";
  h += origin_header;
  h += "\r\n";
  evbuffer_add(out, h.data(), h.size());
}

size_t WebSocketEcho::consume(char* data, size_t len, evbuffer* out) {
  size_t used = 0;
  while (used < len && !finished_) {
    size_t n = in_payload_ ? consumePayload(data + used, len - used, out)
                           : consumeHeader(data + used, len - used, out);
    if (n == 0) break;
    used += n;
  }
  return used;
}

// Parses one frame header. Data frames switch to payload streaming; control
// frames are handled whole. Returns 0 when more bytes are needed.
size_t WebSocketEcho::consumeHeader(char* data, size_t len, evbuffer* out) {
  if (len < 2) return 0;
  const auto* p = reinterpret_cast<const uint8_t*>(data);
  uint8_t opcode = p[0] & 0x0F;
  bool fin = (p[0] & 0x80) != 0;
  bool masked = (p[1] & 0x80) != 0;
  uint64_t plen = p[1] & 0x7F;
  size_t hlen = 2 + (plen == 126 ? 2 : plen == 127 ? 8 : 0) + 4;
  if ((p[0] & 0x70) != 0 || !masked || (!isDataOpcode(opcode) && !isControlOpcode(opcode)) ||
      (isControlOpcode(opcode) && (!fin || plen > kMaxControlPayload))) {
    fail(out);
    return len;
  }
  if (len < hlen) return 0;
  if (plen == 126) plen = (uint64_t{p[2]} << 8) | p[3];
  if (plen == 127) {
    plen = 0;
    for (int i = 0; i < 8; ++i) plen = (plen << 8) | p[2 + i];
    if (plen >> 63) {
      fail(out);
      return len;
    }
  }
  std::memcpy(mask_, p + hlen - 4, 4);
  mask_pos_ = 0;
  if (isControlOpcode(opcode)) {
    if (len < hlen + plen) return 0;
    unmask(data + hlen, plen, mask_, mask_pos_);
    handleControl(opcode, data + hlen, plen, out);
    return hlen + plen;
  }
  writeFrameHeader(out, p[0], plen);
  in_payload_ = plen > 0;
  remaining_ = plen;
  return hlen;
}

size_t WebSocketEcho::consumePayload(char* data, size_t len, evbuffer* out) {
  size_t n = remaining_ < len ? static_cast<size_t>(remaining_) : len;
  unmask(data, n, mask_, mask_pos_);
  evbuffer_add(out, data, n);
  remaining_ -= n;
  in_payload_ = remaining_ > 0;
  return n;
}

void WebSocketEcho::handleControl(uint8_t opcode, char* payload, size_t len, evbuffer* out) {
  if (opcode == kOpPong) return;
  if (opcode == kOpPing) {
    writeFrameHeader(out, 0x80 | kOpPong, len);
    evbuffer_add(out, payload, len);
    return;
  }
  writeFrameHeader(out, 0x80 | kOpClose, len);
  evbuffer_add(out, payload, len);
  finished_ = true;
}

void WebSocketEcho::fail(evbuffer* out) {
  static constexpr uint8_t kProtocolError[] = {0x80 | kOpClose, 2, 0x03, 0xEA};  // 1002
  evbuffer_add(out, kProtocolError, sizeof kProtocolError);
  finished_ = true;
}

}  // namespace weir::origin
