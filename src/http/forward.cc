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

// Writes "Upgrade: p1, p2" with every protocol offered except h2c.
void appendUpgradeWithoutH2c(std::string& out, const HeaderBlock& f) {
  out.append("Upgrade: ");
  bool first = true;
  for (size_t i = 0; i < f.size(); ++i) {
    if (f.field(i).token != Token::kUpgrade) continue;
    forEachListElement(f.value(i), [&](std::string_view proto) {
      if (equalsIgnoreCase(proto, "h2c")) return;
      if (!first) out.append(", ", 2);
      out.append(proto);
      first = false;
    });
  }
  out.append("\r\n", 2);
}

// "Transfer-Encoding: <the upstream's codings other than chunked>[, chunked]",
// or nothing when that list is empty.
void appendCodings(std::string& out, const HeaderBlock& f, bool chunked) {
  size_t at = out.size();
  out.append("Transfer-Encoding: ");
  bool any = false;
  for (size_t i = 0; i < f.size(); ++i) {
    if (f.field(i).token != Token::kTransferEncoding) continue;
    forEachListElement(f.value(i), [&](std::string_view coding) {
      if (equalsIgnoreCase(coding, "chunked")) return;
      if (any) out.append(", ", 2);
      out.append(coding);
      any = true;
    });
  }
  if (chunked) {
    if (any) out.append(", ", 2);
    out.append("chunked");
    any = true;
  }
  if (any) {
    out.append("\r\n", 2);
  } else {
    out.resize(at);
  }
}

// A field with the request-ID name, or a '_' look-alike of it
// (X_Request_Id), which CGI-style servers would read as the same name.
bool isRequestIdField(std::string_view name, std::string_view id_name) {
  if (id_name.empty() || name.size() != id_name.size()) return false;
  auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
  for (size_t i = 0; i < name.size(); ++i) {
    if (lower(name[i] == '_' ? '-' : name[i]) != lower(id_name[i])) return false;
  }
  return true;
}

// What the client sent of the fields weir may add itself.
struct ClientSent {
  bool host = false;
  bool proto = false;  // X-Forwarded-Proto, passed on (trusted client)
  bool forwarded_host = false;
};

// Copies the request's end-to-end fields, leaving out what weir writes or
// never forwards.
ClientSent copyRequestFields(const RequestHead& req, const ForwardOptions& opts, bool trusted, bool cache_refetch,
                             std::string& out) {
  const HeaderBlock& f = req.fields;
  ConnectionOptions connection(f);
  ClientSent sent;
  for (size_t i = 0; i < f.size(); ++i) {
    const Field& field = f.field(i);
    Token t = field.token;
    if (isHopByHop(t)) continue;
    if (field.underscore && (field.lookalike != Token::kOther || opts.underscore_names != UnderscoreNames::kAllow)) {
      continue;
    }
    switch (t) {
      case Token::kContentLength:
      case Token::kTransferEncoding:
        continue;  // ours
      case Token::kHost:
        sent.host = true;
        if (req.absolute_form) continue;
        appendField(out, f.name(i), f.value(i));
        continue;  // kept even when Connection names it: the request needs it
      case Token::kXForwardedFor:
        if (!trusted || opts.x_forwarded_for) continue;  // replaced, or merged by the caller
        break;
      case Token::kForwarded:
      case Token::kXRealIp:
      case Token::kXForwardedProto:
      case Token::kXForwardedHost:
        if (!trusted) continue;
        break;
      case Token::kVia:
        if (opts.via) continue;
        break;
      case Token::kIfNoneMatch:
      case Token::kIfModifiedSince:
      case Token::kIfRange:
      case Token::kRange:
        if (cache_refetch) continue;
        [[fallthrough]];
      default:
        // The request-ID name is never a forwarding token (the config
        // refuses those), but it may be a caching one.
        if (!isForwardingToken(t) && isRequestIdField(f.name(i), opts.request_id_header)) continue;  // ours
        break;
    }
    // Whatever Connection names is hop-by-hop (RFC 9110 7.6.1), well-known
    // or not.
    if (connection.names(f.name(i))) continue;
    sent.proto |= t == Token::kXForwardedProto;
    sent.forwarded_host |= t == Token::kXForwardedHost;
    appendField(out, f.name(i), f.value(i));
  }
  return sent;
}

// "HTTP/1.1 STATUS REASON\r\n": weir speaks HTTP/1.1 whatever the upstream did.
void appendStatusLine(const ResponseHead& resp, std::string& out) {
  out.append("HTTP/1.1 ", 9);
  appendNumber(out, resp.status);
  out.push_back(' ');
  out.append(resp.reason.empty() ? reasonPhrase(resp.status) : std::string_view(resp.reason));
  out.append("\r\n", 2);
}

}  // namespace

void writeRequestHead(const RequestHead& req, const ForwardOptions& opts, const RequestContext& ctx,
                      std::string& out) {
  out.append(req.method_name);
  out.push_back(' ');
  out.append(req.path);
  out.append(" HTTP/1.1\r\n", 11);

  const HeaderBlock& f = req.fields;
  const bool trusted = ctx.trusted_client;
  const ClientSent sent = copyRequestFields(req, opts, trusted, ctx.cache_refetch, out);
  // HTTP/1.1 requires Host; an HTTP/1.0 client may have sent none.
  if (req.absolute_form || !sent.host) appendField(out, "Host", req.authority);
  if (req.has_content_length) {
    out.append("Content-Length: ");
    appendNumber(out, req.content_length);
    out.append("\r\n", 2);
  }
  if (req.chunked) out.append("Transfer-Encoding: chunked\r\n");
  if (opts.x_forwarded_for) {
    if (trusted) {
      appendMerged(out, f, Token::kXForwardedFor, "X-Forwarded-For", ctx.client_address);
    } else {
      appendField(out, "X-Forwarded-For", ctx.client_address);
    }
  }
  if (opts.x_forwarded_proto && !sent.proto) appendField(out, "X-Forwarded-Proto", ctx.scheme);
  if (opts.x_forwarded_host && !sent.forwarded_host && !req.authority.empty()) {
    appendField(out, "X-Forwarded-Host", req.authority);
  }
  if (opts.via) appendMerged(out, f, Token::kVia, "Via", viaValue(req.version_major, req.version_minor));
  if (!opts.request_id_header.empty() && !ctx.request_id.empty()) {
    appendField(out, opts.request_id_header, ctx.request_id);
  }
  if (req.upgrade) {
    out.append("Connection: upgrade\r\n");
    appendUpgradeWithoutH2c(out, f);
  }
  out.append(ctx.cache_fields);
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
                       const ForwardOptions& opts, std::string& out, std::string_view request_id) {
  appendStatusLine(resp, out);

  const HeaderBlock& f = resp.fields;
  ConnectionOptions connection(f);
  // A response without a body (HEAD, 1xx, 204, 304) keeps its framing
  // fields as sent: they describe the representation, not this message.
  const bool framed = !resp.no_body;
  for (size_t i = 0; i < f.size(); ++i) {
    Token t = f.field(i).token;
    if (isHopByHop(t)) continue;
    if (framed && (t == Token::kTransferEncoding || t == Token::kContentLength)) continue;
    if (t == Token::kVia && opts.via) continue;
    if (!isForwardingToken(t) && isRequestIdField(f.name(i), opts.request_id_header)) continue;
    if (t != Token::kContentLength && t != Token::kTransferEncoding && connection.names(f.name(i))) continue;
    appendField(out, f.name(i), f.value(i));
  }
  if (opts.via) appendMerged(out, f, Token::kVia, "Via", viaValue(resp.version_major, resp.version_minor));
  if (!opts.request_id_header.empty() && !request_id.empty()) appendField(out, opts.request_id_header, request_id);
  if (framed) {
    switch (plan.body) {
      case BodyMode::kAsIs:
        if (resp.chunked) {
          appendCodings(out, f, true);
        } else if (resp.has_content_length) {
          out.append("Content-Length: ");
          appendNumber(out, resp.content_length);
          out.append("\r\n", 2);
        } else {
          appendCodings(out, f, false);  // until close: the codings the upstream applied
        }
        break;
      case BodyMode::kChunkWrap:
        // Codings the upstream applied (a body read until close may still
        // be, say, gzip-coded) stay listed, with chunked added last.
        appendCodings(out, f, true);
        break;
      case BodyMode::kDechunk:
        appendCodings(out, f, false);
        break;
      case BodyMode::kNone:
        break;
    }
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

void writeStoredResponseHead(const ResponseHead& resp, const ForwardOptions& opts, std::string& out) {
  appendStatusLine(resp, out);
  const HeaderBlock& f = resp.fields;
  ConnectionOptions connection(f);
  for (size_t i = 0; i < f.size(); ++i) {
    Token t = f.field(i).token;
    if (isHopByHop(t) || t == Token::kTransferEncoding || t == Token::kContentLength || t == Token::kAge) continue;
    if (t == Token::kVia && opts.via) continue;
    if (!isForwardingToken(t) && isRequestIdField(f.name(i), opts.request_id_header)) continue;
    if (connection.names(f.name(i))) continue;
    appendField(out, f.name(i), f.value(i));
  }
  if (opts.via) appendMerged(out, f, Token::kVia, "Via", viaValue(resp.version_major, resp.version_minor));
}

void writeErrorResponse(int status, bool close, std::string& out, unsigned retry_after, std::string_view id_name,
                        std::string_view id, std::string_view extra) {
  std::string_view reason = reasonPhrase(status);
  out.append("HTTP/1.1 ", 9);
  appendNumber(out, static_cast<uint64_t>(status));
  out.push_back(' ');
  out.append(reason);
  out.append("\r\nServer: weir\r\n");
  if (retry_after > 0) {
    out.append("Retry-After: ");
    appendNumber(out, retry_after);
    out.append("\r\n");
  }
  if (!id_name.empty() && !id.empty()) appendField(out, id_name, id);
  out.append(extra);
  out.append("Content-Type: text/plain\r\nContent-Length: ");
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
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 416: return "Range Not Satisfiable";
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
