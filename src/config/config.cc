// Entry points of config loading. yaml-cpp and our own LoadError may throw
// while parsing; every exception is caught here and becomes an Error whose
// message is "FILE:LINE:COL: key.path: message" (STYLE.md: exceptions only in
// config loading, never escaping it).
#include "weir/config/config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "config/sections.h"

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
ConfigPtr build(const YAML::Node& root, const std::string& name) {
  Item item = detail::rootItem(root);
  if (!root.IsMap()) item.fail("expected a map with listeners, pools and routes at the top level");
  MapReader map(item, {"workers", "listeners", "pools", "routes", "timeouts", "limits",
                       "proxy_headers", "access_log", "error_log"});
  auto config = std::make_shared<Config>();
  config->source = name;
  config->workers = detail::usableCpuCount();
  if (auto v = map.get("workers")) config->workers = detail::parseWorkers(*v);
  config->listeners = detail::parseListeners(map.require("listeners"));
  config->pools = detail::parsePools(map.require("pools"));
  config->routes = detail::parseRoutes(map.require("routes"), *config);
  if (auto v = map.get("timeouts")) config->timeouts = detail::parseTimeouts(*v);
  if (auto v = map.get("limits")) config->limits = detail::parseLimits(*v);
  if (auto v = map.get("proxy_headers")) config->proxy_headers = detail::parseProxyHeaders(*v);
  if (auto v = map.get("access_log")) config->access_log = detail::parseAccessLog(*v);
  if (auto v = map.get("error_log")) config->error_log = detail::parseErrorLog(*v);
  return config;
}

ConfigPtr parse(const std::string& yaml, const std::string& name) {
  std::vector<YAML::Node> documents = YAML::LoadAll(yaml);
  if (documents.empty()) {
    throw LoadError(1, 1, "", "the file is empty; it needs at least listeners, pools and routes");
  }
  if (documents.size() > 1) {
    detail::rootItem(documents[1]).fail("only one YAML document is allowed per file");
  }
  return build(documents[0], name);
}

// yaml-cpp marks are 0-based, and -1 when it has no position.
int oneBased(int zero_based) { return zero_based < 0 ? 1 : zero_based + 1; }

// yaml-cpp's messages about tabs ("illegal block entry" and the like) do not
// say that a tab is the problem; point it out when one indents that line.
std::string syntaxHint(const std::string& yaml, int zero_based_line) {
  size_t start = 0;
  for (int line = 0; line < zero_based_line && start != std::string::npos; ++line) {
    start = yaml.find('\n', start);
    if (start != std::string::npos) ++start;
  }
  if (zero_based_line < 0 || start == std::string::npos) return "";
  size_t text = yaml.find_first_not_of(" \t", start);
  size_t tab = yaml.find('\t', start);
  bool indented_by_tab = tab != std::string::npos && (text == std::string::npos || tab < text);
  return indented_by_tab ? " (YAML does not allow tabs for indentation)" : "";
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
    return Error{located(name, oneBased(e.mark.line), oneBased(e.mark.column), "",
                         "invalid YAML: " + e.msg + syntaxHint(yaml, e.mark.line))};
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

}  // namespace weir::config
