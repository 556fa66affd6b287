// HTTP message rules seen from outside (issue 5): trailers and chunk lines,
// Transfer-Encoding, '_' names, Host and absolute-form targets, path
// normalisation and routing, client claims, start lines, h2c, parser reset
// after a cut response, and operator words in the error log. Each test runs
// the real weir binary against in-process upstreams on 127.0.0.1.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <ostream>

#include "harness.h"
#include "scripted_upstream.h"

namespace weir::itest {
namespace {

// --- an upstream that answers from a list, one answer per request ----------

// Length of the first complete request in `buf` (head plus Content-Length
// or chunked body, trailers included), or 0 if it is not complete yet.
size_t completeRequest(std::string_view buf) {
  size_t head_end = buf.find("\r\n\r\n");
  if (head_end == std::string_view::npos) return 0;
  size_t pos = head_end + 4;
  auto fields = parseFields(buf.substr(0, head_end + 2));
  bool chunked = false;
  uint64_t length = 0;
  for (auto& [k, v] : fields) {
    if (lower(k) == "content-length") length = std::strtoull(v.c_str(), nullptr, 10);
    if (lower(k) == "transfer-encoding" && icontains(v, "chunked")) chunked = true;
  }
  if (!chunked) return buf.size() >= pos + length ? pos + length : 0;
  for (int guard = 0; guard < 100000; ++guard) {
    size_t eol = buf.find("\r\n", pos);
    if (eol == std::string_view::npos) return 0;
    uint64_t size = std::strtoull(std::string(buf.substr(pos, eol - pos)).c_str(), nullptr, 16);
    pos = eol + 2;
    if (size == 0) break;
    if (buf.size() < pos + size + 2) return 0;
    pos += size + 2;
  }
  size_t end = buf.find("\r\n\r\n", pos - 2);  // trailers, then the empty line
  return end == std::string_view::npos ? 0 : end + 4;
}

struct Answer {
  std::string bytes;
  bool close = false;  // close the connection after writing it
};

// Serves answers[i] to the i-th complete request it receives (the last one
// repeats), on any connection. Records everything received, as it arrives.
class ListUpstream {
 public:
  explicit ListUpstream(std::vector<Answer> answers)
      : answers_(std::move(answers)), up_([this](UpstreamConn& conn, int) { serve(conn); }) {}
  std::string address() const { return up_.address(); }
  std::string received() const {
    std::lock_guard<std::mutex> lock(mu_);
    return received_;
  }
  int requests() const { return served_.load(); }

 private:
  void serve(UpstreamConn& conn) {
    for (int round = 0; round < 100000; ++round) {
      size_t n = completeRequest(conn.buffer());
      if (n == 0) {
        size_t had = conn.buffer().size();
        if (conn.readMore(Ms(10000)) <= 0) return;
        std::lock_guard<std::mutex> lock(mu_);
        received_.append(conn.buffer(), had, std::string::npos);
        continue;
      }
      conn.buffer().erase(0, n);
      int i = served_++;
      const Answer& a = answers_[std::min(static_cast<size_t>(i), answers_.size() - 1)];
      if (!conn.send(a.bytes) || a.close) return;
    }
  }

  std::vector<Answer> answers_;
  std::atomic<int> served_{0};
  mutable std::mutex mu_;
  std::string received_;
  ScriptedUpstream up_;  // last: its threads stop before the members they use go
};

const std::string kOk = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

std::string post(const std::string& fields, const std::string& body, const std::string& target = "/") {
  return "POST " + target + " HTTP/1.1\r\nHost: x\r\n" + fields + "\r\n" + body;
}

// One request on a new connection; the response; whether weir then closed.
struct Exchange {
  std::optional<HttpResponse> response;
  bool closed = false;
  std::string error;
};

Exchange exchange(uint16_t port, const std::string& request) {
  Exchange e;
  RawClient c(port);
  if (!c.connected() || !c.send(request)) {
    e.error = "connect/send: " + c.lastError();
    return e;
  }
  e.response = c.readResponse(Ms(3000));
  if (!e.response) e.error = c.lastError();
  e.closed = c.waitClosed(Ms(3000));
  return e;
}

// The requests weir sent upstream, each split into its head fields.
std::vector<std::string> requestLines(const std::string& received) {
  std::vector<std::string> lines;
  for (size_t pos = 0; (pos = received.find(" HTTP/1.1\r\n", pos)) != std::string::npos; pos += 11) {
    size_t start = received.rfind("\r\n", pos);
    start = start == std::string::npos ? 0 : start + 2;
    lines.push_back(received.substr(start, pos + 9 - start));
  }
  return lines;
}

// --- trailers and chunk lines -------------------------------------------------

struct BadBody {
  const char* name;
  std::string body;
  int status;
};
void PrintTo(const BadBody& b, std::ostream* os) { *os << b.name; }

class ChunkedRequestRules : public ::testing::TestWithParam<BadBody> {};

TEST_P(ChunkedRequestRules, RefusedAndClosed) {
  const BadBody& bad = GetParam();
  ListUpstream up({{kOk}});
  Weir weir(poolConfig({up.address()}));
  ASSERT_TRUE(weir.ok()) << weir.error();
  Exchange e = exchange(weir.port(), post("Transfer-Encoding: chunked\r\n", bad.body));
  ASSERT_TRUE(e.response) << e.error;
  EXPECT_EQ(e.response->status, bad.status) << e.response->rawHead;
  EXPECT_TRUE(e.closed) << "connection left open after a refused request";
}

INSTANTIATE_TEST_SUITE_P(
    Http, ChunkedRequestRules,
    ::testing::Values(BadBody{"BareLfAfterChunkData", "3\r\nabc\n0\r\n\r\n", 400},
                      BadBody{"BareLfAfterLastChunk", "3\r\nabc\r\n0\n\r\n", 400},
                      BadBody{"BareLfEndingTrailers", "3\r\nabc\r\n0\r\n\n", 400},
                      BadBody{"BareLfInTrailerField", "3\r\nabc\r\n0\r\nX-T: 1\n\r\n", 400},
                      BadBody{"ObsFoldInTrailer", "3\r\nabc\r\n0\r\nX-T: 1\r\n 2\r\n\r\n", 400},
                      BadBody{"BareCrInTrailer", "3\r\nabc\r\n0\r\nX-T: 1\rX-U: 2\r\n\r\n", 400},
                      BadBody{"ContentLengthInTrailer", "3\r\nabc\r\n0\r\nContent-Length: 5\r\n\r\n", 400},
                      BadBody{"HostInTrailer", "3\r\nabc\r\n0\r\nHost: evil\r\n\r\n", 400},
                      BadBody{"TransferEncodingLookAlikeInTrailer", "0\r\nTransfer_Encoding: chunked\r\n\r\n", 400},
                      BadBody{"LongChunkExtension", "3;" + std::string(5000, 'e') + "\r\nabc\r\n0\r\n\r\n", 400},
                      BadBody{"TooManyTrailerFields", [] {
                                std::string b = "0\r\n";
                                for (int i = 0; i < 101; ++i) b += "X-" + std::to_string(i) + ": v\r\n";
                                return b + "\r\n";
                              }(),
                              431}),
    [](const ::testing::TestParamInfo<BadBody>& info) { return std::string(info.param.name); });

TEST(HttpRules, ValidRequestTrailersAreRelayed) {
  ListUpstream up({{kOk}});
  Weir weir(poolConfig({up.address()}));
  ASSERT_TRUE(weir.ok()) << weir.error();
  RawClient c(weir.port());
  ASSERT_TRUE(c.send(post("Transfer-Encoding: chunked\r\n", "3\r\nabc\r\n0\r\nX-Checksum: 42\r\n\r\n") + get("/next")));
  for (int i = 0; i < 2; ++i) {
    auto r = c.readResponse(Ms(3000));
    ASSERT_TRUE(r) << i << ": " << c.lastError();
    EXPECT_EQ(r->status, 200);
  }
  EXPECT_NE(up.received().find("0\r\nX-Checksum: 42\r\n\r\n"), std::string::npos) << up.received();
}

TEST(HttpRules, AnEndlessRequestTrailerIs431AndBounded) {
  ListUpstream up({{kOk}});
  Weir weir(poolConfig({up.address()}));
  ASSERT_TRUE(weir.ok()) << weir.error();
  long rss_before = weir.rssKiB();
  RawClient c(weir.port());
  ASSERT_TRUE(c.send(post("Transfer-Encoding: chunked\r\n", "3\r\nabc\r\n0\r\nX-Big: ")));
  const std::string chunk(64 * 1024, 'v');
  // 32 KiB is the default limit; up to 16 MiB are offered, and weir must
  // answer long before, holding none of it.
  for (int i = 0; i < 256; ++i) {
    if (!c.send(chunk, Ms(2000))) break;
    if (c.readSome(Ms(1), 65536) > 0 || c.eof()) break;
  }
  auto r = c.readResponse(Ms(3000));
  ASSERT_TRUE(r) << c.lastError();
  EXPECT_EQ(r->status, 431);
  long rss_after = weir.rssKiB();
  if (rss_before > 0 && rss_after > 0) {
    EXPECT_LT(rss_after - rss_before, 8 * 1024) << "KiB";
  }
  EXPECT_TRUE(weir.waitForLogLine(weir.errorLogPath(),
                                  [](const std::string& l) { return icontains(l, "trailer section too large"); }))
      << weir.errorLog();
}

// A chunked response whose trailer breaks the rules: its head and data may
// have reached the client already, so the client connection ends without
// the final chunk.
TEST(HttpRules, BadResponseTrailersCutTheResponse) {
  for (const char* tail : {"0\r\n\n", "0\r\nX-T: 1\r\n b\r\n\r\n", "0\r\nContent-Length: 3\r\n\r\n"}) {
    SCOPED_TRACE(tail);
    ListUpstream up({{std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n") + tail}});
    Weir weir(poolConfig({up.address()}));
    ASSERT_TRUE(weir.ok()) << weir.error();
    RawClient c(weir.port());
    ASSERT_TRUE(c.send(get("/")));
    std::string all = c.readUntilClose(Ms(3000));
    EXPECT_FALSE(c.timedOut()) << "weir kept the connection";
    // Whatever part of it was flushed, the client never sees a complete
    // response (a cache in front would store it).
    ResponseParser parser;
    size_t used = parser.feed(all.data(), all.size());
    if (!parser.done()) parser.feedEof();
    EXPECT_FALSE(parser.done() && !parser.failed()) << used << " bytes:\n" << all;
    EXPECT_EQ(all.find("0\r\n\r\n"), std::string::npos) << "the response was completed:\n" << all;
    EXPECT_TRUE(weir.waitForLogLine(weir.errorLogPath(), [](const std::string& l) {
      return icontains(l, "invalid response") && icontains(l, "trailer");
    })) << weir.errorLog();
  }
}

// --- one reset for all per-message state ---------------------------------------

TEST(HttpRules, Issue5ResponseCutInAHeaderValueDoesNotCorruptTheNext) {
  ListUpstream up({{"HTTP/1.1 200 OK\r\nX-Long: abcdefgh", true},
                   {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: b\r\n\r\n2\r\nok\r\n0\r\n\r\n"}});
  Weir weir(poolConfig({up.address()}));
  ASSERT_TRUE(weir.ok()) << weir.error();
  RawClient c(weir.port());
  ASSERT_TRUE(c.send(get("/first")));
  auto r1 = c.readResponse(Ms(3000));
  ASSERT_TRUE(r1) << c.lastError();
  EXPECT_EQ(r1->status, 502);
  ASSERT_TRUE(c.send(get("/second")));
  auto r2 = c.readResponse(Ms(3000));
  ASSERT_TRUE(r2) << c.lastError();
  EXPECT_EQ(r2->status, 200) << r2->rawHead;
  EXPECT_EQ(r2->header("Transfer-Encoding").value_or(""), "chunked") << r2->rawHead;
  EXPECT_EQ(r2->header("X-A").value_or(""), "b") << r2->rawHead;
  EXPECT_EQ(r2->body, "ok");
}

// --- Transfer-Encoding ------------------------------------------------------------

TEST(HttpRules, ChunkedSpellingsAreForwardedAsExactlyChunked) {
  ListUpstream up({{kOk}});
  Weir weir(poolConfig({up.address()}));
  ASSERT_TRUE(weir.ok()) << weir.error();
  RawClient c(weir.port());
  const std::vector<std::string> spellings = {",chunked", ", chunked", "Chunked", "CHUNKED"};
  std::string all;
  for (const std::string& te : spellings) all += post("Transfer-Encoding: " + te + "\r\n", "3\r\nabc\r\n0\r\n\r\n");
  ASSERT_TRUE(c.send(all));
  for (size_t i = 0; i < spellings.size(); ++i) {
    auto r = c.readResponse(Ms(3000));
    ASSERT_TRUE(r) << spellings[i] << ": " << c.lastError();
    EXPECT_EQ(r->status, 200) << spellings[i];
  }
  std::string seen = up.received();
  size_t exact = 0;
  for (size_t pos = 0; (pos = seen.find("\r\nTransfer-Encoding: chunked\r\n", pos)) != std::string::npos; ++pos) ++exact;
  EXPECT_EQ(exact, spellings.size()) << seen;
  EXPECT_EQ(lower(seen).find("transfer-encoding: ,"), std::string::npos) << seen;
  EXPECT_EQ(seen.find("Chunked"), std::string::npos) << seen;
  EXPECT_EQ(seen.find("CHUNKED"), std::string::npos) << seen;
}

TEST(HttpRules, TransferEncodingRfc9112RefusesIsRefused) {
  ListUpstream up({{kOk}});
  Weir weir(poolConfig({up.address()}));
  ASSERT_TRUE(weir.ok()) << weir.error();
  for (const std::string& req : {
           std::string("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
           post("Transfer-Encoding:\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"),
           post("Transfer-Encoding: chunked\r\nTransfer-Encoding:\r\n", "0\r\n\r\n"),
           post("Transfer-Encoding:\r\nContent-Length: 3\r\n", "abc"),
       }) {
    Exchange e = exchange(weir.port(), req);
    ASSERT_TRUE(e.response) << req << e.error;
    EXPECT_EQ(e.response->status, 400) << req;
    EXPECT_TRUE(e.closed) << req;
  }
}

TEST(HttpRules, ResponseTransferEncodingRules) {
  {
    ListUpstream up({{"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"}});
    Weir weir(poolConfig({up.address()}));
    ASSERT_TRUE(weir.ok()) << weir.error();
    auto r = rawRequest(weir.port(), get("/"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 502) << "an HTTP/1.0 response with Transfer-Encoding is invalid";
  }
  {
    ListUpstream up({{"HTTP/1.1 200 OK\r\nTransfer-Encoding: , Chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"}});
    Weir weir(poolConfig({up.address()}));
    ASSERT_TRUE(weir.ok()) << weir.error();
    auto r = rawRequest(weir.port(), get("/"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->headerAll("Transfer-Encoding"), std::vector<std::string>{"chunked"}) << r->rawHead;
    EXPECT_EQ(r->body, "ok");
  }
}

// --- names with '_' ----------------------------------------------------------------

TEST(HttpRules, UnderscoreNames) {
  ListUpstream up({{kOk}});
  Weir weir(poolConfig({up.address()}));
  ASSERT_TRUE(weir.ok()) << weir.error();
  for (std::string field : {"Content_Length: 3", "Transfer_Encoding: chunked"}) {
    Exchange e = exchange(weir.port(), post(field + "\r\n", "abc"));
    ASSERT_TRUE(e.response) << field << e.error;
    EXPECT_EQ(e.response->status, 400) << field;
    EXPECT_TRUE(e.closed);
  }
  auto r = rawRequest(weir.port(), get("/u", "X_Custom: secret1\r\nKeep_Alive: secret2\r\nX_Forwarded_For: secret3\r\n"
                                              "X_Real_IP: secret4\r\nX-Dash: kept\r\n"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  std::string seen = up.received();
  EXPECT_EQ(seen.find("secret"), std::string::npos) << seen;
  EXPECT_NE(seen.find("X-Dash: kept"), std::string::npos) << seen;
}

// --- Host, absolute-form, path normal form, routing -----------------------------------

TEST(HttpRules, InvalidHostValuesAre400) {
  ListUpstream up({{kOk}});
  Weir weir(poolConfig({up.address()}));
  ASSERT_TRUE(weir.ok()) << weir.error();
  for (const char* host : {"a b", "a/b@c", "user@a.example", "a.example:x", "[::1"}) {
    Exchange e = exchange(weir.port(), get("/", "", host));
    ASSERT_TRUE(e.response) << host << e.error;
    EXPECT_EQ(e.response->status, 400) << host;
  }
  EXPECT_EQ(up.requests(), 0);
}

// Two pools: "admin" behind /admin/ and host a.example, "app" for the rest.
struct TwoPools {
  ListUpstream admin{{{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nadmin"}}};
  ListUpstream app{{{"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\napp"}}};
  Weir weir{"pools:\n  admin:\n    servers:\n      - address: " + admin.address() +
            "\n  app:\n    servers:\n      - address: " + app.address() +
            "\nroutes:\n  - match: { path_prefix: /admin/ }\n    pool: admin\n"
            "  - match: { host: a.example }\n    pool: admin\n  - pool: app\n"};
};

TEST(HttpRules, PathsAreRoutedAndForwardedInNormalForm) {
  TwoPools t;
  ASSERT_TRUE(t.weir.ok()) << t.weir.error();
  RawClient c(t.weir.port());
  const std::vector<std::string> to_admin = {"/app/../admin/x", "/%61dmin/x", "//admin/x", "/./admin/x",
                                             "/%2e%2e/admin/x", "/app/%2E%2E/admin//x"};
  for (const std::string& target : to_admin) {
    ASSERT_TRUE(c.send(get(target)));
    auto r = c.readResponse(Ms(3000));
    ASSERT_TRUE(r) << target << ": " << c.lastError();
    EXPECT_EQ(r->body, "admin") << target;
  }
  std::vector<std::string> lines = requestLines(t.admin.received());
  ASSERT_EQ(lines.size(), to_admin.size()) << t.admin.received();
  for (const std::string& l : lines) EXPECT_EQ(l, "GET /admin/x HTTP/1.1");
  // %2F is not a separator: "/admin%2Fx" is not under /admin/.
  ASSERT_TRUE(c.send(get("/admin%2fx")));
  auto r = c.readResponse(Ms(3000));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "app");
  EXPECT_NE(t.app.received().find("GET /admin%2Fx HTTP/1.1"), std::string::npos) << t.app.received();
  // Malformed escapes are refused.
  Exchange e = exchange(t.weir.port(), get("/admin/%zz"));
  ASSERT_TRUE(e.response) << e.error;
  EXPECT_EQ(e.response->status, 400);
}

TEST(HttpRules, AbsoluteFormTargetWinsOverHost) {
  TwoPools t;
  ASSERT_TRUE(t.weir.ok()) << t.weir.error();
  auto r = rawRequest(t.weir.port(), "GET http://a.example/x?q=1 HTTP/1.1\r\nHost: b.example\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "admin") << "routed by the target's authority";
  std::string seen = t.admin.received();
  EXPECT_NE(seen.find("GET /x?q=1 HTTP/1.1\r\n"), std::string::npos) << seen;
  auto fields = parseFields(seen);
  std::vector<std::string> hosts;
  for (auto& [k, v] : fields) {
    if (lower(k) == "host") hosts.push_back(v);
  }
  EXPECT_EQ(hosts, std::vector<std::string>{"a.example"}) << seen;
  EXPECT_EQ(seen.find("b.example"), std::string::npos) << seen;
  // Userinfo and other schemes are refused.
  for (const char* line : {"GET http://u@a.example/x HTTP/1.1", "GET ftp://a.example/x HTTP/1.1"}) {
    Exchange e = exchange(t.weir.port(), std::string(line) + "\r\nHost: a.example\r\n\r\n");
    ASSERT_TRUE(e.response) << line << e.error;
    EXPECT_EQ(e.response->status, 400) << line;
  }
}

// --- client claims ---------------------------------------------------------------------

TEST(HttpRules, ClientClaimsAreReplacedByDefault) {
  ListUpstream up({{kOk}});
  Weir weir(poolConfig({up.address()}));
  ASSERT_TRUE(weir.ok()) << weir.error();
  auto r = rawRequest(weir.port(), get("/", "X-Forwarded-For: 6.6.6.6\r\nForwarded: for=6.6.6.6\r\n"
                                            "X-Real-IP: 6.6.6.6\r\nX-Forwarded-Proto: gopher\r\n"
                                            "X-Forwarded-Host: evil.example\r\n"));
  ASSERT_TRUE(r);
  std::string seen = up.received();
  EXPECT_EQ(seen.find("6.6.6.6"), std::string::npos) << seen;
  EXPECT_EQ(seen.find("gopher"), std::string::npos) << seen;
  EXPECT_EQ(seen.find("evil.example"), std::string::npos) << seen;
  EXPECT_NE(seen.find("\r\nX-Forwarded-For: 127.0.0.1\r\n"), std::string::npos) << seen;
  EXPECT_NE(seen.find("\r\nX-Forwarded-Host: test.local\r\n"), std::string::npos) << seen;
}

// --- start lines -------------------------------------------------------------------------

TEST(HttpRules, RequestLineWithoutVersionIsAnsweredAtOnce) {
  // Alone, or with the empty line that ends a head (llhttp's HTTP/0.9 path).
  for (const char* line : {"GET /x\r\n", "GET /x\r\n\r\n"}) {
    SCOPED_TRACE(line);
    ListUpstream up({{kOk}});
    Weir weir(poolConfig({up.address()}, "", "timeouts: { client_header: 30s }"));
    ASSERT_TRUE(weir.ok()) << weir.error();
    auto start = Clock::now();
    Exchange e = exchange(weir.port(), line);
    ASSERT_TRUE(e.response) << e.error;
    EXPECT_EQ(e.response->status, 400);
    EXPECT_TRUE(e.closed);
    EXPECT_LT(Clock::now() - start, Ms(2500)) << "answered only at the header timeout";
    EXPECT_EQ(up.requests(), 0);
    EXPECT_TRUE(weir.waitForLogLine(weir.errorLogPath(), [](const std::string& l) {
      return icontains(l, "request line has no HTTP/1.x version");
    })) << weir.errorLog();
    // The access log shows the line as sent: no version made up for it.
    auto access = weir.waitForLogLine(weir.accessLogPath(), [](const std::string& l) { return l.find(" 400 ") != std::string::npos; });
    ASSERT_TRUE(access) << weir.accessLog();
    EXPECT_NE(access->find("\"GET /x\" 400 "), std::string::npos) << *access;
  }
}

TEST(HttpRules, Http2PriorKnowledgeGetsACleanRefusal) {
  ListUpstream up({{kOk}});
  Weir weir(poolConfig({up.address()}));
  ASSERT_TRUE(weir.ok()) << weir.error();
  Exchange e = exchange(weir.port(), std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") + std::string(18, '\0'));
  ASSERT_TRUE(e.response) << e.error;
  EXPECT_EQ(e.response->status, 400);
  EXPECT_TRUE(e.closed);
  EXPECT_EQ(up.requests(), 0);
  EXPECT_TRUE(weir.waitForLogLine(weir.errorLogPath(), [](const std::string& l) { return icontains(l, "HTTP/2"); }))
      << weir.errorLog();
}

TEST(HttpRules, StatusBelow100Is502) {
  for (const char* code : {"099", "000"}) {
    ListUpstream up({{std::string("HTTP/1.1 ") + code + " Odd\r\nContent-Length: 0\r\n\r\n"}});
    Weir weir(poolConfig({up.address()}));
    ASSERT_TRUE(weir.ok()) << weir.error();
    auto r = rawRequest(weir.port(), get("/"));
    ASSERT_TRUE(r) << code;
    EXPECT_EQ(r->status, 502) << code;
  }
}

TEST(HttpRules, OversizedUpstreamHeadIs502) {
  ListUpstream up({{"HTTP/1.1 200 OK\r\nX-Big: " + std::string(200 * 1024, 'b') + "\r\nContent-Length: 0\r\n\r\n"}});
  Weir weir(poolConfig({up.address()}));
  ASSERT_TRUE(weir.ok()) << weir.error();
  auto r = rawRequest(weir.port(), get("/"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 502);
  EXPECT_TRUE(weir.waitForLogLine(weir.errorLogPath(),
                                  [](const std::string& l) { return icontains(l, "header section too large"); }))
      << weir.errorLog();
}

// --- h2c ------------------------------------------------------------------------------------

TEST(HttpRules, H2cOfferIsDroppedAndTheConnectionKept) {
  ListUpstream up({{kOk}});
  Weir weir(poolConfig({up.address()}));
  ASSERT_TRUE(weir.ok()) << weir.error();
  RawClient c(weir.port());
  ASSERT_TRUE(c.send(get("/h2c", "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                                 "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n") +
                     get("/after")));
  auto r1 = c.readResponse(Ms(3000));
  ASSERT_TRUE(r1) << c.lastError();
  EXPECT_EQ(r1->status, 200);
  EXPECT_FALSE(icontains(r1->header("Connection").value_or(""), "close")) << r1->rawHead;
  auto r2 = c.readResponse(Ms(3000));
  ASSERT_TRUE(r2) << "the pipelined request after the h2c offer: " << c.lastError();
  EXPECT_EQ(r2->status, 200);
  std::string seen = up.received();
  EXPECT_FALSE(icontains(seen, "upgrade")) << seen;
  EXPECT_FALSE(icontains(seen, "HTTP2-Settings")) << seen;
  EXPECT_NE(seen.find("GET /after HTTP/1.1"), std::string::npos) << seen;
}

// --- operator words ---------------------------------------------------------------------------

TEST(HttpRules, ErrorLogNeverShowsParserInternals) {
  ListUpstream up({{kOk}});
  Weir weir(poolConfig({up.address()}));
  ASSERT_TRUE(weir.ok()) << weir.error();
  for (const std::string& bad : {std::string("FOO / HTTP/1.1\r\nHost: x\r\n\r\n"),
                                 std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
                                 post("Transfer-Encoding: chunked\r\n", "3\r\nabcX"),
                                 post("Transfer-Encoding: chunked\r\n", "zz\r\n"),
                                 std::string("GET / HTTP/1.1\r\nHo st: x\r\n\r\n")}) {
    Exchange e = exchange(weir.port(), bad);
    ASSERT_TRUE(e.response) << bad << e.error;
    EXPECT_EQ(e.response->status, 400) << bad;
    EXPECT_FALSE(icontains(e.response->body, "Invalid")) << e.response->body;
    EXPECT_FALSE(icontains(e.response->body, "Pause")) << e.response->body;
  }
  ASSERT_TRUE(weir.waitForLogLine(weir.errorLogPath(), [](const std::string& l) { return icontains(l, "invalid method"); }))
      << weir.errorLog();
  ASSERT_TRUE(weir.waitForLogLine(weir.errorLogPath(),
                                  [](const std::string& l) { return icontains(l, "malformed chunk-size line"); }))
      << weir.errorLog();
  std::string log = weir.errorLog();
  for (const char* internal : {"Pause on", "encountered", "Expected CRLF", "Invalid character", "Invalid header",
                               "Unexpected"}) {
    EXPECT_EQ(log.find(internal), std::string::npos) << internal << "\n" << log;
  }
  EXPECT_TRUE(icontains(log, "malformed chunked framing")) << log;
  EXPECT_TRUE(icontains(log, "malformed chunk-size line")) << log;
}

}  // namespace
}  // namespace weir::itest
