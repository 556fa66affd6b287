#include "weir/http/target.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace weir::http {
namespace {

std::string normalized(std::string_view in) {
  std::string out = "stale contents";  // replaced, never appended to
  if (!normalizePath(in, out)) return "<invalid>";
  return out;
}

struct Case {
  const char* in;
  const char* out;
};

TEST(HttpTargetTest, PathsThatNeedNothingAreCopied) {
  for (const char* p : {"/", "/a", "/a/b/c", "/a/b/", "/a.b/c.d", "/a..b", "/a/b.", "/a/.b", "/a-b_c~d",
                        "/a/b?x=1&y=/../z", "/?", "/a?%zz", "/a;p=1/b", "/a:b@c!$&'()*+,;="}) {
    EXPECT_EQ(normalized(p), p) << p;
  }
}

TEST(HttpTargetTest, UnreservedEscapesAreDecoded) {
  for (const Case& c : std::vector<Case>{
           {"/%61dmin/x", "/admin/x"},
           {"/%41%42%43", "/ABC"},
           {"/%7e%2D%2e%5f", "/~-._"},
           {"/a%30b", "/a0b"},
           {"/%7A", "/z"},
       }) {
    EXPECT_EQ(normalized(c.in), c.out) << c.in;
  }
}

TEST(HttpTargetTest, OtherEscapesAreKeptUpperCased) {
  for (const Case& c : std::vector<Case>{
           {"/a%2fb", "/a%2Fb"},
           {"/a%2Fb", "/a%2Fb"},
           {"/%20", "/%20"},
           {"/%e2%82%ac", "/%E2%82%AC"},
           {"/%00", "/%00"},
           {"/%25", "/%25"},
           {"/%2561", "/%2561"},  // one decoding only: %25 is '%', not re-read
           {"/%3f?q", "/%3F?q"},  // an escaped '?' stays in the path
       }) {
    EXPECT_EQ(normalized(c.in), c.out) << c.in;
  }
}

TEST(HttpTargetTest, EncodedSlashIsNotASegmentSeparator) {
  EXPECT_EQ(normalized("/a%2F..%2Fb"), "/a%2F..%2Fb");
  EXPECT_EQ(normalized("/a/%2e%2e%2fb"), "/a/..%2Fb");  // "..%2Fb" is one segment, not ".."
  EXPECT_EQ(normalized("/a%2F../b"), "/a%2F../b");      // "a%2F.." is one segment, not ".."
  EXPECT_EQ(normalized("/a%2F%2e%2e/b"), "/a%2F../b");
}

TEST(HttpTargetTest, DotSegmentsAreRemoved) {
  for (const Case& c : std::vector<Case>{
           {"/app/../admin/x", "/admin/x"},
           {"/%2e%2e/admin", "/admin"},
           {"/%2E%2E/admin", "/admin"},
           {"/.%2e/admin", "/admin"},
           {"/a/./b", "/a/b"},
           {"/a/%2e/b", "/a/b"},
           {"/a/b/..", "/a/"},
           {"/a/b/.", "/a/b/"},
           {"/a/b/../", "/a/"},
           {"/..", "/"},
           {"/../..", "/"},
           {"/../a", "/a"},
           {"/a/../../b", "/b"},
           {"/.", "/"},
           {"/./", "/"},
           {"/a/..", "/"},
           {"/a/b/c/./../../g", "/a/g"},  // RFC 3986 5.2.4 example
           {"/mid/content=5/../6", "/mid/6"},
           {"/.well-known/x", "/.well-known/x"},
           {"/a/...", "/a/..."},
           {"/a/..b/c", "/a/..b/c"},
           {"/a/../admin?x=/../y", "/admin?x=/../y"},  // the query is kept as sent
       }) {
    EXPECT_EQ(normalized(c.in), c.out) << c.in;
  }
}

TEST(HttpTargetTest, RepeatedSlashesAreMerged) {
  for (const Case& c : std::vector<Case>{
           {"//", "/"},
           {"//admin", "/admin"},
           {"/a//b", "/a/b"},
           {"/a///b//", "/a/b/"},
           {"/a/.//../b", "/b"},
           {"//..//admin", "/admin"},
       }) {
    EXPECT_EQ(normalized(c.in), c.out) << c.in;
  }
}

TEST(HttpTargetTest, AnEmptyPathIsTheRoot) {
  EXPECT_EQ(normalized(""), "/");
  EXPECT_EQ(normalized("?a=b"), "/?a=b");
}

TEST(HttpTargetTest, MalformedEscapesAreInvalid) {
  for (const char* p : {"/%zz", "/%4", "/a%", "/%g1", "/%1g", "/a/%%41", "/%-1", "/% 1", "/%4?x"}) {
    EXPECT_EQ(normalized(p), "<invalid>") << p;
  }
}

TEST(HttpTargetTest, FragmentsAreInvalid) {
  for (const char* p : {"/x#frag", "/#", "/a/../b#c", "/a?q#f", "?#", "/%61#"}) {
    EXPECT_EQ(normalized(p), "<invalid>") << p;
  }
}

TEST(HttpTargetTest, PathMustStartWithSlash) {
  EXPECT_EQ(normalized("a/b"), "<invalid>");
  EXPECT_EQ(normalized("*"), "<invalid>");
}

TEST(HttpTargetTest, NormalFormIsStable) {
  // Normalising twice gives the same: what is routed is what is sent.
  for (const char* p : {"/a/../b/%2e/c%2f%41//d/..", "/%7e/./x/", "//%2E%2E/%61", "/a%2F..%2Fb/../c"}) {
    std::string once = normalized(p);
    EXPECT_EQ(normalized(once), once) << p;
  }
}

TEST(HttpTargetTest, SplitOriginForm) {
  SplitTarget t;
  ASSERT_TRUE(splitTarget("/a/b?c", false, t));
  EXPECT_EQ(t.form, TargetForm::kOrigin);
  EXPECT_EQ(t.rest, "/a/b?c");
  EXPECT_TRUE(t.authority.empty());
}

TEST(HttpTargetTest, SplitAbsoluteForm) {
  SplitTarget t;
  ASSERT_TRUE(splitTarget("http://a.example/x?y", false, t));
  EXPECT_EQ(t.form, TargetForm::kAbsolute);
  EXPECT_EQ(t.authority, "a.example");
  EXPECT_EQ(t.rest, "/x?y");
  ASSERT_TRUE(splitTarget("HTTPS://A.example:8443", false, t));
  EXPECT_EQ(t.authority, "A.example:8443");
  EXPECT_EQ(t.rest, "");
  ASSERT_TRUE(splitTarget("http://[2001:db8::1]:80?q", false, t));
  EXPECT_EQ(t.authority, "[2001:db8::1]:80");
  EXPECT_EQ(t.rest, "?q");
}

TEST(HttpTargetTest, SplitAsteriskOnlyForOptions) {
  SplitTarget t;
  ASSERT_TRUE(splitTarget("*", true, t));
  EXPECT_EQ(t.form, TargetForm::kAsterisk);
  EXPECT_FALSE(splitTarget("*", false, t));
}

TEST(HttpTargetTest, SplitRejectsOtherForms) {
  SplitTarget t;
  for (const char* target : {"", "a.example:80", "a.example/x", "ftp://a.example/x", "http:/a/x", "http://",
                             "http:///x", "http://user@a.example/x", "http://u:p@a.example/x",
                             "http://a b/x", "http://a.example:99999/x", "http://[::1/x", "http://a#f/x", "*x",
                             "**"}) {
    EXPECT_FALSE(splitTarget(target, true, t)) << target;
  }
}

TEST(HttpTargetTest, ValidAuthorities) {
  for (const char* a : {"a", "a.example", "A.Example.COM", "a.example:80", "a.example:", "a.example:65535",
                        "127.0.0.1", "127.0.0.1:8080", "[::1]", "[::1]:443", "[2001:db8::1]", "[::ffff:1.2.3.4]",
                        "[v1.fe80::a+en1]", "xn--bcher-kva.example", "a_b.example", "a~b", "a!$&'()*+;=b"}) {
    EXPECT_TRUE(isValidAuthority(a, false)) << a;
  }
  EXPECT_TRUE(isValidAuthority("", true));
}

TEST(HttpTargetTest, InvalidAuthorities) {
  for (const char* a : {"", "a b", "a/b@c", "user@a.example", "a.example:80@b", "a.example:x", "a.example:-1",
                        "a.example:65536", "a.example:123456", "a.example:80:80", ":80", "[::1", "::1",
                        "[::1]x", "[::1]:x", "[]", "[g::1]", "[::1%25eth0]", "[v.x]", "[v1.]", "a,b", "a%41",
                        "a\tb", "a/b", "a?b", "a#b", "a\\b", "a\"b", "a<b"}) {
    EXPECT_FALSE(isValidAuthority(a, false)) << a;
  }
}

}  // namespace
}  // namespace weir::http
