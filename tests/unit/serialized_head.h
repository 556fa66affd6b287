// Test helpers shared by the forwarding tests: parse a head with weir's
// parser, and split a head weir wrote back into its first line and fields.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "weir/http/parser.h"
#include "weir/http/token.h"

namespace weir::http::testing {

inline RequestHead parseRequest(const std::string& in, const ParserLimits& limits = {}) {
  Parser p(Parser::Kind::kRequest, limits);
  Parser::Step s = p.execute(in.data(), in.size());
  EXPECT_TRUE(s.flags & Parser::kHeadComplete) << in << "\n" << p.errorReason();
  EXPECT_FALSE(s.flags & Parser::kError) << in << "\n" << p.errorReason();
  return p.request();
}

inline ResponseHead parseResponse(const std::string& in, bool head_request = false) {
  Parser p(Parser::Kind::kResponse, {});
  p.setNoBodyExpected(head_request);
  Parser::Step s = p.execute(in.data(), in.size());
  EXPECT_TRUE(s.flags & Parser::kHeadComplete) << in << "\n" << p.errorReason();
  EXPECT_FALSE(s.flags & Parser::kError) << in << "\n" << p.errorReason();
  return p.response();
}

using Fields = std::vector<std::pair<std::string, std::string>>;

// A serialized head split into its first line and fields; well_formed says
// every line ended with CRLF and the head with an empty line, at its end.
struct Serialized {
  std::string raw;
  std::string first_line;
  Fields fields;
  bool well_formed = false;

  std::vector<std::string> values(std::string_view name) const {
    std::vector<std::string> out;
    for (const auto& [n, v] : fields) {
      if (equalsIgnoreCase(n, name)) out.push_back(v);
    }
    return out;
  }
  bool has(std::string_view name) const { return !values(name).empty(); }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& f : fields) out.push_back(f.first);
    return out;
  }
};

inline Serialized split(const std::string& head) {
  Serialized s;
  s.raw = head;
  size_t pos = 0;
  bool first = true;
  while (true) {
    size_t end = head.find("\r\n", pos);
    if (end == std::string::npos) return s;
    std::string line = head.substr(pos, end - pos);
    pos = end + 2;
    if (line.empty()) {
      s.well_formed = pos == head.size();
      return s;
    }
    if (first) {
      s.first_line = line;
      first = false;
      continue;
    }
    size_t colon = line.find(':');
    if (colon == std::string::npos) return s;
    std::string value = line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.erase(0, 1);
    s.fields.emplace_back(line.substr(0, colon), value);
  }
}

}  // namespace weir::http::testing
