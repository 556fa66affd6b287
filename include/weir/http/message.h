// The head of an HTTP/1.x message as parsed: request line or status line and
// header fields. Field bytes live in one string owned by the head; fields are
// offsets into it, so a head is built with no allocation per field once warm.
// Offsets are 32-bit: the parser bounds a head far below 4 GiB (parser.h).
// Trailer fields are never stored here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "weir/http/token.h"

namespace weir::http {

struct Field {
  uint32_t name_offset = 0;
  uint32_t name_length = 0;
  uint32_t value_offset = 0;
  uint32_t value_length = 0;
  Token token = Token::kOther;
  // The name contains '_'; `lookalike` is its token with '_' read as '-'
  // (kOther if none), e.g. kContentLength for "Content_Length". Set by
  // HeaderBlock::markUnderscoreNames() (the parser: request heads only).
  bool underscore = false;
  Token lookalike = Token::kOther;
};

// Holds no state besides its bytes and fields, so clear() is a complete
// reset whatever point a previous message was cut at.
class HeaderBlock {
 public:
  void clear() {
    bytes_.clear();
    fields_.clear();
  }
  size_t size() const { return fields_.size(); }
  const Field& field(size_t i) const { return fields_[i]; }
  std::string_view name(size_t i) const {
    return {bytes_.data() + fields_[i].name_offset, fields_[i].name_length};
  }
  std::string_view value(size_t i) const {
    return {bytes_.data() + fields_[i].value_offset, fields_[i].value_length};
  }
  // First field with this token, or -1.
  int find(Token t) const;
  // All values of fields with this token joined by ", " (list semantics).
  std::string joined(Token t) const;

  // Building, in parse order. appendName/appendValue may be called several
  // times for one field when its bytes arrive in pieces.
  void beginField() { fields_.push_back(Field{}); }
  void appendName(std::string_view piece);
  void appendValue(std::string_view piece);
  void endField();  // trims trailing whitespace of the value, sets the token
  // Sets `underscore` and `lookalike` on every field whose name has '_';
  // true if any has. Once, after the last field (the parser does it for
  // requests only).
  bool markUnderscoreNames();
  void add(std::string_view name, std::string_view value);

 private:
  std::string bytes_;
  std::vector<Field> fields_;
};

struct RequestHead {
  uint8_t method = 0;       // llhttp_method_t
  std::string method_name;  // as sent
  std::string target;       // request-target as sent (for logs)
  // The origin-form target in normal form (target.h): what routes match and
  // what is sent upstream. "*" for OPTIONS *.
  std::string path;
  // The effective host: the authority of an absolute-form target, else the
  // Host field as sent ("" for an HTTP/1.0 request without Host).
  std::string authority;
  bool absolute_form = false;  // the target was absolute-form: Host is replaced by `authority`
  uint8_t version_major = 1;
  uint8_t version_minor = 1;
  HeaderBlock fields;

  // Framing, decided by the parser.
  bool chunked = false;
  bool has_content_length = false;
  uint64_t content_length = 0;
  bool keep_alive = true;         // the client wants the connection kept
  // Upgrade + Connection: upgrade, offering a protocol other than h2c (an
  // h2c offer is dropped and the request handled as plain HTTP/1.1).
  bool upgrade = false;
  bool expect_continue = false;

  bool hasBody() const { return chunked || (has_content_length && content_length > 0); }
  bool isHttp10() const { return version_major == 1 && version_minor == 0; }
  void clear();
};

struct ResponseHead {
  uint16_t status = 0;
  std::string reason;
  uint8_t version_major = 1;
  uint8_t version_minor = 1;
  HeaderBlock fields;

  bool chunked = false;
  bool has_content_length = false;
  uint64_t content_length = 0;
  bool keep_alive = true;   // the upstream allows reuse after this response
  bool no_body = false;     // HEAD, 1xx, 204, 304
  bool until_close = false; // body delimited by the connection closing
  void clear();
};

}  // namespace weir::http
