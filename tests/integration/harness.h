// Integration-test harness: real weir and weir-origin processes on 127.0.0.1,
// curl runs, raw sockets and in-process fake upstreams.
//
// Everything here is owned by the test thread that created it unless stated
// otherwise. Every object that starts a process or a thread stops it in its
// destructor, so nothing outlives a test, also when an ASSERT returns early.
// On a failed test the destructors print the tails of the processes' output
// and of weir's logs, which are kept under testDir().
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace weir::itest {

using Ms = std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// A directory for the current test's files (configs, logs, process output),
// created on first use and kept after the test: /tmp/weir-itest/<suite>.<test>-<pid>.
const std::string& testDir();

// Reads a whole file; empty if it does not exist.
std::string readFile(const std::string& path);
// Writes a whole file; aborts the test (ADD_FAILURE) on error.
void writeFile(const std::string& path, std::string_view data);
// The last `lines` lines of a file.
std::string tailFile(const std::string& path, int lines = 40);

// Binds 127.0.0.1:0, reads the port the kernel chose, closes the socket.
uint16_t freePort();
// Polls connect() to 127.0.0.1:port until it is accepted or the timeout expires.
bool waitForPort(uint16_t port, Ms timeout);
// One connect() attempt; true if accepted.
bool portAccepts(uint16_t port);
// Polls `condition` every 20 ms until it holds or the timeout expires;
// whether it held. For waiting on what another process does, instead of a
// fixed sleep.
bool eventually(const std::function<bool()>& condition, Ms timeout = Ms(10000));

// The n-th byte of weir-origin's /bytes/N body.
inline char patternByte(uint64_t i) { return static_cast<char>('a' + i % 26); }
// The first n bytes of that pattern starting at offset `from`.
std::string pattern(size_t n, uint64_t from = 0);

// A child process with stdout and stderr redirected to files. The child gets
// SIGKILL if the test process dies (PR_SET_PDEATHSIG). The destructor kills
// (SIGKILL) and reaps it if it still runs.
class Process {
 public:
  // label names the output files: <testDir>/<label>.out and .err.
  Process(std::vector<std::string> argv, const std::string& label);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  // True while the child has not been reaped.
  bool running();
  void signal(int sig);
  // Waits for the exit. Returns the exit code, 128+signal if killed by a
  // signal, or nullopt on timeout (the child keeps running).
  std::optional<int> waitExit(Ms timeout);
  const std::string& stdoutPath() const { return out_; }
  const std::string& stderrPath() const { return err_; }
  std::string stdoutText() const { return readFile(out_); }
  std::string stderrText() const { return readFile(err_); }
  // Print the output tails if the current test has failed (also done by the destructor).
  void dumpIfFailed() const;

 private:
  std::string label_;
  std::string out_;
  std::string err_;
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
  mutable bool dumped_ = false;
};

// Runs argv to completion (killed after timeout). exitCode is -1 on timeout.
struct RunResult {
  int exitCode = -1;
  std::string out;
  std::string err;
};
RunResult run(const std::vector<std::string>& argv, Ms timeout, const std::string& label);

// --- HTTP response model and incremental reader --------------------------------

struct HttpResponse {
  std::string version;  // "HTTP/1.1"
  int status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<std::pair<std::string, std::string>> trailers;
  std::string rawHead;  // status line and fields, up to and including the blank line
  std::string body;     // de-chunked
  bool chunked = false;
  bool closeDelimited = false;

  // Value of the first field with this name (case-insensitive), or nullopt.
  std::optional<std::string> header(std::string_view name) const;
  // All values of fields with this name, in order.
  std::vector<std::string> headerAll(std::string_view name) const;
  bool hasHeader(std::string_view name) const { return header(name).has_value(); }
};

// Parses one HTTP/1.x response from a byte stream. Feed bytes until done();
// bytes after the end of the message are not consumed (pipelining).
class ResponseParser {
 public:
  // headRequest: the response has no body whatever its fields say.
  explicit ResponseParser(bool headRequest = false) : head_(headRequest) {}
  // Consumes bytes; returns how many were used. Stops at the end of the message.
  size_t feed(const char* data, size_t n);
  // Tells the parser the peer closed; completes a close-delimited body.
  void feedEof();
  bool headDone() const { return state_ > State::kHead; }
  bool done() const { return state_ == State::kDone; }
  bool failed() const { return state_ == State::kError; }
  const std::string& error() const { return error_; }
  HttpResponse& response() { return resp_; }
  // If set, body bytes go here instead of into response().body.
  std::function<void(std::string_view)> onBody;
  uint64_t bodyBytes() const { return bodyBytes_; }

 private:
  enum class State { kHead, kLength, kChunkSize, kChunkData, kChunkDataEnd, kTrailers, kUntilClose, kDone, kError };
  bool parseHead();
  size_t feedHead(const char* data, size_t n);
  size_t feedBody(const char* data, size_t n, State next);
  size_t feedChunkSize(const char* data, size_t n);
  size_t feedChunkEnd(const char* data, size_t n);
  size_t feedTrailers(const char* data, size_t n);
  bool takeLine(const char* data, size_t n, size_t* used);
  void fail(std::string msg);
  void body(const char* p, size_t n);

  bool head_;
  State state_ = State::kHead;
  std::string line_;  // partial head / chunk line / trailer block
  uint64_t remaining_ = 0;
  uint64_t bodyBytes_ = 0;
  HttpResponse resp_;
  std::string error_;
};

// A blocking-free TCP client: every call takes a deadline and uses poll().
class RawClient {
 public:
  // Connects to 127.0.0.1:port. rcvbuf > 0 sets SO_RCVBUF before connect.
  explicit RawClient(uint16_t port, int rcvbuf = 0, Ms timeout = Ms(3000));
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  // Sends everything; false on error or timeout.
  bool send(std::string_view data, Ms timeout = Ms(5000));
  void shutdownWrite();
  void close();
  // Reads once (waits up to timeout for data) into the internal buffer.
  // Returns bytes read; 0 on EOF (sets eof()), -1 on timeout or error.
  long readSome(Ms timeout, size_t max = 65536);
  // Reads until the buffer holds at least n bytes (or EOF / timeout).
  bool readAtLeast(size_t n, Ms timeout);
  // Reads until the peer closes; returns everything buffered. timedOut() tells.
  std::string readUntilClose(Ms timeout);
  // Reads one full response (1xx responses are returned as such).
  std::optional<HttpResponse> readResponse(Ms timeout, bool headRequest = false);
  // Like readResponse but skips 1xx other than 101.
  std::optional<HttpResponse> readFinalResponse(Ms timeout, bool headRequest = false);
  // Discards data until EOF or reset. True if the connection was closed
  // by the peer within the timeout.
  bool waitClosed(Ms timeout);
  // Bytes received but not consumed yet.
  std::string& buffer() { return buf_; }
  bool eof() const { return eof_; }
  bool reset() const { return reset_; }
  bool timedOut() const { return timedOut_; }
  const std::string& lastError() const { return lastError_; }

 private:
  int fd_ = -1;
  std::string buf_;
  bool eof_ = false;
  bool reset_ = false;
  bool timedOut_ = false;
  std::string lastError_;
};

// Convenience: one request on a new connection, one response.
std::optional<HttpResponse> rawRequest(uint16_t port, std::string_view request, Ms timeout = Ms(5000),
                                       bool headRequest = false);

// --- curl -------------------------------------------------------------------------

struct CurlResult {
  int exitCode = -1;  // curl's exit code
  int status = 0;     // %{http_code}
  double timeTotal = 0;
  std::string body;
  std::string rawHeaders;  // everything -D wrote (all responses, 1xx included)
  std::string err;         // curl's stderr
  // Fields of the last response in rawHeaders.
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<std::string> header(std::string_view name) const;
  std::string describe() const;
};

// Runs `curl -sS --max-time maxTime -o BODY -D HEADERS -w '...' args... url`.
CurlResult curl(const std::string& url, const std::vector<std::string>& args = {}, double maxTime = 10);

// `s` percent-encoded for a query value (RFC 3986 unreserved characters kept).
std::string percentEncode(const std::string& s);

// --- weir-origin --------------------------------------------------------------------

struct OriginStats {
  long connections = -1;
  long requests = -1;
};

class Origin {
 public:
  explicit Origin(std::string name, int threads = 1);
  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  uint16_t port() const { return port_; }
  std::string address() const;  // "127.0.0.1:PORT"
  const std::string& name() const { return name_; }
  Process& process() { return *proc_; }
  // Raw /stats, queried directly (not through weir). nullopt if unreadable.
  std::optional<OriginStats> stats();
  // Stats adjusted so that the harness's own /stats queries do not count:
  // call mark() before the traffic, then delta() after it.
  void mark();
  OriginStats delta();
  // Starts weir-origin again on the same port once its process is gone
  // (killed by the test through process()): a server that comes back.
  // False, with error(), if it does not listen within 10 s.
  bool restart();

 private:
  bool launch(const std::string& label);

  std::string name_;
  int threads_ = 1;
  uint16_t port_ = 0;
  int launches_ = 0;
  std::unique_ptr<Process> proc_;
  bool ok_ = false;
  std::string error_;
  OriginStats marked_;
  OriginStats perQuery_{-1, -1};
};

// --- weir ---------------------------------------------------------------------------

class Weir {
 public:
  // yaml: the config body. Unless it has its own top-level "listeners:",
  // "access_log:", "error_log:", "workers:", "pid_file:" the harness adds a
  // listener on a free port, logs in testDir() (combined / debug),
  // "workers: 1" and "pid_file: off".
  // ${NAME} placeholders are replaced from vars, plus ${TMP} and ${PORT}.
  explicit Weir(const std::string& yaml, const std::map<std::string, std::string>& vars = {},
                std::vector<std::string> extraArgs = {});
  ~Weir();
  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  uint16_t port() const { return port_; }
  std::string url(const std::string& path = "/") const;
  Process& process() { return *proc_; }
  pid_t pid() const { return proc_ ? proc_->pid() : -1; }
  const std::string& configPath() const { return configPath_; }
  // Rewrites the config file as the constructor wrote it (same additions,
  // same ${PORT}), for a reload.
  void writeConfig(const std::string& yaml, const std::map<std::string, std::string>& vars = {});
  const std::string& accessLogPath() const { return accessLog_; }
  const std::string& errorLogPath() const { return errorLog_; }
  std::string accessLog() const { return readFile(accessLog_); }
  std::string errorLog() const { return readFile(errorLog_); }
  // VmRSS from /proc/PID/status, or -1.
  long rssKiB() const;
  // Polls a log file until a line satisfies pred; returns it.
  std::optional<std::string> waitForLogLine(const std::string& path,
                                            const std::function<bool(const std::string&)>& pred,
                                            Ms timeout = Ms(2000)) const;

 private:
  std::unique_ptr<Process> proc_;
  uint16_t port_ = 0;
  bool ok_ = false;
  std::string error_;
  std::string configPath_;
  std::string accessLog_;
  std::string errorLog_;
};

// Standard body: one pool "app" with the given servers, one catch-all route.
std::string poolConfig(const std::vector<std::string>& servers, const std::string& poolExtra = "",
                       const std::string& rest = "");

// --- in-process fake upstream ------------------------------------------------------------

// A raw TCP server on a free port, served by one thread with poll().
class FakeUpstream {
 public:
  enum class Mode {
    kSilent,             // accept, read, never answer
    kResetAfterRequest,  // read a request head, then close with SO_LINGER 0 (RST)
    kScripted,           // answer each request head with `script` (keep the connection)
  };
  explicit FakeUpstream(Mode mode, std::string script = "");
  ~FakeUpstream();
  FakeUpstream(const FakeUpstream&) = delete;
  FakeUpstream& operator=(const FakeUpstream&) = delete;

  uint16_t port() const { return port_; }
  std::string address() const;
  int accepted() const { return accepted_.load(); }
  size_t bytesReceived() const;
  std::string received() const;

 private:
  void loop();
  Mode mode_;
  std::string script_;
  int listenFd_ = -1;
  int stopPipe_[2] = {-1, -1};
  uint16_t port_ = 0;
  std::atomic<int> accepted_{0};
  mutable std::mutex mu_;
  std::string received_;
  std::thread thread_;
};

// --- small helpers --------------------------------------------------------------------------

std::string lower(std::string s);
bool icontains(std::string_view hay, std::string_view needle);
// Splits a raw header block ("Name: value\r\n"...) into fields; skips a request
// or status line if present.
std::vector<std::pair<std::string, std::string>> parseFields(std::string_view block);
// The values of the fields with this name (case-insensitive), in order.
std::vector<std::string> fieldValues(const std::vector<std::pair<std::string, std::string>>& fields,
                                     std::string_view name);
// Random bytes (deterministic from seed).
std::string randomBytes(size_t n, uint32_t seed = 1);
// A simple GET request head.
std::string get(const std::string& target, const std::string& extra = "", const std::string& host = "test.local");

// Fixture for the common case: one weir-origin "a" behind weir with one pool
// "app" and a catch-all route. Call ASSERT_NO_FATAL_FAILURE(startProxy(...)).
class ProxyTest : public ::testing::Test {
 protected:
  void startProxy(const std::string& poolExtra = "", const std::string& rest = "");
  Origin& origin() { return *origin_; }
  Weir& weir() { return *weir_; }
  std::unique_ptr<Origin> origin_;
  std::unique_ptr<Weir> weir_;  // declared last: stopped first
};

// --- sanitizer builds -----------------------------------------------------------------------

// True when weir and the tests were built with WEIR_SANITIZE (make test's
// build-asan and build-tsan directories). Memory figures are then the
// sanitizer's, not weir's: ASan keeps freed memory in quarantine and adds
// redzones and shadow, TSan adds shadow for every byte touched.
bool underSanitizer();
// What was given to -fsanitize= ("address,undefined", "thread"), or "".
const char* sanitizers();

}  // namespace weir::itest

// For a test that asserts on weir's RSS: skips it (from the test body, first
// line) in sanitizer builds, where RSS does not measure weir's own memory.
#define WEIR_SKIP_RSS_TEST_UNDER_SANITIZER()          \
  if (!::weir::itest::underSanitizer()) {             \
  } else                                              \
    GTEST_SKIP() << "RSS bounds are not checked under -fsanitize=" << ::weir::itest::sanitizers()
