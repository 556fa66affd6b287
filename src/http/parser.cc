#include "weir/http/parser.h"

#include <algorithm>

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
    return st;
  }();
  return &s;
}

Parser::Parser(Kind kind, const ParserLimits& limits) : kind_(kind), limits_(limits) {
  llhttp_init(&parser_, kind == Kind::kRequest ? HTTP_REQUEST : HTTP_RESPONSE, settings());
  parser_.data = this;
}

void Parser::reset() {
  if (paused_) {
    llhttp_resume(&parser_);
    paused_ = false;
  }
  request_.clear();
  response_.clear();
  head_done_ = false;
  head_bytes_ = 0;
  body_bytes_ = 0;
  value_end_ = nullptr;
  in_name_ = false;
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
    uint64_t room = limits_.header_bytes - std::min(head_bytes_, limits_.header_bytes) + 1;
    len = static_cast<size_t>(std::min<uint64_t>(len, room));
    if (value_end_ != nullptr && value_end_ == feed_end_) value_end_ = data;
  }
  feed_end_ = data + len;
  flags_ = 0;
  llhttp_errno_t err = llhttp_execute(&parser_, data, len);
  Step step = stepFrom(err, data, len);
  if (in_head && !(step.flags & kError)) {
    head_bytes_ += step.consumed;
    if (head_bytes_ > limits_.header_bytes) {
      fail(kind_ == Kind::kRequest ? 431 : 502, "header section too large");
      step.flags |= kError;
    }
  }
  return step;
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
  if (paused_) {
    llhttp_resume(&parser_);
    paused_ = false;
  }
  flags_ = 0;
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
    s->value_end_ = nullptr;
  }
  fields.appendName({at, len});
  return 0;
}

int Parser::onHeaderFieldComplete(llhttp_t* p) {
  self(p)->in_name_ = false;
  return 0;
}

int Parser::onHeaderValue(llhttp_t* p, const char* at, size_t len) {
  Parser* s = self(p);
  if (s->value_end_ != nullptr && s->value_end_ != at) {
    return s->fail(s->kind_ == Kind::kRequest ? 400 : 502, "obsolete line folding in header field");
  }
  s->value_end_ = at + len;
  s->fields().appendValue({at, len});
  return 0;
}

int Parser::onHeaderValueComplete(llhttp_t* p) {
  Parser* s = self(p);
  s->value_end_ = nullptr;
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
  r.chunked = (parser_.flags & F_CHUNKED) != 0;
  r.has_content_length = (parser_.flags & F_CONTENT_LENGTH) != 0;
  r.content_length = r.has_content_length ? parser_.content_length : 0;
  r.keep_alive = llhttp_should_keep_alive(&parser_) != 0;
  r.no_body = no_body_expected_ || r.status < 200 || r.status == 204 || r.status == 304;
  r.until_close = !r.no_body && !r.chunked && !r.has_content_length;
  if (r.until_close) r.keep_alive = false;
  if (no_body_expected_ && r.status >= 200) {
    // A response to HEAD: llhttp must not wait for the body its framing
    // announces. Returning 1 skips the body; the head is still reported.
    return 1;
  }
  if (r.no_body || (r.has_content_length && r.content_length == 0)) return 0;
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

int Parser::onMessageComplete(llhttp_t* p) {
  Parser* s = self(p);
  s->flags_ |= kMessageComplete;
  if (p->upgrade) s->flags_ |= kUpgrade;
  return HPE_PAUSED;
}

}  // namespace weir::http
