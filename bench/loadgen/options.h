// weir-bench's command line.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace weir::loadgen {

struct Options {
  std::string host = "127.0.0.1";
  uint16_t port = 80;
  std::string path = "/";       // the URL's path and query
  std::string authority;        // the URL's host[:port], sent as Host
  unsigned connections = 64;
  unsigned threads = 0;         // 0: the CPUs
  double duration_s = 10;       // 0 with requests > 0
  uint64_t requests = 0;        // -n: stop after this many responses (0: by duration)
  double rate = 0;              // -R: open loop, requests/s in total (0: closed loop)
  std::vector<std::string> headers;  // "Name: value"
  std::string method = "GET";
  std::string body;             // --body FILE's bytes
  std::vector<std::string> paths;    // --paths FILE: targets to cycle through
  uint64_t zipf_n = 0;          // --zipf N,ALPHA: targets PATH/0 .. PATH/N-1
  double zipf_alpha = 1.0;
  unsigned pipeline = 1;
  bool http10 = false;
  bool keepalive = true;
  double warmup_s = 0;
  double timeout_s = 10;        // a request with no response by then is a timeout error
  std::string json_path;
  bool quiet = false;
};

// Parses argv; on error returns false with a message for the user.
bool parseOptions(int argc, char** argv, Options& out, std::string& error);
// "10s", "2m", "500ms", "1.5" (seconds); false when not a duration.
bool parseDuration(const std::string& text, double& seconds);
const char* usage();

}  // namespace weir::loadgen
