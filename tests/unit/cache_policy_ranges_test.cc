// Byte ranges from a stored complete object (RFC 9110 14), one test per rule.
#include <gtest/gtest.h>

#include <string>

#include "serialized_head.h"
#include "weir/cache/ranges.h"

namespace weir::cache {
namespace {

using A = RangeAnswer;

constexpr const char* kHead =
    "HTTP/1.1 200 OK\r\nETag: \"v1\"\r\nLast-Modified: Mon, 30 Nov 2026 12:00:00 GMT\r\n";

RangeDecision decide(const std::string& fields, uint64_t length = 100, int status = 200,
                     const char* method = "GET") {
  const http::RequestHead req =
      http::testing::parseRequest(std::string(method) + " /a HTTP/1.1\r\nHost: h\r\n" + fields + "\r\n");
  return decideRange(req, status, length, validatorsOf(kHead, 0));
}

void expectPart(const RangeDecision& d, uint64_t first, uint64_t last) {
  EXPECT_EQ(d.answer, A::kPartial);
  EXPECT_EQ(d.first, first);
  EXPECT_EQ(d.last, last);
}

// 14.1.2: int-range, open-ended and suffix forms; a last past the end is
// the end.
TEST(CachePolicyRanges, OneRangeIsPartial) {
  expectPart(decide("Range: bytes=0-9\r\n"), 0, 9);
  expectPart(decide("Range: bytes=90-\r\n"), 90, 99);
  expectPart(decide("Range: bytes=-10\r\n"), 90, 99);
  expectPart(decide("Range: bytes=-1000\r\n"), 0, 99);
  expectPart(decide("Range: bytes=50-5000\r\n"), 50, 99);
  expectPart(decide("Range: BYTES = 1-1\r\n"), 1, 1);
}

// 14.1.1: a range past the end (or a zero suffix) is unsatisfiable: 416.
TEST(CachePolicyRanges, NothingSatisfiableIs416) {
  EXPECT_EQ(decide("Range: bytes=100-\r\n").answer, A::kUnsatisfiable);
  EXPECT_EQ(decide("Range: bytes=-0\r\n").answer, A::kUnsatisfiable);
  EXPECT_EQ(decide("Range: bytes=0-\r\n", 0).answer, A::kWhole) << "an empty body: the whole (empty) 200";
  EXPECT_EQ(decide("Range: bytes=-5\r\n", 0).answer, A::kWhole);
  EXPECT_EQ(decide("Range: bytes=200-300, 400-\r\n").answer, A::kUnsatisfiable);
}

// 14.2: what is not understood is ignored: the whole object.
TEST(CachePolicyRanges, WhatIsNotUnderstoodIsIgnored) {
  EXPECT_EQ(decide("").answer, A::kWhole);
  EXPECT_EQ(decide("Range: items=0-1\r\n").answer, A::kWhole);
  EXPECT_EQ(decide("Range: bytes=5-1\r\n").answer, A::kWhole) << "last before first";
  EXPECT_EQ(decide("Range: bytes=a-b\r\n").answer, A::kWhole);
  EXPECT_EQ(decide("Range: bytes=0-1\r\nRange: bytes=2-3\r\n").answer, A::kWhole) << "two fields";
  EXPECT_EQ(decide("Range: bytes=0-1\r\n", 100, 404).answer, A::kWhole) << "not a 200";
  EXPECT_EQ(decide("Range: bytes=0-1\r\n", 100, 200, "HEAD").answer, A::kWhole) << "ranges are for GET";
}

// The choice documented in ranges.h: several ranges get the whole object.
TEST(CachePolicyRanges, SeveralRangesGetTheWholeObject) {
  EXPECT_EQ(decide("Range: bytes=0-1, 5-6\r\n").answer, A::kWhole);
  EXPECT_EQ(decide("Range: bytes=0-1, 500-\r\n").answer, A::kWhole);
}

// 13.1.5: If-Range with a strong entity-tag or the exact Last-Modified
// keeps the range; anything else gets the whole object.
TEST(CachePolicyRanges, IfRange) {
  expectPart(decide("Range: bytes=0-9\r\nIf-Range: \"v1\"\r\n"), 0, 9);
  expectPart(decide("Range: bytes=0-9\r\nIf-Range: Mon, 30 Nov 2026 12:00:00 GMT\r\n"), 0, 9);
  EXPECT_EQ(decide("Range: bytes=0-9\r\nIf-Range: \"v2\"\r\n").answer, A::kWhole);
  EXPECT_EQ(decide("Range: bytes=0-9\r\nIf-Range: W/\"v1\"\r\n").answer, A::kWhole) << "weak never matches";
  EXPECT_EQ(decide("Range: bytes=0-9\r\nIf-Range: Tue, 01 Dec 2026 12:00:00 GMT\r\n").answer, A::kWhole);
  EXPECT_EQ(decide("Range: bytes=500-\r\nIf-Range: \"v2\"\r\n").answer, A::kWhole) << "If-Range before 416";
}

}  // namespace
}  // namespace weir::cache
