#include "upstream/health/probe.h"

#include <event2/buffer.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "upstream/health/probe_response.h"

namespace weir::upstream {
namespace {

std::string connectFailure(int err) {
  if (err == ECONNREFUSED) return "connect refused";
  return std::string("connect failed: ") + std::strerror(err);
}

}  // namespace

std::string probeRequest(const std::string& path, const std::string& host) {
  return "GET " + path + " HTTP/1.1\r\nHost: " + host +
         "\r\nUser-Agent: weir-health-check\r\nConnection: close\r\n\r\n";
}

Probe::Probe(event_base* base, const ProbeSpec& spec, Done done)
    : spec_(spec), done_(std::move(done)), stream_(base, this), timer_(base, &Probe::onTimer, this) {}

Probe::~Probe() = default;

void Probe::start() {
  if (spec_.http) evbuffer_add(stream_.output(), spec_.request.data(), spec_.request.size());
  timer_.set(spec_.timeout);
  if (int err = stream_.connect(spec_.addr); err != 0) {
    // Reported from the loop like any other result, so that `done` never
    // runs inside start().
    early_ = ProbeResult{false, connectFailure(err)};
    timer_.set(std::chrono::milliseconds(0));
  }
}

void Probe::onTimer(void* arg) {
  auto* p = static_cast<Probe*>(arg);
  if (p->early_) {
    ProbeResult r = std::move(*p->early_);
    p->early_.reset();
    p->finish(false, std::move(r.detail));
    return;
  }
  p->finish(false, "timeout");
}

// The request went out with the connect (Stream flushes it then); tcp
// checks are done here.
void Probe::onStreamWritable(core::Stream& s) {
  if (!spec_.http && s.connected()) finish(true, "connected");
}

void Probe::onStreamError(core::Stream& s) {
  if (!s.connected()) {
    finish(false, connectFailure(s.errorCode()));
  } else {
    finish(false, std::string("send failed: ") + std::strerror(s.errorCode()));
  }
}

void Probe::onStreamRead(core::Stream& s) {
  if (finished_) return;
  if (int err = s.readError(); err != 0) {
    finish(false, err == ECONNRESET ? "reset before responding" : std::string("read failed: ") + std::strerror(err));
    return;
  }
  if (!spec_.http) {  // a tcp check may see bytes or a close before its connect is reported
    evbuffer_drain(s.input(), evbuffer_get_length(s.input()));
    return;
  }
  takeInput(s);
  const StatusLine line = parseStatusLine(received_);
  if (line.state == StatusLine::State::kInvalid) {
    finish(false, "invalid response");
  } else if (line.state == StatusLine::State::kComplete) {
    const bool ok = statusExpected(line.status, spec_.expect);
    finish(ok, "status " + std::to_string(line.status));
  } else if (s.eof()) {
    finish(false, received_.empty() ? "closed before responding" : "invalid response");
  }
}

// Keeps at most kMaxStatusLine bytes: past that the line is invalid anyway.
void Probe::takeInput(core::Stream& s) {
  evbuffer* in = s.input();
  const size_t room = kMaxStatusLine - std::min(received_.size(), kMaxStatusLine);
  const size_t take = std::min(evbuffer_get_length(in), room);
  if (take > 0) {
    const size_t old = received_.size();
    received_.resize(old + take);
    evbuffer_remove(in, received_.data() + old, take);
  }
  evbuffer_drain(in, evbuffer_get_length(in));
}

void Probe::finish(bool passed, std::string detail) {
  if (finished_) return;
  finished_ = true;
  timer_.cancel();
  stream_.abort();
  done_(ProbeResult{passed, std::move(detail)});
}

}  // namespace weir::upstream
