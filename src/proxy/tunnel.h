// The bytes after a 101 Switching Protocols (WebSocket and other upgrades):
// relayed both ways with backpressure. Each side's FIN is passed on once
// everything it sent has been written to the other side, and the tunnel ends
// when both directions are done, on a reset or write failure, after
// timeouts.tunnel without traffic, or after a short grace when weir drains.
// Its end is logged: an access-log line (status 101, bytes each way,
// duration) and an info line in the error log.
//
// Owned by the Downstream whose connection it took over, destroyed through
// the worker's deferred deletion; loop thread only.
#pragma once

#include <cstdint>

#include "weir/core/deadline.h"
#include "weir/core/stream.h"
#include "weir/core/worker.h"
#include "weir/upstream/connection_pool.h"

namespace weir::proxy {

class Downstream;

class Tunnel final : public core::Deferred, private core::StreamHandler {
 public:
  Tunnel(Downstream& client, upstream::ConnectionPtr upstream, int server, std::string upstream_name);
  ~Tunnel() override;

  void start();
  // Weir is stopping: a short grace, then the tunnel closes.
  void drain();
  // Client stream events, forwarded by the Downstream.
  void clientEvent();
  void clientError();

  uint64_t bytesToUpstream() const { return to_upstream_; }
  uint64_t bytesToClient() const { return to_client_; }

 private:
  void onStreamRead(core::Stream& s) override;
  void onStreamWritable(core::Stream& s) override;
  void onStreamError(core::Stream& s) override;
  void onStreamHangup(core::Stream& s) override;
  void pump();
  void finish(const char* why);
  static void onIdle(void* arg);
  static void onGrace(void* arg);

  Downstream& client_;
  upstream::ConnectionPtr up_;
  std::string upstream_name_;
  core::Deadline idle_;
  core::Deadline grace_;
  uint64_t to_upstream_ = 0;
  uint64_t to_client_ = 0;
  bool finished_ = false;
};

}  // namespace weir::proxy
