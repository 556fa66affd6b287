// Exchange's side of the cache: writing a stored response, whole (a hit) or
// as its fill commits it (a coalesced request). CacheFlow decides; this
// writes.
#include <event2/buffer.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "proxy/downstream.h"
#include "proxy/exchange.h"
#include "proxy/flow.h"
#include "weir/proxy/proxy_worker.h"
#include "weir/proxy/runtime.h"

namespace weir::proxy {

const http::RequestHead& Exchange::request() const { return client_.request(); }

const config::RouteConfig& Exchange::route() const { return rt_->config->routes[static_cast<size_t>(route_)]; }

core::Worker& Exchange::loopWorker() { return worker_.worker(); }

event_base* Exchange::base() const { return worker_.base(); }

int64_t Exchange::nowSeconds() const {
  timeval now;
  event_base_gettimeofday_cached(worker_.base(), &now);
  return static_cast<int64_t>(now.tv_sec);
}

bool Exchange::background() const { return client_.background(); }

bool Exchange::clientIn(const std::vector<Cidr>& nets) const {
  return !client_.background() && anyContains(nets, client_.peer());
}

void Exchange::respondJson(int status, std::string_view body) {
  const http::RequestHead& req = client_.request();
  plan_ = {};
  plan_.close = wantClose() || !req.keep_alive;
  plan_.body = http::BodyMode::kAsIs;
  scratch_.assign("HTTP/1.1 ").append(std::to_string(status)).append(" ").append(http::reasonPhrase(status));
  scratch_.append("\r\nServer: weir\r\nContent-Type: application/json\r\nContent-Length: ");
  scratch_.append(std::to_string(body.size())).append("\r\n");
  endStoredHead({}, status);
  evbuffer_add(client_.stream().output(), body.data(), body.size());
  body_bytes_ = body.size();
  logAccess();
  active_ = false;
  client_.exchangeFinished(plan_.close, !request_done_);
}

bool Exchange::startBackground(std::string_view request) {
  return worker_.startBackground(request, client_.listener(), client_.address());
}

uint64_t Exchange::listener() const { return client_.listener(); }

// Always released: a server picked but never reached still counts as a
// request in flight until then.
void Exchange::dropUpstream() {
  bool reusable = false;
  if (upstream_.active()) {
    const http::ResponseHead& resp = response_parser_.response();
    core::Stream& us = upstream_.stream();
    reusable = resp.no_body && resp.keep_alive && request_done_ && !us.eof() && us.errorCode() == 0 &&
               evbuffer_get_length(us.input()) == 0 && evbuffer_get_length(us.output()) == 0;
  }
  upstream_.release(reusable);
}

int64_t Exchange::nowMs() const {
  timeval now;
  event_base_gettimeofday_cached(worker_.base(), &now);
  return static_cast<int64_t>(now.tv_sec) * 1000 + now.tv_usec / 1000;
}

bool Exchange::clientBacklogged() const { return client_.stream().outputLength() > kHighWater; }

// The stored head, then the framing for a body of `length` bytes (-1:
// unknown, so chunked for HTTP/1.1 and close-delimited for HTTP/1.0),
// `extra`, the request ID and Connection. Sets plan_ to match.
void Exchange::writeStoredHead(const cache::Object& object, int64_t length, std::string_view extra,
                               std::string_view status_line) {
  const http::RequestHead& req = client_.request();
  plan_ = {};
  plan_.close = wantClose() || !req.keep_alive;
  // RFC 9110 8.6: no framing field on a 204 (nor on a 304, never stored).
  const bool bodiless = object.meta().status == 204 || object.meta().status == 304;
  plan_.body = req.method == HTTP_HEAD || bodiless ? http::BodyMode::kNone : http::BodyMode::kAsIs;
  scratch_.assign(object.head());
  if (!status_line.empty()) scratch_.replace(0, scratch_.find("\r\n"), status_line);
  if (bodiless) {
    // nothing
  } else if (length >= 0) {
    scratch_ += "Content-Length: " + std::to_string(length) + "\r\n";
  } else if (req.method != HTTP_HEAD) {
    if (req.isHttp10()) {
      plan_.close = true;
      stored_until_close_ = true;
    } else {
      scratch_ += "Transfer-Encoding: chunked\r\n";
      plan_.body = http::BodyMode::kChunkWrap;
    }
  }
  endStoredHead(extra, object.meta().status);
}

// The fields every answer from the cache ends with: `extra`, the request
// ID, Connection; then the head goes out.
void Exchange::endStoredHead(std::string_view extra, int status) {
  scratch_.append(extra);
  if (!rt_->forward.request_id_header.empty() && !request_id_.view().empty()) {
    scratch_.append(rt_->forward.request_id_header).append(": ").append(request_id_.view()).append("\r\n");
  }
  if (plan_.close) {
    scratch_ += "Connection: close\r\n";
  } else if (client_.request().isHttp10()) {
    scratch_ += "Connection: keep-alive\r\n";
  }
  scratch_ += "\r\n";
  evbuffer_add(client_.stream().output(), scratch_.data(), scratch_.size());
  head_bytes_ = scratch_.size();
  status_ = status;
  head_sent_ = true;
}

// Zero-copy: the client's output holds a chunk reference until it is sent.
void Exchange::addBodyReference(const cache::Chunk* chunk, size_t offset, size_t length) {
  chunk->retain();
  if (evbuffer_add_reference(client_.stream().output(), chunk->data() + offset, length, &cache::Chunk::releaseCallback,
                             const_cast<cache::Chunk*>(chunk)) != 0) {
    chunk->release();
  }
  body_bytes_ += length;
}

void Exchange::serveStored(const cache::Object& object, std::string_view extra) {
  writeStoredHead(object, static_cast<int64_t>(object.bodySize()), extra);
  if (plan_.body != http::BodyMode::kNone) {
    for (const cache::ChunkRef& ref : object.chunks()) addBodyReference(ref.get(), 0, ref->size());
  }
  logAccess();
  active_ = false;
  client_.exchangeFinished(plan_.close, false);
}

void Exchange::serveStoredPart(const cache::Object& object, std::string_view extra, uint64_t first, uint64_t last) {
  const uint64_t length = last - first + 1;
  std::string fields = "Content-Range: bytes " + std::to_string(first) + "-" + std::to_string(last) + "/" +
                       std::to_string(object.bodySize()) + "\r\n";
  fields.append(extra);
  writeStoredHead(object, static_cast<int64_t>(length), fields, "HTTP/1.1 206 Partial Content");
  status_ = 206;
  std::vector<cache::ChunkSpan> spans;
  object.readFrom(first, &spans);
  uint64_t left = length;
  for (const cache::ChunkSpan& span : spans) {
    if (left == 0) break;
    const size_t take = static_cast<size_t>(std::min<uint64_t>(left, span.length));
    addBodyReference(span.chunk, span.offset, take);
    left -= take;
  }
  logAccess();
  active_ = false;
  client_.exchangeFinished(plan_.close, false);
}

void Exchange::serveNotModified(const cache::Object& object, std::string_view extra) {
  const http::RequestHead& req = client_.request();
  plan_ = {};
  plan_.close = wantClose() || !req.keep_alive;
  plan_.body = http::BodyMode::kNone;
  scratch_.assign("HTTP/1.1 304 Not Modified\r\n");
  const std::string_view head = object.head();
  size_t at = head.find("\r\n");
  while (at != std::string_view::npos && at + 2 < head.size()) {
    const size_t start = at + 2;
    at = head.find("\r\n", start);
    const std::string_view line = head.substr(start, (at == std::string_view::npos ? head.size() : at) - start);
    const std::string_view name = line.substr(0, line.find(':'));
    // Representation metadata a 304 does not repeat (Content-Location stays).
    if (http::equalsIgnoreCase(name, "content-type") || http::equalsIgnoreCase(name, "content-encoding") ||
        http::equalsIgnoreCase(name, "content-language") || http::equalsIgnoreCase(name, "content-range")) {
      continue;
    }
    scratch_.append(line).append("\r\n");
  }
  endStoredHead(extra, 304);
  logAccess();
  active_ = false;
  client_.exchangeFinished(plan_.close, false);
}

bool Exchange::sendStoredHead(const cache::Object& object, std::string_view extra) {
  const bool complete = object.state() == cache::FillState::kComplete;
  writeStoredHead(object, complete ? static_cast<int64_t>(object.bodySize()) : object.meta().body_length, extra);
  if (!client_.stream().flush()) {
    clientGone("write failed");
    return false;
  }
  return true;
}

bool Exchange::sendStoredBody(const std::vector<cache::ChunkSpan>& spans) {
  size_t total = 0;
  for (const cache::ChunkSpan& span : spans) total += span.length;
  if (total == 0) return true;
  evbuffer* out = client_.stream().output();
  if (plan_.body == http::BodyMode::kChunkWrap) {
    char size_line[24];
    const int n = std::snprintf(size_line, sizeof size_line, "%zx\r\n", total);
    evbuffer_add(out, size_line, static_cast<size_t>(n));
    body_bytes_ += static_cast<size_t>(n) + 2;
  }
  for (const cache::ChunkSpan& span : spans) addBodyReference(span.chunk, span.offset, span.length);
  if (plan_.body == http::BodyMode::kChunkWrap) evbuffer_add(out, "\r\n", 2);
  if (!client_.stream().flush()) {
    clientGone("write failed");
    return false;
  }
  return true;
}

void Exchange::finishStored() {
  if (plan_.body == http::BodyMode::kChunkWrap) {
    evbuffer_add(client_.stream().output(), "0\r\n\r\n", 5);
    body_bytes_ += 5;
  }
  logAccess();
  active_ = false;
  client_.exchangeFinished(plan_.close, false);
}

// The fill stopped before the body was whole: the client must see the cut
// (no last chunk, bytes short of Content-Length, or a reset when only the
// close delimits the body).
void Exchange::abortStored(std::string_view error) {
  error_ = error;
  logAccess();
  active_ = false;
  client_.exchangeAborted(stored_until_close_ ? Downstream::Abort::kReset : Downstream::Abort::kFlush);
}

}  // namespace weir::proxy
