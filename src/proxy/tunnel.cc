#include "proxy/tunnel.h"

#include <algorithm>

#include "proxy/downstream.h"
#include "proxy/flow.h"
#include "weir/log/log.h"
#include "weir/proxy/proxy_worker.h"
#include "weir/proxy/runtime.h"

namespace weir::proxy {
namespace {

constexpr std::chrono::milliseconds kDrainGrace{5000};

// Moves what `from` read into `to`'s output; returns the byte count.
size_t relay(core::Stream& from, core::Stream& to) {
  size_t n = evbuffer_get_length(from.input());
  if (n > 0) evbuffer_add_buffer(to.output(), from.input());
  return n;
}

// Reading from `src` stops while `dst` holds more than the high-water mark
// unsent, and resumes below the low-water mark.
void balance(core::Stream& src, core::Stream& dst) {
  size_t waiting = dst.outputLength();
  if (waiting > kHighWater) {
    src.pauseReading();
  } else if (waiting <= kLowWater && !src.reading() && !src.eof()) {
    src.resumeReading();
  }
}

}  // namespace

Tunnel::Tunnel(Downstream& client, upstream::ConnectionPtr upstream, int, std::string upstream_name)
    : client_(client),
      up_(std::move(upstream)),
      upstream_name_(std::move(upstream_name)),
      idle_(client.owner().base(), &Tunnel::onIdle, this),
      grace_(client.owner().base(), &Tunnel::onGrace, this) {}

Tunnel::~Tunnel() = default;

void Tunnel::start() {
  core::Stream& us = up_->stream();
  us.setHandler(this);
  us.setLowWater(kLowWater);
  us.setWriteTimeout(client_.runtime().client_timeouts.send);
  client_.stream().setLowWater(kLowWater);
  us.resumeReading();
  client_.stream().resumeReading();
  idle_.set(client_.runtime().client_timeouts.tunnel);
  pump();
}

void Tunnel::drain() {
  if (finished_) return;
  grace_.set(std::min(kDrainGrace, client_.runtime().client_timeouts.drain));
}

void Tunnel::clientEvent() { pump(); }
void Tunnel::clientError() { finish("client connection failed"); }

void Tunnel::onStreamRead(core::Stream&) { pump(); }
void Tunnel::onStreamWritable(core::Stream&) { pump(); }
void Tunnel::onStreamError(core::Stream&) { finish("upstream connection failed"); }
void Tunnel::onStreamHangup(core::Stream&) { pump(); }

// Each direction: relay what arrived, pass the sender's FIN on once the
// other side has been sent everything before it, and keep the buffers
// bounded. The tunnel ends when both directions have been shut.
void Tunnel::pump() {
  if (finished_) return;
  core::Stream& cs = client_.stream();
  core::Stream& us = up_->stream();
  size_t up = relay(cs, us);
  size_t down = relay(us, cs);
  to_upstream_ += up;
  to_client_ += down;
  if (cs.eof() && !us.writeShut()) us.shutdownWriteAfterFlush();
  if (us.eof() && !cs.writeShut()) cs.shutdownWriteAfterFlush();
  if (!us.flush() || !cs.flush()) {
    finish("write failed");
    return;
  }
  if (cs.readError() != 0 || us.readError() != 0) {
    finish("connection reset");
    return;
  }
  if (cs.eof() && us.eof() && cs.writeShut() && us.writeShut()) {
    finish("closed");
    return;
  }
  balance(cs, us);
  balance(us, cs);
  if (up + down > 0) idle_.set(client_.runtime().client_timeouts.tunnel);
}

void Tunnel::finish(const char* why) {
  if (finished_) return;
  finished_ = true;
  idle_.cancel();
  grace_.cancel();
  timeval now;
  event_base_gettimeofday_cached(client_.owner().base(), &now);
  const timeval& t0 = client_.requestStarted();
  double secs = static_cast<double>(now.tv_sec - t0.tv_sec) + static_cast<double>(now.tv_usec - t0.tv_usec) / 1e6;
  WEIR_INFO("tunnel %s <-> %s ended (%s) after %.3f s: %llu bytes to the upstream, %llu bytes to the client",
            client_.address().c_str(), upstream_name_.c_str(), why, secs,
            static_cast<unsigned long long>(to_upstream_), static_cast<unsigned long long>(to_client_));
  up_->stream().close();
  client_.tunnelFinished();
}

void Tunnel::onIdle(void* arg) { static_cast<Tunnel*>(arg)->finish("idle timeout"); }
void Tunnel::onGrace(void* arg) { static_cast<Tunnel*>(arg)->finish("weir is stopping"); }

}  // namespace weir::proxy
