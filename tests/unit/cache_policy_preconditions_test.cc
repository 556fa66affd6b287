// Preconditions answered from a stored response (RFC 9111 4.3.2, RFC 9110
// 13.1 and 13.2.2), one test per rule.
#include <gtest/gtest.h>

#include <string>

#include "serialized_head.h"
#include "weir/cache/http_date.h"
#include "weir/cache/preconditions.h"

namespace weir::cache {
namespace {

using P = Precondition;

constexpr const char* kStoredHead =
    "HTTP/1.1 200 OK\r\nDate: Tue, 01 Dec 2026 12:00:00 GMT\r\nETag: \"v1\"\r\n"
    "Last-Modified: Mon, 30 Nov 2026 12:00:00 GMT\r\nContent-Type: text/plain\r\n";

P evaluate(const std::string& fields, const char* head = kStoredHead) {
  const http::RequestHead req = http::testing::parseRequest("GET /a HTTP/1.1\r\nHost: h\r\n" + fields + "\r\n");
  return evaluatePreconditions(req, validatorsOf(head, 0));
}

TEST(CachePolicyPreconditions, ValidatorsComeFromTheStoredHead) {
  const StoredValidators v = validatorsOf(kStoredHead, 7);
  EXPECT_EQ(v.etag, "\"v1\"");
  EXPECT_EQ(v.last_modified, parseHttpDate("Mon, 30 Nov 2026 12:00:00 GMT", 0));
  EXPECT_EQ(v.date, *parseHttpDate("Tue, 01 Dec 2026 12:00:00 GMT", 0));
  const StoredValidators none = validatorsOf("HTTP/1.1 200 OK\r\nX: y\r\n", 7);
  EXPECT_EQ(none.etag, "");
  EXPECT_FALSE(none.last_modified);
  EXPECT_EQ(none.date, 7) << "without Date: when the response was received";
}

// RFC 9110 8.8.3.2: the comparison table's four rows.
TEST(CachePolicyPreconditions, EntityTagComparison) {
  EXPECT_FALSE(strongMatch("W/\"1\"", "W/\"1\""));
  EXPECT_TRUE(weakMatch("W/\"1\"", "W/\"1\""));
  EXPECT_FALSE(strongMatch("W/\"1\"", "W/\"2\""));
  EXPECT_FALSE(weakMatch("W/\"1\"", "W/\"2\""));
  EXPECT_FALSE(strongMatch("W/\"1\"", "\"1\""));
  EXPECT_TRUE(weakMatch("W/\"1\"", "\"1\""));
  EXPECT_TRUE(strongMatch("\"1\"", "\"1\""));
  EXPECT_TRUE(weakMatch("\"1\"", "\"1\""));
  EXPECT_FALSE(weakMatch("1", "1")) << "an entity-tag is quoted";
  EXPECT_FALSE(weakMatch("\"a b\"", "\"a b\"")) << "no space inside";
}

// 13.1.2: If-None-Match with a weak comparison: a match is a 304.
TEST(CachePolicyPreconditions, IfNoneMatchMatchingIsNotModified) {
  EXPECT_EQ(evaluate("If-None-Match: \"v1\"\r\n"), P::kNotModified);
  EXPECT_EQ(evaluate("If-None-Match: W/\"v1\"\r\n"), P::kNotModified) << "weak comparison";
  EXPECT_EQ(evaluate("If-None-Match: \"x\", \"v1\"\r\n"), P::kNotModified) << "a list";
  EXPECT_EQ(evaluate("If-None-Match: \"x\"\r\nIf-None-Match: \"v1\"\r\n"), P::kNotModified) << "several fields";
  EXPECT_EQ(evaluate("If-None-Match: *\r\n"), P::kNotModified);
  EXPECT_EQ(evaluate("If-None-Match: \"v2\"\r\n"), P::kNone);
  EXPECT_EQ(evaluate("If-None-Match: \"v1\"\r\n", "HTTP/1.1 200 OK\r\n"), P::kNone) << "nothing stored to match";
}

// 13.1.3: If-Modified-Since: not modified since that date is a 304; a
// date that does not parse is ignored.
TEST(CachePolicyPreconditions, IfModifiedSince) {
  EXPECT_EQ(evaluate("If-Modified-Since: Mon, 30 Nov 2026 12:00:00 GMT\r\n"), P::kNotModified);
  EXPECT_EQ(evaluate("If-Modified-Since: Tue, 01 Dec 2026 00:00:00 GMT\r\n"), P::kNotModified);
  EXPECT_EQ(evaluate("If-Modified-Since: Sun, 29 Nov 2026 12:00:00 GMT\r\n"), P::kNone);
  EXPECT_EQ(evaluate("If-Modified-Since: yesterday\r\n"), P::kNone);
  EXPECT_EQ(evaluate("If-Modified-Since: Tue, 01 Dec 2026 00:00:00 GMT\r\nIf-Modified-Since: Tue, 01 Dec 2026 00:00:00 GMT\r\n"),
            P::kNone)
      << "sent twice: ignored";
}

// RFC 9111 4.3.2: without Last-Modified, the stored Date stands in.
TEST(CachePolicyPreconditions, IfModifiedSinceUsesDateWithoutLastModified) {
  const char* head = "HTTP/1.1 200 OK\r\nDate: Tue, 01 Dec 2026 12:00:00 GMT\r\n";
  EXPECT_EQ(evaluate("If-Modified-Since: Tue, 01 Dec 2026 12:00:00 GMT\r\n", head), P::kNotModified);
  EXPECT_EQ(evaluate("If-Modified-Since: Tue, 01 Dec 2026 11:59:59 GMT\r\n", head), P::kNone);
}

// 13.2.2 step 3 before step 4: If-None-Match decides; If-Modified-Since is
// then not looked at.
TEST(CachePolicyPreconditions, IfNoneMatchTakesPrecedenceOverIfModifiedSince) {
  EXPECT_EQ(evaluate("If-None-Match: \"v2\"\r\nIf-Modified-Since: Tue, 01 Dec 2026 00:00:00 GMT\r\n"), P::kNone);
  EXPECT_EQ(evaluate("If-None-Match: \"v1\"\r\nIf-Modified-Since: Sun, 29 Nov 2026 12:00:00 GMT\r\n"),
            P::kNotModified);
}

// 13.1.1 and 13.1.4: If-Match (strong) and If-Unmodified-Since that do not
// hold are a 412, before anything else is looked at.
TEST(CachePolicyPreconditions, IfMatchAndIfUnmodifiedSince) {
  EXPECT_EQ(evaluate("If-Match: \"v1\"\r\n"), P::kNone);
  EXPECT_EQ(evaluate("If-Match: *\r\n"), P::kNone);
  EXPECT_EQ(evaluate("If-Match: \"v2\"\r\n"), P::kFailed);
  EXPECT_EQ(evaluate("If-Match: W/\"v1\"\r\n"), P::kFailed) << "strong comparison";
  EXPECT_EQ(evaluate("If-Match: \"v2\"\r\nIf-None-Match: \"v1\"\r\n"), P::kFailed) << "step 1 first";
  EXPECT_EQ(evaluate("If-Unmodified-Since: Sun, 29 Nov 2026 12:00:00 GMT\r\n"), P::kFailed);
  EXPECT_EQ(evaluate("If-Unmodified-Since: Tue, 01 Dec 2026 12:00:00 GMT\r\n"), P::kNone);
  EXPECT_EQ(evaluate("If-Match: \"v1\"\r\nIf-Unmodified-Since: Sun, 29 Nov 2026 12:00:00 GMT\r\n"), P::kNone)
      << "If-Unmodified-Since is ignored when If-Match is present";
}

TEST(CachePolicyPreconditions, HasPreconditions) {
  auto has = [](const std::string& fields) {
    return hasPreconditions(http::testing::parseRequest("GET / HTTP/1.1\r\nHost: h\r\n" + fields + "\r\n"));
  };
  EXPECT_FALSE(has(""));
  EXPECT_FALSE(has("If-Range: \"v1\"\r\n")) << "a whole 200 answers a range request";
  EXPECT_TRUE(has("if-none-match: *\r\n"));
  EXPECT_TRUE(has("If-Modified-Since: x\r\n"));
  EXPECT_TRUE(has("If-Match: *\r\n"));
  EXPECT_TRUE(has("If-Unmodified-Since: x\r\n"));
}

}  // namespace
}  // namespace weir::cache
