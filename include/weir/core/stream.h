// A non-blocking TCP stream on one event loop: an input and an output evbuffer
// over a socket registered once, edge-triggered, for reading and writing.
//
// Why not bufferevent: a bufferevent writes only from the next loop iteration
// and re-arms EPOLLOUT around every write, and evbuffer_read asks FIONREAD
// before every read; a proxy pays those system calls on every request. Here a
// write goes out as soon as the owner calls flush(), reads use readv straight
// into reserved evbuffer space, and epoll is told about the socket once.
//
// Ownership and threading: owned by one object on one loop (a session or an
// upstream connection); callbacks run on that loop. The handler may call
// close() from a callback; the Stream object itself must outlive the callback
// (owners delete through the worker's deferred deletion).
#pragma once

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/event_struct.h>

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "weir/common/net_address.h"
#include "weir/core/deadline.h"

namespace weir::core {

class Stream;

class StreamHandler {
 public:
  // New bytes are in input(), or the peer closed (eof()), or failed (error()).
  virtual void onStreamRead(Stream& s) = 0;
  // The output fell to the low-water mark after having been above it, or a
  // connect completed (connected() is then true for the first time).
  virtual void onStreamWritable(Stream& s) = 0;
  // A write or connect failed, or a write made no progress for the write
  // timeout (errorCode() is then ETIMEDOUT); errorCode() says why. The
  // stream is unusable.
  virtual void onStreamError(Stream& s) = 0;
  // The peer closed the connection while reading was paused (EPOLLRDHUP),
  // or reset it when watchWhilePaused() is on (readError() is then set).
  // Unread bytes may still wait in the kernel; peerClosed() stays true from
  // now on.
  virtual void onStreamHangup(Stream& s) {}

 protected:
  ~StreamHandler() = default;
};

class Stream {
 public:
  Stream(event_base* base, StreamHandler* handler);
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  // Takes ownership of an accepted, non-blocking socket.
  void attach(int fd);
  // Starts a non-blocking connect. Errors detected at once are returned as an
  // errno value (0 when the connect is under way); later ones reach the
  // handler through onStreamError.
  int connect(const SocketAddress& addr);
  void close();

  void setHandler(StreamHandler* h) { handler_ = h; }
  evbuffer* input() const { return in_; }
  evbuffer* output() const { return out_; }
  size_t outputLength() const { return evbuffer_get_length(out_); }

  // Writes as much of output() as the socket takes now. Never calls the
  // handler. Returns false when the write failed (errorCode() is set).
  bool flush();

  // Reading is on by default. Pausing leaves unread bytes in the kernel, so
  // TCP flow control pushes back on the peer.
  void pauseReading() { reading_ = false; }
  void resumeReading();
  bool reading() const { return reading_; }

  // onStreamWritable fires when output() drains to `low` after a write had
  // to wait for the socket; set 0 to be told when everything has been written.
  void setLowWater(size_t low) { low_water_ = low; }

  // When for `d` no byte could be written and the peer acknowledged nothing
  // of what was written, the stream fails with ETIMEDOUT (through
  // onStreamError). Cancelled while the output is empty. 0 turns it off.
  void setWriteTimeout(std::chrono::milliseconds d);
  // Sends FIN once everything queued has been written (half-close).
  void shutdownWriteAfterFlush();
  bool writeShut() const { return write_shut_; }
  // Closes with a reset (SO_LINGER 0) instead of FIN: tells the peer the
  // message it was receiving did not end well.
  void abort();

  // While reading is paused, also tell the handler (onStreamHangup) of a
  // reset, which costs a peek at the socket on each read edge while paused;
  // without it only a close (EPOLLRDHUP) is reported. For client
  // connections, where a paused read means waiting for an answer.
  void watchWhilePaused(bool on) { watch_paused_ = on; }

  // Reads again soon (from the loop), e.g. after a write failed: the read
  // side may still hold the peer's last words, or its close.
  void pokeRead();

  // Bytes handed to the socket since the stream was opened.
  uint64_t bytesWritten() const { return bytes_written_; }

  bool open() const { return fd_ >= 0; }
  bool connected() const { return connected_; }
  bool eof() const { return eof_; }
  bool peerClosed() const { return peer_closed_; }
  int errorCode() const { return error_; }
  // The error of a failed read (a reset), 0 if reading went well so far
  // (after a failed write the read side may still be fine).
  int readError() const { return write_failed_ ? 0 : error_; }
  int fd() const { return fd_; }

 private:
  static void onEvent(evutil_socket_t fd, short what, void* arg);
  void handleRead();
  void handleWrite();
  void finishConnect();
  bool resetWhilePaused();
  void fail(int err);
  bool writeOut(bool& progressed);
  void afterWrite(bool progressed);
  static void onWriteTimeout(void* arg);
  uint64_t ackedBytes() const;

  event_base* base_;
  StreamHandler* handler_;
  event ev_{};
  evbuffer* in_;
  evbuffer* out_;
  int fd_ = -1;
  size_t low_water_ = 0;
  size_t read_size_ = 16 * 1024 - 256;
  uint64_t bytes_written_ = 0;
  int error_ = 0;
  bool registered_ = false;
  bool connecting_ = false;
  bool connected_ = false;
  bool reading_ = true;
  bool readable_ = false;  // edge-triggered: the socket may hold unread bytes
  bool eof_ = false;
  bool peer_closed_ = false;  // EPOLLRDHUP seen: read until EOF
  bool shut_after_flush_ = false;
  bool write_shut_ = false;
  bool write_failed_ = false;  // error_ came from a write: reading may go on
  bool watch_paused_ = false;  // see watchWhilePaused()
  std::chrono::milliseconds write_timeout_{0};
  uint64_t acked_mark_ = 0;  // ackedBytes() when the write timeout was last armed or checked
  Deadline write_deadline_;
};

}  // namespace weir::core
