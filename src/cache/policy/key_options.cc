#include "weir/cache/key_options.h"

#include <algorithm>

#include "weir/cache/vary.h"
#include "weir/http/token.h"

namespace weir::cache {

bool queryNameMatches(std::string_view name, std::string_view pattern) {
  if (!pattern.empty() && pattern.back() == '*') return name.substr(0, pattern.size() - 1) == pattern.substr(0, pattern.size() - 1);
  return name == pattern;
}

std::string keyTarget(std::string_view target, const std::vector<std::string>& ignore, bool ignore_all, bool sort) {
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return std::string(target);
  std::string out(target.substr(0, q));
  if (ignore_all) return out;
  std::vector<std::string_view> params;
  std::string_view query = target.substr(q + 1);
  while (true) {
    const size_t amp = query.find('&');
    const std::string_view param = query.substr(0, amp);
    const std::string_view name = param.substr(0, param.find('='));
    const bool dropped = param.empty() || std::any_of(ignore.begin(), ignore.end(), [name](const std::string& p) {
                           return queryNameMatches(name, p);
                         });
    if (!dropped) params.push_back(param);
    if (amp == std::string_view::npos) break;
    query = query.substr(amp + 1);
  }
  if (sort) {
    std::stable_sort(params.begin(), params.end(), [](std::string_view a, std::string_view b) {
      return a.substr(0, a.find('=')) < b.substr(0, b.find('='));
    });
  }
  for (size_t i = 0; i < params.size(); ++i) out.append(i == 0 ? "?" : "&").append(params[i]);
  return out;
}

std::string keyParts(const http::RequestHead& req, const std::vector<std::string>& headers,
                     const std::vector<std::string>& cookies) {
  std::string out;
  const http::HeaderBlock& f = req.fields;
  std::string joined;
  for (const std::string& name : headers) {
    out.append("h:").append(name);
    if (joinedRequestField(req, name, &joined)) out.append("=").append(normalizeVaryValue(name, joined));
    out += '\n';
  }
  for (const std::string& name : cookies) {
    std::string_view value;
    bool present = false;
    for (size_t i = 0; i < f.size() && !present; ++i) {
      if (!http::equalsIgnoreCase(f.name(i), "cookie")) continue;
      std::string_view rest = f.value(i);
      while (!rest.empty() && !present) {
        const size_t semi = rest.find(';');
        const std::string_view pair = http::trimOws(rest.substr(0, semi));
        rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
        const size_t eq = pair.find('=');
        if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
          value = pair.substr(eq + 1);
          present = true;
        }
      }
    }
    out.append("c:").append(name);
    if (present) out.append("=").append(value);
    out += '\n';
  }
  return out;
}

}  // namespace weir::cache
