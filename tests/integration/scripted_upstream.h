// A fake upstream whose behaviour is a function: each accepted connection
// runs `script(conn, index)` on its own thread with blocking-with-deadline
// socket calls. For tests that need an upstream to misbehave in a precise
// way (answer, then reset mid-body; never read; upgrade and half-close...).
//
// Owned by the test thread. The destructor stops accepting, shuts every
// connection down and joins the threads; scripts must return when their
// socket calls fail (every call has a deadline).
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"

namespace weir::itest {

class UpstreamConn {
 public:
  explicit UpstreamConn(int fd) : fd_(fd) {}
  int fd() const { return fd_; }
  // Reads until a full request head ("\r\n\r\n") is buffered; returns it and
  // removes it from the buffer. nullopt on EOF, error or timeout.
  std::optional<std::string> readHead(Ms timeout = Ms(5000));
  // Reads until n bytes are buffered; returns them (removed from the buffer).
  std::optional<std::string> readBytes(size_t n, Ms timeout = Ms(5000));
  // Reads until the peer's FIN; returns everything buffered. Sets eof().
  std::string readUntilEof(Ms timeout = Ms(5000));
  // True when the peer closed within the timeout (bytes before it are kept).
  bool waitEof(Ms timeout);
  // Reads once more into buffer(); bytes read, 0 on EOF or error, -1 on timeout.
  long readMore(Ms timeout) { return readSome(timeout); }
  bool send(std::string_view data, Ms timeout = Ms(5000));
  void shutdownWrite();
  // Closes with a TCP reset.
  void reset();
  bool eof() const { return eof_; }
  std::string& buffer() { return buf_; }

 private:
  long readSome(Ms timeout);
  int fd_;
  std::string buf_;
  bool eof_ = false;
};

class ScriptedUpstream {
 public:
  using Script = std::function<void(UpstreamConn& conn, int index)>;
  explicit ScriptedUpstream(Script script);
  ~ScriptedUpstream();
  ScriptedUpstream(const ScriptedUpstream&) = delete;
  ScriptedUpstream& operator=(const ScriptedUpstream&) = delete;

  uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int accepted() const { return accepted_.load(); }
  // Scripts that have returned (their connection closed).
  int finished() const { return finished_.load(); }

 private:
  void acceptLoop();
  Script script_;
  int listenFd_ = -1;
  int stopPipe_[2] = {-1, -1};
  uint16_t port_ = 0;
  std::atomic<int> accepted_{0};
  std::atomic<int> finished_{0};
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::vector<int> fds_;              // guarded by mu_
  std::vector<std::thread> threads_;  // guarded by mu_
  std::thread acceptor_;
};

}  // namespace weir::itest
