// Exchange's side of a cache hit (CacheFlow decides; this writes).
#include <event2/buffer.h>

#include <string>

#include "proxy/downstream.h"
#include "proxy/exchange.h"
#include "weir/proxy/runtime.h"

namespace weir::proxy {

const http::RequestHead& Exchange::request() const { return client_.request(); }

const config::RouteConfig& Exchange::route() const { return rt_->config->routes[static_cast<size_t>(route_)]; }

int64_t Exchange::nowSeconds() const {
  timeval now;
  event_base_gettimeofday_cached(worker_.base(), &now);
  return static_cast<int64_t>(now.tv_sec);
}

void Exchange::serveStored(const cache::Object& object, std::string_view extra) {
  const http::RequestHead& req = client_.request();
  const bool close = wantClose() || !req.keep_alive;
  scratch_.assign(object.head());
  scratch_ += "Content-Length: " + std::to_string(object.bodySize()) + "\r\n";
  scratch_.append(extra);
  if (!rt_->forward.request_id_header.empty() && !request_id_.view().empty()) {
    scratch_.append(rt_->forward.request_id_header).append(": ").append(request_id_.view()).append("\r\n");
  }
  if (close) {
    scratch_ += "Connection: close\r\n";
  } else if (req.isHttp10()) {
    scratch_ += "Connection: keep-alive\r\n";
  }
  scratch_ += "\r\n";
  evbuffer* out = client_.stream().output();
  evbuffer_add(out, scratch_.data(), scratch_.size());
  head_bytes_ = scratch_.size();
  status_ = object.meta().status;
  head_sent_ = true;
  if (req.method != HTTP_HEAD) {
    for (const cache::ChunkRef& ref : object.chunks()) {
      const cache::Chunk* chunk = ref.get();
      chunk->retain();
      if (evbuffer_add_reference(out, chunk->data(), chunk->size(), &cache::Chunk::releaseCallback,
                                 const_cast<cache::Chunk*>(chunk)) != 0) {
        chunk->release();
      }
      body_bytes_ += chunk->size();
    }
  }
  logAccess();
  active_ = false;
  client_.exchangeFinished(close, false);
}

}  // namespace weir::proxy
