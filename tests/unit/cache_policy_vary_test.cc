// Variants (RFC 9111 4.1): the names a response varies on and the
// secondary key a request gets for them, one test per rule.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "weir/cache/vary.h"
#include "weir/http/parser.h"

namespace weir::cache {
namespace {

struct Parsed {
  http::Parser parser{http::Parser::Kind::kResponse, http::ParserLimits{}};
  http::Parser req_parser{http::Parser::Kind::kRequest, http::ParserLimits{}};
};

const http::ResponseHead& response(Parsed& p, const std::string& fields) {
  const std::string head = "HTTP/1.1 200 OK\r\n" + fields + "Content-Length: 0\r\n\r\n";
  p.parser.execute(head.data(), head.size());
  return p.parser.response();
}

const http::RequestHead& request(Parsed& p, const std::string& fields) {
  const std::string head = "GET / HTTP/1.1\r\nHost: h\r\n" + fields + "\r\n";
  p.req_parser.execute(head.data(), head.size());
  return p.req_parser.request();
}

TEST(CachePolicyVary, NamesAreLowerCasedSortedAndUnique) {
  Parsed p;
  EXPECT_EQ(varyNames(response(p, "Vary: Accept-Encoding, User-Agent\r\nVary: accept-encoding\r\n")),
            (std::vector<std::string>{"accept-encoding", "user-agent"}));
}

TEST(CachePolicyVary, StarIsNeverMatched) {
  Parsed p;
  EXPECT_EQ(varyNames(response(p, "Vary: Accept, *\r\n")), (std::vector<std::string>{"*"}));
}

TEST(CachePolicyVary, AMemberThatIsNotAFieldNameIsLikeStar) {
  Parsed p;
  EXPECT_EQ(varyNames(response(p, "Vary: Accept, x y:z\r\n")), (std::vector<std::string>{"*"}));
}

TEST(CachePolicyVary, NoVaryNoNames) {
  Parsed p;
  EXPECT_TRUE(varyNames(response(p, "X: y\r\n")).empty());
}

TEST(CachePolicyVary, AnAbsentFieldDiffersFromAnEmptyOne) {
  Parsed a, b;
  const std::vector<std::string> names{"accept"};
  EXPECT_NE(secondaryKey(request(a, ""), names), secondaryKey(request(b, "Accept: \r\n"), names));
}

TEST(CachePolicyVary, WhitespaceIsNormalised) {
  Parsed a, b;
  const std::vector<std::string> names{"accept-language"};
  EXPECT_EQ(secondaryKey(request(a, "Accept-Language: en ,  fr\r\n"), names),
            secondaryKey(request(b, "Accept-Language:en, fr\r\n"), names));
}

TEST(CachePolicyVary, OtherFieldsKeepOrderAndCase) {
  Parsed a, b;
  const std::vector<std::string> names{"accept-language"};
  EXPECT_NE(secondaryKey(request(a, "Accept-Language: en, fr\r\n"), names),
            secondaryKey(request(b, "Accept-Language: fr, en\r\n"), names));
}

TEST(CachePolicyVary, AcceptEncodingIgnoresOrderCaseAndRepeats) {
  Parsed a, b, c;
  const std::vector<std::string> names{"accept-encoding"};
  const std::string one = secondaryKey(request(a, "Accept-Encoding: gzip, br\r\n"), names);
  EXPECT_EQ(one, secondaryKey(request(b, "Accept-Encoding: BR,gzip\r\nAccept-Encoding: gzip\r\n"), names));
  EXPECT_NE(one, secondaryKey(request(c, "Accept-Encoding: gzip\r\n"), names));
}

TEST(CachePolicyVary, SeveralFieldLinesAreOneList) {
  Parsed a, b;
  const std::vector<std::string> names{"accept"};
  EXPECT_EQ(secondaryKey(request(a, "Accept: a\r\nAccept: b\r\n"), names),
            secondaryKey(request(b, "Accept: a, b\r\n"), names));
}

TEST(CachePolicyVary, NamesComeBackFromTheKey) {
  Parsed a;
  const std::vector<std::string> names{"accept-encoding", "x-device"};
  const std::string key = secondaryKey(request(a, "X-Device: phone:v2\r\n"), names);
  EXPECT_EQ(namesOfSecondaryKey(key), names);
  EXPECT_EQ(key, "accept-encoding\nx-device:phone:v2\n");
}

}  // namespace
}  // namespace weir::cache
