#include "options.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

namespace weir::loadgen {
namespace {

bool readFile(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream s;
  s << in.rdbuf();
  out = s.str();
  return true;
}

bool parseUnsigned(const std::string& text, uint64_t& out, uint64_t max) {
  if (text.empty() || text.size() > 19) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  out = std::stoull(text);
  return out <= max;
}

// http://HOST[:PORT][/PATH]
bool parseUrl(const std::string& url, Options& o) {
  const std::string scheme = "http://";
  if (url.compare(0, scheme.size(), scheme) != 0) return false;
  const size_t start = scheme.size();
  const size_t slash = url.find('/', start);
  o.authority = url.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
  o.path = slash == std::string::npos ? "/" : url.substr(slash);
  if (o.authority.empty()) return false;
  const size_t colon = o.authority.rfind(':');
  o.host = o.authority.substr(0, colon);
  if (o.host.size() > 2 && o.host.front() == '[' && o.host.back() == ']') o.host = o.host.substr(1, o.host.size() - 2);
  o.port = 80;
  if (colon != std::string::npos) {
    uint64_t port = 0;
    if (!parseUnsigned(o.authority.substr(colon + 1), port, 65535) || port == 0) return false;
    o.port = static_cast<uint16_t>(port);
  }
  return !o.host.empty();
}

}  // namespace

const char* usage() {
  return "usage: weir-bench [options] URL\n"
         "  -c, --connections N    open connections (default 64)\n"
         "  -t, --threads N        event-loop threads (default: CPUs)\n"
         "  -d, --duration TIME    e.g. 10s, 2m (default 10s; or -n)\n"
         "  -n, --requests N       stop after N responses\n"
         "  -R, --rate N           open loop: N requests/s in total, on a fixed schedule\n"
         "  -H, --header \"K: V\"    add a request header (repeatable)\n"
         "  -m, --method METHOD    (default GET)\n"
         "      --body FILE        request body\n"
         "      --paths FILE       one target per line; requests cycle through them\n"
         "      --zipf N,ALPHA     targets PATH/0 .. PATH/N-1 (or the rank in place of {} in the\n"
         "                         URL) drawn with a Zipf distribution\n"
         "      --pipeline N       requests in flight per connection (default 1)\n"
         "      --http1.0          send HTTP/1.0 requests\n"
         "      --no-keepalive     one request per connection\n"
         "      --warmup TIME      run this long first, not counted\n"
         "      --timeout TIME     a request unanswered this long is an error (default 10s)\n"
         "      --json FILE        write the result as JSON\n"
         "  -q, --quiet            no progress lines, only the summary\n";
}

bool parseDuration(const std::string& text, double& seconds) {
  if (text.empty()) return false;
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (...) {
    return false;
  }
  const std::string unit = text.substr(used);
  double scale = 1;
  if (unit == "ms") {
    scale = 0.001;
  } else if (unit == "s" || unit.empty()) {
    scale = 1;
  } else if (unit == "m") {
    scale = 60;
  } else if (unit == "h") {
    scale = 3600;
  } else {
    return false;
  }
  if (!(v >= 0) || v * scale > 86400) return false;
  seconds = v * scale;
  return true;
}

bool parseOptions(int argc, char** argv, Options& o, std::string& error) {
  // Short options may carry their value attached, as wrk's do: -c64 -d10s.
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.size() > 2 && a[0] == '-' && a[1] != '-' && std::string("ctdnRHm").find(a[1]) != std::string::npos) {
      args.push_back(a.substr(0, 2));
      args.push_back(a.substr(2));
    } else {
      args.push_back(a);
    }
  }
  const int count = static_cast<int>(args.size());
  std::string url;
  bool have_duration = false;
  for (int i = 0; i < count; ++i) {
    const std::string a = args[static_cast<size_t>(i)];
    auto value = [&](std::string& out) {
      if (i + 1 >= count) {
        error = a + " needs a value";
        return false;
      }
      out = args[static_cast<size_t>(++i)];
      return true;
    };
    std::string v;
    uint64_t n = 0;
    if (a == "-c" || a == "--connections") {
      if (!value(v) || !parseUnsigned(v, n, 100000) || n == 0) return error = error.empty() ? "-c: expected 1..100000" : error, false;
      o.connections = static_cast<unsigned>(n);
    } else if (a == "-t" || a == "--threads") {
      if (!value(v) || !parseUnsigned(v, n, 1024) || n == 0) return error = error.empty() ? "-t: expected 1..1024" : error, false;
      o.threads = static_cast<unsigned>(n);
    } else if (a == "-d" || a == "--duration") {
      if (!value(v) || !parseDuration(v, o.duration_s)) return error = error.empty() ? "-d: expected a duration such as 10s" : error, false;
      have_duration = true;
    } else if (a == "-n" || a == "--requests") {
      if (!value(v) || !parseUnsigned(v, o.requests, UINT64_MAX / 2) || o.requests == 0) {
        return error = error.empty() ? "-n: expected a positive count" : error, false;
      }
    } else if (a == "-R" || a == "--rate") {
      if (!value(v) || !parseUnsigned(v, n, 100000000) || n == 0) return error = error.empty() ? "-R: expected requests/s" : error, false;
      o.rate = static_cast<double>(n);
    } else if (a == "-H" || a == "--header") {
      if (!value(v)) return false;
      if (v.find(':') == std::string::npos || v.find_first_of("\r\n") != std::string::npos) {
        error = "-H: expected \"Name: value\"";
        return false;
      }
      o.headers.push_back(v);
    } else if (a == "-m" || a == "--method") {
      if (!value(v)) return false;
      if (v.empty() || v.find_first_of(" \r\n") != std::string::npos) return error = "-m: expected a method", false;
      o.method = v;
    } else if (a == "--body") {
      if (!value(v)) return false;
      if (!readFile(v, o.body)) return error = "--body: cannot read " + v, false;
    } else if (a == "--paths") {
      if (!value(v)) return false;
      std::string text;
      if (!readFile(v, text)) return error = "--paths: cannot read " + v, false;
      std::istringstream lines(text);
      for (std::string line; std::getline(lines, line);) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) continue;
        if (line.front() != '/' || line.find(' ') != std::string::npos) return error = "--paths: not a target: " + line, false;
        o.paths.push_back(line);
      }
      if (o.paths.empty()) return error = "--paths: no targets in " + v, false;
    } else if (a == "--zipf") {
      if (!value(v)) return false;
      const size_t comma = v.find(',');
      try {
        if (comma == std::string::npos || !parseUnsigned(v.substr(0, comma), o.zipf_n, uint64_t{1} << 40) || o.zipf_n == 0) throw 0;
        o.zipf_alpha = std::stod(v.substr(comma + 1));
        if (!(o.zipf_alpha > 0) || o.zipf_alpha > 10) throw 0;
      } catch (...) {
        error = "--zipf: expected N,ALPHA such as 100000,0.99";
        return false;
      }
    } else if (a == "--pipeline") {
      if (!value(v) || !parseUnsigned(v, n, 1024) || n == 0) return error = error.empty() ? "--pipeline: expected 1..1024" : error, false;
      o.pipeline = static_cast<unsigned>(n);
    } else if (a == "--http1.0") {
      o.http10 = true;
    } else if (a == "--no-keepalive") {
      o.keepalive = false;
    } else if (a == "--warmup") {
      if (!value(v) || !parseDuration(v, o.warmup_s)) return error = error.empty() ? "--warmup: expected a duration" : error, false;
    } else if (a == "--timeout") {
      if (!value(v) || !parseDuration(v, o.timeout_s) || o.timeout_s <= 0) return error = error.empty() ? "--timeout: expected a duration" : error, false;
    } else if (a == "--json") {
      if (!value(o.json_path)) return false;
    } else if (a == "-q" || a == "--quiet") {
      o.quiet = true;
    } else if (!a.empty() && a[0] == '-') {
      error = "unknown option " + a;
      return false;
    } else if (url.empty()) {
      url = a;
    } else {
      error = "one URL only";
      return false;
    }
  }
  if (url.empty()) return error = "a URL is required", false;
  if (!parseUrl(url, o)) return error = "expected a URL such as http://127.0.0.1:8080/path", false;
  if (o.requests > 0 && !have_duration) o.duration_s = 0;
  if (o.requests == 0 && o.duration_s <= 0) return error = "-d must be positive (or give -n)", false;
  if (o.threads == 0) o.threads = std::max(1u, std::thread::hardware_concurrency());
  if (o.threads > o.connections) o.threads = o.connections;
  if (o.http10) o.keepalive = false;
  if (!o.keepalive) o.pipeline = 1;
  return true;
}

}  // namespace weir::loadgen
