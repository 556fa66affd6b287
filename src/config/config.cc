// Entry points of config loading. yaml-cpp and our own LoadError may throw
// while parsing; every exception is caught here and becomes an Error whose
// message is "FILE:LINE:COL: key.path: message" (STYLE.md: exceptions only in
// config loading, never escaping it).
#include "weir/config/config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string_view>

#include "config/sections.h"
#include "yaml-cpp/eventhandler.h"
#include "xxhash.h"

namespace weir::config {
namespace {

using detail::Item;
using detail::LoadError;
using detail::MapReader;

std::string located(const std::string& name, int line, int column, const std::string& path,
                    const std::string& message) {
  std::string out = name + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
  if (!path.empty()) out += path + ": ";
  return out + message;
}

// Sections are read in dependency order (routes need pools), not file order.
ConfigPtr build(const YAML::Node& root, const std::string& name, uint64_t hash) {
  Item item = detail::rootItem(root);
  if (!root.IsMap()) item.fail("expected a map with listeners, pools and routes at the top level");
  MapReader map(item, {"workers", "listeners", "pools", "routes", "timeouts", "limits",
                       "proxy_headers", "request_id", "access_log", "error_log", "admin", "cache", "user",
                       "group", "pid_file"});
  auto config = std::make_shared<Config>();
  config->source = name;
  config->hash = hash;
  config->workers = detail::usableCpuCount();
  if (auto v = map.get("workers")) config->workers = detail::parseWorkers(*v);
  config->listeners = detail::parseListeners(map.require("listeners"));
  config->pools = detail::parsePools(map.require("pools"));
  config->routes = detail::parseRoutes(map.require("routes"), *config);
  if (auto v = map.get("timeouts")) config->timeouts = detail::parseTimeouts(*v);
  if (auto v = map.get("limits")) config->limits = detail::parseLimits(*v);
  if (auto v = map.get("proxy_headers")) config->proxy_headers = detail::parseProxyHeaders(*v);
  if (auto v = map.get("request_id")) config->request_id = detail::parseRequestId(*v);
  if (auto v = map.get("access_log")) config->access_log = detail::parseAccessLog(*v);
  if (auto v = map.get("error_log")) config->error_log = detail::parseErrorLog(*v);
  if (auto v = map.get("admin")) config->admin = detail::parseAdmin(*v, *config);
  if (auto v = map.get("cache")) config->cache = detail::parseCache(*v);
  detail::parseRunAs(map.get("user"), map.get("group"), *config);
  if (auto v = map.get("pid_file")) {
    config->pid_file = detail::parsePidFile(*v);
    config->pid_file_set = true;
  }
  return config;
}

// yaml-cpp marks are 0-based, and -1 when it has no position.
int oneBased(int zero_based) { return zero_based < 0 ? 1 : zero_based + 1; }

// Counts the documents of a stream (events are ignored) and notes where
// each starts.
class DocumentCounter final : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
  std::vector<YAML::Mark> starts;
};

// YAML::LoadAll is not used: yaml-cpp 0.7 loops for ever, allocating, on
// some invalid input (a lone ","; upstream issue jbeder/yaml-cpp#1040). At
// most two documents are read here, and a second one that starts where the
// first did means the parser cannot move on: the input is not valid YAML.
ConfigPtr parse(const std::string& yaml, const std::string& name) {
  std::istringstream stream(yaml);
  YAML::Parser parser(stream);
  DocumentCounter counter;
  while (counter.starts.size() < 2 && parser.HandleNextDocument(counter)) {
  }
  if (counter.starts.empty()) {
    throw LoadError(1, 1, "", "the file is empty; it needs at least listeners, pools and routes");
  }
  if (counter.starts.size() > 1) {
    const YAML::Mark& second = counter.starts[1];
    if (second.pos <= counter.starts[0].pos) {
      throw LoadError(oneBased(second.line), oneBased(second.column), "",
                      "invalid YAML: unexpected character (not the start of a value)");
    }
    throw LoadError(oneBased(second.line), oneBased(second.column), "", "only one YAML document is allowed per file");
  }
  return build(YAML::Load(yaml), name, XXH3_64bits(yaml.data(), yaml.size()));
}


// The text of one 0-based line, or "" past the end.
std::string_view lineAt(const std::string& yaml, int zero_based_line) {
  if (zero_based_line < 0) return {};
  size_t start = 0;
  for (int line = 0; line < zero_based_line; ++line) {
    start = yaml.find('\n', start);
    if (start == std::string::npos) return {};
    ++start;
  }
  size_t end = yaml.find('\n', start);
  return std::string_view(yaml).substr(start, end == std::string::npos ? std::string::npos : end - start);
}

// yaml-cpp's messages about tabs ("illegal block entry" and the like) do not
// say that a tab is the problem; point it out when one indents that line.
std::string tabHint(std::string_view line) {
  size_t text = line.find_first_not_of(" \t");
  size_t tab = line.find('\t');
  bool indented_by_tab = tab != std::string_view::npos && (text == std::string_view::npos || tab < text);
  return indented_by_tab ? " (YAML does not allow tabs for indentation)" : "";
}

bool isPortText(std::string_view text) {
  return !text.empty() && text.size() <= 5 && text.find_first_not_of("0123456789") == std::string_view::npos;
}

// An address value written unquoted that YAML cannot read as a string:
// "*:8080" (an alias) or "[::1]:8080" (a list followed by text). Found on
// the line yaml-cpp blames, after a ": " or "- ", where a value starts.
struct UnquotedAddress {
  size_t column = 0;  // 0-based, in the line
  std::string text;
  char lead = 0;      // '*' or '['
};

std::optional<UnquotedAddress> findUnquotedAddress(std::string_view line) {
  for (size_t pos = 0; pos < line.size(); ++pos) {
    char c = line[pos];
    if (c != '*' && c != '[') continue;
    bool value_start = pos == 0 || line[pos - 1] == ' ' || line[pos - 1] == '{' || line[pos - 1] == ',';
    if (!value_start) continue;
    size_t end = line.find_first_of(" ,}#", pos);
    std::string_view token = line.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    size_t port_colon = c == '*' ? 1 : token.find("]:");
    if (c == '[' && port_colon != std::string_view::npos) ++port_colon;
    if (port_colon == std::string_view::npos || port_colon >= token.size() || token[port_colon] != ':') continue;
    if (!isPortText(token.substr(port_colon + 1))) continue;
    return UnquotedAddress{pos, std::string(token), c};
  }
  return std::nullopt;
}

std::string yamlError(const std::string& name, const std::string& yaml, const YAML::Exception& e) {
  std::string_view line = lineAt(yaml, e.mark.line);
  if (std::optional<UnquotedAddress> address = findUnquotedAddress(line)) {
    std::string why = address->lead == '*' ? "YAML reads an unquoted * as an alias"
                                           : "YAML reads an unquoted [ as the start of a list";
    return located(name, oneBased(e.mark.line), static_cast<int>(address->column) + 1, "",
                   "invalid YAML: quote the address, as \"" + address->text + "\" (" + why + ")");
  }
  return located(name, oneBased(e.mark.line), oneBased(e.mark.column), "",
                 "invalid YAML: " + e.msg + tabHint(line));
}

}  // namespace

int Config::poolIndex(std::string_view name) const {
  for (size_t i = 0; i < pools.size(); ++i) {
    if (pools[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

Result<ConfigPtr> loadString(const std::string& yaml, const std::string& name) {
  try {
    return parse(yaml, name);
  } catch (const LoadError& e) {
    return Error{located(name, e.line(), e.column(), e.path(), e.what())};
  } catch (const YAML::Exception& e) {
    return Error{yamlError(name, yaml, e)};
  } catch (const std::exception& e) {
    return Error{name + ": cannot load: " + e.what()};
  } catch (...) {
    return Error{name + ": cannot load: unknown error"};
  }
}

Result<ConfigPtr> loadFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error{path + ": cannot open: " + std::strerror(errno)};
  struct stat info {};
  if (::fstat(fd, &info) == 0 && S_ISDIR(info.st_mode)) {
    ::close(fd);
    return Error{path + ": cannot open: " + std::strerror(EISDIR)};
  }
  std::string text;
  char buffer[16384];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n == 0) break;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int saved = errno;
      ::close(fd);
      return Error{path + ": cannot read: " + std::strerror(saved)};
    }
    text.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return loadString(text, path);
}

std::optional<std::string> peekPidFile(const std::string& path) {
  auto valid = [](std::string text) -> std::optional<std::string> {
    if (text == "off") return std::string();
    if (text.empty() || text.front() != '/' || text.back() == '/') return std::nullopt;
    return text;
  };
  try {
    YAML::Node root = YAML::LoadFile(path);
    if (!root.IsMap()) return std::nullopt;
    YAML::Node v = root["pid_file"];
    if (!v || !v.IsScalar()) return std::nullopt;
    return valid(v.Scalar());
  } catch (const std::exception&) {
  }
  // Not YAML as a whole (a syntax error elsewhere): a top-level
  // "pid_file: VALUE" line, the value plain or quoted, a comment after it.
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with("pid_file:")) continue;
    std::string_view v = std::string_view(line).substr(9);
    v.remove_prefix(std::min(v.size(), v.find_first_not_of(" \t")));
    if (!v.empty() && (v.front() == '"' || v.front() == '\'')) {
      size_t close = v.find(v.front(), 1);
      if (close == std::string_view::npos) return std::nullopt;
      return valid(std::string(v.substr(1, close - 1)));
    }
    v = v.substr(0, v.find(" #"));
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r')) v.remove_suffix(1);
    return valid(std::string(v));
  }
  return std::nullopt;
}

}  // namespace weir::config
