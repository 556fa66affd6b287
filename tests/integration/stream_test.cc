// Streaming with backpressure: a slow client downloading 1 GiB and a large
// upload must not make weir buffer the body in memory.
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

#include <cstdio>
#include <cstring>
#include <iostream>

#include "harness.h"

namespace weir::itest {
namespace {

constexpr uint64_t kGiB = 1ull << 30;
// The README promises under 2 MiB of growth per connection streaming a body.
constexpr long kRssSlackKiB = 2 * 1024;

// Compares body bytes at an absolute offset with the /bytes pattern.
class PatternChecker {
 public:
  PatternChecker() : ref_(pattern(kBlock + 26)) {}
  void check(std::string_view data) {
    while (!data.empty()) {
      size_t n = std::min(data.size(), kBlock);
      if (std::memcmp(data.data(), ref_.data() + offset_ % 26, n) != 0 && firstBad_ < 0) {
        for (size_t i = 0; i < n; ++i) {
          if (data[i] != patternByte(offset_ + i)) {
            firstBad_ = static_cast<long long>(offset_ + i);
            break;
          }
        }
      }
      offset_ += n;
      data.remove_prefix(n);
    }
  }
  uint64_t bytes() const { return offset_; }
  long long firstBad() const { return firstBad_; }

 private:
  static constexpr size_t kBlock = 65536;
  std::string ref_;
  uint64_t offset_ = 0;
  long long firstBad_ = -1;
};

long baselineRss(Weir& weir) {
  // Warm up the worker, the upstream connection and the allocator first.
  for (int i = 0; i < 3; ++i) rawRequest(weir.port(), get("/bytes/100000"));
  std::this_thread::sleep_for(Ms(200));
  return weir.rssKiB();
}

using Streaming = ProxyTest;

TEST_F(Streaming, SlowClientOneGiBDownloadKeepsRssBounded) {
  WEIR_SKIP_RSS_TEST_UNDER_SANITIZER();
  ASSERT_NO_FATAL_FAILURE(startProxy());
  long base = baselineRss(weir());
  ASSERT_GT(base, 0);
  RawClient c(weir().port(), 16 * 1024);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send(get("/bytes/" + std::to_string(kGiB))));
  ResponseParser p;
  PatternChecker checker;
  p.onBody = [&](std::string_view d) { checker.check(d); };
  auto drain = [&] {
    size_t used = p.feed(c.buffer().data(), c.buffer().size());
    c.buffer().erase(0, used);
  };
  long maxRss = base;
  // Slow phase: about 4 MiB over 3 s while weir's RSS is sampled every 100 ms.
  auto slowEnd = Clock::now() + Ms(3000);
  while (Clock::now() < slowEnd && !p.done() && !p.failed()) {
    auto tick = Clock::now() + Ms(100);
    // About 128 KiB per tick; the small receive buffer limits each read.
    long tickBytes = 0;
    auto readEnd = Clock::now() + Ms(60);
    while (tickBytes < 131072 && Clock::now() < readEnd) {
      long r = c.readSome(Ms(10), static_cast<size_t>(131072 - tickBytes));
      if (r == 0) break;
      if (r > 0) tickBytes += r;
      drain();
    }
    maxRss = std::max(maxRss, weir().rssKiB());
    std::this_thread::sleep_until(tick);
  }
  ASSERT_FALSE(p.failed()) << p.error();
  ASSERT_TRUE(p.headDone()) << "no response head within 3 s";
  EXPECT_EQ(p.response().status, 200);
  uint64_t slowBytes = checker.bytes();
  EXPECT_LT(slowBytes, 16u << 20) << "the slow phase was not slow";
  EXPECT_LT(maxRss - base, kRssSlackKiB) << "weir buffered the body for a slow client: RSS " << base << " -> "
                                         << maxRss << " KiB";
  // Fast phase: read the rest.
  auto deadline = Clock::now() + Ms(50000);
  int ticks = 0;
  while (!p.done() && !p.failed() && Clock::now() < deadline) {
    long r = c.readSome(Ms(5000), 65536);
    if (r < 0) break;
    if (r == 0) p.feedEof();
    drain();
    if (++ticks % 4096 == 0) maxRss = std::max(maxRss, weir().rssKiB());
  }
  ASSERT_TRUE(p.done()) << "download incomplete after " << checker.bytes() << " bytes: " << p.error() << " "
                        << c.lastError();
  std::cout << "[info] weir RSS baseline " << base << " KiB, max " << maxRss << " KiB; slow phase read "
            << slowBytes << " bytes\n";
  EXPECT_EQ(checker.bytes(), kGiB);
  EXPECT_EQ(checker.firstBad(), -1) << "body differs from the pattern at offset " << checker.firstBad();
  EXPECT_LT(maxRss - base, kRssSlackKiB) << "RSS " << base << " -> " << maxRss << " KiB";
}

struct UploadResult {
  uint64_t sent = 0;
  int status = 0;
  uint64_t received = 0;
  long long firstBad = -1;
  long maxRss = 0;
  bool done = false;
  std::string error;
};

// Uploads `size` pattern bytes (Content-Length or chunked in 64 KiB chunks)
// while reading the response, sampling weir's RSS every 100 ms.
UploadResult upload(Weir& weir, const std::string& target, uint64_t size, bool chunked, bool checkEcho) {
  UploadResult res;
  res.maxRss = weir.rssKiB();
  RawClient c(weir.port());
  std::string head = "POST " + target + " HTTP/1.1\r\nHost: x\r\n" +
                     (chunked ? std::string("Transfer-Encoding: chunked\r\n")
                              : "Content-Length: " + std::to_string(size) + "\r\n") +
                     "\r\n";
  if (!c.send(head)) {
    res.error = "cannot send the head";
    return res;
  }
  constexpr size_t kChunk = 65536;
  std::string block = pattern(kChunk + 26);
  std::string pending;  // bytes of the current wire chunk not yet sent
  uint64_t produced = 0;
  bool trailerQueued = false;
  ResponseParser p;
  PatternChecker checker;
  p.onBody = [&](std::string_view d) {
    if (checkEcho) checker.check(d);
  };
  auto deadline = Clock::now() + Ms(60000);
  auto nextSample = Clock::now();
  while (!p.done() && !p.failed() && Clock::now() < deadline) {
    if (pending.empty() && produced < size) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk, size - produced));
      std::string data(block.data() + produced % 26, n);
      if (chunked) {
        char hex[32];
        std::snprintf(hex, sizeof hex, "%zx\r\n", n);
        pending = hex + data + "\r\n";
      } else {
        pending = std::move(data);
      }
      produced += n;
    } else if (pending.empty() && chunked && !trailerQueued) {
      pending = "0\r\n\r\n";
      trailerQueued = true;
    }
    pollfd pfd{c.fd(), static_cast<short>(POLLIN | (pending.empty() ? 0 : POLLOUT)), 0};
    ::poll(&pfd, 1, 1000);
    if ((pfd.revents & POLLOUT) && !pending.empty()) {
      ssize_t w = ::send(c.fd(), pending.data(), pending.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w > 0) pending.erase(0, static_cast<size_t>(w));
      if (w < 0 && errno != EAGAIN && errno != EINTR) {
        res.error = std::string("send: ") + std::strerror(errno);
        break;
      }
    }
    if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
      long r = c.readSome(Ms(0), 65536);
      if (r == 0) p.feedEof();
      size_t used = p.feed(c.buffer().data(), c.buffer().size());
      c.buffer().erase(0, used);
    }
    if (Clock::now() >= nextSample) {
      res.maxRss = std::max(res.maxRss, weir.rssKiB());
      nextSample = Clock::now() + Ms(100);
    }
  }
  res.sent = produced - (chunked ? 0 : pending.size());
  res.done = p.done();
  if (!res.done) res.error += " " + p.error() + (Clock::now() >= deadline ? " (deadline)" : "");
  res.status = p.response().status;
  res.received = p.bodyBytes();
  res.firstBad = checker.firstBad();
  return res;
}

// A 256 MiB upload through weir: it must arrive whole while weir's RSS stays
// near its baseline (the body streams; it is never buffered).
void expectBoundedUpload(Weir& w, bool chunked) {
  constexpr uint64_t kSize = 256ull << 20;
  long base = baselineRss(w);
  ASSERT_GT(base, 0);
  // weir-origin reads and discards the body of non-echo requests, then answers.
  UploadResult r = upload(w, "/bytes/16", kSize, chunked, false);
  ASSERT_TRUE(r.done) << "upload incomplete: sent " << r.sent << ": " << r.error;
  EXPECT_EQ(r.sent, kSize);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.received, 16u);
  std::cout << "[info] weir RSS baseline " << base << " KiB, max " << r.maxRss << " KiB\n";
  EXPECT_LT(r.maxRss - base, kRssSlackKiB) << "weir buffered the upload: RSS " << base << " -> " << r.maxRss << " KiB";
}

TEST_F(Streaming, LargeChunkedUploadKeepsRssBounded) {
  WEIR_SKIP_RSS_TEST_UNDER_SANITIZER();
  ASSERT_NO_FATAL_FAILURE(startProxy());
  expectBoundedUpload(weir(), true);
}

TEST_F(Streaming, LargeContentLengthUploadKeepsRssBounded) {
  WEIR_SKIP_RSS_TEST_UNDER_SANITIZER();
  ASSERT_NO_FATAL_FAILURE(startProxy());
  expectBoundedUpload(weir(), false);
}

TEST_F(Streaming, LargeEchoIntact) {
  // weir-origin echoes at most 64 MiB.
  constexpr uint64_t kSize = 48ull << 20;
  ASSERT_NO_FATAL_FAILURE(startProxy());
  UploadResult r = upload(weir(), "/echo", kSize, true, true);
  ASSERT_TRUE(r.done) << "echo incomplete: sent " << r.sent << ": " << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.received, kSize);
  EXPECT_EQ(r.firstBad, -1) << "echo differs at offset " << r.firstBad;
}

}  // namespace
}  // namespace weir::itest
