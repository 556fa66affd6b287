#include "weir/http/forward.h"

#include <array>
#include <charconv>
#include <cstring>

namespace weir::http {
namespace {

// Names listed in Connection (RFC 9110 7.6.1) besides the usual options;
// more than a handful is unusual, and past the array we fall back to a scan.
class ConnectionOptions {
 public:
  explicit ConnectionOptions(const HeaderBlock& fields) : fields_(fields) {
    for (size_t i = 0; i < fields.size(); ++i) {
      if (fields.field(i).token == Token::kConnection) {
        forEachListElement(fields.value(i), [&](std::string_view name) {
          if (count_ < names_.size()) names_[count_] = name;
          ++count_;
        });
      }
    }
  }
  bool names(std::string_view field) const {
    if (count_ == 0) return false;
    for (size_t i = 0; i < count_ && i < names_.size(); ++i) {
      if (equalsIgnoreCase(names_[i], field)) return true;
    }
    if (count_ <= names_.size()) return false;
    bool found = false;
    for (size_t i = 0; i < fields_.size() && !found; ++i) {
      if (fields_.field(i).token != Token::kConnection) continue;
      forEachListElement(fields_.value(i), [&](std::string_view n) { found |= equalsIgnoreCase(n, field); });
    }
    return found;
  }

 private:
  const HeaderBlock& fields_;
  std::array<std::string_view, 8> names_{};
  size_t count_ = 0;
};

// One size update per field instead of four appends (this runs for every
// field of every request and response).
void appendField(std::string& out, std::string_view name, std::string_view value) {
  size_t at = out.size();
  out.resize(at + name.size() + value.size() + 4);
  char* p = out.data() + at;
  std::memcpy(p, name.data(), name.size());
  p += name.size();
  *p++ = ':';
  *p++ = ' ';
  std::memcpy(p, value.data(), value.size());
  p += value.size();
  *p++ = '\r';
  *p = '\n';
}

void appendNumber(std::string& out, uint64_t n) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, static_cast<size_t>(r.ptr - buf));
}

// Appends "Name: prior, ours" merging every prior field of that token.
void appendMerged(std::string& out, const HeaderBlock& fields, Token t, std::string_view name,
                  std::string_view ours) {
  out.append(name);
  out.append(": ", 2);
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields.field(i).token != t) continue;
    out.append(fields.value(i));
    out.append(", ", 2);
  }
  out.append(ours);
  out.append("\r\n", 2);
}

std::string_view viaValue(uint8_t major, uint8_t minor) {
  return (major == 1 && minor == 0) ? std::string_view("1.0 weir") : std::string_view("1.1 weir");
}

}  // namespace

void writeRequestHead(const RequestHead& req, const ForwardOptions& opts,
                      std::string_view client_address, std::string_view scheme, std::string& out) {
  out.append(req.method_name);
  out.push_back(' ');
  out.append(req.target);
  out.append(" HTTP/1.1\r\n", 11);

  const HeaderBlock& f = req.fields;
  ConnectionOptions connection(f);
  int host = -1;
  for (size_t i = 0; i < f.size(); ++i) {
    Token t = f.field(i).token;
    if (isHopByHop(t)) continue;
    if (t == Token::kHost) host = static_cast<int>(i);
    if ((t == Token::kXForwardedFor && opts.x_forwarded_for) ||
        (t == Token::kXForwardedProto && opts.x_forwarded_proto) ||
        (t == Token::kXForwardedHost && opts.x_forwarded_host) || (t == Token::kVia && opts.via)) {
      continue;
    }
    if (t == Token::kOther && connection.names(f.name(i))) continue;
    appendField(out, f.name(i), f.value(i));
  }
  // HTTP/1.1 requires Host; an HTTP/1.0 client may have sent none.
  if (host < 0) out.append("Host: \r\n", 8);
  if (opts.x_forwarded_for) appendMerged(out, f, Token::kXForwardedFor, "X-Forwarded-For", client_address);
  if (opts.x_forwarded_proto) appendField(out, "X-Forwarded-Proto", scheme);
  if (opts.x_forwarded_host && host >= 0) appendField(out, "X-Forwarded-Host", f.value(static_cast<size_t>(host)));
  if (opts.via) appendMerged(out, f, Token::kVia, "Via", viaValue(req.version_major, req.version_minor));
  if (req.upgrade) {
    int up = f.find(Token::kUpgrade);
    out.append("Connection: upgrade\r\n");
    if (up >= 0) appendField(out, "Upgrade", f.value(static_cast<size_t>(up)));
  }
  out.append("\r\n", 2);
}

ResponsePlan planResponse(const RequestHead& req, const ResponseHead& resp, bool want_close) {
  ResponsePlan plan;
  plan.close = want_close || !req.keep_alive;
  if (resp.status == 101) {
    plan.upgrade = true;
    plan.body = BodyMode::kNone;
    return plan;
  }
  if (resp.no_body) {
    plan.body = BodyMode::kNone;
  } else if (resp.until_close) {
    if (req.isHttp10()) {
      plan.body = BodyMode::kAsIs;
      plan.close = true;
    } else {
      plan.body = BodyMode::kChunkWrap;
    }
  } else if (resp.chunked && req.isHttp10()) {
    plan.body = BodyMode::kDechunk;
    plan.close = true;
  } else {
    plan.body = BodyMode::kAsIs;
  }
  return plan;
}

void writeResponseHead(const RequestHead& req, const ResponseHead& resp, const ResponsePlan& plan,
                       const ForwardOptions& opts, std::string& out) {
  out.append("HTTP/1.1 ", 9);
  appendNumber(out, resp.status);
  out.push_back(' ');
  out.append(resp.reason.empty() ? reasonPhrase(resp.status) : std::string_view(resp.reason));
  out.append("\r\n", 2);

  const HeaderBlock& f = resp.fields;
  ConnectionOptions connection(f);
  const bool reframed = plan.body == BodyMode::kChunkWrap || plan.body == BodyMode::kDechunk;
  for (size_t i = 0; i < f.size(); ++i) {
    Token t = f.field(i).token;
    if (isHopByHop(t)) continue;
    if (t == Token::kTransferEncoding && reframed) continue;
    if (t == Token::kVia && opts.via) continue;
    if (t == Token::kOther && connection.names(f.name(i))) continue;
    appendField(out, f.name(i), f.value(i));
  }
  if (opts.via) appendMerged(out, f, Token::kVia, "Via", viaValue(resp.version_major, resp.version_minor));
  if (plan.body == BodyMode::kChunkWrap) {
    // Codings the upstream applied (a body read until close may still be,
    // say, gzip-coded) stay listed, with chunked added last.
    std::string codings = f.joined(Token::kTransferEncoding);
    out.append("Transfer-Encoding: ");
    if (!codings.empty()) out.append(codings).append(", ");
    out.append("chunked\r\n");
  }
  if (plan.upgrade) {
    int up = f.find(Token::kUpgrade);
    out.append("Connection: upgrade\r\n");
    if (up >= 0) appendField(out, "Upgrade", f.value(static_cast<size_t>(up)));
  } else if (plan.close) {
    out.append("Connection: close\r\n");
  } else if (req.isHttp10()) {
    out.append("Connection: keep-alive\r\n");
  }
  out.append("\r\n", 2);
}

void writeErrorResponse(int status, bool close, std::string& out) {
  std::string_view reason = reasonPhrase(status);
  out.append("HTTP/1.1 ", 9);
  appendNumber(out, static_cast<uint64_t>(status));
  out.push_back(' ');
  out.append(reason);
  out.append("\r\nServer: weir\r\nContent-Type: text/plain\r\nContent-Length: ");
  appendNumber(out, reason.size() + 5);
  out.append(close ? "\r\nConnection: close\r\n\r\n" : "\r\n\r\n");
  appendNumber(out, static_cast<uint64_t>(status));
  out.push_back(' ');
  out.append(reason);
  out.push_back('\n');
}

std::string_view reasonPhrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return status < 400 ? "Unknown" : (status < 500 ? "Client Error" : "Server Error");
  }
}

}  // namespace weir::http
