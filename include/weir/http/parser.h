// A strict HTTP/1.1 message parser over llhttp (strict mode), for requests or
// responses. It copies only the message head; body bytes are reported as
// counts so the caller can move them between buffers without copying.
//
// Use, for each message:
//   step = execute(data, len) until step.flags has kHeadComplete
//   (handle the head), then execute() over body bytes until kMessageComplete,
//   then reset() for the next message on the same connection.
// execute() stops right after the head and right after the message, so the
// consumed counts split a buffer exactly at the message boundaries.
// Not thread-safe; owned by one connection on one event loop.
#pragma once

#include <llhttp.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "weir/http/message.h"

namespace weir::http {

struct ParserLimits {
  uint64_t header_bytes = 32 * 1024;
  uint32_t headers = 100;
  uint64_t uri_bytes = 8 * 1024;
  uint64_t body_bytes = UINT64_MAX;
};

// Receives de-chunked body bytes when set (used only when re-framing a body).
class BodySink {
 public:
  virtual ~BodySink() = default;
  virtual void onBodyData(const char* data, size_t len) = 0;
};

class Parser {
 public:
  enum class Kind { kRequest, kResponse };
  enum Flags : unsigned {
    kHeadComplete = 1u << 0,
    kMessageComplete = 1u << 1,
    kUpgrade = 1u << 2,  // with kMessageComplete: the rest of the stream is not HTTP
    kError = 1u << 3,
  };
  struct Step {
    size_t consumed = 0;
    unsigned flags = 0;
  };

  Parser(Kind kind, const ParserLimits& limits);
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;

  Step execute(const char* data, size_t len);
  // The peer closed its side: completes a body delimited by close, or fails.
  Step finish();
  // Prepares for the next message on the same stream.
  void reset();

  // Responses only: the request was HEAD, so the response has no body.
  void setNoBodyExpected(bool v) { no_body_expected_ = v; }
  void setBodySink(BodySink* sink) { sink_ = sink; }

  const RequestHead& request() const { return request_; }
  const ResponseHead& response() const { return response_; }
  bool inHead() const { return !head_done_; }
  bool started() const { return head_bytes_ > 0; }
  uint64_t bodyBytes() const { return body_bytes_; }
  // Chunk-size lines of this message parsed so far (each one validated).
  uint64_t chunkHeaders() const { return chunk_headers_; }

  // After kError: the status to answer with (requests: 400, 413, 414, 431,
  // 501; responses: 502) and a short reason for the error log.
  int errorStatus() const { return error_status_; }
  std::string_view errorReason() const { return error_reason_; }

 private:
  static int onMessageBegin(llhttp_t* p);
  static int onUrl(llhttp_t* p, const char* at, size_t len);
  static int onStatus(llhttp_t* p, const char* at, size_t len);
  static int onHeaderField(llhttp_t* p, const char* at, size_t len);
  static int onHeaderFieldComplete(llhttp_t* p);
  static int onHeaderValue(llhttp_t* p, const char* at, size_t len);
  static int onHeaderValueComplete(llhttp_t* p);
  static int onHeadersComplete(llhttp_t* p);
  static int onBody(llhttp_t* p, const char* at, size_t len);
  static int onMessageComplete(llhttp_t* p);
  static int onChunkHeader(llhttp_t* p);
  static const llhttp_settings_t* settings();

  int fail(int status, const char* reason);
  bool checkLineEndings(const char* data, size_t len);
  HeaderBlock& fields();
  int requestHeadComplete();
  int responseHeadComplete();
  Step stepFrom(llhttp_errno_t err, const char* data, size_t len);

  llhttp_t parser_;
  Kind kind_;
  ParserLimits limits_;
  RequestHead request_;
  ResponseHead response_;
  BodySink* sink_ = nullptr;
  bool no_body_expected_ = false;
  bool head_done_ = false;
  bool paused_ = false;
  bool in_name_ = false;     // inside a field name (it may arrive in pieces)
  bool field_open_ = false;  // a field has a name and its value is not complete
  unsigned flags_ = 0;  // collected by callbacks during one execute()
  uint64_t head_bytes_ = 0;
  uint64_t body_bytes_ = 0;
  uint64_t chunk_headers_ = 0;
  // Line endings in the head, checked byte by byte (llhttp in strict mode
  // still takes a bare LF outside field values, and folds obs-fold away):
  // the last head byte seen, carried across execute() calls.
  char last_head_byte_ = 0;
  int error_status_ = 0;
  const char* error_reason_ = "";
};

}  // namespace weir::http
