#include "weir/core/stream.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace weir::core {
namespace {

// A read reserves read_size_ bytes: small for the usual small message, and
// doubled while reads keep filling it (bodies), up to kMaxRead. A full read
// is followed by another, up to kReadsPerEvent, before yielding to other
// connections on the loop.
constexpr size_t kMinRead = 16 * 1024 - 256;  // a chain, header included, fits 16 KiB
constexpr size_t kMaxRead = 256 * 1024;
constexpr int kReadsPerEvent = 4;
constexpr int kWriteIovecs = 64;

}  // namespace

Stream::Stream(event_base* base, StreamHandler* handler)
    : base_(base),
      handler_(handler),
      in_(evbuffer_new()),
      out_(evbuffer_new()),
      write_deadline_(base, &Stream::onWriteTimeout, this) {}

Stream::~Stream() {
  close();
  evbuffer_free(in_);
  evbuffer_free(out_);
}

void Stream::attach(int fd) {
  fd_ = fd;
  connected_ = true;
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  event_assign(&ev_, base_, fd_, EV_READ | EV_WRITE | EV_CLOSED | EV_PERSIST | EV_ET, &Stream::onEvent, this);
  event_add(&ev_, nullptr);
  registered_ = true;
}

int Stream::connect(const SocketAddress& addr) {
  int fd = ::socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd, addr.get(), addr.length) != 0 && errno != EINPROGRESS) {
    int err = errno;
    ::close(fd);
    return err;
  }
  fd_ = fd;
  connecting_ = true;
  event_assign(&ev_, base_, fd_, EV_READ | EV_WRITE | EV_CLOSED | EV_PERSIST | EV_ET, &Stream::onEvent, this);
  event_add(&ev_, nullptr);
  registered_ = true;
  return 0;
}

void Stream::close() {
  write_deadline_.cancel();
  if (registered_) {
    event_del(&ev_);
    registered_ = false;
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  connected_ = connecting_ = false;
}

void Stream::onEvent(evutil_socket_t, short what, void* arg) {
  Stream* s = static_cast<Stream*>(arg);
  if (what & EV_WRITE) {
    if (s->connecting_) {
      s->finishConnect();
    } else if (s->connected_) {
      s->handleWrite();
    }
  }
  // EV_CLOSED (EPOLLRDHUP): the peer's FIN is queued. It may have arrived
  // with the last data, under the same edge, so reads go on until EOF.
  if (what & EV_CLOSED) s->peer_closed_ = true;
  if ((what & (EV_READ | EV_CLOSED)) && s->fd_ >= 0) {
    s->readable_ = true;
    if (s->connecting_) return;  // reported with the connect result
    // Paused reading would leave a peer's close unnoticed until we read
    // again; the owner may want to end its work at once.
    if (!s->reading_ && (what & EV_CLOSED) && s->connected_) {
      s->handler_->onStreamHangup(*s);
      return;
    }
    if (!s->reading_ && s->watch_paused_ && s->connected_ && s->resetWhilePaused()) {
      s->handler_->onStreamHangup(*s);
      return;
    }
    s->handleRead();
  }
}

// A reset comes as EPOLLERR|EPOLLHUP, which libevent reports as EV_READ |
// EV_WRITE without EV_CLOSED: while reading is paused, a look at the
// socket (one peeked byte, nothing taken) tells a reset from new bytes.
bool Stream::resetWhilePaused() {
  char byte;
  ssize_t n = ::recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n >= 0 || errno == EAGAIN || errno == EINTR) {
    if (n == 0) peer_closed_ = true;  // a FIN seen without EPOLLRDHUP
    return n == 0;
  }
  error_ = errno;
  write_failed_ = false;
  peer_closed_ = true;
  return true;
}

void Stream::finishConnect() {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  connecting_ = false;
  if (err != 0) {
    fail(err);
    return;
  }
  connected_ = true;
  if (!flush()) {
    handler_->onStreamError(*this);
    return;
  }
  handler_->onStreamWritable(*this);
}

void Stream::handleWrite() {
  size_t before = evbuffer_get_length(out_);
  if (before == 0) return;
  if (!flush()) {
    handler_->onStreamError(*this);
    return;
  }
  if (evbuffer_get_length(out_) <= low_water_) handler_->onStreamWritable(*this);
}

void Stream::resumeReading() {
  if (reading_) return;
  reading_ = true;
  // No new edge will come for bytes that already wait in the kernel.
  if (readable_ && fd_ >= 0 && connected_) event_active(&ev_, EV_READ, 0);
}

void Stream::pokeRead() {
  if (reading_ && fd_ >= 0 && connected_ && !eof_) {
    readable_ = true;
    event_active(&ev_, EV_READ, 0);
  }
}

void Stream::handleRead() {
  for (int round = 0; round < kReadsPerEvent; ++round) {
    if (!reading_ || fd_ < 0 || eof_ || (error_ != 0 && !write_failed_)) return;
    evbuffer_iovec vec[2];
    int n = evbuffer_reserve_space(in_, static_cast<ev_ssize_t>(read_size_), vec, 2);
    if (n <= 0) {
      fail(ENOMEM);
      return;
    }
    size_t want = 0;
    for (int i = 0; i < n; ++i) want += vec[i].iov_len;
    // One piece of room: plain recv, which the kernel handles with less
    // setup than readv.
    ssize_t got = n == 1 ? ::recv(fd_, vec[0].iov_base, vec[0].iov_len, 0)
                         : ::readv(fd_, reinterpret_cast<iovec*>(vec), n);
    if (got < 0) {
      evbuffer_commit_space(in_, vec, 0);
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        readable_ = false;
        return;
      }
      error_ = errno;
      write_failed_ = false;
      handler_->onStreamRead(*this);
      return;
    }
    if (got == 0) {
      evbuffer_commit_space(in_, vec, 0);
      eof_ = true;
      readable_ = false;
      handler_->onStreamRead(*this);
      return;
    }
    size_t left = static_cast<size_t>(got);
    for (int i = 0; i < n; ++i) {
      size_t take = left < vec[i].iov_len ? left : vec[i].iov_len;
      vec[i].iov_len = take;
      left -= take;
    }
    evbuffer_commit_space(in_, vec, n);
    if (static_cast<size_t>(got) == want) {
      read_size_ = std::min(read_size_ * 2, kMaxRead);
    } else if (static_cast<size_t>(got) < read_size_ / 8 && read_size_ > kMinRead) {
      read_size_ = std::max(read_size_ / 2, kMinRead);
    }
    // A short read drained the socket; the next arrival raises a new edge.
    if (static_cast<size_t>(got) < want && !peer_closed_) readable_ = false;
    handler_->onStreamRead(*this);
    if (!readable_) return;
  }
  // Still readable after our share: come back after other connections ran.
  if (reading_ && fd_ >= 0) event_active(&ev_, EV_READ, 0);
}

void Stream::setWriteTimeout(std::chrono::milliseconds d) {
  write_timeout_ = d;
  if (d.count() == 0) write_deadline_.cancel();
}

void Stream::shutdownWriteAfterFlush() {
  shut_after_flush_ = true;
  if (connected_ && fd_ >= 0 && evbuffer_get_length(out_) == 0) afterWrite(false);
}

void Stream::abort() {
  if (fd_ >= 0) {
    linger lg{1, 0};
    setsockopt(fd_, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  }
  close();
}

// After each flush: the write timeout counts from the last write that sent
// something, and only while bytes wait; a pending half-close goes out once
// the output is empty.
void Stream::afterWrite(bool progressed) {
  if (evbuffer_get_length(out_) == 0) {
    write_deadline_.cancel();
    if (shut_after_flush_ && !write_shut_ && fd_ >= 0) {
      write_shut_ = true;
      ::shutdown(fd_, SHUT_WR);
    }
  } else if (write_timeout_.count() > 0 && (progressed || !write_deadline_.isSet())) {
    write_deadline_.set(write_timeout_);
    acked_mark_ = ackedBytes();
  }
}

// Bytes the peer has acknowledged: what was written minus what the kernel
// still holds. The kernel's send buffer can take seconds to drain into a
// slow but steady reader, so "no progress" means no acknowledgement, not
// only no successful write.
uint64_t Stream::ackedBytes() const {
  int queued = 0;
  if (fd_ < 0 || ::ioctl(fd_, TIOCOUTQ, &queued) != 0 || queued < 0) return bytes_written_;
  return bytes_written_ - std::min<uint64_t>(static_cast<uint64_t>(queued), bytes_written_);
}

void Stream::onWriteTimeout(void* arg) {
  auto* s = static_cast<Stream*>(arg);
  if (s->fd_ < 0 || s->error_ != 0 || evbuffer_get_length(s->out_) == 0) return;
  uint64_t acked = s->ackedBytes();
  if (acked > s->acked_mark_) {
    s->acked_mark_ = acked;
    s->write_deadline_.set(s->write_timeout_);
    return;
  }
  s->fail(ETIMEDOUT);
}

bool Stream::flush() {
  if (fd_ < 0 || error_ != 0) return error_ == 0 && fd_ >= 0;
  if (!connected_) return true;  // sent once the connect completes
  bool progressed = false;
  bool ok = writeOut(progressed);
  if (ok) afterWrite(progressed);
  return ok;
}

bool Stream::writeOut(bool& progressed) {
  while (evbuffer_get_length(out_) > 0) {
    evbuffer_iovec vec[kWriteIovecs];
    int n = evbuffer_peek(out_, -1, nullptr, vec, kWriteIovecs);
    if (n > kWriteIovecs) n = kWriteIovecs;
    ssize_t w;
    if (n == 1) {  // the usual small message: plain send, less kernel setup
      w = ::send(fd_, vec[0].iov_base, vec[0].iov_len, MSG_NOSIGNAL);
    } else {
      msghdr msg{};
      msg.msg_iov = reinterpret_cast<iovec*>(vec);
      msg.msg_iovlen = static_cast<size_t>(n);
      w = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
    }
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return true;
      error_ = errno;
      write_failed_ = true;
      return false;
    }
    evbuffer_drain(out_, static_cast<size_t>(w));
    progressed |= w > 0;
    bytes_written_ += static_cast<uint64_t>(w);
    size_t offered = 0;
    for (int i = 0; i < n; ++i) offered += vec[i].iov_len;
    if (static_cast<size_t>(w) < offered) return true;  // socket buffer full
  }
  return true;
}

void Stream::fail(int err) {
  error_ = err;
  handler_->onStreamError(*this);
}

}  // namespace weir::core
