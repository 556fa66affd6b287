// WebSocket (RFC 6455) support for weir-origin's /ws echo endpoint: the
// handshake check, the 101 response, and a streaming frame echoer.
//
// Single-threaded: a WebSocketEcho belongs to one Connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "request_parser.h"

struct evbuffer;

namespace weir::origin {

// True for a GET carrying Upgrade: websocket, Connection: Upgrade, a key and
// version 13.
bool isWebSocketUpgrade(const RequestInfo& req);

// Sec-WebSocket-Accept for a client key: base64(SHA-1(key + GUID)).
std::string webSocketAccept(std::string_view key);

// Appends the 101 Switching Protocols response for `req`.
void writeWebSocketHandshake(evbuffer* out, const RequestInfo& req, std::string_view origin_header);

// Echoes client frames back unmasked with the same FIN bit and opcode, payload
// streamed as it arrives. Pings get pongs, pongs are dropped, a close frame is
// echoed and ends the session; protocol errors send close 1002.
class WebSocketEcho {
 public:
  // Consumes a prefix of data[0, len) (unmasking it in place) and appends the
  // echo to `out`. Returns the number of bytes consumed; the rest is an
  // incomplete frame header or control frame to be offered again with more.
  size_t consume(char* data, size_t len, evbuffer* out);

  // True once a close frame has been queued: flush, then close the connection.
  bool finished() const { return finished_; }

 private:
  size_t consumeHeader(char* data, size_t len, evbuffer* out);
  size_t consumePayload(char* data, size_t len, evbuffer* out);
  void handleControl(uint8_t opcode, char* payload, size_t len, evbuffer* out);
  void fail(evbuffer* out);

  bool in_payload_ = false;
  uint64_t remaining_ = 0;
  uint8_t mask_[4] = {0, 0, 0, 0};
  size_t mask_pos_ = 0;
  bool finished_ = false;
};

}  // namespace weir::origin
