// libFuzzer target for the HTTP/1.1 parser and the forwarding rules.
//
// Input: byte 0 picks where the rest is split into two reads (as two TCP
// segments), byte 1 holds options (bit 0: the request was HEAD, bit 1: the
// client speaks HTTP/1.0, bit 2: small limits), the rest is the stream. The
// same stream is fed to a request parser and to a response parser.
//
// Besides memory errors, it stops on broken invariants:
// - a step consumes more than it was given, or stalls (consumes nothing and
//   reports nothing);
// - an error status outside the documented set;
// - a body length that disagrees with Content-Length;
// - a forwarded head that does not parse back, or parses with a different
//   body framing (which would be a request smuggling vector).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "weir/http/forward.h"
#include "weir/http/parser.h"
#include "fuzz_check.h"

namespace {

using weir::http::Parser;

using weir::fuzz::check;

struct Options {
  bool head_request = false;
  bool client_http10 = false;
  bool small_limits = false;
};

weir::http::ParserLimits limitsFor(const Options& o) {
  weir::http::ParserLimits l;
  if (o.small_limits) {
    l.header_bytes = 256;
    l.headers = 8;
    l.uri_bytes = 32;
    l.body_bytes = 64;
  }
  return l;
}

weir::http::ParserLimits generous() {
  weir::http::ParserLimits l;
  l.header_bytes = 1 << 20;
  l.headers = 100000;
  l.uri_bytes = 1 << 20;
  return l;
}

// Touches every body byte so ASan sees out-of-bounds spans.
class SummingSink : public weir::http::BodySink {
 public:
  void onBodyData(const char* data, size_t len) override {
    for (size_t i = 0; i < len; ++i) sum_ += static_cast<unsigned char>(data[i]);
    bytes_ += len;
  }
  uint64_t bytes() const { return bytes_; }

 private:
  uint64_t sum_ = 0;
  uint64_t bytes_ = 0;
};

// The forwarded request must parse back with the same framing.
void checkForwardedRequest(const weir::http::RequestHead& req) {
  std::string out;
  weir::http::writeRequestHead(req, {}, {"192.0.2.1", "http", false, {}}, out);
  Parser again(Parser::Kind::kRequest, generous());
  Parser::Step s = again.execute(out.data(), out.size());
  check(!(s.flags & Parser::kError), "forwarded request does not parse");
  check(s.flags & Parser::kHeadComplete, "forwarded request head incomplete");
  check(s.consumed == out.size(), "forwarded request head has trailing bytes");
  const weir::http::RequestHead& r = again.request();
  // The upstream gets the normal-form path (stable under normalisation) and
  // the effective authority as Host.
  check(r.method_name == req.method_name && r.target == req.path && r.path == req.path,
        "forwarded request line changed");
  check(r.authority == req.authority, "forwarded request changed its authority");
  check(r.chunked == req.chunked, "forwarded request changed chunked framing");
  check(r.has_content_length == req.has_content_length && r.content_length == req.content_length,
        "forwarded request changed Content-Length");
}

// The response head sent to the client must parse back with the framing the
// plan announced.
void checkForwardedResponse(const weir::http::ResponseHead& resp, const Options& o) {
  std::string line = std::string(o.head_request ? "HEAD" : "GET") + " / HTTP/1." + (o.client_http10 ? "0" : "1") +
                     "\r\nHost: h\r\n\r\n";
  Parser rp(Parser::Kind::kRequest, {});
  Parser::Step rs = rp.execute(line.data(), line.size());
  check(rs.flags & Parser::kHeadComplete, "synthetic request did not parse");
  const weir::http::ResponsePlan plan = weir::http::planResponse(rp.request(), resp, false);
  std::string out;
  weir::http::writeResponseHead(rp.request(), resp, plan, {}, out);
  if (plan.upgrade) return;
  Parser again(Parser::Kind::kResponse, generous());
  again.setNoBodyExpected(o.head_request);
  Parser::Step s = again.execute(out.data(), out.size());
  check(!(s.flags & Parser::kError), "forwarded response does not parse");
  check(s.flags & Parser::kHeadComplete, "forwarded response head incomplete");
  check(s.consumed == out.size(), "forwarded response head has trailing bytes");
  const weir::http::ResponseHead& r = again.response();
  check(r.status == resp.status, "forwarded status changed");
  switch (plan.body) {
    case weir::http::BodyMode::kChunkWrap: {
      check(r.chunked, "chunk-wrapped response not announced as chunked");
      int chunked = 0;  // RFC 9112 7: at most once
      weir::http::forEachListElement(r.fields.joined(weir::http::Token::kTransferEncoding),
                                     [&](std::string_view c) { chunked += weir::http::equalsIgnoreCase(c, "chunked"); });
      check(chunked == 1, "chunk-wrapped response lists chunked more than once");
      break;
    }
    case weir::http::BodyMode::kDechunk:
      check(r.until_close && !r.keep_alive, "de-chunked response not delimited by close");
      break;
    case weir::http::BodyMode::kAsIs:
      check(r.chunked == resp.chunked && r.content_length == resp.content_length &&
                r.until_close == resp.until_close,
            "relayed response changed framing");
      break;
    case weir::http::BodyMode::kNone:
      break;
  }
}

bool allowedStatus(Parser::Kind kind, int status) {
  if (kind == Parser::Kind::kResponse) return status == 502;
  return status == 400 || status == 413 || status == 414 || status == 431 || status == 501;
}

// Feeds the stream in two reads. Returns when the stream is used up, fails
// or leaves HTTP (upgrade).
void run(Parser::Kind kind, std::string_view stream, size_t split, const Options& o) {
  Parser p(kind, limitsFor(o));
  SummingSink sink;
  auto prepare = [&] {
    p.reset();
    if (kind == Parser::Kind::kResponse) {
      p.setNoBodyExpected(o.head_request);
      p.setBodySink(&sink);
    }
  };
  prepare();
  uint64_t sink_start = 0;
  const std::string_view reads[2] = {stream.substr(0, split), stream.substr(split)};
  for (std::string_view read : reads) {
    size_t off = 0;
    while (off < read.size()) {
      const size_t len = read.size() - off;
      Parser::Step s = p.execute(read.data() + off, len);
      check(s.consumed <= len, "consumed more than given");
      off += s.consumed;
      if (s.flags & Parser::kError) {
        check(allowedStatus(kind, p.errorStatus()), "unexpected error status");
        check(p.execute(read.data(), read.size()).flags == Parser::kError, "error did not stick");
        return;
      }
      check(s.consumed > 0 || s.flags != 0, "parser stalled");
      if (s.flags & Parser::kHeadComplete) {
        if (kind == Parser::Kind::kRequest) {
          checkForwardedRequest(p.request());
        } else {
          checkForwardedResponse(p.response(), o);
        }
      }
      if (s.flags & Parser::kMessageComplete) {
        if (kind == Parser::Kind::kRequest) {
          const weir::http::RequestHead& r = p.request();
          if (r.has_content_length) check(p.bodyBytes() == r.content_length, "request body length");
        } else {
          const weir::http::ResponseHead& r = p.response();
          if (r.no_body) check(p.bodyBytes() == 0, "body on a response that has none");
          if (r.has_content_length && !r.no_body) check(p.bodyBytes() == r.content_length, "response body length");
          check(sink.bytes() - sink_start == p.bodyBytes(), "sink missed body bytes");
        }
        sink_start = sink.bytes();
        prepare();
      }
      // The rest of the stream is the upgraded protocol; the checks above
      // made sure none of it was taken as a body.
      if (s.flags & Parser::kUpgrade) return;
    }
  }
  Parser::Step end = p.finish();
  check(end.flags == 0 || end.flags == Parser::kMessageComplete || end.flags == Parser::kError,
        "unexpected flags from finish()");
  if (end.flags == Parser::kError) check(allowedStatus(kind, p.errorStatus()), "unexpected status from finish()");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const size_t cut = data[0];
  Options o;
  o.head_request = data[1] & 1;
  o.client_http10 = data[1] & 2;
  o.small_limits = data[1] & 4;
  std::string_view stream(reinterpret_cast<const char*>(data + 2), size - 2);
  const size_t split = stream.size() * cut / 256;
  run(Parser::Kind::kRequest, stream, split, o);
  run(Parser::Kind::kResponse, stream, split, o);
  return 0;
}
