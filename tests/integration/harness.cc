#include "harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <regex>
#include <sstream>

#ifndef WEIR_BIN
#error "WEIR_BIN must be defined by the build"
#endif
#ifndef CURL_BIN
#define CURL_BIN "/usr/bin/curl"
#endif
#ifndef ORIGIN_BIN
#error "ORIGIN_BIN must be defined by the build"
#endif

namespace weir::itest {

namespace {

int msLeft(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<Ms>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

void mkdirs(const std::string& path) {
  std::string cur;
  std::stringstream ss(path);
  std::string part;
  while (std::getline(ss, part, '/')) {
    if (part.empty()) continue;
    cur += "/" + part;
    ::mkdir(cur.c_str(), 0755);
  }
}

sockaddr_in loopback(uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return sa;
}

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  return std::string(s.substr(b, e - b));
}

int uniqueCounter() {
  static std::atomic<int> n{0};
  return ++n;
}

}  // namespace

// --- files --------------------------------------------------------------------------

const std::string& testDir() {
  static std::map<std::string, std::string> dirs;
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = info ? std::string(info->test_suite_name()) + "." + info->name() : "global";
  for (char& c : name) {
    if (c == '/') c = '_';
  }
  auto it = dirs.find(name);
  if (it != dirs.end()) return it->second;
  std::string dir = "/tmp/weir-itest/" + name + "-" + std::to_string(::getpid());
  // A pid comes round again across runs: what an earlier run left under
  // this name (logs a test polls for a line) must not be read as this run's.
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  mkdirs(dir);
  return dirs.emplace(name, dir).first->second;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void writeFile(const std::string& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  if (!out) ADD_FAILURE() << "cannot write " << path;
}

std::string tailFile(const std::string& path, int lines) {
  std::string text = readFile(path);
  if (text.size() > 64 * 1024) text = text.substr(text.size() - 64 * 1024);
  size_t pos = text.size();
  int seen = 0;
  while (pos > 0) {
    size_t nl = text.rfind('\n', pos - 1);
    if (nl == std::string::npos) {
      pos = 0;
      break;
    }
    if (nl != text.size() - 1 && ++seen >= lines) {
      pos = nl + 1;
      break;
    }
    pos = nl;
  }
  return text.substr(pos);
}

std::string pattern(size_t n, uint64_t from) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = patternByte(from + i);
  return s;
}

// --- ports --------------------------------------------------------------------------

uint16_t freePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in sa = loopback(0);
  uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) {
    socklen_t len = sizeof sa;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) == 0) port = ntohs(sa.sin_port);
  }
  ::close(fd);
  return port;
}

bool portAccepts(uint16_t port) {
  RawClient c(port, 0, Ms(500));
  return c.connected();
}

bool eventually(const std::function<bool()>& condition, Ms timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(Ms(20));
  }
}

bool waitForPort(uint16_t port, Ms timeout) { return eventually([port] { return portAccepts(port); }, timeout); }

// --- processes ------------------------------------------------------------------------

Process::Process(std::vector<std::string> argv, const std::string& label) : label_(label) {
  int n = uniqueCounter();
  out_ = testDir() + "/" + label + "-" + std::to_string(n) + ".out";
  err_ = testDir() + "/" + label + "-" + std::to_string(n) + ".err";
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  pid_t parent = ::getpid();
  // Everything the child touches is prepared before fork: the test process may
  // have threads (fake upstreams), so the child only calls async-signal-safe functions.
  const char* outPath = out_.c_str();
  const char* errPath = err_.c_str();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);
    int in = ::open("/dev/null", O_RDONLY);
    int out = ::open(outPath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = ::open(errPath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0 || err < 0) ::_exit(125);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::syscall(SYS_close_range, 3U, ~0U, 0U);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execv(cargv[0], cargv.data());
    ::_exit(127);
  }
  if (pid < 0) {
    ADD_FAILURE() << "fork failed: " << std::strerror(errno);
    return;
  }
  pid_ = pid;
}

Process::~Process() {
  if (pid_ > 0 && !reaped_) {
    ::kill(pid_, SIGKILL);
    int st = 0;
    while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
  }
  dumpIfFailed();
}

bool Process::running() {
  if (pid_ <= 0 || reaped_) return false;
  int st = 0;
  pid_t r = ::waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    reaped_ = true;
    status_ = st;
    return false;
  }
  return true;
}

void Process::signal(int sig) {
  if (pid_ > 0 && !reaped_) ::kill(pid_, sig);
}

std::optional<int> Process::waitExit(Ms timeout) {
  if (pid_ <= 0) return std::nullopt;
  auto deadline = Clock::now() + timeout;
  while (running()) {
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(Ms(5));
  }
  if (WIFEXITED(status_)) return WEXITSTATUS(status_);
  if (WIFSIGNALED(status_)) return 128 + WTERMSIG(status_);
  return -1;
}

void Process::dumpIfFailed() const {
  if (dumped_ || !::testing::Test::HasFailure()) return;
  dumped_ = true;
  std::cerr << "----- " << label_ << " stdout (" << out_ << ") tail -----\n"
            << tailFile(out_) << "----- " << label_ << " stderr (" << err_ << ") tail -----\n"
            << tailFile(err_) << "-----\n";
}

RunResult run(const std::vector<std::string>& argv, Ms timeout, const std::string& label) {
  RunResult r;
  Process p(argv, label);
  auto code = p.waitExit(timeout);
  if (!code) {
    p.signal(SIGKILL);
    p.waitExit(Ms(2000));
  }
  r.exitCode = code ? *code : -1;
  r.out = p.stdoutText();
  r.err = p.stderrText();
  return r;
}

// --- HTTP response reader ----------------------------------------------------------------

std::optional<std::string> HttpResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (lower(k) == lower(std::string(name))) return v;
  }
  return std::nullopt;
}

std::vector<std::string> HttpResponse::headerAll(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : headers) {
    if (lower(k) == lower(std::string(name))) out.push_back(v);
  }
  return out;
}

void ResponseParser::fail(std::string msg) {
  state_ = State::kError;
  error_ = std::move(msg);
}

void ResponseParser::body(const char* p, size_t n) {
  bodyBytes_ += n;
  if (onBody) {
    onBody(std::string_view(p, n));
  } else {
    resp_.body.append(p, n);
  }
}

bool ResponseParser::parseHead() {
  resp_.rawHead = line_;
  size_t eol = line_.find("\r\n");
  std::string status = line_.substr(0, eol);
  std::smatch m;
  static const std::regex re(R"(^(HTTP/\d\.\d) (\d{3})(?: (.*))?$)");
  if (!std::regex_match(status, m, re)) {
    fail("bad status line: " + status);
    return false;
  }
  resp_.version = m[1];
  resp_.status = std::stoi(m[2]);
  resp_.reason = m[3];
  resp_.headers = parseFields(std::string_view(line_).substr(eol + 2));
  int st = resp_.status;
  if (head_ || (st >= 100 && st < 200) || st == 204 || st == 304) {
    state_ = State::kDone;
    return true;
  }
  auto te = resp_.header("transfer-encoding");
  if (te) {
    std::string v = lower(*te);
    if (v.size() >= 7 && v.compare(v.size() - 7, 7, "chunked") == 0) {
      resp_.chunked = true;
      state_ = State::kChunkSize;
      return true;
    }
    resp_.closeDelimited = true;
    state_ = State::kUntilClose;
    return true;
  }
  auto cls = resp_.headerAll("content-length");
  if (!cls.empty()) {
    for (auto& c : cls) {
      if (c != cls[0]) {
        fail("conflicting Content-Length in response");
        return false;
      }
    }
    char* end = nullptr;
    remaining_ = std::strtoull(cls[0].c_str(), &end, 10);
    if (cls[0].empty() || *end != '\0') {
      fail("bad Content-Length in response: " + cls[0]);
      return false;
    }
    state_ = remaining_ == 0 ? State::kDone : State::kLength;
    return true;
  }
  resp_.closeDelimited = true;
  state_ = State::kUntilClose;
  return true;
}

size_t ResponseParser::feedHead(const char* data, size_t n) {
  size_t old = line_.size();
  line_.append(data, n);
  size_t pos = line_.find("\r\n\r\n", old >= 3 ? old - 3 : 0);
  if (pos == std::string::npos) {
    if (line_.size() > (1u << 20)) fail("response head over 1 MiB");
    return n;
  }
  size_t headLen = pos + 4;
  line_.resize(headLen);
  if (parseHead()) line_.clear();
  return headLen - old;
}

size_t ResponseParser::feedBody(const char* data, size_t n, State next) {
  size_t k = static_cast<size_t>(std::min<uint64_t>(remaining_, n));
  body(data, k);
  remaining_ -= k;
  if (remaining_ == 0) state_ = next;
  return k;
}

// Appends up to and including the next LF to line_; true if a LF was seen.
bool ResponseParser::takeLine(const char* data, size_t n, size_t* used) {
  const char* nl = static_cast<const char*>(std::memchr(data, '\n', n));
  *used = nl ? static_cast<size_t>(nl - data) + 1 : n;
  line_.append(data, *used);
  return nl != nullptr;
}

size_t ResponseParser::feedChunkSize(const char* data, size_t n) {
  size_t used = 0;
  bool complete = takeLine(data, n, &used);
  if (line_.size() > 4096) {
    fail("chunk size line too long");
  } else if (complete && (line_.size() < 2 || line_[line_.size() - 2] != '\r')) {
    fail("chunk size line without CRLF");
  } else if (complete) {
    std::string sz = line_.substr(0, line_.find_first_of(";\r"));
    line_.clear();
    char* end = nullptr;
    uint64_t size = std::strtoull(sz.c_str(), &end, 16);
    if (sz.empty() || *end != '\0') {
      fail("bad chunk size: " + sz);
    } else if (size == 0) {
      state_ = State::kTrailers;
    } else {
      remaining_ = size;
      state_ = State::kChunkData;
    }
  }
  return used;
}

size_t ResponseParser::feedChunkEnd(const char* data, size_t n) {
  size_t k = std::min<size_t>(2 - line_.size(), n);
  line_.append(data, k);
  if (line_.size() == 2) {
    if (line_ != "\r\n") {
      fail("chunk data not followed by CRLF");
    } else {
      line_.clear();
      state_ = State::kChunkSize;
    }
  }
  return k;
}

size_t ResponseParser::feedTrailers(const char* data, size_t n) {
  size_t used = 0;
  takeLine(data, n, &used);
  if (line_.size() > 65536) {
    fail("trailers too long");
  } else if (line_ == "\r\n" || (line_.size() >= 4 && line_.compare(line_.size() - 4, 4, "\r\n\r\n") == 0)) {
    resp_.trailers = parseFields("x\r\n" + line_);
    line_.clear();
    state_ = State::kDone;
  }
  return used;
}

size_t ResponseParser::feed(const char* data, size_t n) {
  size_t used = 0;
  while (used < n && state_ != State::kDone && state_ != State::kError) {
    const char* p = data + used;
    size_t left = n - used;
    switch (state_) {
      case State::kHead: used += feedHead(p, left); break;
      case State::kLength: used += feedBody(p, left, State::kDone); break;
      case State::kChunkSize: used += feedChunkSize(p, left); break;
      case State::kChunkData: used += feedBody(p, left, State::kChunkDataEnd); break;
      case State::kChunkDataEnd: used += feedChunkEnd(p, left); break;
      case State::kTrailers: used += feedTrailers(p, left); break;
      case State::kUntilClose:
        body(p, left);
        used = n;
        break;
      default: break;
    }
  }
  return used;
}

void ResponseParser::feedEof() {
  if (state_ == State::kUntilClose) {
    state_ = State::kDone;
  } else if (state_ != State::kDone && state_ != State::kError) {
    fail(state_ == State::kHead && line_.empty() ? "connection closed before any response"
                                                 : "connection closed in the middle of the response");
  }
}

// --- raw client --------------------------------------------------------------------------------

RawClient::RawClient(uint16_t port, int rcvbuf, Ms timeout) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd_ < 0) {
    lastError_ = std::strerror(errno);
    return;
  }
  if (rcvbuf > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in sa = loopback(port);
  int r = ::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  if (r < 0 && errno == EINPROGRESS) {
    pollfd p{fd_, POLLOUT, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) == 1) {
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
      r = err == 0 ? 0 : -1;
      errno = err;
    } else {
      errno = ETIMEDOUT;
    }
  }
  if (r < 0) {
    lastError_ = std::string("connect: ") + std::strerror(errno);
    ::close(fd_);
    fd_ = -1;
  }
}

RawClient::~RawClient() { close(); }

void RawClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void RawClient::shutdownWrite() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

bool RawClient::send(std::string_view data, Ms timeout) {
  if (fd_ < 0) return false;
  auto deadline = Clock::now() + timeout;
  size_t off = 0;
  while (off < data.size()) {
    ssize_t w = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (w > 0) {
      off += static_cast<size_t>(w);
      continue;
    }
    if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
      pollfd p{fd_, POLLOUT, 0};
      if (::poll(&p, 1, msLeft(deadline)) <= 0 && Clock::now() >= deadline) {
        lastError_ = "send timeout";
        timedOut_ = true;
        return false;
      }
      continue;
    }
    lastError_ = std::string("send: ") + std::strerror(errno);
    return false;
  }
  return true;
}

long RawClient::readSome(Ms timeout, size_t max) {
  if (fd_ < 0) return -1;
  if (eof_) return 0;
  timedOut_ = false;
  auto deadline = Clock::now() + timeout;
  char tmp[65536];
  max = std::min(max, sizeof tmp);
  for (;;) {
    ssize_t r = ::recv(fd_, tmp, max, 0);
    if (r > 0) {
      buf_.append(tmp, static_cast<size_t>(r));
      return r;
    }
    if (r == 0) {
      eof_ = true;
      return 0;
    }
    if (errno == EAGAIN || errno == EINTR) {
      int left = msLeft(deadline);
      if (left == 0) {
        timedOut_ = true;
        lastError_ = "read timeout";
        return -1;
      }
      pollfd p{fd_, POLLIN, 0};
      ::poll(&p, 1, left);
      continue;
    }
    if (errno == ECONNRESET) {
      reset_ = true;
      eof_ = true;
      lastError_ = "connection reset";
      return 0;
    }
    lastError_ = std::string("recv: ") + std::strerror(errno);
    return -1;
  }
}

bool RawClient::readAtLeast(size_t n, Ms timeout) {
  auto deadline = Clock::now() + timeout;
  while (buf_.size() < n) {
    long r = readSome(std::chrono::duration_cast<Ms>(deadline - Clock::now()));
    if (r <= 0) return buf_.size() >= n;
  }
  return true;
}

std::string RawClient::readUntilClose(Ms timeout) {
  auto deadline = Clock::now() + timeout;
  timedOut_ = false;
  while (!eof_) {
    auto left = std::chrono::duration_cast<Ms>(deadline - Clock::now());
    if (left.count() <= 0) {
      timedOut_ = true;
      break;
    }
    if (readSome(left) < 0 && !timedOut_) break;
  }
  std::string out;
  out.swap(buf_);
  return out;
}

std::optional<HttpResponse> RawClient::readResponse(Ms timeout, bool headRequest) {
  auto deadline = Clock::now() + timeout;
  ResponseParser p(headRequest);
  timedOut_ = false;
  for (;;) {
    size_t used = p.feed(buf_.data(), buf_.size());
    buf_.erase(0, used);
    if (p.done()) return std::move(p.response());
    if (p.failed()) {
      lastError_ = "bad response: " + p.error();
      return std::nullopt;
    }
    if (eof_) {
      p.feedEof();
      if (p.done()) return std::move(p.response());
      lastError_ = p.error();
      return std::nullopt;
    }
    auto left = std::chrono::duration_cast<Ms>(deadline - Clock::now());
    if (left.count() <= 0 || (readSome(left) < 0 && !eof_)) {
      lastError_ = timedOut_ ? "timeout waiting for a response (got " + std::to_string(p.bodyBytes()) +
                                   " body bytes, head " + (p.headDone() ? "complete" : "incomplete") + ")"
                             : lastError_;
      return std::nullopt;
    }
  }
}

std::optional<HttpResponse> RawClient::readFinalResponse(Ms timeout, bool headRequest) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    auto r = readResponse(std::chrono::duration_cast<Ms>(deadline - Clock::now()), headRequest);
    if (!r || r->status >= 200 || r->status == 101) return r;
  }
}

bool RawClient::waitClosed(Ms timeout) {
  auto deadline = Clock::now() + timeout;
  buf_.clear();
  while (!eof_) {
    auto left = std::chrono::duration_cast<Ms>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    long r = readSome(left);
    buf_.clear();
    if (r < 0 && !eof_) {
      if (timedOut_) return false;
      return true;  // a hard socket error also means the connection is gone
    }
  }
  return true;
}

std::optional<HttpResponse> rawRequest(uint16_t port, std::string_view request, Ms timeout, bool headRequest) {
  RawClient c(port, 0, timeout);
  if (!c.connected() || !c.send(request, timeout)) return std::nullopt;
  return c.readFinalResponse(timeout, headRequest);
}

// --- curl --------------------------------------------------------------------------------------

std::optional<std::string> CurlResult::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (lower(k) == lower(std::string(name))) return v;
  }
  return std::nullopt;
}

std::string CurlResult::describe() const {
  std::ostringstream ss;
  ss << "curl exit=" << exitCode << " status=" << status << " time=" << timeTotal << " err=" << err
     << "\nheaders:\n"
     << rawHeaders << "body(" << body.size() << "): " << body.substr(0, 300);
  return ss.str();
}

std::string percentEncode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

CurlResult curl(const std::string& url, const std::vector<std::string>& args, double maxTime) {
  int n = uniqueCounter();
  std::string bodyPath = testDir() + "/curl-" + std::to_string(n) + ".body";
  std::string headPath = testDir() + "/curl-" + std::to_string(n) + ".head";
  char mt[32];
  std::snprintf(mt, sizeof mt, "%.3f", maxTime);
  std::vector<std::string> argv = {CURL_BIN, "-sS", "--max-time", mt, "-o", bodyPath, "-D", headPath,
                                   "-w", "%{http_code} %{time_total}"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(url);
  RunResult rr = run(argv, Ms(static_cast<long>(maxTime * 1000) + 5000), "curl");
  CurlResult r;
  r.exitCode = rr.exitCode;
  r.err = rr.err;
  std::istringstream ss(rr.out);
  ss >> r.status >> r.timeTotal;
  r.body = readFile(bodyPath);
  r.rawHeaders = readFile(headPath);
  // The last non-empty block is the final response's head.
  std::string_view h = r.rawHeaders;
  size_t end = h.size();
  while (end >= 2 && h.substr(end - 2, 2) == "\r\n") end -= 2;
  size_t start = h.rfind("\r\n\r\n", end == 0 ? 0 : end - 1);
  start = start == std::string_view::npos ? 0 : start + 4;
  if (start < end) r.headers = parseFields(h.substr(start, end - start));
  return r;
}

// --- weir-origin ---------------------------------------------------------------------------------

Origin::Origin(std::string name, int threads) : name_(std::move(name)), threads_(threads) {
  for (int attempt = 0; attempt < 3 && !ok_; ++attempt) {
    port_ = freePort();
    ok_ = launch("origin-" + name_);
  }
}

bool Origin::launch(const std::string& label) {
  std::vector<std::string> argv = {ORIGIN_BIN, "--listen", "127.0.0.1:" + std::to_string(port_), "--name", name_};
  if (threads_ > 0) {
    argv.push_back("--threads");
    argv.push_back(std::to_string(threads_));
  }
  ++launches_;
  proc_ = std::make_unique<Process>(argv, label);
  auto deadline = Clock::now() + Ms(10000);
  while (Clock::now() < deadline) {
    if (portAccepts(port_)) return true;
    if (!proc_->running()) break;
    std::this_thread::sleep_for(Ms(20));
  }
  error_ = "weir-origin " + name_ + " did not listen on " + std::to_string(port_) + "; stderr: " +
           tailFile(proc_->stderrPath(), 10) + " stdout: " + tailFile(proc_->stdoutPath(), 10);
  return false;
}

bool Origin::restart() {
  proc_.reset();  // reaps the old process (SIGKILL if it still runs)
  ok_ = launch("origin-" + name_ + "-" + std::to_string(launches_ + 1));
  return ok_;
}

std::string Origin::address() const { return "127.0.0.1:" + std::to_string(port_); }

std::optional<OriginStats> Origin::stats() {
  auto r = rawRequest(port_, "GET /stats HTTP/1.1\r\nHost: origin\r\nConnection: close\r\n\r\n", Ms(3000));
  if (!r || r->status != 200) return std::nullopt;
  static const std::regex conns(R"re("connections"\s*:\s*(\d+))re");
  static const std::regex reqs(R"re("requests"\s*:\s*(\d+))re");
  std::smatch m1, m2;
  if (!std::regex_search(r->body, m1, conns) || !std::regex_search(r->body, m2, reqs)) return std::nullopt;
  return OriginStats{std::stol(m1[1]), std::stol(m2[1])};
}

void Origin::mark() {
  if (perQuery_.requests < 0) {
    auto a = stats();
    auto b = stats();
    if (!a || !b) {
      ADD_FAILURE() << "origin " << name_ << ": /stats unreadable";
      return;
    }
    perQuery_ = {b->connections - a->connections, b->requests - a->requests};
  }
  auto s = stats();
  if (!s) {
    ADD_FAILURE() << "origin " << name_ << ": /stats unreadable";
    return;
  }
  marked_ = *s;
}

OriginStats Origin::delta() {
  auto s = stats();
  if (!s || marked_.requests < 0) {
    ADD_FAILURE() << "origin " << name_ << ": /stats unreadable or mark() not called";
    return {};
  }
  return {s->connections - marked_.connections - perQuery_.connections,
          s->requests - marked_.requests - perQuery_.requests};
}

// --- weir ----------------------------------------------------------------------------------------

namespace {

bool hasTopLevelKey(const std::string& yaml, const std::string& key) {
  std::regex re("(^|\n)" + key + "\\s*:");
  return std::regex_search(yaml, re);
}

std::string substitute(std::string text, const std::map<std::string, std::string>& vars) {
  for (const auto& [k, v] : vars) {
    std::string pat = "${" + k + "}";
    for (size_t pos = text.find(pat); pos != std::string::npos; pos = text.find(pat, pos + v.size())) {
      text.replace(pos, pat.size(), v);
    }
  }
  return text;
}

}  // namespace

Weir::Weir(const std::string& yaml, const std::map<std::string, std::string>& vars,
           std::vector<std::string> extraArgs) {
  int n = uniqueCounter();
  std::string suffix = n == 1 ? "" : "-" + std::to_string(n);
  accessLog_ = testDir() + "/access" + suffix + ".log";
  errorLog_ = testDir() + "/error" + suffix + ".log";
  configPath_ = testDir() + "/weir" + suffix + ".yaml";
  for (int attempt = 0; attempt < 3 && !ok_; ++attempt) {
    port_ = freePort();
    writeConfig(yaml, vars);
    std::vector<std::string> argv = {WEIR_BIN, "-c", configPath_};
    argv.insert(argv.end(), extraArgs.begin(), extraArgs.end());
    proc_ = std::make_unique<Process>(argv, "weir");
    auto deadline = Clock::now() + Ms(10000);
    bool exited = false;
    while (Clock::now() < deadline) {
      if (portAccepts(port_)) {
        ok_ = true;
        break;
      }
      if (!proc_->running()) {
        exited = true;
        break;
      }
      std::this_thread::sleep_for(Ms(20));
    }
    if (!ok_) {
      std::string err = proc_->stderrText();
      error_ = std::string("weir ") + (exited ? "exited" : "did not listen") + " (port " + std::to_string(port_) +
               "); config " + configPath_ + "; stderr: " + tailFile(proc_->stderrPath(), 15) +
               " error log: " + tailFile(errorLog_, 15);
      // Only a port race is worth another attempt.
      if (!icontains(err + readFile(errorLog_), "in use")) break;
    }
  }
}

void Weir::writeConfig(const std::string& yaml, const std::map<std::string, std::string>& vars) {
  std::map<std::string, std::string> all = vars;
  all["TMP"] = testDir();
  all["PORT"] = std::to_string(port_);
  std::string text;
  if (!hasTopLevelKey(yaml, "workers")) text += "workers: 1\n";
  if (!hasTopLevelKey(yaml, "listeners")) text += "listeners:\n  - address: 127.0.0.1:${PORT}\n";
  if (!hasTopLevelKey(yaml, "access_log")) text += "access_log: { path: " + accessLog_ + ", format: combined }\n";
  if (!hasTopLevelKey(yaml, "error_log")) text += "error_log: { path: " + errorLog_ + ", level: debug }\n";
  // Tests run as root would all write the default /run/weir.pid.
  if (!hasTopLevelKey(yaml, "pid_file")) text += "pid_file: off\n";
  text += yaml;
  writeFile(configPath_, substitute(text, all));
}

Weir::~Weir() {
  if (::testing::Test::HasFailure()) {
    std::cerr << "----- weir config (" << configPath_ << ") -----\n"
              << readFile(configPath_) << "----- weir error log tail (" << errorLog_ << ") -----\n"
              << tailFile(errorLog_) << "----- weir access log tail (" << accessLog_ << ") -----\n"
              << tailFile(accessLog_) << "-----\n";
  }
}

std::string Weir::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

long Weir::rssKiB() const {
  if (!proc_ || proc_->pid() <= 0) return -1;
  std::string status = readFile("/proc/" + std::to_string(proc_->pid()) + "/status");
  size_t pos = status.find("VmRSS:");
  if (pos == std::string::npos) return -1;
  return std::strtol(status.c_str() + pos + 6, nullptr, 10);
}

std::optional<std::string> Weir::waitForLogLine(const std::string& path,
                                                const std::function<bool(const std::string&)>& pred,
                                                Ms timeout) const {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    std::istringstream ss(readFile(path));
    std::string line;
    while (std::getline(ss, line)) {
      if (pred(line)) return line;
    }
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(Ms(50));
  }
}

std::string poolConfig(const std::vector<std::string>& servers, const std::string& poolExtra,
                       const std::string& rest) {
  std::string y = "pools:\n  app:\n    servers:\n";
  for (const auto& s : servers) y += "      - address: " + s + "\n";
  std::istringstream ss(poolExtra);
  std::string line;
  while (std::getline(ss, line)) {
    if (!line.empty()) y += "    " + line + "\n";
  }
  y += "routes:\n  - pool: app\n";
  y += rest;
  if (!rest.empty() && rest.back() != '\n') y += "\n";
  return y;
}

void ProxyTest::startProxy(const std::string& poolExtra, const std::string& rest) {
  origin_ = std::make_unique<Origin>("a");
  ASSERT_TRUE(origin_->ok()) << origin_->error();
  weir_ = std::make_unique<Weir>(poolConfig({origin_->address()}, poolExtra, rest));
  ASSERT_TRUE(weir_->ok()) << weir_->error();
}

// --- fake upstream --------------------------------------------------------------------------------

FakeUpstream::FakeUpstream(Mode mode, std::string script) : mode_(mode), script_(std::move(script)) {
  listenFd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  int one = 1;
  ::setsockopt(listenFd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in sa = loopback(0);
  if (::bind(listenFd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(listenFd_, 128) != 0) {
    ADD_FAILURE() << "fake upstream: bind/listen failed: " << std::strerror(errno);
    return;
  }
  socklen_t len = sizeof sa;
  ::getsockname(listenFd_, reinterpret_cast<sockaddr*>(&sa), &len);
  port_ = ntohs(sa.sin_port);
  if (::pipe2(stopPipe_, O_CLOEXEC | O_NONBLOCK) != 0) {
    ADD_FAILURE() << "fake upstream: pipe failed";
    return;
  }
  thread_ = std::thread([this] { loop(); });
}

FakeUpstream::~FakeUpstream() {
  if (thread_.joinable()) {
    char c = 'x';
    [[maybe_unused]] ssize_t w = ::write(stopPipe_[1], &c, 1);
    thread_.join();
  }
  for (int fd : {listenFd_, stopPipe_[0], stopPipe_[1]}) {
    if (fd >= 0) ::close(fd);
  }
}

std::string FakeUpstream::address() const { return "127.0.0.1:" + std::to_string(port_); }

size_t FakeUpstream::bytesReceived() const {
  std::lock_guard<std::mutex> lock(mu_);
  return received_.size();
}

std::string FakeUpstream::received() const {
  std::lock_guard<std::mutex> lock(mu_);
  return received_;
}

void FakeUpstream::loop() {
  struct Conn {
    int fd;
    std::string pending;
  };
  std::vector<Conn> conns;
  auto sendAll = [](int fd, const std::string& data) {
    size_t off = 0;
    auto deadline = Clock::now() + Ms(5000);
    while (off < data.size() && Clock::now() < deadline) {
      ssize_t w = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (w > 0) {
        off += static_cast<size_t>(w);
      } else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
        pollfd p{fd, POLLOUT, 0};
        ::poll(&p, 1, 100);
      } else {
        return;
      }
    }
  };
  for (;;) {
    std::vector<pollfd> fds = {{stopPipe_[0], POLLIN, 0}, {listenFd_, POLLIN, 0}};
    for (auto& c : conns) fds.push_back({c.fd, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), 1000) < 0 && errno != EINTR) break;
    if (fds[0].revents) break;
    if (fds[1].revents & POLLIN) {
      for (;;) {
        int fd = ::accept4(listenFd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) break;
        accepted_++;
        conns.push_back({fd, {}});
      }
    }
    std::vector<Conn> keep;
    for (size_t i = 0; i < conns.size(); ++i) {
      Conn& c = conns[i];
      short ev = i + 2 < fds.size() && fds[i + 2].fd == c.fd ? fds[i + 2].revents : 0;
      bool open = true;
      if (ev & (POLLIN | POLLHUP | POLLERR)) {
        char buf[65536];
        ssize_t r = ::recv(c.fd, buf, sizeof buf, 0);
        if (r > 0) {
          {
            std::lock_guard<std::mutex> lock(mu_);
            received_.append(buf, static_cast<size_t>(r));
          }
          c.pending.append(buf, static_cast<size_t>(r));
        } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
          open = false;
        }
      }
      if (open && mode_ == Mode::kResetAfterRequest && c.pending.find("\r\n\r\n") != std::string::npos) {
        linger lg{1, 0};
        ::setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        open = false;
      }
      if (open && mode_ == Mode::kScripted) {
        // Answer each complete request head (requests with a Content-Length body wait for it).
        for (;;) {
          size_t end = c.pending.find("\r\n\r\n");
          if (end == std::string::npos) break;
          size_t need = end + 4;
          auto fields = parseFields(std::string_view(c.pending).substr(0, end + 2));
          for (auto& [k, v] : fields) {
            if (lower(k) == "content-length") need += std::strtoull(v.c_str(), nullptr, 10);
          }
          if (c.pending.size() < need) break;
          c.pending.erase(0, need);
          sendAll(c.fd, script_);
          if (icontains(script_, "connection: close")) {
            open = false;
            break;
          }
        }
      }
      if (open) {
        keep.push_back(c);
      } else {
        ::close(c.fd);
      }
    }
    conns.swap(keep);
  }
  for (auto& c : conns) ::close(c.fd);
}

// --- helpers --------------------------------------------------------------------------------------

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool icontains(std::string_view hay, std::string_view needle) {
  return lower(std::string(hay)).find(lower(std::string(needle))) != std::string::npos;
}

std::vector<std::pair<std::string, std::string>> parseFields(std::string_view block) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t pos = 0;
  bool first = true;
  while (pos < block.size()) {
    size_t eol = block.find("\r\n", pos);
    if (eol == std::string_view::npos) eol = block.size();
    std::string_view line = block.substr(pos, eol - pos);
    pos = eol + 2;
    if (line.empty()) break;
    size_t colon = line.find(':');
    bool startLine = first && (line.rfind("HTTP/", 0) == 0 || line.find(" HTTP/") != std::string_view::npos);
    first = false;
    if (startLine || colon == std::string_view::npos) continue;
    out.emplace_back(std::string(line.substr(0, colon)), trim(line.substr(colon + 1)));
  }
  return out;
}

std::vector<std::string> fieldValues(const std::vector<std::pair<std::string, std::string>>& fields,
                                     std::string_view name) {
  std::vector<std::string> out;
  for (const auto& [k, v] : fields) {
    if (lower(k) == lower(std::string(name))) out.push_back(v);
  }
  return out;
}

std::string randomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(rng() & 0xff);
  return s;
}

std::string get(const std::string& target, const std::string& extra, const std::string& host) {
  return "GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\n" + extra + "\r\n";
}

// WEIR_SANITIZE_BUILD is defined by tests/CMakeLists.txt from the
// WEIR_SANITIZE option, so the answer follows the build, not the environment.
#ifdef WEIR_SANITIZE_BUILD
bool underSanitizer() { return true; }
const char* sanitizers() { return WEIR_SANITIZE_BUILD; }
#else
bool underSanitizer() { return false; }
const char* sanitizers() { return ""; }
#endif

}  // namespace weir::itest
