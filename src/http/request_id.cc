#include "weir/http/request_id.h"

#include <random>

#include "weir/http/token.h"

namespace weir::http {
namespace {

// The bytes a kept ID may have: a conservative set that survives any log
// format, header value or URL without escaping.
bool idByte(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) return true;
  switch (c) {
    case '.': case '_': case ':': case '+': case '/': case '=': case '-': return true;
    default: return false;
  }
}

uint64_t seed64(std::random_device& rd) {
  return (static_cast<uint64_t>(rd()) << 32) ^ static_cast<uint64_t>(rd());
}

void putHex(char* out, uint64_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (int i = 15; i >= 0; --i) {
    out[i] = kDigits[v & 0xf];
    v >>= 4;
  }
}

}  // namespace

bool isWellFormedRequestId(std::string_view value) {
  if (value.empty() || value.size() > kMaxRequestIdBytes) return false;
  for (char c : value) {
    if (!idByte(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

RequestIdGenerator::RequestIdGenerator() : RequestIdGenerator(0, 0) {
  std::random_device rd;
  a_ = FastRandom(seed64(rd));
  b_ = FastRandom(seed64(rd));
}

void RequestIdGenerator::next(RequestId& out) {
  putHex(out.data(), a_.next());
  putHex(out.data() + 16, b_.next());
  out.setSize(kNewRequestIdBytes);
}

void chooseRequestId(const HeaderBlock& fields, std::string_view name, RequestIdGenerator& gen, RequestId& out) {
  int found = -1;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields.field(i).name_length != name.size() || !equalsIgnoreCase(fields.name(i), name)) continue;
    if (found >= 0) {  // several: none of them is the request's ID
      found = -1;
      break;
    }
    found = static_cast<int>(i);
  }
  if (found >= 0) {
    std::string_view value = fields.value(static_cast<size_t>(found));
    if (isWellFormedRequestId(value)) {
      out.assign(value);
      return;
    }
  }
  gen.next(out);
}

}  // namespace weir::http
