// libFuzzer target for the header rules (include/weir/http/forward.h).
//
// Input: byte 0 holds options (bits 0-3: ForwardOptions x_forwarded_for,
// x_forwarded_proto, x_forwarded_host, via; bit 4: the proxy has its own
// reason to close, such as draining; bit 5: the client came over https;
// bit 6: the client address is IPv6; bit 7: the client is trusted with its
// forwarding claims). The rest is one request (head and
// body) followed by what the upstream answers (interim responses, then the
// final one). Both are parsed with weir::http::Parser, and the heads weir
// would send are written with writeRequestHead / planResponse /
// writeResponseHead, called as src/proxy/session.cc calls them.
//
// It stops when a written head
// - does not parse back with a strict Parser, whole and nothing more;
// - is not HTTP/1.1, or changes the method or the status, or (request) does
//   not carry the parsed normal form of the target (RequestHead::path);
// - (request) has no Host or several, or a Host other than the effective
//   authority (RequestHead::authority);
// - carries a hop-by-hop field: Keep-Alive, TE, Trailer, Proxy-Connection,
//   Upgrade (unless upgrading), a field the peer's Connection named, or a
//   Connection field other than the one weir writes ("upgrade" when
//   upgrading; towards the client "close" when the plan closes, or
//   "keep-alive" for an HTTP/1.0 client). Named fields weir keeps on purpose
//   are not counted: Host, Content-Length and Transfer-Encoding (dropping
//   them would change where the message ends), and the X-Forwarded-* and Via
//   fields weir writes itself when the option is on;
// - lacks weir's own X-Forwarded-* / Via field when the option is on, or has
//   it twice, or with the wrong last element;
// - has framing fields that disagree with the plan: a request's body framing
//   changed; a response relayed as is with other framing; a re-framed one
//   without chunked (to HTTP/1.1) or still chunked (to HTTP/1.0); a chunked
//   body to an HTTP/1.0 client; a body delimited by close on a connection
//   the plan keeps open; more than one Content-Length; chunked listed twice;
// - does not carry exactly one request-ID field (always on here, as
//   X-Request-Id, weir's default) with the request's ID, carries a '_'
//   look-alike of it, or (request) replaces a client ID that was the only
//   field of that name and well-formed, or keeps one that was not.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "weir/http/forward.h"
#include "weir/http/parser.h"
#include "weir/http/request_id.h"
#include "fuzz_check.h"

namespace {

using weir::http::BodyMode;
using weir::http::HeaderBlock;
using weir::http::Parser;
using weir::http::RequestHead;
using weir::http::ResponseHead;
using weir::http::ResponsePlan;
using weir::http::Token;

using weir::fuzz::check;

constexpr std::string_view kIdName = "X-Request-Id";

struct Options {
  weir::http::ForwardOptions forward;
  bool want_close = false;
  std::string_view scheme = "http";
  std::string_view client = "192.0.2.1";
  bool trusted = false;
};

Options optionsFrom(uint8_t bits) {
  Options o;
  o.forward.x_forwarded_for = bits & 1;
  o.forward.x_forwarded_proto = bits & 2;
  o.forward.x_forwarded_host = bits & 4;
  o.forward.via = bits & 8;
  o.want_close = bits & 16;
  if (bits & 32) o.scheme = "https";
  if (bits & 64) o.client = "2001:db8::7";
  o.trusted = bits & 128;
  o.forward.request_id_header = kIdName;
  return o;
}

weir::http::ParserLimits generous() {
  weir::http::ParserLimits l;
  l.header_bytes = 1 << 20;
  l.headers = 100000;
  l.uri_bytes = 1 << 20;
  return l;
}

// Field names listed in the Connection fields of a head, as sent.
std::vector<std::string_view> connectionNames(const HeaderBlock& f) {
  std::vector<std::string_view> names;
  for (size_t i = 0; i < f.size(); ++i) {
    if (f.field(i).token != Token::kConnection) continue;
    weir::http::forEachListElement(f.value(i), [&](std::string_view n) { names.push_back(n); });
  }
  return names;
}

bool named(const std::vector<std::string_view>& names, std::string_view field) {
  for (std::string_view n : names) {
    if (weir::http::equalsIgnoreCase(n, field)) return true;
  }
  return false;
}

size_t count(const HeaderBlock& f, Token t) {
  size_t n = 0;
  for (size_t i = 0; i < f.size(); ++i) n += f.field(i).token == t;
  return n;
}

// The value of the only field with this token ("" if none).
std::string_view only(const HeaderBlock& f, Token t) {
  int i = f.find(t);
  return i < 0 ? std::string_view() : f.value(static_cast<size_t>(i));
}

std::string_view lastElement(std::string_view list) {
  std::string_view last;
  weir::http::forEachListElement(list, [&](std::string_view e) { last = e; });
  return last;
}


// Hop-by-hop fields that weir never writes in either direction.
void checkNoFixedHopByHop(const HeaderBlock& f) {
  check(count(f, Token::kKeepAlive) == 0, "Keep-Alive forwarded");
  check(count(f, Token::kTE) == 0, "TE forwarded");
  check(count(f, Token::kTrailer) == 0, "Trailer forwarded");
  check(count(f, Token::kProxyConnection) == 0, "Proxy-Connection forwarded");
  check(count(f, Token::kContentLength) <= 1, "several Content-Length fields written");
}

// RFC 9112 7: chunked is applied at most once to a body. (Not checked on
// responses without a body, whose fields are relayed as the upstream sent
// them.)
void checkChunkedOnce(const HeaderBlock& f) {
  int chunked = 0;
  weir::http::forEachListElement(f.joined(Token::kTransferEncoding), [&](std::string_view coding) {
    chunked += weir::http::equalsIgnoreCase(coding, "chunked");
  });
  check(chunked <= 1, "chunked written more than once");
}

// Fields named by the peer's Connection must not be passed on, except those
// weir keeps or writes on purpose (see the top of the file).
void checkConnectionNamed(const HeaderBlock& out, const std::vector<std::string_view>& names,
                          const weir::http::ForwardOptions& opts) {
  if (names.empty()) return;
  for (size_t i = 0; i < out.size(); ++i) {
    switch (out.field(i).token) {
      case Token::kHost:
      case Token::kContentLength:
      case Token::kTransferEncoding:
      case Token::kConnection:  // weir's own, checked separately
      case Token::kUpgrade:     // only when upgrading, checked separately
        continue;
      case Token::kXForwardedFor:
        if (opts.x_forwarded_for) continue;
        break;
      case Token::kXForwardedProto:
        if (opts.x_forwarded_proto) continue;
        break;
      case Token::kXForwardedHost:
        if (opts.x_forwarded_host) continue;
        break;
      case Token::kVia:
        if (opts.via) continue;
        break;
      case Token::kOther:
        if (weir::http::equalsIgnoreCase(out.name(i), opts.request_id_header)) continue;  // weir's own
        break;
      default:
        break;
    }
    check(!named(names, out.name(i)), "a field named by Connection was forwarded");
  }
}

// The name with '_' read as '-' is the request-ID name.
bool idNameOrLookalike(std::string_view name) {
  if (name.size() != kIdName.size()) return false;
  std::string dashed(name);
  for (char& c : dashed) c = c == '_' ? '-' : c;
  return weir::http::equalsIgnoreCase(dashed, kIdName);
}

// Exactly one request-ID field, spelled as configured, with `id`.
void checkRequestId(const HeaderBlock& f, std::string_view id) {
  size_t fields = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    if (!idNameOrLookalike(f.name(i))) continue;
    ++fields;
    check(f.name(i) == kIdName, "a look-alike of the request-ID field was passed on");
    check(f.value(i) == id, "the request-ID field is not the request's ID");
  }
  check(fields == 1, "not exactly one request-ID field");
  check(weir::http::isWellFormedRequestId(id), "the request's ID is not well-formed");
}

// What the ID must be: the client's only, well-formed field of that name.
void checkIdChoice(const RequestHead& req, std::string_view id) {
  int found = 0;
  std::string_view value;
  for (size_t i = 0; i < req.fields.size(); ++i) {
    if (!weir::http::equalsIgnoreCase(req.fields.name(i), kIdName)) continue;
    ++found;
    value = req.fields.value(i);
  }
  if (found == 1 && weir::http::isWellFormedRequestId(value)) {
    check(id == value, "a well-formed client ID was replaced");
  } else {
    // A new one. (Its value cannot be told from a client's that happens to
    // be equal: the fuzzer can learn this fixed-seed generator's output.)
    check(id.size() == weir::http::kNewRequestIdBytes, "an ill-formed client ID was kept");
  }
}

// Parses a written head back; it must be exactly one head.
const Parser& reparse(Parser& again, const std::string& out) {
  Parser::Step s = again.execute(out.data(), out.size());
  check(!(s.flags & Parser::kError), "written head does not parse");
  check(s.flags & Parser::kHeadComplete, "written head incomplete");
  check(s.consumed == out.size(), "written head has trailing bytes");
  return again;
}

// Upgrade and Connection go upstream only for an upgrade, and together.
void checkRequestConnection(const RequestHead& req, const HeaderBlock& f) {
  const bool upgrade_sent = count(f, Token::kUpgrade) > 0;
  const size_t connections = count(f, Token::kConnection);
  check(!upgrade_sent || req.upgrade, "Upgrade forwarded without an upgrade");
  check(connections == 0 || req.upgrade, "Connection forwarded without an upgrade");
  check(upgrade_sent == (connections > 0), "Upgrade and Connection: upgrade not sent together");
  if (connections > 0) {
    check(connections == 1 && weir::http::equalsIgnoreCase(only(f, Token::kConnection), "upgrade"),
          "Connection other than \"upgrade\" sent upstream");
  }
}

// The fields weir writes itself when the option is on: once each.
void checkRequestOwnFields(const RequestHead& req, const HeaderBlock& f, const Options& o) {
  if (o.forward.x_forwarded_for) {
    check(count(f, Token::kXForwardedFor) == 1, "not exactly one X-Forwarded-For");
    check(lastElement(only(f, Token::kXForwardedFor)) == o.client, "X-Forwarded-For does not end with the client");
  }
  // A trusted client's own X-Forwarded-Proto and -Host pass as it sent them
  // (weir adds its own only when there is none); an untrusted client's are
  // replaced by weir's.
  if (o.forward.x_forwarded_proto) {
    if (o.trusted) {
      check(count(f, Token::kXForwardedProto) >= 1, "no X-Forwarded-Proto");
    } else {
      check(count(f, Token::kXForwardedProto) == 1 && only(f, Token::kXForwardedProto) == o.scheme,
            "X-Forwarded-Proto is not the scheme");
    }
  }
  if (o.forward.x_forwarded_host && !req.authority.empty()) {
    if (o.trusted) {
      check(count(f, Token::kXForwardedHost) >= 1, "no X-Forwarded-Host");
    } else {
      check(count(f, Token::kXForwardedHost) == 1, "not exactly one X-Forwarded-Host");
    }
  }
  if (!o.trusted) {
    check(count(f, Token::kXRealIp) == 0 && count(f, Token::kForwarded) == 0,
          "an untrusted client's X-Real-IP or Forwarded was passed on");
    if (o.forward.x_forwarded_for) check(only(f, Token::kXForwardedFor) == o.client, "an untrusted client's X-Forwarded-For kept");
  }
  if (o.forward.via) {
    check(count(f, Token::kVia) == 1, "not exactly one Via");
    check(lastElement(only(f, Token::kVia)) == (req.isHttp10() ? "1.0 weir" : "1.1 weir"),
          "Via does not end with weir's own element");
  }
}

void checkRequest(const RequestHead& req, const Options& o, std::string_view id) {
  std::string out;
  weir::http::writeRequestHead(req, o.forward, {o.client, o.scheme, o.trusted, id}, out);
  Parser again(Parser::Kind::kRequest, generous());
  const RequestHead& r = reparse(again, out).request();
  const HeaderBlock& f = r.fields;

  check(r.version_major == 1 && r.version_minor == 1, "request not sent as HTTP/1.1");
  check(r.method_name == req.method_name, "method changed");
  check(r.target == req.path, "the forwarded target is not the normal form of the request's");
  check(count(f, Token::kHost) == 1, "forwarded request without exactly one Host");
  check(only(f, Token::kHost) == req.authority, "Host is not the effective authority");

  checkNoFixedHopByHop(f);
  checkChunkedOnce(f);
  checkRequestConnection(req, f);
  checkConnectionNamed(f, connectionNames(req.fields), o.forward);
  checkRequestOwnFields(req, f, o);
  checkIdChoice(req, id);
  checkRequestId(f, id);

  check(r.chunked == req.chunked, "request chunked framing changed");
  check(r.has_content_length == req.has_content_length && r.content_length == req.content_length,
        "request Content-Length changed");
}

// Connection towards the client says what the plan decided, nothing else.
void checkResponseConnection(const RequestHead& req, const ResponsePlan& plan, const HeaderBlock& f) {
  const size_t connections = count(f, Token::kConnection);
  std::string_view connection = only(f, Token::kConnection);
  if (plan.upgrade) {
    check(count(f, Token::kUpgrade) >= 1, "101 sent without Upgrade");
    check(connections == 1 && weir::http::equalsIgnoreCase(connection, "upgrade"), "101 without Connection: upgrade");
    return;
  }
  check(count(f, Token::kUpgrade) == 0, "Upgrade sent to the client without an upgrade");
  if (plan.close) {
    check(connections == 1 && weir::http::equalsIgnoreCase(connection, "close"), "closing without Connection: close");
  } else if (req.isHttp10()) {
    check(connections == 1 && weir::http::equalsIgnoreCase(connection, "keep-alive"),
          "HTTP/1.0 client kept without Connection: keep-alive");
  } else {
    check(connections == 0, "Connection sent to an HTTP/1.1 client that is kept");
  }
}

// `r` is the written head parsed back; its framing must be the plan's.
void checkResponseFraming(const RequestHead& req, const ResponseHead& resp, const ResponsePlan& plan,
                          const ResponseHead& r) {
  switch (plan.body) {
    case BodyMode::kNone:
      check(resp.no_body, "no body planned for a response that has one");
      // Relayed as they are: a HEAD or 304 response announces the length
      // the resource would have.
      check(r.fields.joined(Token::kContentLength) == resp.fields.joined(Token::kContentLength),
            "Content-Length changed on a response without a body");
      check(r.fields.joined(Token::kTransferEncoding) == resp.fields.joined(Token::kTransferEncoding),
            "Transfer-Encoding changed on a response without a body");
      return;
    case BodyMode::kAsIs:
      checkChunkedOnce(r.fields);
      check(r.chunked == resp.chunked && r.has_content_length == resp.has_content_length &&
                r.content_length == resp.content_length && r.until_close == resp.until_close,
            "response relayed as is with other framing");
      break;
    case BodyMode::kChunkWrap:
      checkChunkedOnce(r.fields);
      check(resp.until_close, "chunk-wrapping a body that has a length");
      check(!req.isHttp10(), "chunk-wrapping for an HTTP/1.0 client");
      check(r.chunked && !r.has_content_length, "chunk-wrapped response not announced as chunked alone");
      break;
    case BodyMode::kDechunk:
      checkChunkedOnce(r.fields);
      check(resp.chunked, "de-chunking a body that is not chunked");
      check(r.until_close && !r.chunked && !r.has_content_length, "de-chunked response not delimited by close");
      break;
  }
  if (req.isHttp10()) check(!r.chunked, "chunked body sent to an HTTP/1.0 client");
  if (r.until_close) check(plan.close, "body delimited by close on a connection kept open");
}

void checkResponse(const RequestHead& req, const ResponseHead& resp, const ResponsePlan& plan, const Options& o,
                   std::string_view id) {
  std::string out;
  weir::http::writeResponseHead(req, resp, plan, o.forward, out, id);
  Parser again(Parser::Kind::kResponse, generous());
  again.setNoBodyExpected(req.method == HTTP_HEAD);
  const ResponseHead& r = reparse(again, out).response();
  const HeaderBlock& f = r.fields;

  check(r.version_major == 1 && r.version_minor == 1, "response not sent as HTTP/1.1");
  check(r.status == resp.status, "status changed");
  if (plan.upgrade) check(resp.status == 101 && req.upgrade, "tunnel planned without a 101 to an upgrade request");
  checkNoFixedHopByHop(f);
  checkConnectionNamed(f, connectionNames(resp.fields), o.forward);
  if (o.forward.via) {
    const bool http10 = resp.version_major == 1 && resp.version_minor == 0;
    check(count(f, Token::kVia) == 1, "not exactly one Via on the response");
    check(lastElement(only(f, Token::kVia)) == (http10 ? "1.0 weir" : "1.1 weir"),
          "response Via does not end with weir's own element");
  }
  checkResponseConnection(req, plan, f);
  checkRequestId(f, id);
  if (!plan.upgrade) checkResponseFraming(req, resp, plan, r);
}

// Reads the upstream's answers after `req` as the proxy does: interim
// responses are relayed to HTTP/1.1 clients only, a 101 only to a request
// that asked to upgrade (otherwise the proxy answers 502 itself).
void runResponses(const RequestHead& req, std::string_view stream, const Options& o, std::string_view id) {
  const bool head_request = req.method == HTTP_HEAD;
  Parser p(Parser::Kind::kResponse, {});
  p.setNoBodyExpected(head_request);
  for (int interim = 0; interim < 8 && !stream.empty(); ++interim) {
    Parser::Step s = p.execute(stream.data(), stream.size());
    check(s.consumed <= stream.size(), "consumed more than given");
    stream.remove_prefix(s.consumed);
    if ((s.flags & Parser::kError) || !(s.flags & Parser::kHeadComplete)) return;
    const ResponseHead& resp = p.response();
    if (resp.status == 101) {
      if (req.upgrade) checkResponse(req, resp, weir::http::planResponse(req, resp, false), o, id);
      return;
    }
    if (resp.status >= 200) {
      checkResponse(req, resp, weir::http::planResponse(req, resp, o.want_close || req.upgrade), o, id);
      return;
    }
    if (!req.isHttp10()) {
      ResponsePlan plan;
      plan.body = BodyMode::kNone;
      checkResponse(req, resp, plan, o, id);
    }
    if (!(s.flags & Parser::kMessageComplete)) return;
    p.reset();
    p.setNoBodyExpected(head_request);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const Options o = optionsFrom(data[0]);
  std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);
  Parser p(Parser::Kind::kRequest, {});
  weir::http::RequestIdGenerator ids(1, 2);  // fixed seeds: a run is reproducible
  weir::http::RequestId id;
  // Head, body, end of message: at most a few steps; the bound guards
  // against a parser that stalls.
  for (int steps = 0; steps < 64 && !stream.empty(); ++steps) {
    Parser::Step s = p.execute(stream.data(), stream.size());
    check(s.consumed <= stream.size(), "consumed more than given");
    stream.remove_prefix(s.consumed);
    if (s.flags & Parser::kError) return 0;
    if (s.flags & Parser::kHeadComplete) {
      weir::http::chooseRequestId(p.request().fields, o.forward.request_id_header, ids, id);
      checkRequest(p.request(), o, id.view());
    }
    if (s.flags & Parser::kMessageComplete) {
      runResponses(p.request(), stream, o, id.view());
      return 0;
    }
    if (s.consumed == 0 && s.flags == 0) return 0;
  }
  return 0;
}
