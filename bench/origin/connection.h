// One accepted client connection of weir-origin.
//
// Reads into a contiguous input buffer, parses requests one event at a time,
// and appends responses to one output evbuffer that is written with a single
// writev whenever possible. Responses stay in request order: while a response
// is delayed or streaming (`active_`), parsing and reading stop. Reading also
// stops while the output is above kOutHigh, so a client that does not read
// cannot make the origin buffer without bound.
//
// Owned by its Worker (intrusive list); lives on that worker's loop only and
// deletes itself when closed. No method may be called from another thread.
#pragma once

#include <event2/util.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "pattern_body.h"
#include "request_parser.h"
#include "response.h"
#include "target.h"
#include "websocket.h"

struct event;
struct evbuffer;

namespace weir::origin {

class Worker;

class Connection {
 public:
  // Takes ownership of the connected, non-blocking socket `fd`.
  Connection(Worker& worker, int fd);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Registers the socket with the worker's loop. Returns false on failure, in
  // which case the caller deletes the connection.
  bool start();


 private:
  friend class Worker;  // links connections into its intrusive list

  static void onSocket(evutil_socket_t fd, short what, void* arg);
  static void onTimer(evutil_socket_t fd, short what, void* arg);

  void drive();
  bool hasMoreWork() const;
  void readInput();
  void readWhileLingering();
  bool ensureReadSpace();
  void parseHttp();
  bool handleParseEvent(ParseEvent event);
  void onHeadersComplete();
  void onRequestComplete();
  void applyHealthSwitch();
  PlanContext planContext() const;
  void beginResponse();
  void finishResponse();
  void failRequest(int status, std::string_view text);
  void parseWebSocket();
  bool writeOutput();
  void maybeClose();
  void startLinger();
  void updateInterest();
  size_t outLen() const;
  void destroy();

  Worker& worker_;
  const int fd_;
  event* read_ev_ = nullptr;
  event* write_ev_ = nullptr;
  event* timer_ev_ = nullptr;
  evbuffer* out_ = nullptr;
  evbuffer* echo_ = nullptr;

  std::unique_ptr<char[]> in_;
  size_t in_cap_ = 0;
  size_t in_pos_ = 0;   // next byte to parse
  size_t in_len_ = 0;   // bytes held
  size_t head_start_;   // offset of the current request head, or kNone
  bool grow_input_ = false;

  RequestParser parser_;
  Target target_;
  ResponsePlan plan_;
  PatternBody pattern_;
  std::unique_ptr<WebSocketEcho> ws_;
  std::string raw_head_;

  bool active_ = false;         // a response is delayed or streaming
  bool closing_ = false;        // no more requests; close once output is flushed
  bool parse_blocked_ = false;  // parsing paused because the output is full
  bool eof_ = false;            // the client finished sending
  bool lingering_ = false;      // write side shut; draining input before close
  bool dead_ = false;           // socket error; destroy at the end of the callback
  bool reading_ = false;
  bool writing_ = false;

  Connection* prev_ = nullptr;
  Connection* next_ = nullptr;
};

}  // namespace weir::origin
