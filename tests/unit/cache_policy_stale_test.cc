// Serving stale (RFC 5861, RFC 9111 4.2.4), updating a stored head from a
// 304 (RFC 9111 3.2, 4.3.4) and response tags: one test per rule.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "weir/cache/stale.h"
#include "weir/http/parser.h"

namespace weir::cache {
namespace {

const ReuseLimits kAny{};
const ReuseLimits kNoCache{true, false};
const ReuseLimits kMustRevalidate{false, true};

TEST(CachePolicyStale, WhileRevalidatingWithinTheWindowOnly) {
  EXPECT_TRUE(mayServeWhileRevalidating(1, 30, kAny));
  EXPECT_TRUE(mayServeWhileRevalidating(30, 30, kAny));
  EXPECT_FALSE(mayServeWhileRevalidating(31, 30, kAny));
  EXPECT_TRUE(mayServeWhileRevalidating(0, 30, kAny)) << "just marked stale (soft purge)";
}

TEST(CachePolicyStale, NoWindowNoStale) {
  EXPECT_FALSE(mayServeWhileRevalidating(1, -1, kAny));
  EXPECT_FALSE(mayServeWhileRevalidating(0, 0, kAny));
  EXPECT_FALSE(mayServeIfError(1, -1, -1, 0, kAny));
}

TEST(CachePolicyStale, MustRevalidateAndNoCacheForbidStale) {
  EXPECT_FALSE(mayServeWhileRevalidating(1, 30, kMustRevalidate));
  EXPECT_FALSE(mayServeWhileRevalidating(1, 30, kNoCache));
  EXPECT_FALSE(mayServeIfError(1, 30, 30, 30, kMustRevalidate));
  EXPECT_FALSE(mayServeIfError(1, 30, 30, 30, kNoCache));
}

TEST(CachePolicyStale, IfErrorUsesTheResponsesWindowElseTheRoutes) {
  EXPECT_TRUE(mayServeIfError(50, 60, -1, 0, kAny));
  EXPECT_FALSE(mayServeIfError(61, 60, -1, 0, kAny));
  EXPECT_TRUE(mayServeIfError(100, -1, -1, 300, kAny)) << "the route's default";
  EXPECT_FALSE(mayServeIfError(100, 10, -1, 300, kAny)) << "the response's own window wins over the route's";
  EXPECT_FALSE(mayServeIfError(100, 0, -1, 300, kAny)) << "stale-if-error=0 says no";
}

TEST(CachePolicyStale, ARequestsStaleIfErrorWidensTheWindow) {
  EXPECT_TRUE(mayServeIfError(100, 10, 200, 0, kAny));
  EXPECT_FALSE(mayServeIfError(300, 10, 200, 0, kAny));
}

TEST(CachePolicyStale, ErrorStatusesAreThe5xxOfRfc5861) {
  for (int s : {500, 502, 503, 504}) EXPECT_TRUE(isStaleIfErrorStatus(s)) << s;
  for (int s : {200, 304, 404, 501, 505, 429}) EXPECT_FALSE(isStaleIfErrorStatus(s)) << s;
}

TEST(CachePolicyStale, A304ReplacesTheFieldsItCarriesAndKeepsTheRest) {
  const std::string stored =
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nCache-Control: max-age=1\r\nETag: \"a\"\r\nX-Old: 1\r\n"
      "X-Multi: 1\r\nX-Multi: 2\r\n";
  const std::string update = "HTTP/1.1 304 Not Modified\r\ncache-control: max-age=60\r\nX-Multi: 3\r\nX-New: n\r\n";
  EXPECT_EQ(updateStoredHead(stored, update),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nETag: \"a\"\r\nX-Old: 1\r\ncache-control: max-age=60\r\n"
            "X-Multi: 3\r\nX-New: n\r\n");
}

TEST(CachePolicyStale, A304sContentLengthIsNotTaken) {
  EXPECT_EQ(updateStoredHead("HTTP/1.1 200 OK\r\nX: 1\r\n", "HTTP/1.1 304 Not Modified\r\nContent-Length: 0\r\n"),
            "HTTP/1.1 200 OK\r\nX: 1\r\n");
}

TEST(CachePolicyStale, AnEmpty304ChangesNothing) {
  const std::string stored = "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\n";
  EXPECT_EQ(updateStoredHead(stored, "HTTP/1.1 304 Not Modified\r\n"), stored);
}

http::ResponseHead parseHead(http::Parser& p, const std::string& head) {
  p.setNoBodyExpected(true);
  const std::string whole = head + "\r\n";
  p.execute(whole.data(), whole.size());
  return p.response();
}

TEST(CachePolicyStale, TagsSplitAtSpacesAndCommasWithoutDuplicates) {
  http::Parser p(http::Parser::Kind::kResponse, http::ParserLimits{});
  const http::ResponseHead& h =
      parseHead(p, "HTTP/1.1 200 OK\r\nSurrogate-Key: a b  c\r\ncache-tag: c,d, e\r\nX-Other: f\r\n");
  EXPECT_EQ(responseTags(h, {"Surrogate-Key", "Cache-Tag"}), (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  EXPECT_TRUE(responseTags(h, {}).empty()) << "tags off";
  EXPECT_EQ(responseTags(h, {"X-Other"}), (std::vector<std::string>{"f"}));
}

TEST(CachePolicyStale, TagsAreBounded) {
  std::string many;
  for (int i = 0; i < 100; ++i) many += "t" + std::to_string(i) + " ";
  const std::string longtag(kMaxTagBytes + 1, 'x');
  http::Parser p(http::Parser::Kind::kResponse, http::ParserLimits{});
  const http::ResponseHead& h = parseHead(p, "HTTP/1.1 200 OK\r\nSurrogate-Key: " + longtag + " " + many + "\r\n");
  const std::vector<std::string> tags = responseTags(h, {"Surrogate-Key"});
  EXPECT_EQ(tags.size(), kMaxTags);
  EXPECT_EQ(tags.front(), "t0") << "a tag over the length bound is skipped";
}

}  // namespace
}  // namespace weir::cache
