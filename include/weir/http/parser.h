// A strict HTTP/1.1 message parser over llhttp (strict mode), for requests or
// responses. It copies only the message head; body bytes are reported as
// counts so the caller can move them between buffers without copying.
// Trailer fields are checked (bounds, line endings, forbidden names) but not
// stored: the proxy relays them verbatim with a chunked body, or drops them.
//
// On top of llhttp it enforces: CRLF line endings and no obs-fold in the
// head, in chunk lines and in trailers; limits on every part (ParserLimits);
// RFC 9112 Transfer-Encoding rules; request-target forms and Host syntax
// (target.h), and look-alike field names with '_'. See parser.cc.
//
// Use, for each message:
//   step = execute(data, len) until step.flags has kHeadComplete
//   (handle the head), then execute() over body bytes until kMessageComplete,
//   then reset() for the next message on the same connection.
// execute() stops right after the head and right after the message, so the
// consumed counts split a buffer exactly at the message boundaries. It also
// stops, with no flag, where the trailer section of a chunked body begins:
// call it again with the rest (consumed is never 0 there).
// Not thread-safe; owned by one connection on one event loop.
#pragma once

#include <llhttp.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "weir/http/message.h"
#include "weir/http/types.h"

namespace weir::http {

// What a peer may make the parser hold or read. Every limit is per message.
struct ParserLimits {
  // The head (start line and fields, CRLFs included), and separately the
  // trailer section of a chunked body. Values above kMaxHeadBytes are taken
  // as kMaxHeadBytes (field offsets are 32-bit).
  uint64_t header_bytes = 32 * 1024;
  // Fields in the head, and separately in the trailer section.
  uint32_t headers = 100;
  uint64_t uri_bytes = 8 * 1024;
  uint64_t body_bytes = UINT64_MAX;  // requests only
  // Framing bytes between two pieces of chunk data: the CRLF after a chunk,
  // the next chunk-size line and its extensions.
  uint64_t chunk_line_bytes = 4096;
  // Requests: kReject refuses a field name containing '_' with 400. (kDrop
  // and kAllow are the forwarder's business, forward.h.) Whatever the
  // policy, "Content_Length" and "Transfer_Encoding" are refused.
  UnderscoreNames underscore_names = UnderscoreNames::kDrop;
};

constexpr uint64_t kMaxHeadBytes = uint64_t{1} << 30;
constexpr size_t kMaxReasonBytes = 1024;

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
  // New limits (a reload), for the next message: call between messages.
  void setLimits(const ParserLimits& limits);
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;

  Step execute(const char* data, size_t len);
  // The peer closed its side: completes a body delimited by close, or fails.
  Step finish();
  // Prepares for the next message, on the same stream or another: clears
  // every per-message state, also after a message cut short or an error.
  void reset();
  // Requests only, for logging a request refused before its head was
  // complete: fills request().method_name (known once any of the target
  // arrived) and the version (once the request line ended) from what llhttp
  // has read. True when the version is known. Not for the hot path.
  bool notePartialRequestLine();

  // Per-message settings, cleared by reset().
  // Responses only: the request was HEAD, so the response has no body.
  void setNoBodyExpected(bool v) { m_.no_body_expected = v; }
  void setBodySink(BodySink* sink) { m_.sink = sink; }

  const RequestHead& request() const { return request_; }
  const ResponseHead& response() const { return response_; }
  bool inHead() const { return !m_.head_done; }
  bool started() const { return m_.head_bytes > 0; }
  uint64_t headBytes() const { return m_.head_bytes; }
  uint64_t bodyBytes() const { return m_.body_bytes; }
  // Chunk-size lines of this message parsed so far (each one validated).
  uint64_t chunkHeaders() const { return m_.chunk_headers; }

  // After kError: the status to answer with (requests: 400, 413, 414, 431,
  // 501; responses: 502) and a short reason in operator words for the error
  // log (never llhttp's own message). NUL-terminated, static storage.
  int errorStatus() const { return m_.error_status; }
  std::string_view errorReason() const { return m_.error_reason; }

  // The operator words for an llhttp error code met in a request or a
  // response, in the head or in the body. Never empty; static storage.
  static const char* describeError(llhttp_errno_t err, Kind kind, bool in_body);

 private:
  enum class Part : uint8_t { kHead, kChunkLines, kTrailers };  // whose line endings are checked
  static int onMessageBegin(llhttp_t* p);
  static int onUrl(llhttp_t* p, const char* at, size_t len);
  static int onStatus(llhttp_t* p, const char* at, size_t len);
  static int onHeaderField(llhttp_t* p, const char* at, size_t len);
  static int onHeaderFieldComplete(llhttp_t* p);
  static int onHeaderValue(llhttp_t* p, const char* at, size_t len);
  static int onHeaderValueComplete(llhttp_t* p);
  static int onHeadersComplete(llhttp_t* p);
  static int onChunkHeader(llhttp_t* p);
  static int onBody(llhttp_t* p, const char* at, size_t len);
  static int onMessageComplete(llhttp_t* p);
  static const llhttp_settings_t* settings();

  int fail(int status, const char* reason);
  int failStatus() const { return kind_ == Kind::kRequest ? 400 : 502; }
  int tooLargeStatus() const { return kind_ == Kind::kRequest ? 431 : 502; }
  bool checkLines(const char* data, size_t len, Part part);
  bool checkFraming(const char* from, const char* to);
  int checkTrailerName();
  HeaderBlock& fields();
  int requestHeadComplete();
  int requestUnderscoreNames();
  int requestTargetComplete(int host_field);
  int requestTransferEncoding();
  int responseHeadComplete();
  Step stepFrom(llhttp_errno_t err, const char* data, size_t len);

  // Everything that belongs to one message. reset() replaces it whole, so
  // no flag of a message cut short can leak into the next one.
  struct MessageState {
    BodySink* sink = nullptr;
    bool no_body_expected = false;
    bool head_done = false;
    bool paused = false;
    bool in_name = false;       // inside a field name (it may arrive in pieces)
    bool field_open = false;    // a field has a name and its value is not complete
    bool last_chunk = false;    // the zero-size chunk line was just parsed
    bool in_trailers = false;   // parsing the trailer section
    unsigned flags = 0;         // collected by callbacks during one execute()
    uint64_t head_bytes = 0;
    uint64_t body_bytes = 0;
    uint64_t chunk_headers = 0;  // chunk-size lines parsed (each one validated)
    // Chunked framing bytes since the last chunk data byte; in the trailer
    // section, the trailer bytes so far.
    uint64_t framing_bytes = 0;
    uint32_t trailer_fields = 0;
    // Line endings are checked byte by byte (llhttp in strict mode still
    // takes a bare LF in places and folds obs-fold away): the last byte of
    // the head or framing seen, carried across execute() calls; 0 right
    // after chunk data.
    char last_byte = 0;
    // Framing bytes in the current execute() not yet checked start here.
    const char* gap_from = nullptr;
    // The current trailer field's name, enough of it to know a token.
    char trailer_name[24] = {};
    uint8_t trailer_name_length = 0;  // > sizeof trailer_name: too long to be one
    int error_status = 0;
    const char* error_reason = "";
  };

  llhttp_t parser_;
  Kind kind_;
  ParserLimits limits_;
  RequestHead request_;
  ResponseHead response_;
  MessageState m_;
};

}  // namespace weir::http
