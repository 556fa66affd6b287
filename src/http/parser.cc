#include "weir/http/parser.h"

#include <algorithm>
#include <cstring>

#include "weir/http/target.h"

namespace weir::http {
namespace {

Parser* self(llhttp_t* p) { return static_cast<Parser*>(p->data); }

constexpr const char* kPriReason = "HTTP/2 connection preface (h2 prior knowledge is not supported)";
constexpr const char* kNoVersion = "request line has no HTTP/1.x version";

// Transfer-Encoding as a list over every field, in order (RFC 9112 6.1).
struct Codings {
  bool empty_field = false;  // a field with no coding at all ("", ",")
  unsigned chunked = 0;      // times chunked is listed
  bool chunked_last = false;
  bool other = false;        // a coding other than chunked
};

Codings codingsOf(const HeaderBlock& fields) {
  Codings c;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields.field(i).token != Token::kTransferEncoding) continue;
    bool any = false;
    forEachListElement(fields.value(i), [&](std::string_view coding) {
      any = true;
      const bool chunked = equalsIgnoreCase(coding, "chunked");
      c.chunked += chunked;
      c.other |= !chunked;
      c.chunked_last = chunked;
    });
    c.empty_field |= !any;
  }
  return c;
}

// True if the Upgrade fields offer any protocol other than h2c.
bool offersOtherThanH2c(const HeaderBlock& fields) {
  bool other = false;
  for (size_t i = 0; i < fields.size() && !other; ++i) {
    if (fields.field(i).token != Token::kUpgrade) continue;
    forEachListElement(fields.value(i), [&](std::string_view proto) { other |= !equalsIgnoreCase(proto, "h2c"); });
  }
  return other;
}

// Fields that decide framing, routing or the connection: a recipient that
// merges trailers into the head (some do) would read them as the real ones,
// so a trailer section naming one, also spelled with '_', is refused.
bool forbiddenInTrailer(Token t) {
  return t == Token::kContentLength || t == Token::kTransferEncoding || t == Token::kHost ||
         isHopByHop(t);
}

struct LineWords {
  const char* bare_lf;
  const char* bare_cr;
  const char* fold;
};
constexpr LineWords kLineWords[] = {
    {"bare LF in message head", "bare CR in message head", "obsolete line folding in header field"},
    {"bare LF in chunked framing", "bare CR in chunked framing", "whitespace at the start of a chunk line"},
    {"bare LF in trailer section", "bare CR in trailer section", "obsolete line folding in trailer field"},
};

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
    st.on_chunk_header = &Parser::onChunkHeader;
    st.on_body = &Parser::onBody;
    st.on_message_complete = &Parser::onMessageComplete;
    return st;
  }();
  return &s;
}

void Parser::setLimits(const ParserLimits& limits) {
  limits_ = limits;
  limits_.header_bytes = std::min(limits_.header_bytes, kMaxHeadBytes);
}

Parser::Parser(Kind kind, const ParserLimits& limits) : kind_(kind), limits_(limits) {
  limits_.header_bytes = std::min(limits_.header_bytes, kMaxHeadBytes);
  llhttp_init(&parser_, kind == Kind::kRequest ? HTTP_REQUEST : HTTP_RESPONSE, settings());
  parser_.data = this;
}

bool Parser::notePartialRequestLine() {
  if (kind_ != Kind::kRequest) return false;
  if (!m_.head_done) {
    if (request_.target.empty()) return false;
    if (request_.method_name.empty()) {
      request_.method_name = llhttp_method_name(static_cast<llhttp_method_t>(parser_.method));
    }
    if (parser_.http_major == 0) return false;
    request_.version_major = parser_.http_major;
    request_.version_minor = parser_.http_minor;
  }
  return request_.version_major != 0;
}

void Parser::reset() {
  // A full llhttp reset, not only a resume: after llhttp_finish() (a body
  // ended by close) llhttp accepts nothing more, and the next message may
  // come on another connection. llhttp_reset keeps settings and data.
  llhttp_reset(&parser_);
  m_ = MessageState{};
  request_.clear();
  response_.clear();
}

int Parser::fail(int status, const char* reason) {
  m_.error_status = status;
  m_.error_reason = reason;
  llhttp_set_error_reason(&parser_, reason);
  return HPE_USER;
}

Parser::Step Parser::execute(const char* data, size_t len) {
  if (m_.error_status != 0) return {0, kError};
  if (m_.paused) {
    llhttp_resume(&parser_);
    m_.paused = false;
  }
  const bool in_head = !m_.head_done;
  if (in_head) {
    // Feed no more than the head may still take, plus one byte to notice
    // when it is too long: memory stays bounded by the limit.
    uint64_t room = limits_.header_bytes - std::min(m_.head_bytes, limits_.header_bytes) + 1;
    len = static_cast<size_t>(std::min<uint64_t>(len, room));
  }
  m_.flags = 0;
  m_.gap_from = data;
  llhttp_errno_t err = llhttp_execute(&parser_, data, len);
  Step step = stepFrom(err, data, len);
  if (step.flags & kError) return step;
  if (in_head) {
    m_.head_bytes += step.consumed;
    if (m_.head_bytes > limits_.header_bytes) {
      fail(tooLargeStatus(), "header section too large");
      step.flags = kError;
    } else if (!checkLines(data, step.consumed, Part::kHead)) {
      step.flags = kError;
    } else if (kind_ == Kind::kRequest && parser_.http_major == 0 &&
               std::memchr(data, '\n', step.consumed) != nullptr) {
      // llhttp takes "GET /x" CRLF as HTTP/0.9 and waits for more lines;
      // its version stays 0 until one is parsed. (No on_version_complete
      // callback: registering one slows llhttp's head parsing measurably.)
      fail(400, kNoVersion);
      step.flags = kError;
    }
    return step;
  }
  if (!checkFraming(m_.gap_from, data + step.consumed)) {
    step.flags = kError;
  } else if (m_.last_chunk) {
    // Paused right after the zero-size chunk line: what follows is the
    // trailer section, bounded and checked as a head of its own.
    m_.last_chunk = false;
    m_.in_trailers = true;
    m_.framing_bytes = 0;
  }
  return step;
}

// Every LF must follow a CR, every CR must precede an LF, and no line may
// start with whitespace (obs-fold, RFC 9112 5.2: rejected here). memchr
// finds the few line ends quickly; the byte before a piece comes from the
// previous call.
bool Parser::checkLines(const char* data, size_t len, Part part) {
  if (len == 0) return true;
  const LineWords& rules = kLineWords[static_cast<size_t>(part)];
  const int status = failStatus();
  const char* end = data + len;
  auto next = [end](const char* from, char c) {
    return from < end ? static_cast<const char*>(std::memchr(from, c, static_cast<size_t>(end - from))) : nullptr;
  };
  for (const char* lf = next(data, '\n'); lf != nullptr; lf = next(lf + 1, '\n')) {
    char before = lf == data ? m_.last_byte : lf[-1];
    if (before != '\r') return fail(status, rules.bare_lf), false;
    if (lf + 1 < end && (lf[1] == ' ' || lf[1] == '\t')) return fail(status, rules.fold), false;
  }
  for (const char* cr = next(data, '\r'); cr != nullptr; cr = next(cr + 1, '\r')) {
    if (cr + 1 < end && cr[1] != '\n') return fail(status, rules.bare_cr), false;
  }
  if (m_.last_byte == '\r' && data[0] != '\n') return fail(status, rules.bare_cr), false;
  if (m_.last_byte == '\n' && (data[0] == ' ' || data[0] == '\t')) return fail(status, rules.fold), false;
  m_.last_byte = end[-1];
  return true;
}

// The bytes of a body that are not chunk data: chunk lines, CRLFs, the
// trailer section. Content-Length and close-delimited bodies have none.
bool Parser::checkFraming(const char* from, const char* to) {
  if (from >= to) return true;
  const size_t n = static_cast<size_t>(to - from);
  if (!checkLines(from, n, m_.in_trailers ? Part::kTrailers : Part::kChunkLines)) return false;
  m_.framing_bytes += n;
  if (m_.in_trailers) {
    if (m_.framing_bytes > limits_.header_bytes) return fail(tooLargeStatus(), "trailer section too large"), false;
  } else if (m_.framing_bytes > limits_.chunk_line_bytes) {
    return fail(failStatus(), "chunk-size line too long (chunk extensions)"), false;
  }
  return true;
}

Parser::Step Parser::stepFrom(llhttp_errno_t err, const char* data, size_t len) {
  Step step;
  step.flags = m_.flags;
  if (err == HPE_OK) {
    step.consumed = len;
  } else if (err == HPE_PAUSED) {
    m_.paused = true;
    step.consumed = static_cast<size_t>(llhttp_get_error_pos(&parser_) - data);
  } else if (err == HPE_PAUSED_UPGRADE) {
    step.consumed = 0;
    step.flags |= kUpgrade;
  } else {
    step.consumed = static_cast<size_t>(llhttp_get_error_pos(&parser_) - data);
    if (m_.error_status == 0) {
      // Our callbacks set their own status and words; llhttp's own errors
      // get ours too, never its internal messages.
      if (err == HPE_PAUSED_H2_UPGRADE) {
        fail(400, kPriReason);
      } else if (err == HPE_UNEXPECTED_CONTENT_LENGTH && !(parser_.flags & F_TRANSFER_ENCODING)) {
        fail(failStatus(), "Content-Length given more than once");  // llhttp's code for both cases
      } else {
        fail(failStatus(), describeError(err, kind_, m_.head_done));
      }
    }
    step.flags |= kError;
  }
  return step;
}

Parser::Step Parser::finish() {
  static constexpr const char* kCut = "connection closed before the message was complete";
  if (m_.error_status != 0) return {0, kError};
  if (!m_.head_done && m_.head_bytes == 0) return {0, 0};  // between messages: a clean close
  m_.flags = 0;
  if (m_.paused) {
    llhttp_resume(&parser_);
    m_.paused = false;
    // A pause inside on_headers_complete leaves llhttp before its
    // after-headers step; run it (no input) so finish() sees the body state.
    static const char kNone = 0;
    llhttp_errno_t e = llhttp_execute(&parser_, &kNone, 0);
    if (e == HPE_PAUSED) {
      llhttp_resume(&parser_);
    } else if (e != HPE_OK) {
      fail(failStatus(), kCut);
      return {0, kError};
    }
    if (m_.flags & kMessageComplete) return {0, m_.flags};
  }
  llhttp_errno_t err = llhttp_finish(&parser_);
  // llhttp_finish completes a body delimited by close by calling
  // on_message_complete; anything else was cut short.
  if ((err == HPE_OK || err == HPE_PAUSED) && (m_.flags & kMessageComplete)) return {0, m_.flags};
  fail(failStatus(), kCut);
  return {0, kError};
}

const char* Parser::describeError(llhttp_errno_t err, Kind kind, bool in_body) {
  const bool request = kind == Kind::kRequest;
  switch (err) {
    case HPE_OK: return "no error";
    case HPE_INVALID_METHOD: return "invalid method";
    case HPE_INVALID_URL: return "invalid request target";
    case HPE_INVALID_CONSTANT: return request ? "malformed request line" : "malformed status line";
    case HPE_INVALID_VERSION: return "invalid HTTP version";
    case HPE_INVALID_STATUS: return "invalid status code";
    case HPE_INVALID_HEADER_TOKEN:
      return in_body ? "invalid character in a trailer field" : "invalid character in a header field";
    case HPE_INVALID_CONTENT_LENGTH: return "invalid Content-Length";
    case HPE_UNEXPECTED_CONTENT_LENGTH: return "Content-Length together with Transfer-Encoding";
    case HPE_INVALID_TRANSFER_ENCODING: return "invalid Transfer-Encoding";
    case HPE_INVALID_CHUNK_SIZE: return "malformed chunk-size line";
    case HPE_STRICT:
    case HPE_CR_EXPECTED:
    case HPE_LF_EXPECTED:
      return in_body ? "malformed chunked framing (CRLF expected)" : "malformed line ending in message head";
    case HPE_UNEXPECTED_SPACE: return in_body ? "unexpected whitespace in chunked framing" : "unexpected whitespace in message head";
    case HPE_CLOSED_CONNECTION:
      return request ? "data after a request with Connection: close" : "data after a response with Connection: close";
    case HPE_INVALID_EOF_STATE: return "connection closed before the message was complete";
    case HPE_PAUSED_H2_UPGRADE: return kPriReason;
    case HPE_PAUSED:
    case HPE_PAUSED_UPGRADE: return "parser paused";
    case HPE_USER: return request ? "request refused" : "response refused";
    default: return "internal parser error";
  }
}

int Parser::onMessageBegin(llhttp_t* p) {
  self(p)->m_.head_done = false;
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
  if (s->response_.reason.size() > kMaxReasonBytes) return s->fail(502, "reason phrase too long");
  return 0;
}

HeaderBlock& Parser::fields() {
  return kind_ == Kind::kRequest ? request_.fields : response_.fields;
}

// Head fields are stored; trailer fields are only counted and their names
// looked at (checkTrailerName).
int Parser::onHeaderField(llhttp_t* p, const char* at, size_t len) {
  Parser* s = self(p);
  MessageState& m = s->m_;
  if (m.in_trailers) {
    if (!m.in_name) {
      if (++m.trailer_fields > s->limits_.headers) return s->fail(s->tooLargeStatus(), "too many trailer fields");
      m.trailer_name_length = 0;
      m.in_name = true;
      m.field_open = true;
    }
    if (m.trailer_name_length + len <= sizeof m.trailer_name) {
      std::memcpy(m.trailer_name + m.trailer_name_length, at, len);
      m.trailer_name_length = static_cast<uint8_t>(m.trailer_name_length + len);
    } else {
      m.trailer_name_length = sizeof m.trailer_name + 1;
    }
    return 0;
  }
  HeaderBlock& fields = s->fields();
  if (!m.in_name) {
    if (fields.size() >= s->limits_.headers) return s->fail(s->tooLargeStatus(), "too many header fields");
    fields.beginField();
    m.in_name = true;
    m.field_open = true;
  }
  fields.appendName({at, len});
  return 0;
}

int Parser::onHeaderFieldComplete(llhttp_t* p) {
  Parser* s = self(p);
  s->m_.in_name = false;
  if (s->m_.in_trailers) return s->checkTrailerName();
  HeaderBlock& fields = s->fields();
  if (fields.size() == 0 || fields.field(fields.size() - 1).name_length == 0) {
    return s->fail(s->failStatus(), "empty header field name");
  }
  return 0;
}

int Parser::checkTrailerName() {
  if (m_.trailer_name_length == 0) return fail(failStatus(), "empty trailer field name");
  if (m_.trailer_name_length > sizeof m_.trailer_name) return 0;  // longer than any token
  std::string_view name(m_.trailer_name, m_.trailer_name_length);
  Token t = lookupToken(name);
  if (t == Token::kOther) t = lookalikeToken(name);
  if (forbiddenInTrailer(t)) return fail(failStatus(), "framing, routing or hop-by-hop field in trailer section");
  return 0;
}

// A value with no field open came from a line with an empty name (": b");
// llhttp reports no name for it at all.
int Parser::onHeaderValue(llhttp_t* p, const char* at, size_t len) {
  Parser* s = self(p);
  if (!s->m_.field_open) return s->fail(s->failStatus(), "empty header field name");
  if (!s->m_.in_trailers) s->fields().appendValue({at, len});
  return 0;
}

int Parser::onHeaderValueComplete(llhttp_t* p) {
  Parser* s = self(p);
  MessageState& m = s->m_;
  if (!m.field_open) return s->fail(s->failStatus(), "empty header field name");
  m.field_open = false;
  if (!m.in_trailers) s->fields().endField();
  return 0;
}

int Parser::onHeadersComplete(llhttp_t* p) {
  Parser* s = self(p);
  s->m_.head_done = true;
  s->m_.flags |= kHeadComplete;
  return s->kind_ == Kind::kRequest ? s->requestHeadComplete() : s->responseHeadComplete();
}

int Parser::requestHeadComplete() {
  RequestHead& r = request_;
  r.method = parser_.method;
  r.method_name = llhttp_method_name(static_cast<llhttp_method_t>(parser_.method));
  r.version_major = parser_.http_major;
  r.version_minor = parser_.http_minor;
  if (r.version_major == 0) return fail(400, kNoVersion);
  if (r.version_major != 1) return fail(400, "unsupported HTTP version");
  if (r.method == HTTP_CONNECT) return fail(501, "CONNECT is not supported");

  // One pass over the fields for everything the checks below need.
  const bool underscore = r.fields.markUnderscoreNames();
  bool transfer_encoding = false;
  int hosts = 0;
  int host_field = -1;
  int expect_field = -1;
  for (size_t i = 0; i < r.fields.size(); ++i) {
    switch (r.fields.field(i).token) {
      case Token::kHost:
        ++hosts;
        host_field = static_cast<int>(i);
        break;
      case Token::kTransferEncoding: transfer_encoding = true; break;
      case Token::kExpect:
        if (expect_field < 0) expect_field = static_cast<int>(i);
        break;
      default: break;
    }
  }
  if (hosts > 1) return fail(400, "several Host fields");
  if (hosts == 0 && !r.isHttp10()) return fail(400, "missing Host field");
  if (underscore) {
    if (int rc = requestUnderscoreNames(); rc != 0) return rc;
  }
  if (int rc = requestTargetComplete(host_field); rc != 0) return rc;
  if (transfer_encoding) {
    if (int rc = requestTransferEncoding(); rc != 0) return rc;
  }
  r.chunked = (parser_.flags & F_CHUNKED) != 0;
  r.has_content_length = (parser_.flags & F_CONTENT_LENGTH) != 0;
  r.content_length = r.has_content_length ? parser_.content_length : 0;
  if (r.has_content_length && r.content_length > limits_.body_bytes) return fail(413, "request body too large");
  r.upgrade = parser_.upgrade != 0;
  if (r.upgrade && !offersOtherThanH2c(r.fields)) {
    // An h2c offer is dropped (h2c would tunnel past routing): the request
    // goes on as plain HTTP/1.1, and llhttp must not end HTTP after it.
    r.upgrade = false;
    parser_.upgrade = 0;
  }
  r.keep_alive = llhttp_should_keep_alive(&parser_) != 0;
  r.expect_continue =
      expect_field >= 0 && equalsIgnoreCase(r.fields.value(static_cast<size_t>(expect_field)), "100-continue");
  // Stop after the head only when a body follows; otherwise the same
  // execute() also reports the end of the message.
  return r.hasBody() ? HPE_PAUSED : 0;
}

int Parser::requestUnderscoreNames() {
  const HeaderBlock& fields = request_.fields;
  for (size_t i = 0; i < fields.size(); ++i) {
    const Field& f = fields.field(i);
    if (!f.underscore) continue;
    if (f.lookalike == Token::kContentLength || f.lookalike == Token::kTransferEncoding) {
      return fail(400, "Content-Length or Transfer-Encoding spelled with '_'");
    }
    if (limits_.underscore_names == UnderscoreNames::kReject) return fail(400, "field name contains '_'");
  }
  return 0;
}

// RFC 9112 6.1: an HTTP/1.0 message with Transfer-Encoding has faulty
// framing; 6.3: a request whose last coding is not chunked has no length.
int Parser::requestTransferEncoding() {
  if (request_.isHttp10()) return fail(400, "Transfer-Encoding in an HTTP/1.0 request");
  const Codings te = codingsOf(request_.fields);
  if (te.empty_field) return fail(400, "empty Transfer-Encoding field");
  if (te.chunked > 1) return fail(400, "chunked listed more than once in Transfer-Encoding");
  if (!te.chunked_last) return fail(400, "Transfer-Encoding does not end with chunked");
  if (te.other) return fail(501, "unsupported transfer coding");
  // Ours and llhttp's reading must agree, or the body is framed two ways.
  if (!(parser_.flags & F_CHUNKED)) return fail(400, "Transfer-Encoding not understood");
  return 0;
}

// Host and the request-target (RFC 9112 3.2): the effective authority and
// the normal-form path that routes see and the upstream gets.
int Parser::requestTargetComplete(int host_field) {
  RequestHead& r = request_;
  std::string_view host_value =
      host_field >= 0 ? r.fields.value(static_cast<size_t>(host_field)) : std::string_view();
  if (!isValidAuthority(host_value, true)) return fail(400, "invalid Host field");

  SplitTarget t;
  if (!splitTarget(r.target, r.method == HTTP_OPTIONS, t)) return fail(400, "invalid request target");
  r.absolute_form = t.form == TargetForm::kAbsolute;
  // RFC 9112 3.2.2: the target's authority wins over Host.
  r.authority.assign(r.absolute_form ? t.authority : host_value);
  if (t.form == TargetForm::kAsterisk) {
    r.path.clear();
    r.path.push_back('*');
  } else if (!normalizePath(t.rest, r.path)) {
    return fail(400, "malformed request path (bad percent-escape or a fragment)");
  }
  return 0;
}

int Parser::responseHeadComplete() {
  ResponseHead& r = response_;
  r.status = static_cast<uint16_t>(parser_.status_code);
  r.version_major = parser_.http_major;
  r.version_minor = parser_.http_minor;
  // HTTP/1.x framing only means something for an HTTP/1.x response.
  if (r.version_major != 1) return fail(502, "response is not HTTP/1.x");
  if (r.status < 100) return fail(502, "status code below 100");
  // RFC 9110 15: codes outside 100..599 are invalid (600..999 are used
  // inside some libraries for their own errors, never meant for a client).
  if (r.status > 599) return fail(502, "status code above 599");
  // RFC 9110 15.2.2: a 101 names the protocol switched to.
  if (r.status == 101 && r.fields.find(Token::kUpgrade) < 0) return fail(502, "101 Switching Protocols without Upgrade");
  r.no_body = m_.no_body_expected || r.status < 200 || r.status == 204 || r.status == 304;
  r.chunked = !r.no_body && (parser_.flags & F_CHUNKED) != 0;
  r.has_content_length = (parser_.flags & F_CONTENT_LENGTH) != 0;
  r.content_length = r.has_content_length ? parser_.content_length : 0;
  r.until_close = !r.no_body && !r.chunked && !r.has_content_length;
  // llhttp flags every non-empty Transfer-Encoding; an empty one alone
  // frames nothing and is not forwarded (weir writes the framing fields).
  if (!r.no_body && (parser_.flags & F_TRANSFER_ENCODING)) {
    const Codings te = codingsOf(r.fields);
    {
      if (r.version_major == 1 && r.version_minor == 0) return fail(502, "Transfer-Encoding in an HTTP/1.0 response");
      if (te.empty_field) return fail(502, "empty Transfer-Encoding field");
      // Chunked anywhere but last would be applied twice once re-framed.
      if (te.chunked > 1 || (te.chunked == 1 && !te.chunked_last)) {
        return fail(502, "chunked is not the final transfer coding");
      }
      if (te.chunked_last != r.chunked) return fail(502, "Transfer-Encoding not understood");
    }
  }
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
  // fields say: returning 1 makes llhttp skip the body. After a 101 the
  // bytes are the new protocol's, even with a Content-Length (llhttp would
  // read that many as a body): 2 says no body, and the end of HTTP.
  if (r.no_body) return r.status == 101 ? 2 : 1;
  if (r.has_content_length && r.content_length == 0) return 0;
  return HPE_PAUSED;
}

// The zero-size chunk: pause so execute() switches to the trailer rules at
// exactly this byte.
int Parser::onChunkHeader(llhttp_t* p) {
  ++self(p)->m_.chunk_headers;
  if (p->content_length != 0) return 0;
  self(p)->m_.last_chunk = true;
  return HPE_PAUSED;
}

int Parser::onBody(llhttp_t* p, const char* at, size_t len) {
  Parser* s = self(p);
  MessageState& m = s->m_;
  // The bytes since the previous data are chunk framing: check them now.
  if (!s->checkFraming(m.gap_from, at)) return HPE_USER;
  m.gap_from = at + len;
  m.framing_bytes = 0;
  m.last_byte = 0;
  m.body_bytes += len;
  if (s->kind_ == Kind::kRequest && m.body_bytes > s->limits_.body_bytes) {
    return s->fail(413, "request body too large");
  }
  if (m.sink != nullptr) m.sink->onBodyData(at, len);
  return 0;
}

int Parser::onMessageComplete(llhttp_t* p) {
  Parser* s = self(p);
  s->m_.flags |= kMessageComplete;
  if (p->upgrade || (s->kind_ == Kind::kResponse && s->response_.status == 101)) s->m_.flags |= kUpgrade;
  return HPE_PAUSED;
}

}  // namespace weir::http
