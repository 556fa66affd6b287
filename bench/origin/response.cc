#include "response.h"

#include <event2/buffer.h>

#include <charconv>

namespace weir::origin {
namespace {

bool validFinalStatus(int s) { return s >= 200 && s <= 599; }

void appendNumber(std::string& s, uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  s.append(buf, end);
}

std::string statsJson(const PlanContext& ctx) {
  std::string s = "{\"connections\": ";
  appendNumber(s, ctx.connections);
  s += ", \"requests\": ";
  appendNumber(s, ctx.requests);
  s += "}\n";
  return s;
}

void planStatus(int status, ResponsePlan& p) {
  if (validFinalStatus(status)) {
    p.status = status;
    p.text = "status " + std::to_string(status) + "\n";
  } else {
    p.status = 400;  // 1xx cannot be a final response; others are out of range
    p.text = "invalid status\n";
  }
}

// Echo keeps the request's framing: chunked in, chunked out.
void planEcho(const RequestInfo& req, const PlanContext& ctx, ResponsePlan& p) {
  if (req.body_too_large) {
    p.status = 413;
    p.text = "payload too large\n";
    return;
  }
  p.body = BodyKind::kEcho;
  p.length = ctx.echo_bytes;
  if (req.chunked) p.framing = Framing::kChunked;
}

// Fills status and body source from the endpoint.
void planRoute(const RequestInfo& req, const Target& t, const PlanContext& ctx, ResponsePlan& p) {
  switch (t.route) {
    case Route::kHello:
      p.text = ctx.hello_body;
      break;
    case Route::kBytes:
      p.body = BodyKind::kPattern;
      p.length = t.bytes;
      break;
    case Route::kStatus:
      planStatus(t.path_status, p);
      break;
    case Route::kEcho:
      planEcho(req, ctx, p);
      break;
    case Route::kHeaders:
      p.text = ctx.raw_head;
      break;
    case Route::kStats:
      p.text = statsJson(ctx);
      p.content_type = "application/json";
      break;
    case Route::kWebSocket:
      p.status = 400;
      p.text = "websocket upgrade required\n";
      break;
    case Route::kClose:
      p.text = "closed body\n";
      p.framing = Framing::kClose;
      break;
    case Route::kHealth:
      planStatus(ctx.health_status, p);
      p.text = "health " + std::to_string(p.status) + "\n";
      break;
    case Route::kHealthControl:
      p.text = ctx.health_report;
      break;
  }
}

// Applies query overrides and the rules that depend on method and version.
void planFraming(const RequestInfo& req, const Target& t, ResponsePlan& p) {
  if (t.status_override != 0) {
    p.status = validFinalStatus(t.status_override) ? t.status_override : 400;
  }
  if (t.chunked && p.framing == Framing::kLength) p.framing = Framing::kChunked;
  if (t.close) p.framing = Framing::kClose;
  // HTTP/1.0 cannot receive chunked; fall back to close-delimited.
  if (p.framing == Framing::kChunked && !req.isHttp11()) p.framing = Framing::kClose;
  if (p.body == BodyKind::kText) p.length = p.text.size();
  p.bodiless_status = p.status == 204 || p.status == 304;
  p.send_body = !p.bodiless_status && !req.isHead();
  p.trailer = t.trailer && p.framing == Framing::kChunked;
  p.close = !req.keep_alive || p.framing == Framing::kClose;
  p.keep_alive_header = !p.close && !req.isHttp11();
  p.cache_seconds = t.cache_seconds;
  p.delay_ms = t.delay_ms;
}

}  // namespace

ResponsePlan planResponse(const RequestInfo& req, const Target& t, const PlanContext& ctx) {
  ResponsePlan p;
  if (t.bad) {
    p.status = 400;
    p.text = "bad request\n";
  } else {
    planRoute(req, t, ctx, p);
  }
  planFraming(req, t, p);
  return p;
}

ResponsePlan planError(int status, std::string_view text) {
  ResponsePlan p;
  p.status = status;
  p.text = text;
  p.length = p.text.size();
  p.close = true;
  return p;
}

void writeHead(evbuffer* out, const ResponsePlan& plan, std::string_view origin_header) {
  thread_local std::string h;
  h.clear();
  h += "HTTP/1.1 ";
  appendNumber(h, static_cast<uint64_t>(plan.status));
  h += ' ';
  h += reasonPhrase(plan.status);
  h += "\r\n";
  h += origin_header;
  h += "Content-Type: ";
  h += plan.content_type;
  h += "\r\n";
  if (!plan.bodiless_status && plan.framing == Framing::kLength) {
    h += "Content-Length: ";
    appendNumber(h, plan.length);
    h += "\r\n";
  } else if (!plan.bodiless_status && plan.framing == Framing::kChunked) {
    h += "Transfer-Encoding: chunked\r\n";
    if (plan.trailer) h += "Trailer: X-Trailer\r\n";
  }
  if (plan.cache_seconds >= 0) {
    h += "Cache-Control: max-age=";
    appendNumber(h, static_cast<uint64_t>(plan.cache_seconds));
    h += "\r\n";
  }
  if (plan.close) h += "Connection: close\r\n";
  if (plan.keep_alive_header) h += "Connection: keep-alive\r\n";
  h += "\r\n";
  evbuffer_add(out, h.data(), h.size());
}

void writeChunkHeader(evbuffer* out, uint64_t size) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf - 2, size, 16);
  *end++ = '\r';
  *end++ = '\n';
  evbuffer_add(out, buf, static_cast<size_t>(end - buf));
}

void writeLastChunk(evbuffer* out, bool trailer) {
  static constexpr std::string_view kPlain = "0\r\n\r\n";
  static constexpr std::string_view kWithTrailer = "0\r\nX-Trailer: yes\r\n\r\n";
  std::string_view s = trailer ? kWithTrailer : kPlain;
  evbuffer_add(out, s.data(), s.size());
}

void writeTextBody(evbuffer* out, const ResponsePlan& plan) {
  if (!plan.send_body) return;
  if (plan.framing != Framing::kChunked) {
    evbuffer_add(out, plan.text.data(), plan.text.size());
    return;
  }
  if (!plan.text.empty()) {
    writeChunkHeader(out, plan.text.size());
    evbuffer_add(out, plan.text.data(), plan.text.size());
    evbuffer_add(out, "\r\n", 2);
  }
  writeLastChunk(out, plan.trailer);
}

void writeBufferBody(evbuffer* out, evbuffer* body, const ResponsePlan& plan) {
  size_t n = evbuffer_get_length(body);
  if (!plan.send_body) {
    evbuffer_drain(body, n);
    return;
  }
  if (plan.framing != Framing::kChunked) {
    evbuffer_add_buffer(out, body);
    return;
  }
  if (n > 0) {
    writeChunkHeader(out, n);
    evbuffer_add_buffer(out, body);
    evbuffer_add(out, "\r\n", 2);
  }
  writeLastChunk(out, plan.trailer);
}

const char* reasonPhrase(int status) {
  switch (status) {
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return status < 300 ? "OK" : status < 400 ? "Redirect" : status < 500 ? "Client Error" : "Server Error";
  }
}

}  // namespace weir::origin
