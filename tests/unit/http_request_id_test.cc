// Request IDs (issue 7): the well-formed rule, the generator, the choice
// between the client's ID and a new one, and the fields weir writes for it
// in forwarded requests, relayed responses and its own answers.
#include "weir/http/request_id.h"

#include <gtest/gtest.h>

#include <string>
#include <unordered_set>

#include "serialized_head.h"
#include "weir/http/forward.h"

namespace weir::http {
namespace {

using testing::parseRequest;
using testing::parseResponse;
using testing::split;

bool isLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

TEST(RequestIdTest, WellFormedIsOneTo128BytesOfTheSafeSet) {
  for (std::string_view ok : {"a", "Z", "0", "4bf92f3577b34da6a3ce929d0e0e4736", "123e4567-e89b-12d3-a456-426614174000",
                              "abc.def_ghi:jkl+mno/pqr=stu-vwx", "dGVzdA=="}) {
    EXPECT_TRUE(isWellFormedRequestId(ok)) << ok;
  }
  EXPECT_TRUE(isWellFormedRequestId(std::string(128, 'x')));
  EXPECT_FALSE(isWellFormedRequestId(std::string(129, 'x')));
  EXPECT_FALSE(isWellFormedRequestId(""));
  for (std::string_view bad : {"a b", "a\"b", "a'b", "a,b", "a;b", "a\\b", "a\tb", "a\rb", "a\nb", "a%20b", "a<b>",
                               "a[b]", "a{b}", "a|b", "a~b", "a@b", "a#b", "a?b", "a&b", "a!b", "a*b", "a(b)"}) {
    EXPECT_FALSE(isWellFormedRequestId(bad)) << bad;
  }
  for (int c = 0; c < 256; ++c) {
    const char ch = static_cast<char>(c);
    const bool safe = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                      std::string_view("._:+/=-").find(ch) != std::string_view::npos;
    EXPECT_EQ(isWellFormedRequestId(std::string_view(&ch, 1)), safe) << c;
  }
}

TEST(RequestIdTest, NewIdsAre32LowerHexDigitsAndWellFormed) {
  RequestIdGenerator gen;
  RequestId id;
  for (int i = 0; i < 100; ++i) {
    gen.next(id);
    ASSERT_EQ(id.view().size(), kNewRequestIdBytes);
    EXPECT_TRUE(isLowerHex(id.view())) << id.view();
    EXPECT_TRUE(isWellFormedRequestId(id.view()));
  }
}

TEST(RequestIdTest, IdsDifferWithinAndAcrossGenerators) {
  RequestIdGenerator a;
  RequestIdGenerator b;  // another worker: seeded on its own
  std::unordered_set<std::string> seen;
  RequestId id;
  for (int i = 0; i < 50000; ++i) {
    a.next(id);
    ASSERT_TRUE(seen.emplace(id.view()).second) << "repeated " << id.view();
    b.next(id);
    ASSERT_TRUE(seen.emplace(id.view()).second) << "repeated " << id.view();
  }
}

TEST(RequestIdTest, SameSeedsGiveTheSameSequence) {
  RequestIdGenerator a(1, 2), b(1, 2), c(1, 3);
  RequestId x, y, z;
  a.next(x);
  b.next(y);
  c.next(z);
  EXPECT_EQ(x.view(), y.view());
  EXPECT_EQ(x.view().substr(0, 16), z.view().substr(0, 16));
  EXPECT_NE(x.view().substr(16), z.view().substr(16));
}

std::string choose(const std::string& fields, std::string_view name = "X-Request-Id") {
  RequestHead req = parseRequest("GET / HTTP/1.1\r\nHost: a\r\n" + fields + "\r\n");
  RequestIdGenerator gen(7, 8);
  RequestId id;
  chooseRequestId(req.fields, name, gen, id);
  return std::string(id.view());
}

TEST(RequestIdTest, TheClientsWellFormedIdIsKept) {
  EXPECT_EQ(choose("X-Request-Id: abc-123\r\n"), "abc-123");
  EXPECT_EQ(choose("x-request-id: abc-123\r\n"), "abc-123");
  EXPECT_EQ(choose("X-REQUEST-ID:   abc-123  \r\n"), "abc-123");  // OWS is not part of the value
  EXPECT_EQ(choose("Trace: t1\r\n", "Trace"), "t1");
}

TEST(RequestIdTest, AnythingElseGetsANewId) {
  const std::string fresh = choose("");
  ASSERT_EQ(fresh.size(), kNewRequestIdBytes);
  for (const std::string& fields :
       {std::string("X-Request-Id:\r\n"), std::string("X-Request-Id: a b\r\n"), std::string("X-Request-Id: \"q\"\r\n"),
        "X-Request-Id: " + std::string(129, 'a') + "\r\n", std::string("X-Request-Id: a\r\nX-Request-Id: a\r\n"),
        std::string("X-Request-Id: ok\r\nx-request-id: ok2\r\n"), std::string("X-Request-Id: caf\xc3\xa9\r\n"),
        std::string("X_Request_Id: looks-alike\r\n"), std::string("X-Request-Ids: near\r\n")}) {
    EXPECT_EQ(choose(fields), fresh) << fields;
  }
  // Renamed: the default name is an ordinary field.
  EXPECT_EQ(choose("X-Request-Id: abc\r\n", "X-Trace"), fresh);
}

// ---------------------------------------------------------------------------
// Forwarded and returned fields

ForwardOptions withId(std::string_view name = "X-Request-Id") {
  ForwardOptions o;
  o.request_id_header = name;
  return o;
}

testing::Serialized forward(const std::string& fields, const ForwardOptions& opts, std::string_view id,
                            UnderscoreNames underscores = UnderscoreNames::kDrop) {
  ParserLimits limits;
  limits.underscore_names = underscores;
  RequestHead req = parseRequest("GET / HTTP/1.1\r\nHost: a\r\n" + fields + "\r\n", limits);
  ForwardOptions o = opts;
  o.underscore_names = underscores;
  std::string out;
  writeRequestHead(req, o, {"192.0.2.7", "http", false, id}, out);
  return split(out);
}

TEST(RequestIdForwardTest, ExactlyOneFieldWithTheIdGoesUpstream) {
  auto h = forward("X-Request-Id: bad id\r\nX-Request-Id: other\r\nAccept: */*\r\n", withId(), "new1");
  ASSERT_TRUE(h.well_formed) << h.raw;
  EXPECT_EQ(h.values("X-Request-Id"), std::vector<std::string>{"new1"}) << h.raw;
  EXPECT_EQ(h.values("Accept"), std::vector<std::string>{"*/*"});
  // The configured spelling, whatever the client wrote.
  auto kept = forward("x-request-id: keep-me\r\n", withId(), "keep-me");
  EXPECT_NE(kept.raw.find("\r\nX-Request-Id: keep-me\r\n"), std::string::npos) << kept.raw;
  EXPECT_EQ(kept.values("X-Request-Id").size(), 1u);
}

TEST(RequestIdForwardTest, LookAlikesOfTheNameAreNeverForwarded) {
  auto h = forward("X_Request_Id: forged\r\nx_request-id: forged2\r\nX_Other: kept\r\n", withId(), "id1",
                   UnderscoreNames::kAllow);
  EXPECT_EQ(h.values("X_Request_Id"), std::vector<std::string>{}) << h.raw;
  EXPECT_EQ(h.values("x_request-id"), std::vector<std::string>{}) << h.raw;
  EXPECT_EQ(h.values("X_Other"), std::vector<std::string>{"kept"}) << h.raw;
  EXPECT_EQ(h.values("X-Request-Id"), std::vector<std::string>{"id1"});
}

TEST(RequestIdForwardTest, RenamedHeaderLeavesTheDefaultNameAlone) {
  auto h = forward("X-Request-Id: client-thing\r\nX-Trace: old\r\n", withId("X-Trace"), "t-1");
  EXPECT_EQ(h.values("X-Request-Id"), std::vector<std::string>{"client-thing"}) << h.raw;
  EXPECT_EQ(h.values("X-Trace"), std::vector<std::string>{"t-1"}) << h.raw;
}

TEST(RequestIdForwardTest, OffAddsNothingAndRemovesNothing) {
  auto h = forward("X-Request-Id: a b\r\n", ForwardOptions{}, "");
  EXPECT_EQ(h.values("X-Request-Id"), std::vector<std::string>{"a b"}) << h.raw;
}

TEST(RequestIdForwardTest, ResponsesCarryWeirsIdNotTheUpstreams) {
  RequestHead req = parseRequest("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  ResponseHead resp = parseResponse(
      "HTTP/1.1 200 OK\r\nX-Request-Id: upstream-own\r\nx-request-id: again\r\nContent-Length: 2\r\n\r\n");
  std::string out;
  writeResponseHead(req, resp, planResponse(req, resp, false), withId(), out, "weir-id");
  auto h = split(out);
  ASSERT_TRUE(h.well_formed) << out;
  EXPECT_EQ(h.values("X-Request-Id"), std::vector<std::string>{"weir-id"}) << out;
  EXPECT_EQ(h.values("Content-Length"), std::vector<std::string>{"2"});

  out.clear();  // off: the upstream's field passes
  writeResponseHead(req, resp, planResponse(req, resp, false), ForwardOptions{}, out);
  EXPECT_EQ(split(out).values("X-Request-Id").size(), 2u) << out;
}

TEST(RequestIdForwardTest, WeirsOwnAnswersCarryTheId) {
  for (int status : {400, 404, 408, 502, 503, 504}) {
    std::string out;
    writeErrorResponse(status, status == 400, out, status == 503 ? 1 : 0, "X-Request-Id", "err-id");
    const size_t end = out.find("\r\n\r\n");
    ASSERT_NE(end, std::string::npos);
    auto h = split(out.substr(0, end + 4));
    ASSERT_TRUE(h.well_formed) << out;
    EXPECT_EQ(h.values("X-Request-Id"), std::vector<std::string>{"err-id"}) << out;
    std::string plain;
    writeErrorResponse(status, status == 400, plain, status == 503 ? 1 : 0);
    EXPECT_EQ(out.size(), plain.size() + std::string_view("X-Request-Id: err-id\r\n").size());
  }
}

}  // namespace
}  // namespace weir::http
