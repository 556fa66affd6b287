// Response planning and serialization for weir-origin.
//
// planResponse() decides everything about a response (status, framing, body
// source, connection handling) from the parsed request and its target; the
// write*() helpers serialize heads and in-memory bodies into an evbuffer.
// Large pattern bodies are streamed separately by PatternBody.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "request_parser.h"
#include "target.h"

struct evbuffer;

namespace weir::origin {

enum class Framing { kLength, kChunked, kClose };
enum class BodyKind { kText, kPattern, kEcho };

struct ResponsePlan {
  int status = 200;
  Framing framing = Framing::kLength;
  BodyKind body = BodyKind::kText;
  std::string text;             // body for kText
  uint64_t length = 0;          // body size the response describes, even for HEAD
  bool send_body = true;        // false for HEAD and bodiless statuses
  bool bodiless_status = false; // 204/304: neither Content-Length nor Transfer-Encoding
  bool trailer = false;         // chunked only: append "X-Trailer: yes"
  bool close = false;           // "Connection: close", then close the connection
  bool keep_alive_header = false;  // HTTP/1.0 keep-alive: "Connection: keep-alive"
  int64_t cache_seconds = -1;
  uint32_t delay_ms = 0;
  std::string_view content_type = "text/plain";
};

// Inputs a plan may need besides the request.
struct PlanContext {
  std::string_view hello_body;   // "hello from NAME\n"
  std::string_view raw_head;     // for /headers
  uint64_t echo_bytes = 0;       // for /echo
  uint64_t connections = 0;      // for /stats
  uint64_t requests = 0;         // for /stats
  int health_status = 200;       // for /healthz
  std::string health_report;     // for /_control/health
};

ResponsePlan planResponse(const RequestInfo& req, const Target& target, const PlanContext& ctx);

// A plan for a protocol error: the connection closes after it.
ResponsePlan planError(int status, std::string_view text);

// Appends the status line and header block. `origin_header` is the complete
// "X-Origin: NAME\r\n" line.
void writeHead(evbuffer* out, const ResponsePlan& plan, std::string_view origin_header);

// Appends plan.text framed per the plan (no-op when !send_body).
void writeTextBody(evbuffer* out, const ResponsePlan& plan);

// Moves all of `body` into `out`, framed per the plan (drained when !send_body).
void writeBufferBody(evbuffer* out, evbuffer* body, const ResponsePlan& plan);

void writeChunkHeader(evbuffer* out, uint64_t size);
void writeLastChunk(evbuffer* out, bool trailer);

const char* reasonPhrase(int status);

}  // namespace weir::origin
