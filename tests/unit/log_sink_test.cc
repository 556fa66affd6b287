#include "weir/log/sink.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace weir::log {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string tempPath(const char* name) {
  return "/tmp/weir-unit-" + std::to_string(::getpid()) + "-" + name;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A pipe whose reader never reads: the write end fills after the pipe's
// capacity and then blocks. Owns both ends.
struct StuckPipe {
  int fds[2] = {-1, -1};
  StuckPipe() {
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    ::fcntl(fds[1], F_SETPIPE_SZ, 4096);  // fill it sooner
  }
  ~StuckPipe() { ::close(fds[0]); }  // the Sink owns fds[1]
};

TEST(LogSink, WritesInOrderAndFlushesOnStop) {
  const std::string path = tempPath("order.log");
  ::unlink(path.c_str());
  Sink sink("test", 1 << 20);
  ASSERT_TRUE(sink.open(path));
  sink.start();
  std::string expected;
  for (int i = 0; i < 1000; ++i) {
    std::string line = "line " + std::to_string(i) + "\n";
    expected += line;
    EXPECT_TRUE(sink.submit(std::move(line)));
  }
  sink.requestStop();
  EXPECT_TRUE(sink.waitStopped(Clock::now() + 2s));
  EXPECT_EQ(slurp(path), expected);
  EXPECT_EQ(sink.droppedLines(), 0u);
  // After a clean stop, lines are written by the caller.
  EXPECT_TRUE(sink.submit("after stop\n"));
  EXPECT_EQ(slurp(path), expected + "after stop\n");
  ::unlink(path.c_str());
}

// The reason for one thread per log: a sink that does not take bytes holds
// up no caller, keeps its memory under the bound, counts what it drops, and
// cannot hold up stop past the deadline.
// Sinks left with a thread stuck in write() on purpose: kept reachable so
// LeakSanitizer does not count them (the writer singleton does the same).
Sink* keptStuck(Sink* s) {
  static auto* kept = new std::vector<Sink*>;  // never destroyed: still reachable at exit
  kept->push_back(s);
  return s;
}

TEST(LogSink, BlockedSinkNeverBlocksCallersAndStopIsBounded) {
  StuckPipe pipe;
  // Leaked on purpose: its thread stays stuck in write() after the test.
  auto* sink = keptStuck(new Sink("access", 1 << 20));
  sink->adopt(pipe.fds[1]);
  sink->start();
  const std::string chunk(16 * 1024 - 1, 'x');
  const auto start = Clock::now();
  int dropped_chunks = 0;
  for (int i = 0; i < 400; ++i) {  // 6.4 MB into a 1 MiB queue
    std::string c = chunk + "\n";
    if (!sink->submit(std::move(c))) ++dropped_chunks;
    ASSERT_LE(sink->queuedBytes(), size_t{1} << 20);
  }
  EXPECT_LT(Clock::now() - start, 1s) << "submit waited for the sink";
  EXPECT_GT(dropped_chunks, 300);
  EXPECT_EQ(sink->droppedLines(), static_cast<uint64_t>(dropped_chunks));

  sink->requestStop();
  const auto stop_start = Clock::now();
  EXPECT_FALSE(sink->waitStopped(Clock::now() + 300ms)) << "a stuck sink cannot have finished";
  EXPECT_LT(Clock::now() - stop_start, 1s);
  EXPECT_FALSE(sink->submit("late\n")) << "an abandoned sink drops";
}

TEST(LogSink, TwoSinksAreIndependent) {
  StuckPipe pipe;
  auto* stuck = keptStuck(new Sink("access", 1 << 20));  // leaked: stays stuck
  stuck->adopt(pipe.fds[1]);
  stuck->start();
  const std::string path = tempPath("independent.log");
  ::unlink(path.c_str());
  Sink fine("error", 1 << 20);
  ASSERT_TRUE(fine.open(path));
  fine.start();
  for (int i = 0; i < 100; ++i) stuck->submit(std::string(8192, 'a') + "\n");
  fine.submit("still written\n");
  std::string got;
  for (int i = 0; i < 200 && got.empty(); ++i) {
    std::this_thread::sleep_for(5ms);
    got = slurp(path);
  }
  EXPECT_EQ(got, "still written\n");
  stuck->requestStop();
  fine.requestStop();
  const auto deadline = Clock::now() + 200ms;
  EXPECT_FALSE(stuck->waitStopped(deadline));
  EXPECT_TRUE(fine.waitStopped(deadline));
  ::unlink(path.c_str());
}

TEST(LogSink, ReopenWritesToTheNewFile) {
  const std::string path = tempPath("rotate.log");
  const std::string rotated = path + ".1";
  ::unlink(path.c_str());
  ::unlink(rotated.c_str());
  Sink sink("access", 1 << 20);
  ASSERT_TRUE(sink.open(path));
  sink.start();
  sink.submit("before\n");
  for (int i = 0; i < 200 && slurp(path).empty(); ++i) std::this_thread::sleep_for(5ms);
  ASSERT_EQ(std::rename(path.c_str(), rotated.c_str()), 0);
  sink.requestReopen();
  for (int i = 0; i < 200 && ::access(path.c_str(), F_OK) != 0; ++i) std::this_thread::sleep_for(5ms);
  sink.submit("after\n");
  sink.requestStop();
  ASSERT_TRUE(sink.waitStopped(Clock::now() + 2s));
  EXPECT_EQ(slurp(rotated), "before\n");
  EXPECT_EQ(slurp(path), "after\n");
  ::unlink(path.c_str());
  ::unlink(rotated.c_str());
}

TEST(LogSink, ReopenFailureIsReportedAndKeepsTheOldFile) {
  const std::string dir = tempPath("gone");
  ::mkdir(dir.c_str(), 0755);
  const std::string path = dir + "/a.log";
  Sink sink("access", 1 << 20);
  ASSERT_TRUE(sink.open(path));
  std::atomic<int> reports{0};
  std::string report;
  sink.setReport([&](std::string&& m) {
    report = m;
    reports.fetch_add(1);
  });
  sink.start();
  ::unlink(path.c_str());
  ::rmdir(dir.c_str());  // the path cannot be created again
  sink.requestReopen();
  for (int i = 0; i < 200 && reports.load() == 0; ++i) std::this_thread::sleep_for(5ms);
  sink.requestStop();
  ASSERT_TRUE(sink.waitStopped(Clock::now() + 2s));
  EXPECT_EQ(reports.load(), 1);
  EXPECT_NE(report.find("access log reopen failed: " + path), std::string::npos) << report;
}

TEST(LogSink, TickRunsPeriodicallyAndAtStop) {
  const std::string path = tempPath("tick.log");
  ::unlink(path.c_str());
  Sink sink("error", 1 << 20);
  ASSERT_TRUE(sink.open(path));
  std::atomic<int> ticks{0};
  sink.setTick(
      [&](bool final) -> std::string {
        ticks.fetch_add(1);
        return final ? "final\n" : "";
      },
      std::chrono::milliseconds(20));
  sink.start();
  std::this_thread::sleep_for(200ms);  // no traffic: the tick still runs
  EXPECT_GE(ticks.load(), 3);
  sink.requestStop();
  ASSERT_TRUE(sink.waitStopped(Clock::now() + 2s));
  EXPECT_EQ(slurp(path), "final\n");
  ::unlink(path.c_str());
}

TEST(LogSink, FifoWithoutReaderFailsToOpenInsteadOfHanging) {
  const std::string path = tempPath("fifo");
  ::unlink(path.c_str());
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  Sink sink("access", 1 << 20);
  const auto start = Clock::now();
  Status st = sink.open(path);
  EXPECT_LT(Clock::now() - start, 1s);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("no process reading it"), std::string::npos) << st.error().message;
  // With a reader, it opens, and writes block (not fail) once the pipe is full.
  int reader = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(reader, 0);
  ASSERT_TRUE(sink.open(path));
  sink.start();
  sink.submit("through the fifo\n");
  char buf[64] = {};
  ssize_t n = -1;
  for (int i = 0; i < 200 && n <= 0; ++i) {
    std::this_thread::sleep_for(5ms);
    n = ::read(reader, buf, sizeof buf);
  }
  EXPECT_EQ(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0), "through the fifo\n");
  sink.requestStop();
  EXPECT_TRUE(sink.waitStopped(Clock::now() + 2s));
  ::close(reader);
  ::unlink(path.c_str());
}

}  // namespace
}  // namespace weir::log
