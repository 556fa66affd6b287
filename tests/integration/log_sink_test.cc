// Log sinks that stop taking bytes: an access log pointed at a FIFO whose
// reader never reads. The proxy, the error log and shutdown must not care,
// and the queued access-log lines stay under the README's 64 MiB.
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <regex>

#include "harness.h"

namespace weir::itest {
namespace {

// The read end of a FIFO, opened before weir starts (so weir's open for
// writing succeeds) and never read: once the pipe holds its capacity, every
// write() weir makes to it blocks.
class StuckFifo {
 public:
  StuckFifo() : path_(testDir() + "/access.fifo") {
    ::unlink(path_.c_str());
    if (::mkfifo(path_.c_str(), 0600) != 0) return;
    fd_ = ::open(path_.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  }
  ~StuckFifo() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return fd_ >= 0; }
  const std::string& path() const { return path_; }
  // Waits until the pipe is full (within a page: writes do not always merge
  // into the last partly used page), i.e. weir's writer, which has more to
  // write, is blocked in write().
  bool waitFull(Ms timeout) const {
    const int capacity = ::fcntl(fd_, F_GETPIPE_SZ);
    const auto deadline = Clock::now() + timeout;
    do {
      int queued = 0;
      if (::ioctl(fd_, FIONREAD, &queued) == 0 && capacity > 0 && queued > capacity - 4096) return true;
      std::this_thread::sleep_for(Ms(20));
    } while (Clock::now() < deadline);
    int queued = -1;
    ::ioctl(fd_, FIONREAD, &queued);
    std::cout << "[info] FIFO holds " << queued << " of " << capacity << " bytes\n";
    return false;
  }

 private:
  std::string path_;
  int fd_ = -1;
};

// Requests whose access-log lines are about 8 KiB each: a 2000-byte target
// and a 6000-byte User-Agent, of bytes that combined does not escape.
std::string bigRequest(int i) {
  std::string target = "/bytes/1?n=" + std::to_string(i) + "&pad=" + std::string(2000, 'p');
  return get(target, "User-Agent: " + std::string(6000, 'u') + "\r\n");
}

// Sends `count` pipelined requests on c and reads every response.
::testing::AssertionResult pipeline(RawClient& c, int first, int count) {
  std::string batch;
  for (int i = 0; i < count; ++i) batch += bigRequest(first + i);
  if (!c.send(batch, Ms(10000))) return ::testing::AssertionFailure() << "send failed: " << c.lastError();
  for (int i = 0; i < count; ++i) {
    auto r = c.readResponse(Ms(5000));
    if (!r) return ::testing::AssertionFailure() << "no response " << i << " of a batch from " << first;
    if (r->status != 200) return ::testing::AssertionFailure() << "status " << r->status;
  }
  return ::testing::AssertionSuccess();
}

class AccessLogSink : public ::testing::Test {
 protected:
  void start(const std::string& extra = "") {
    ASSERT_TRUE(fifo_.ok()) << "cannot make " << fifo_.path() << ": " << std::strerror(errno);
    origin_ = std::make_unique<Origin>("a");
    ASSERT_TRUE(origin_->ok()) << origin_->error();
    weir_ = std::make_unique<Weir>("access_log: { path: " + fifo_.path() + ", format: combined }\n" + extra +
                                   poolConfig({origin_->address()}));
    ASSERT_TRUE(weir_->ok()) << weir_->error();
  }
  // Fills the pipe: from here on weir's access-log writer is blocked.
  void block(RawClient& c) {
    ASSERT_TRUE(pipeline(c, 0, 40));  // ~320 KiB of lines, the pipe takes 64 KiB
    ASSERT_TRUE(fifo_.waitFull(Ms(3000))) << "the access-log FIFO never filled";
  }
  // SIGTERM; weir must be gone within a few seconds whatever the FIFO does.
  void expectBoundedExit() {
    const auto start = Clock::now();
    weir_->process().signal(SIGTERM);
    auto code = weir_->process().waitExit(Ms(6000));
    const auto took = std::chrono::duration_cast<Ms>(Clock::now() - start).count();
    ASSERT_TRUE(code) << "weir still running " << took << " ms after SIGTERM with a blocked access log";
    EXPECT_EQ(*code, 0);
    EXPECT_LT(took, 4500) << "shutdown waits on the blocked log sink";
    std::cout << "[info] exit took " << took << " ms\n";
  }

  StuckFifo fifo_;
  std::unique_ptr<Origin> origin_;
  std::unique_ptr<Weir> weir_;
};

TEST_F(AccessLogSink, BlockedAccessLogStopsNeitherProxyNorErrorLogNorShutdown) {
  ASSERT_NO_FATAL_FAILURE(start());
  RawClient c(weir_->port());
  ASSERT_TRUE(c.connected());
  ASSERT_NO_FATAL_FAILURE(block(c));

  const auto start = Clock::now();
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(c.send(get("/after-block-" + std::to_string(i))));
    auto r = c.readResponse(Ms(3000));
    ASSERT_TRUE(r) << "request " << i << " after the access log blocked got no answer";
    EXPECT_EQ(r->status, 200);
  }
  EXPECT_LT(Clock::now() - start, Ms(3000));
  // The error log (debug level in the harness) still gets lines written.
  auto line = weir_->waitForLogLine(weir_->errorLogPath(), [](const std::string& l) {
    return l.find("/after-block-19") != std::string::npos;
  });
  EXPECT_TRUE(line) << "the error log stopped with the access log; tail:\n" << tailFile(weir_->errorLogPath());
  c.close();

  ASSERT_NO_FATAL_FAILURE(expectBoundedExit());
  EXPECT_NE(weir_->errorLog().find("access log writer still blocked at exit"), std::string::npos)
      << tailFile(weir_->errorLogPath());
}

// README: "the access-log queue [is bounded] by 64 MiB (past it lines are
// dropped, never memory)". About 100 MiB of lines go to a blocked sink.
TEST_F(AccessLogSink, BlockedAccessLogDropsPast64MiBAndSaysSo) {
  WEIR_SKIP_RSS_TEST_UNDER_SANITIZER();
  ASSERT_NO_FATAL_FAILURE(start("error_log: { path: ${TMP}/error-info.log, level: info }\n"));
  const std::string error_log = testDir() + "/error-info.log";
  RawClient c(weir_->port());
  ASSERT_TRUE(c.connected());
  ASSERT_NO_FATAL_FAILURE(block(c));
  const long base = weir_->rssKiB();
  ASSERT_GT(base, 0);

  constexpr int kBatch = 64, kBatches = 200;  // 12800 lines of ~8 KiB: ~100 MiB
  long max_rss = base;
  const auto start = Clock::now();
  for (int b = 0; b < kBatches; ++b) {
    ASSERT_TRUE(pipeline(c, 100 + b * kBatch, kBatch)) << "batch " << b;
    max_rss = std::max(max_rss, weir_->rssKiB());
    ASSERT_LT(Clock::now() - start, Ms(40000)) << "too slow; stopped at batch " << b;
  }
  const long growth_mib = (max_rss - base) / 1024;
  std::cout << "[info] " << kBatch * kBatches << " requests in "
            << std::chrono::duration_cast<Ms>(Clock::now() - start).count() << " ms; weir RSS " << base / 1024
            << " MiB before, " << max_rss / 1024 << " MiB at most (+" << growth_mib << " MiB)\n";
  EXPECT_LT(growth_mib, 64 + 40) << "queued access-log lines grew past the 64 MiB bound";

  // Reports come at most once per interval, each counting the lines dropped
  // since the one before: the first may come while the flood is still on.
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  static const std::regex report(R"(\[warn\] weir\[\d+\]: log queue full \(64 MiB\): dropped (\d+) access-log and (\d+) error-log lines)");
  std::smatch m;
  auto line = weir_->waitForLogLine(error_log, [&](const std::string& l) { return std::regex_search(l, m, report); },
                                    Ms(3000));
  ASSERT_TRUE(line) << "no drop report in the error log; tail:\n" << tailFile(error_log);
  EXPECT_TRUE(pipeline(c, 1000000, 4)) << "weir stopped answering after dropping lines";
  c.close();
  ASSERT_NO_FATAL_FAILURE(expectBoundedExit());  // the final report is written at exit
  std::string log = readFile(error_log);
  long dropped = 0;
  size_t reports = 0;
  for (auto it = std::sregex_iterator(log.begin(), log.end(), report); it != std::sregex_iterator(); ++it) {
    ++reports;
    dropped += std::stol((*it)[1].str());
    EXPECT_EQ((*it)[2].str(), "0") << it->str();
  }
  EXPECT_GT(dropped, 1000) << tailFile(error_log);
  // One report per interval (and one at exit), not one per dropped line.
  EXPECT_LE(reports, 2u + static_cast<size_t>(seconds)) << tailFile(error_log);
}

}  // namespace
}  // namespace weir::itest
