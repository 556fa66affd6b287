// Incremental HTTP/1.1 request parser for weir-origin, built on llhttp.
//
// The parser turns llhttp's callbacks into a pull-style stream of events: each
// call to execute() consumes bytes until the next interesting point (message
// begin, end of head, end of message, upgrade, error) and says how many bytes
// it used. That lets the connection record exact head offsets (for /headers and
// the head size limit) and stop between pipelined requests while a response is
// still being produced.
//
// Single-threaded: owned and used by one Connection on its worker loop.
#pragma once

#include <llhttp.h>

#include <cstddef>
#include <cstdint>
#include <string>

struct evbuffer;

namespace weir::origin {

// What the origin keeps about the request being parsed. Reset at message begin.
struct RequestInfo {
  std::string url;
  uint8_t method = HTTP_GET;
  uint8_t http_major = 1;
  uint8_t http_minor = 1;
  bool keep_alive = true;
  bool has_content_length = false;
  bool chunked = false;
  uint64_t content_length = 0;
  bool expect_continue = false;
  bool connection_upgrade = false;
  bool upgrade_websocket = false;
  std::string ws_key;
  std::string ws_version;
  uint64_t body_bytes = 0;
  bool body_too_large = false;

  void reset();
  bool isHead() const { return method == HTTP_HEAD; }
  bool isHttp11() const { return http_major == 1 && http_minor >= 1; }
};

enum class ParseEvent {
  kNeedMore,          // all bytes consumed, message not finished
  kMessageBegin,      // a request starts at the returned position
  kHeadersComplete,   // the head ends at the returned position
  kMessageComplete,   // the request (with its body) ends at the returned position
  kUpgrade,           // llhttp stopped after an upgrade request; bytes after it are not HTTP
  kError,             // malformed request; the connection must answer 400 and close
};

struct ParseResult {
  size_t consumed = 0;
  ParseEvent event = ParseEvent::kNeedMore;
};

class RequestParser {
 public:
  RequestParser();
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;

  // Parses from data[0, len) up to the next event. Pointers are not kept past
  // the call. After kUpgrade, call continueAfterUpgrade() to keep parsing HTTP.
  ParseResult execute(const char* data, size_t len);
  void continueAfterUpgrade();

  const RequestInfo& request() const { return info_; }

  // Until the next message begin, append body bytes to `sink` (not owned) as
  // long as the total stays within `limit`; beyond it, mark body_too_large.
  void captureBody(evbuffer* sink, uint64_t limit);

  const char* errorReason() const { return llhttp_get_error_reason(&parser_); }

 private:
  enum class Header { kOther, kConnection, kUpgrade, kExpect, kWsKey, kWsVersion };

  static const llhttp_settings_t& settings();
  static RequestParser& self(llhttp_t* p) { return *static_cast<RequestParser*>(p->data); }
  static int onMessageBegin(llhttp_t* p);
  static int onUrl(llhttp_t* p, const char* at, size_t len);
  static int onHeaderField(llhttp_t* p, const char* at, size_t len);
  static int onHeaderFieldComplete(llhttp_t* p);
  static int onHeaderValue(llhttp_t* p, const char* at, size_t len);
  static int onHeaderValueComplete(llhttp_t* p);
  static int onHeadersComplete(llhttp_t* p);
  static int onBody(llhttp_t* p, const char* at, size_t len);
  static int onMessageComplete(llhttp_t* p);

  void applyHeader();

  llhttp_t parser_;
  RequestInfo info_;
  ParseEvent pending_ = ParseEvent::kNeedMore;
  std::string field_;
  std::string value_;
  Header header_ = Header::kOther;
  evbuffer* body_sink_ = nullptr;
  uint64_t body_limit_ = 0;
};

}  // namespace weir::origin
