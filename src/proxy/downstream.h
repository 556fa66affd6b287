// One client connection. It reads request heads (pipelined requests wait,
// unread, in the kernel and are answered in order), runs one Exchange at a
// time, discards what is left of a small request body after an early
// response, lingers after an error so the answer is not lost to a reset, and
// hands the connection to a Tunnel after a 101.
//
// The connection's timers: client_header while a head arrives, client_idle
// between requests, client_body while the exchange waits for body bytes, and
// the stream's write timeout (timeouts.send) for writes that make no progress.
//
// Owned by its ProxyWorker; loop thread only. Destroyed through the worker's
// deferred deletion after close().
#pragma once

#include <sys/socket.h>

#include <memory>
#include <string>

#include "proxy/exchange.h"
#include "weir/proxy/proxy_worker.h"
#include "weir/core/deadline.h"
#include "weir/core/stream.h"
#include "weir/core/worker.h"
#include "weir/http/parser.h"
#include "weir/upstream/connection_pool.h"

namespace weir::proxy {

class ProxyWorker;
class Tunnel;
struct Runtime;

class Downstream final : public core::Deferred, private core::StreamHandler {
 public:
  Downstream(ProxyWorker& owner, int fd, const sockaddr* peer, socklen_t len, uint64_t listener);
  // A background revalidation: `fd` is weir's own end of a socket pair,
  // carrying one request made for the client at `for_address`.
  Downstream(ProxyWorker& owner, int fd, uint64_t listener, std::string_view for_address);
  ~Downstream() override;

  void start();
  // Graceful stop: close now if idle, else after the current response.
  void drain();

  // --- used by the Exchange and the Tunnel, on the same loop ---
  ProxyWorker& owner() { return owner_; }
  const Runtime& runtime() const { return *rt_; }
  // The snapshot this connection's current request runs on.
  const WorkerSnapshot& snapshot() const { return *snapshot_; }
  const SnapshotPtr& snapshotPtr() const { return snapshot_; }
  uint64_t listener() const { return listener_; }
  core::Stream& stream() { return client_; }
  const std::string& address() const { return client_addr_; }
  bool trustedClient() const { return trusted_; }
  bool background() const { return background_; }
  const sockaddr* peer() const { return reinterpret_cast<const sockaddr*>(&peer_); }
  const http::RequestHead& request() const { return parser_.request(); }
  bool requestDone() const { return request_done_; }
  // The request line had a version (its head was parsed whole, or a
  // refused request got that far).
  bool requestHadVersion() const {
    return parser_.request().version_major != 0 && (!parser_.inHead() || line_had_version_);
  }
  // True when what is left of the request body, if any, may be read and
  // dropped after the response so the connection can be kept.
  bool bodyDiscardable() const;
  const timeval& requestStarted() const { return started_; }
  uint64_t requestHeadBytes() const { return parser_.headBytes(); }
  bool draining() const;
  // Flow control of the request body: the upstream is not taking it fast
  // enough (pause), or has room again (resume).
  void pauseBody();
  void resumeBody();
  // The exchange has queued its whole answer. close: end the connection
  // after it is written (linger: read and drop what the client still sends
  // first); otherwise take the next request once the body is consumed.
  void exchangeFinished(bool close, bool linger);
  // The exchange cannot go on. kFlush: write what is queued, then close
  // (a response cut short: its framing shows it incomplete); kReset: close
  // with a TCP reset, so the client can tell a close-delimited body is
  // incomplete; kNow: the client is gone, close at once.
  enum class Abort { kFlush, kReset, kNow };
  void exchangeAborted(Abort how);
  // The client is gone but the exchange goes on without it (it is storing
  // the response in the cache for others): the socket closes now, the
  // connection's slot and this object stay until the exchange ends.
  void exchangeOrphaned();
  // Chunk-size lines of the current request body validated so far.
  uint64_t parserChunkHeaders() const { return parser_.chunkHeaders(); }
  // A 101: the connection becomes a tunnel to `upstream`.
  void startTunnel(upstream::ConnectionPtr upstream);
  void tunnelFinished();

 private:
  enum class State { kWaitRequest, kReadHead, kExchange, kOrphan, kDiscard, kTunnel, kClosing, kLingering, kClosed };

  // core::StreamHandler (the client stream)
  void onStreamRead(core::Stream& s) override;
  void onStreamWritable(core::Stream& s) override;
  void onStreamError(core::Stream& s) override;
  void onStreamHangup(core::Stream& s) override;

  void processInput();
  bool readHead();
  void readBody();
  void discardBody();
  void beginRequest();
  void rejectRequest(int status, std::string_view reason);
  void nextRequest();
  void closeAfterFlush(bool linger);
  void finishClosing();
  void startLingering();
  void close();
  void armTimer(std::chrono::milliseconds d) { timer_.set(d); }
  void takeSnapshot();
  static void onTimer(void* arg);

  ProxyWorker& owner_;
  SnapshotPtr snapshot_;
  const Runtime* rt_;
  sockaddr_storage peer_{};
  uint64_t listener_;
  core::Stream client_;
  std::string client_addr_;
  bool trusted_ = false;
  bool background_ = false;
  http::Parser parser_;
  Exchange exchange_;
  std::unique_ptr<Tunnel> tunnel_;
  core::Deadline timer_;
  State state_ = State::kWaitRequest;
  timeval started_{};
  uint64_t discarded_ = 0;
  bool request_done_ = false;
  bool draining_ = false;
  bool linger_ = false;
  bool body_paused_ = false;        // the upstream is not taking the body: client reading stopped
  bool waiting_for_output_ = false; // answers queued above the high-water mark: next request waits
  bool in_input_ = false;
  bool line_had_version_ = false;   // a refused request's line was read to its version           // processInput() is on the stack: it takes the next request itself
};

}  // namespace weir::proxy
