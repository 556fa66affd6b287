#include "request_parser.h"

#include <event2/buffer.h>

#include <string_view>

namespace weir::origin {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool equalsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// True when the comma-separated list `value` holds `token` (case-insensitive).
bool hasToken(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    size_t comma = value.find(',');
    if (equalsNoCase(trim(value.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

void RequestInfo::reset() {
  url.clear();
  method = HTTP_GET;
  http_major = 1;
  http_minor = 1;
  keep_alive = true;
  has_content_length = false;
  chunked = false;
  content_length = 0;
  expect_continue = false;
  connection_upgrade = false;
  upgrade_websocket = false;
  ws_key.clear();
  ws_version.clear();
  body_bytes = 0;
  body_too_large = false;
}

const llhttp_settings_t& RequestParser::settings() {
  static const llhttp_settings_t kSettings = [] {
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_message_begin = onMessageBegin;
    s.on_url = onUrl;
    s.on_header_field = onHeaderField;
    s.on_header_field_complete = onHeaderFieldComplete;
    s.on_header_value = onHeaderValue;
    s.on_header_value_complete = onHeaderValueComplete;
    s.on_headers_complete = onHeadersComplete;
    s.on_body = onBody;
    s.on_message_complete = onMessageComplete;
    return s;
  }();
  return kSettings;
}

RequestParser::RequestParser() {
  llhttp_init(&parser_, HTTP_REQUEST, &settings());
  parser_.data = this;
}

// Every interesting callback pauses the parser, so one execute() reports at
// most one event and the error position is exactly where it happened.
ParseResult RequestParser::execute(const char* data, size_t len) {
  pending_ = ParseEvent::kNeedMore;
  llhttp_errno_t err = llhttp_execute(&parser_, data, len);
  if (err == HPE_OK) return {len, ParseEvent::kNeedMore};
  size_t used = static_cast<size_t>(llhttp_get_error_pos(&parser_) - data);
  if (err == HPE_PAUSED) {
    llhttp_resume(&parser_);
    return {used, pending_};
  }
  if (err == HPE_PAUSED_UPGRADE) return {used, ParseEvent::kUpgrade};
  return {used, ParseEvent::kError};
}

void RequestParser::continueAfterUpgrade() { llhttp_resume_after_upgrade(&parser_); }

void RequestParser::captureBody(evbuffer* sink, uint64_t limit) {
  body_sink_ = sink;
  body_limit_ = limit;
}

int RequestParser::onMessageBegin(llhttp_t* p) {
  RequestParser& rp = self(p);
  rp.info_.reset();
  rp.field_.clear();
  rp.value_.clear();
  rp.body_sink_ = nullptr;
  rp.pending_ = ParseEvent::kMessageBegin;
  return HPE_PAUSED;
}

int RequestParser::onUrl(llhttp_t* p, const char* at, size_t len) {
  self(p).info_.url.append(at, len);
  return 0;
}

int RequestParser::onHeaderField(llhttp_t* p, const char* at, size_t len) {
  self(p).field_.append(at, len);
  return 0;
}

int RequestParser::onHeaderFieldComplete(llhttp_t* p) {
  RequestParser& rp = self(p);
  std::string_view f = rp.field_;
  rp.header_ = equalsNoCase(f, "connection")              ? Header::kConnection
               : equalsNoCase(f, "upgrade")               ? Header::kUpgrade
               : equalsNoCase(f, "expect")                ? Header::kExpect
               : equalsNoCase(f, "sec-websocket-key")     ? Header::kWsKey
               : equalsNoCase(f, "sec-websocket-version") ? Header::kWsVersion
                                                          : Header::kOther;
  return 0;
}

int RequestParser::onHeaderValue(llhttp_t* p, const char* at, size_t len) {
  RequestParser& rp = self(p);
  if (rp.header_ != Header::kOther) rp.value_.append(at, len);
  return 0;
}

int RequestParser::onHeaderValueComplete(llhttp_t* p) {
  RequestParser& rp = self(p);
  rp.applyHeader();
  rp.field_.clear();
  rp.value_.clear();
  rp.header_ = Header::kOther;
  return 0;
}

void RequestParser::applyHeader() {
  std::string_view v = trim(value_);
  switch (header_) {
    case Header::kConnection:
      if (hasToken(v, "upgrade")) info_.connection_upgrade = true;
      break;
    case Header::kUpgrade:
      if (hasToken(v, "websocket")) info_.upgrade_websocket = true;
      break;
    case Header::kExpect:
      if (equalsNoCase(v, "100-continue")) info_.expect_continue = true;
      break;
    case Header::kWsKey:
      info_.ws_key.assign(v);
      break;
    case Header::kWsVersion:
      info_.ws_version.assign(v);
      break;
    case Header::kOther:
      break;
  }
}

int RequestParser::onHeadersComplete(llhttp_t* p) {
  RequestParser& rp = self(p);
  RequestInfo& info = rp.info_;
  info.method = p->method;
  info.http_major = p->http_major;
  info.http_minor = p->http_minor;
  info.keep_alive = llhttp_should_keep_alive(p) != 0;
  info.chunked = (p->flags & F_CHUNKED) != 0;
  info.has_content_length = (p->flags & F_CONTENT_LENGTH) != 0;
  info.content_length = info.has_content_length ? p->content_length : 0;
  rp.pending_ = ParseEvent::kHeadersComplete;
  return HPE_PAUSED;
}

int RequestParser::onBody(llhttp_t* p, const char* at, size_t len) {
  RequestParser& rp = self(p);
  RequestInfo& info = rp.info_;
  info.body_bytes += len;
  if (rp.body_sink_ == nullptr || info.body_too_large) return 0;
  if (info.body_bytes > rp.body_limit_) {
    info.body_too_large = true;
    return 0;
  }
  evbuffer_add(rp.body_sink_, at, len);
  return 0;
}

int RequestParser::onMessageComplete(llhttp_t* p) {
  RequestParser& rp = self(p);
  // Recomputed here: a chunked request's trailers can still carry Connection.
  rp.info_.keep_alive = rp.info_.keep_alive && llhttp_should_keep_alive(p) != 0;
  rp.pending_ = ParseEvent::kMessageComplete;
  return HPE_PAUSED;
}

}  // namespace weir::origin
