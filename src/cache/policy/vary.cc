#include "weir/cache/vary.h"

#include <algorithm>

#include "weir/http/token.h"

namespace weir::cache {
namespace {

std::string lowered(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool isWs(char c) { return c == ' ' || c == '\t'; }

// Splits a list value at commas, each member trimmed; empty members dropped.
std::vector<std::string_view> members(std::string_view value) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos <= value.size()) {
    const size_t comma = value.find(',', pos);
    const size_t end = comma == std::string_view::npos ? value.size() : comma;
    const std::string_view m = http::trimOws(value.substr(pos, end - pos));
    if (!m.empty()) out.push_back(m);
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return out;
}

}  // namespace

std::vector<std::string> varyNames(const http::ResponseHead& res) {
  std::vector<std::string> names;
  const http::HeaderBlock& f = res.fields;
  for (size_t i = 0; i < f.size(); ++i) {
    if (f.field(i).token != http::Token::kVary) continue;
    for (std::string_view m : members(f.value(i))) {
      // A member that is not a field name cannot be matched: as Vary: *.
      if (m == "*" || !std::all_of(m.begin(), m.end(), http::isTokenChar)) return {"*"};
      names.push_back(lowered(m));
    }
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

std::string normalizeVaryValue(std::string_view name, std::string_view value) {
  std::vector<std::string> parts;
  for (std::string_view m : members(value)) {
    std::string part;
    bool space = false;
    for (char c : m) {
      if (isWs(c)) {
        space = true;
        continue;
      }
      if (space && !part.empty()) part.push_back(' ');
      space = false;
      part.push_back(c);
    }
    parts.push_back(std::move(part));
  }
  if (http::equalsIgnoreCase(name, "accept-encoding")) {
    for (std::string& p : parts) {
      p = lowered(p);
      p.erase(std::remove(p.begin(), p.end(), ' '), p.end());
    }
    std::sort(parts.begin(), parts.end());
    parts.erase(std::unique(parts.begin(), parts.end()), parts.end());
  }
  std::string out;
  for (const std::string& p : parts) {
    if (!out.empty()) out += ", ";
    out += p;
  }
  return out;
}

bool joinedRequestField(const http::RequestHead& req, std::string_view name, std::string* out) {
  const http::HeaderBlock& f = req.fields;
  bool present = false;
  out->clear();
  for (size_t i = 0; i < f.size(); ++i) {
    if (!http::equalsIgnoreCase(f.name(i), name)) continue;
    if (present) *out += ", ";
    out->append(f.value(i));
    present = true;
  }
  return present;
}

std::string secondaryKey(const http::RequestHead& req, const std::vector<std::string>& names) {
  std::string out;
  std::string joined;
  for (const std::string& name : names) {
    out += name;
    if (joinedRequestField(req, name, &joined)) out.append(":").append(normalizeVaryValue(name, joined));
    out += '\n';
  }
  return out;
}

std::vector<std::string> namesOfSecondaryKey(std::string_view secondary) {
  std::vector<std::string> names;
  size_t pos = 0;
  while (pos < secondary.size()) {
    const size_t nl = secondary.find('\n', pos);
    const std::string_view line = secondary.substr(pos, (nl == std::string_view::npos ? secondary.size() : nl) - pos);
    names.emplace_back(line.substr(0, line.find(':')));
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  return names;
}

}  // namespace weir::cache
