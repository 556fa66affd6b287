#include "weir/http/message.h"

#include <cstring>

namespace weir::http {

int HeaderBlock::find(Token t) const {
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].token == t) return static_cast<int>(i);
  }
  return -1;
}

std::string HeaderBlock::joined(Token t) const {
  std::string out;
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].token != t) continue;
    if (!out.empty()) out += ", ";
    out += value(i);
  }
  return out;
}

void HeaderBlock::appendName(std::string_view piece) {
  Field& f = fields_.back();
  if (f.name_length == 0) f.name_offset = static_cast<uint32_t>(bytes_.size());
  bytes_.append(piece);
  f.name_length += static_cast<uint32_t>(piece.size());
}

// Until a value byte arrives the value starts at the end of the bytes: the
// field itself says where it stands, so no flag can outlive clear().
void HeaderBlock::appendValue(std::string_view piece) {
  Field& f = fields_.back();
  if (f.value_length == 0) f.value_offset = static_cast<uint32_t>(bytes_.size());
  bytes_.append(piece);
  f.value_length += static_cast<uint32_t>(piece.size());
}

void HeaderBlock::endField() {
  Field& f = fields_.back();
  if (f.value_length == 0) f.value_offset = static_cast<uint32_t>(bytes_.size());
  while (f.value_length > 0) {
    char c = bytes_[f.value_offset + f.value_length - 1];
    if (c != ' ' && c != '\t') break;
    --f.value_length;
  }
  std::string_view name(bytes_.data() + f.name_offset, f.name_length);
  f.token = lookupToken(name);
  if (std::memchr(name.data(), '_', name.size()) != nullptr) {
    f.underscore = true;
    f.lookalike = lookalikeToken(name);
  }
}

void HeaderBlock::add(std::string_view name, std::string_view value) {
  beginField();
  appendName(name);
  appendValue(value);
  endField();
}

void RequestHead::clear() {
  method = 0;
  method_name.clear();
  target.clear();
  path.clear();
  authority.clear();
  absolute_form = false;
  version_major = 1;
  version_minor = 1;
  fields.clear();
  chunked = has_content_length = upgrade = expect_continue = false;
  content_length = 0;
  keep_alive = true;
}

void ResponseHead::clear() {
  status = 0;
  reason.clear();
  version_major = 1;
  version_minor = 1;
  fields.clear();
  chunked = has_content_length = no_body = until_close = false;
  content_length = 0;
  keep_alive = true;
}

}  // namespace weir::http
