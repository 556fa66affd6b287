#include "weir/http/message.h"

#include <cstdint>
#include <cstring>

namespace weir::http {
namespace {

// Runs for every field name of every message, so no call and no byte loop
// for the usual lengths: a byte equal to '_' turns to zero after the xor,
// and the classic zero-byte test finds it, over two overlapping words.
inline bool wordHasUnderscore(uint64_t w) {
  w ^= 0x5f5f5f5f5f5f5f5full;
  return ((w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull) != 0;
}

inline bool hasUnderscore(const char* p, size_t n) {
  if (n >= 8) {
    uint64_t w;
    for (size_t i = 0; i + 8 <= n; i += 8) {
      std::memcpy(&w, p + i, 8);
      if (wordHasUnderscore(w)) return true;
    }
    std::memcpy(&w, p + n - 8, 8);
    return wordHasUnderscore(w);
  }
  if (n >= 4) {
    uint32_t a;
    uint32_t b;
    std::memcpy(&a, p, 4);
    std::memcpy(&b, p + n - 4, 4);
    return wordHasUnderscore((uint64_t{a} << 32) | b);
  }
  for (size_t i = 0; i < n; ++i) {
    if (p[i] == '_') return true;
  }
  return false;
}

}  // namespace

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
  f.token = lookupToken(std::string_view(bytes_.data() + f.name_offset, f.name_length));
}

// (A memchr over all the bytes first would not pay: values such as
// "x86_64" in User-Agent or "_ga" cookies put a '_' in most heads.)
bool HeaderBlock::markUnderscoreNames() {
  bool any = false;
  const char* bytes = bytes_.data();
  for (Field& f : fields_) {
    if (!hasUnderscore(bytes + f.name_offset, f.name_length)) continue;
    f.underscore = true;
    f.lookalike = lookalikeToken({bytes + f.name_offset, f.name_length});
    any = true;
  }
  return any;
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
