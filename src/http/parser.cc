#include "weir/http/parser.h"

#include <algorithm>
#include <cstring>

namespace weir::http {
namespace {

Parser* self(llhttp_t* p) { return static_cast<Parser*>(p->data); }

}  // namespace

const llhttp_settings_t* Parser::settings() {
  static const llhttp_settings_t s = [] {
    llhttp_settings_t st;
    llhttp_settings_init(&st);
    st.on_message_begin = &Parser::onMessageBegin;
    st.on_url = &Parser::onUrl;
    st.on_status = &Parser::onStatus;
    st.on_header_field = &Parser::onHeaderField;
    st.on_header_value = &Parser::onHeaderValue;
    st.on_header_field_complete = &Parser::onHeaderFieldComplete;
    st.on_header_value_complete = &Parser::onHeaderValueComplete;
    st.on_headers_complete = &Parser::onHeadersComplete;
    st.on_body = &Parser::onBody;
    st.on_message_complete = &Parser::onMessageComplete;
    st.on_chunk_header = &Parser::onChunkHeader;
    return st;
  }();
  return &s;
}

Parser::Parser(Kind kind, const ParserLimits& limits) : kind_(kind), limits_(limits) {
  llhttp_init(&parser_, kind == Kind::kRequest ? HTTP_REQUEST : HTTP_RESPONSE, settings());
  parser_.data = this;
}

void Parser::reset() {
  // A full llhttp reset, not only a resume: after llhttp_finish() (a body
  // ended by close) llhttp accepts nothing more, and the next message may
  // come on another connection. llhttp_reset keeps settings and data.
  llhttp_reset(&parser_);
  paused_ = false;
  request_.clear();
  response_.clear();
  head_done_ = false;
  head_bytes_ = 0;
  body_bytes_ = 0;
  chunk_headers_ = 0;
  last_head_byte_ = 0;
  in_name_ = false;
  field_open_ = false;
  sink_ = nullptr;
  no_body_expected_ = false;
}

int Parser::fail(int status, const char* reason) {
  error_status_ = status;
  error_reason_ = reason;
  llhttp_set_error_reason(&parser_, reason);
  return HPE_USER;
}

Parser::Step Parser::execute(const char* data, size_t len) {
  if (error_status_ != 0) return {0, kError};
  if (paused_) {
    llhttp_resume(&parser_);
    paused_ = false;
  }
  const bool in_head = !head_done_;
  if (in_head) {
    // Feed no more than the head may still take, plus one byte to notice
    // when it is too long: memory stays bounded by the limit.
    uint64_t room = limits_.header_bytes - std::min(head_bytes_, limits_.header_bytes);
    if (room < UINT64_MAX) ++room;
    len = static_cast<size_t>(std::min<uint64_t>(len, room));
  }
  flags_ = 0;
  llhttp_errno_t err = llhttp_execute(&parser_, data, len);
  Step step = stepFrom(err, data, len);
  if (in_head && !(step.flags & kError)) {
    head_bytes_ += step.consumed;
    if (head_bytes_ > limits_.header_bytes) {
      fail(kind_ == Kind::kRequest ? 431 : 502, "header section too large");
      step.flags = kError;
    } else if (!checkLineEndings(data, step.consumed)) {
      step.flags = kError;
    }
  }
  return step;
}

// Every LF in a head must follow a CR, every CR must precede an LF, and no
// line may start with whitespace (obs-fold, RFC 9112 5.2: rejected here).
// memchr finds the few line ends quickly; the byte before a piece comes from
// the previous execute() call.
bool Parser::checkLineEndings(const char* data, size_t len) {
  if (len == 0) return true;
  const int status = kind_ == Kind::kRequest ? 400 : 502;
  const char* end = data + len;
  auto next = [end](const char* from, char c) {
    return from < end ? static_cast<const char*>(std::memchr(from, c, static_cast<size_t>(end - from))) : nullptr;
  };
  for (const char* lf = next(data, '\n'); lf != nullptr; lf = next(lf + 1, '\n')) {
    char before = lf == data ? last_head_byte_ : lf[-1];
    if (before != '\r') return fail(status, "bare LF in message head"), false;
    if (lf + 1 < end && (lf[1] == ' ' || lf[1] == '\t')) {
      return fail(status, "obsolete line folding in header field"), false;
    }
  }
  for (const char* cr = next(data, '\r'); cr != nullptr; cr = next(cr + 1, '\r')) {
    if (cr + 1 < end && cr[1] != '\n') return fail(status, "bare CR in message head"), false;
  }
  if (last_head_byte_ == '\r' && data[0] != '\n') return fail(status, "bare CR in message head"), false;
  if (last_head_byte_ == '\n' && (data[0] == ' ' || data[0] == '\t')) {
    return fail(status, "obsolete line folding in header field"), false;
  }
  last_head_byte_ = end[-1];
  return true;
}

Parser::Step Parser::stepFrom(llhttp_errno_t err, const char* data, size_t len) {
  Step step;
  step.flags = flags_;
  if (err == HPE_OK) {
    step.consumed = len;
  } else if (err == HPE_PAUSED) {
    paused_ = true;
    step.consumed = static_cast<size_t>(llhttp_get_error_pos(&parser_) - data);
  } else if (err == HPE_PAUSED_UPGRADE) {
    step.consumed = 0;
    step.flags |= kUpgrade;
  } else {
    step.consumed = static_cast<size_t>(llhttp_get_error_pos(&parser_) - data);
    if (error_status_ == 0) {
      error_status_ = kind_ == Kind::kRequest ? 400 : 502;
      error_reason_ = llhttp_get_error_reason(&parser_);
      if (error_reason_ == nullptr) error_reason_ = llhttp_errno_name(err);
    }
    step.flags |= kError;
  }
  return step;
}

Parser::Step Parser::finish() {
  if (error_status_ != 0) return {0, kError};
  if (!head_done_ && head_bytes_ == 0) return {0, 0};  // between messages: a clean close
  flags_ = 0;
  if (paused_) {
    llhttp_resume(&parser_);
    paused_ = false;
    // A pause inside on_headers_complete leaves llhttp before its
    // after-headers step; run it (no input) so finish() sees the body state.
    static const char kNone = 0;
    llhttp_errno_t e = llhttp_execute(&parser_, &kNone, 0);
    if (e == HPE_PAUSED) {
      llhttp_resume(&parser_);
    } else if (e != HPE_OK) {
      fail(kind_ == Kind::kRequest ? 400 : 502, "connection closed before the message was complete");
      return {0, kError};
    }
    if (flags_ & kMessageComplete) return {0, flags_};
  }
  llhttp_errno_t err = llhttp_finish(&parser_);
  // llhttp_finish completes a body delimited by close by calling
  // on_message_complete; anything else was cut short.
  if ((err == HPE_OK || err == HPE_PAUSED) && (flags_ & kMessageComplete)) return {0, flags_};
  fail(kind_ == Kind::kRequest ? 400 : 502, "connection closed before the message was complete");
  return {0, kError};
}

int Parser::onMessageBegin(llhttp_t* p) {
  Parser* s = self(p);
  s->head_done_ = false;
  return 0;
}

int Parser::onUrl(llhttp_t* p, const char* at, size_t len) {
  Parser* s = self(p);
  s->request_.target.append(at, len);
  if (s->request_.target.size() > s->limits_.uri_bytes) return s->fail(414, "request target too long");
  return 0;
}

int Parser::onStatus(llhttp_t* p, const char* at, size_t len) {
  Parser* s = self(p);
  for (size_t i = 0; i < len; ++i) {
    unsigned char c = static_cast<unsigned char>(at[i]);
    if ((c < 0x20 && c != '\t') || c == 0x7f) return s->fail(502, "control character in reason phrase");
  }
  s->response_.reason.append(at, len);
  if (s->response_.reason.size() > 1024) return s->fail(502, "reason phrase too long");
  return 0;
}

HeaderBlock& Parser::fields() {
  return kind_ == Kind::kRequest ? request_.fields : response_.fields;
}

int Parser::onHeaderField(llhttp_t* p, const char* at, size_t len) {
  Parser* s = self(p);
  HeaderBlock& fields = s->fields();
  if (!s->in_name_) {
    if (fields.size() >= s->limits_.headers) {
      return s->fail(s->kind_ == Kind::kRequest ? 431 : 502, "too many header fields");
    }
    fields.beginField();
    s->in_name_ = true;
    s->field_open_ = true;
  }
  fields.appendName({at, len});
  return 0;
}

int Parser::onHeaderFieldComplete(llhttp_t* p) {
  Parser* s = self(p);
  s->in_name_ = false;
  HeaderBlock& fields = s->fields();
  if (fields.size() == 0 || fields.field(fields.size() - 1).name_length == 0) {
    return s->fail(s->kind_ == Kind::kRequest ? 400 : 502, "empty header field name");
  }
  return 0;
}

// A value with no field open came from a line with an empty name (": b");
// llhttp reports no name for it at all.
int Parser::onHeaderValue(llhttp_t* p, const char* at, size_t len) {
  Parser* s = self(p);
  if (!s->field_open_) return s->fail(s->kind_ == Kind::kRequest ? 400 : 502, "empty header field name");
  s->fields().appendValue({at, len});
  return 0;
}

int Parser::onHeaderValueComplete(llhttp_t* p) {
  Parser* s = self(p);
  if (!s->field_open_) return s->fail(s->kind_ == Kind::kRequest ? 400 : 502, "empty header field name");
  s->field_open_ = false;
  s->fields().endField();
  return 0;
}

int Parser::onHeadersComplete(llhttp_t* p) {
  Parser* s = self(p);
  s->head_done_ = true;
  s->flags_ |= kHeadComplete;
  return s->kind_ == Kind::kRequest ? s->requestHeadComplete() : s->responseHeadComplete();
}

int Parser::requestHeadComplete() {
  RequestHead& r = request_;
  r.method = parser_.method;
  r.method_name = llhttp_method_name(static_cast<llhttp_method_t>(parser_.method));
  r.version_major = parser_.http_major;
  r.version_minor = parser_.http_minor;
  if (r.version_major != 1) return fail(400, "unsupported HTTP version");
  if (r.method == HTTP_CONNECT) return fail(501, "CONNECT is not supported");

  int hosts = 0;
  for (size_t i = 0; i < r.fields.size(); ++i) hosts += r.fields.field(i).token == Token::kHost;
  if (hosts > 1) return fail(400, "several Host fields");
  if (hosts == 0 && !r.isHttp10()) return fail(400, "missing Host field");

  if (parser_.flags & F_TRANSFER_ENCODING) {
    // llhttp checks that chunked is final and not repeated for chunked
    // bodies; what remains is a coding we do not implement, or a request
    // whose length cannot be known (RFC 9112 6.3).
    std::string te = r.fields.joined(Token::kTransferEncoding);
    std::string_view last;
    bool unknown = false;
    forEachListElement(te, [&](std::string_view coding) {
      last = coding;
      if (!equalsIgnoreCase(coding, "chunked")) unknown = true;
    });
    if (!equalsIgnoreCase(last, "chunked")) return fail(400, "Transfer-Encoding does not end with chunked");
    if (unknown) return fail(501, "unsupported transfer coding");
  }
  r.chunked = (parser_.flags & F_CHUNKED) != 0;
  r.has_content_length = (parser_.flags & F_CONTENT_LENGTH) != 0;
  r.content_length = r.has_content_length ? parser_.content_length : 0;
  if (r.has_content_length && r.content_length > limits_.body_bytes) return fail(413, "request body too large");
  r.keep_alive = llhttp_should_keep_alive(&parser_) != 0;
  r.upgrade = parser_.upgrade != 0;
  int expect = r.fields.find(Token::kExpect);
  r.expect_continue = expect >= 0 && equalsIgnoreCase(r.fields.value(expect), "100-continue");
  // Stop after the head only when a body follows; otherwise the same
  // execute() also reports the end of the message.
  return r.hasBody() ? HPE_PAUSED : 0;
}

int Parser::responseHeadComplete() {
  ResponseHead& r = response_;
  r.status = static_cast<uint16_t>(parser_.status_code);
  r.version_major = parser_.http_major;
  r.version_minor = parser_.http_minor;
  r.no_body = no_body_expected_ || r.status < 200 || r.status == 204 || r.status == 304;
  r.chunked = !r.no_body && (parser_.flags & F_CHUNKED) != 0;
  r.has_content_length = (parser_.flags & F_CONTENT_LENGTH) != 0;
  r.content_length = r.has_content_length ? parser_.content_length : 0;
  r.until_close = !r.no_body && !r.chunked && !r.has_content_length;
  if (r.no_body) {
    // llhttp's keep-alive answer assumes a body runs to the close when no
    // length is given; without a body only the version and Connection count.
    const bool http11 = r.version_major == 1 && r.version_minor >= 1;
    r.keep_alive = http11 ? (parser_.flags & F_CONNECTION_CLOSE) == 0
                          : (parser_.flags & F_CONNECTION_KEEP_ALIVE) != 0;
  } else {
    r.keep_alive = !r.until_close && llhttp_should_keep_alive(&parser_) != 0;
  }
  // A response that has no body (HEAD, 1xx, 204, 304) whatever its framing
  // fields say: returning 1 makes llhttp skip the body. 101 keeps llhttp's
  // own upgrade handling.
  if (r.no_body) return r.status == 101 ? 0 : 1;
  if (r.has_content_length && r.content_length == 0) return 0;
  return HPE_PAUSED;
}

int Parser::onBody(llhttp_t* p, const char* at, size_t len) {
  Parser* s = self(p);
  s->body_bytes_ += len;
  if (s->kind_ == Kind::kRequest && s->body_bytes_ > s->limits_.body_bytes) {
    return s->fail(413, "request body too large");
  }
  if (s->sink_ != nullptr) s->sink_->onBodyData(at, len);
  return 0;
}

int Parser::onChunkHeader(llhttp_t* p) {
  ++self(p)->chunk_headers_;
  return 0;
}

int Parser::onMessageComplete(llhttp_t* p) {
  Parser* s = self(p);
  s->flags_ |= kMessageComplete;
  if (p->upgrade) s->flags_ |= kUpgrade;
  return HPE_PAUSED;
}

}  // namespace weir::http
