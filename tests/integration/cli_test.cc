// Command line: -t, --version, -h, argument errors, the default config
// path, the start-up line, and configuration errors reported as
// FILE:LINE:COL: key.path: message.
#include <unistd.h>

#include <algorithm>
#include <regex>

#include "harness.h"

namespace weir::itest {
namespace {

const std::string kGood = R"(workers: 1
listeners:
  - address: 127.0.0.1:${PORT}
pools:
  app:
    servers:
      - address: 127.0.0.1:9001
        weight: 5
      - address: 127.0.0.1:9002
    keepalive: 64
    retries: 1
routes:
  - match: { host: "*.example.com", path_prefix: /api/ }
    pool: app
  - pool: app
timeouts: { client_header: 10s, client_idle: 60s, upstream_connect: 2s, upstream_response: 30s, send: 30s, drain: 30s }
limits: { header_bytes: 32KiB, headers: 100, uri_bytes: 8KiB, body_bytes: 1GiB }
proxy_headers: { x_forwarded_for: true, x_forwarded_proto: true, x_forwarded_host: true, via: true }
access_log: { path: /dev/null, format: combined }
error_log: { path: /dev/null, level: info }
)";

std::string writeConfig(const std::string& name, std::string text, uint16_t port = 0) {
  std::string path = testDir() + "/" + name;
  size_t pos = text.find("${PORT}");
  if (pos != std::string::npos) text.replace(pos, 7, std::to_string(port ? port : freePort()));
  writeFile(path, text);
  return path;
}

RunResult weirRun(std::vector<std::string> args) {
  args.insert(args.begin(), WEIR_BIN);
  return run(args, Ms(10000), "weir-cli");
}

// The 1-based line of the first occurrence of `needle`, and its column.
std::pair<int, int> locate(const std::string& text, const std::string& needle) {
  size_t pos = text.find(needle);
  if (pos == std::string::npos) return {0, 0};
  int line = 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(pos), '\n'));
  size_t bol = text.rfind('\n', pos);
  int col = static_cast<int>(pos - (bol == std::string::npos ? 0 : bol + 1)) + 1;
  return {line, col};
}

std::string escapeRegex(const std::string& s) {
  static const std::regex special(R"([.^$|()\[\]{}*+?\\])");
  return std::regex_replace(s, special, R"(\$&)");
}

// Checks that stderr holds "PATH:LINE:COL: KEYPATH: message" and returns COL.
int expectLocatedError(const RunResult& r, const std::string& path, int line, const std::string& keyPath) {
  EXPECT_EQ(r.exitCode, 1) << "stdout: " << r.out << "\nstderr: " << r.err;
  std::regex re(escapeRegex(path) + ":" + std::to_string(line) + ":(\\d+): " + escapeRegex(keyPath) + ": \\S.*");
  std::smatch m;
  bool found = std::regex_search(r.err, m, re);
  EXPECT_TRUE(found) << "expected '" << path << ":" << line << ":COL: " << keyPath << ": message' on stderr, got:\n"
                     << r.err;
  return found ? std::stoi(m[1]) : 0;
}

TEST(Cli, CheckGoodConfigExitsZero) {
  std::string path = writeConfig("good.yaml", kGood);
  RunResult r = weirRun({"-t", "-c", path});
  EXPECT_EQ(r.exitCode, 0) << "stdout: " << r.out << "\nstderr: " << r.err;
  EXPECT_FALSE((r.out + r.err).empty()) << "-t should say the configuration is ok";
}

TEST(Cli, CheckDoesNotStartListening) {
  uint16_t port = freePort();
  std::string path = writeConfig("good.yaml", kGood, port);
  RunResult r = weirRun({"-t", "-c", path});
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_FALSE(portAccepts(port)) << "weir -t must not leave a listener behind";
}

TEST(Cli, CheckBadAddressReportsFileLineColumnAndKeyPath) {
  const std::string text = R"(workers: 1
listeners:
  - address: 127.0.0.1:${PORT}
pools:
  api:
    servers:
      - address: 127.0.0.1:9001
      - address: not-an-address
routes:
  - pool: api
)";
  std::string path = writeConfig("bad.yaml", text);
  std::string written = readFile(path);
  auto [line, valueCol] = locate(written, "not-an-address");
  auto [line2, keyCol] = locate(written, "address: not-an-address");
  RunResult r = weirRun({"-t", "-c", path});
  int col = expectLocatedError(r, path, line, "pools.api.servers[1].address");
  if (col != 0) {
    // The column may point at the list item, the key or the value.
    EXPECT_TRUE(col == keyCol - 2 || col == keyCol || col == valueCol)
        << "column " << col << " points at none of the list item (" << keyCol - 2 << "), key (" << keyCol
        << ") or value (" << valueCol << ")";
  }
  (void)line2;
}

TEST(Cli, CheckUnknownNestedKeyIsAnError) {
  std::string text = kGood;
  text.replace(text.find("    retries: 1\n"), 15, "    retries: 1\n    keepalivee: 3\n");
  std::string path = writeConfig("unknown.yaml", text);
  int line = locate(readFile(path), "keepalivee").first;
  RunResult r = weirRun({"-t", "-c", path});
  EXPECT_EQ(r.exitCode, 1) << r.err;
  std::regex re(escapeRegex(path) + ":" + std::to_string(line) + ":\\d+: [^:]*: .*");
  EXPECT_TRUE(std::regex_search(r.err, re)) << "expected FILE:" << line << ":COL: key: message, got:\n" << r.err;
  EXPECT_NE(r.err.find("keepalivee"), std::string::npos) << "the error should name the unknown key:\n" << r.err;
}

TEST(Cli, CheckUnknownTopLevelKeyIsAnError) {
  std::string text = kGood + "lisetners:\n  - address: 127.0.0.1:1\n";
  std::string path = writeConfig("unknown-top.yaml", text);
  int line = locate(readFile(path), "lisetners").first;
  RunResult r = weirRun({"-t", "-c", path});
  EXPECT_EQ(r.exitCode, 1) << r.err;
  std::regex re(escapeRegex(path) + ":" + std::to_string(line) + ":\\d+: .*lisetners");
  EXPECT_TRUE(std::regex_search(r.err, re)) << "expected FILE:" << line << ":COL: naming 'lisetners', got:\n" << r.err;
}

TEST(Cli, CheckWrongTypeReportsKeyPath) {
  std::string text = kGood;
  text.replace(text.find("workers: 1"), 10, "workers: many");
  std::string path = writeConfig("type.yaml", text);
  RunResult r = weirRun({"-t", "-c", path});
  expectLocatedError(r, path, 1, "workers");
}

TEST(Cli, CheckBadDurationReportsKeyPath) {
  std::string text = kGood;
  text.replace(text.find("upstream_connect: 2s"), 20, "upstream_connect: 2 parsecs");
  std::string path = writeConfig("duration.yaml", text);
  int line = locate(readFile(path), "parsecs").first;
  RunResult r = weirRun({"-t", "-c", path});
  expectLocatedError(r, path, line, "timeouts.upstream_connect");
}

TEST(Cli, CheckRouteToUnknownPoolIsAnError) {
  std::string text = kGood;
  text.replace(text.find("  - pool: app\ntimeouts"), 13, "  - pool: nope");
  std::string path = writeConfig("pool.yaml", text);
  int line = locate(readFile(path), "pool: nope").first;
  RunResult r = weirRun({"-t", "-c", path});
  expectLocatedError(r, path, line, "routes[1].pool");
}

TEST(Cli, CheckYamlSyntaxErrorHasLineAndColumn) {
  std::string text = "workers: 1\nlisteners:\n  - address: [127.0.0.1:1\npools: {}\n";
  std::string path = writeConfig("syntax.yaml", text);
  RunResult r = weirRun({"-t", "-c", path});
  EXPECT_EQ(r.exitCode, 1) << r.err;
  std::regex re(escapeRegex(path) + ":\\d+:\\d+: ");
  EXPECT_TRUE(std::regex_search(r.err, re)) << "expected FILE:LINE:COL:, got:\n" << r.err;
}

TEST(Cli, CheckMissingFileFails) {
  std::string path = testDir() + "/does-not-exist.yaml";
  RunResult r = weirRun({"-t", "-c", path});
  EXPECT_EQ(r.exitCode, 1) << r.err;
  EXPECT_NE(r.err.find("does-not-exist.yaml"), std::string::npos) << r.err;
}

TEST(Cli, VersionMentionsWeir) {
  RunResult r = weirRun({"--version"});
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_TRUE(icontains(r.out + r.err, "weir")) << "stdout: " << r.out << "\nstderr: " << r.err;
}

TEST(Cli, HelpShowsUsage) {
  RunResult r = weirRun({"-h"});
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE((r.out + r.err).find("-c"), std::string::npos) << "stdout: " << r.out << "\nstderr: " << r.err;
}

TEST(Cli, StartWithBadConfigExitsOneAndNeverListens) {
  uint16_t port = freePort();
  std::string text = kGood;
  // The listener is valid; the error comes later in the file.
  text.replace(text.find("  - pool: app\ntimeouts"), 13, "  - pool: nope");
  std::string path = writeConfig("bad-start.yaml", text, port);
  Process p({WEIR_BIN, "-c", path}, "weir");
  bool listened = false;
  std::optional<int> code;
  auto deadline = Clock::now() + Ms(5000);
  while (Clock::now() < deadline) {
    if (portAccepts(port)) listened = true;
    code = p.waitExit(Ms(10));
    if (code) break;
  }
  EXPECT_FALSE(listened) << "weir accepted connections with a bad config";
  ASSERT_TRUE(code.has_value()) << "weir kept running with a bad config";
  EXPECT_EQ(*code, 1);
  EXPECT_NE(p.stderrText().find("bad-start.yaml:"), std::string::npos) << p.stderrText();
}

// --- Argument errors: one line, a pointer to -h, exit 2 (issue 5) ---------------

void expectUsageError(const RunResult& r, const std::string& expected) {
  EXPECT_EQ(r.exitCode, 2) << "stderr: " << r.err;
  EXPECT_EQ(r.err, expected + "\n");
  EXPECT_EQ(r.out, "") << "the usage text must not follow an argument error";
}

TEST(Cli, ConfigOptionWithoutFileIsOneLineAndExitTwo) {
  expectUsageError(weirRun({"-c"}), "weir: option -c needs a file name (see weir -h)");
  expectUsageError(weirRun({"-t", "-c"}), "weir: option -c needs a file name (see weir -h)");
  expectUsageError(weirRun({"--config"}), "weir: option --config needs a file name (see weir -h)");
  expectUsageError(weirRun({"--config="}), "weir: option --config needs a file name (see weir -h)");
  // "-c -t" forgot the file name; "-t" is not taken for one.
  expectUsageError(weirRun({"-c", "-t"}), "weir: option -c needs a file name (see weir -h)");
}

TEST(Cli, UnknownOptionIsOneLineAndExitTwo) {
  expectUsageError(weirRun({"--frobnicate"}), "weir: unknown option '--frobnicate' (see weir -h)");
  expectUsageError(weirRun({"-x", "-t"}), "weir: unknown option '-x' (see weir -h)");
  expectUsageError(weirRun({"weir.yaml"}),
                   "weir: unexpected argument 'weir.yaml'; give the configuration file with -c (see weir -h)");
}

TEST(Cli, ConfigEqualsFileAndConfigSpaceFileBothWork) {
  std::string path = writeConfig("good.yaml", kGood);
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"-t", "--config=" + path}, {"-t", "--config", path}, {"-t", "-c", path}, {"-c", path, "-t"}}) {
    RunResult r = weirRun(args);
    EXPECT_EQ(r.exitCode, 0) << args[1] << ": " << r.err;
    EXPECT_EQ(r.out, path + ": configuration ok\n");
  }
}

// The default is an absolute path (a relative one depended on the
// directory weir was started from), shown by -h.
TEST(Cli, DefaultConfigPathIsAbsolute) {
  RunResult help = weirRun({"-h"});
  std::smatch m;
  std::regex re(R"(\(default: ([^)]+)\))");
  ASSERT_TRUE(std::regex_search(help.out, m, re)) << help.out;
  const std::string path = m[1];
  EXPECT_EQ(path.front(), '/') << "default config path is not absolute: " << path;
  RunResult r = weirRun({"-t"});
  if (readFile(path).empty()) {
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_EQ(r.err.rfind(path + ": cannot open: ", 0), 0u) << "weir -t without -c did not read " << path
                                                             << ":\n" << r.err;
  } else {
    EXPECT_NE((r.out + r.err).find(path), std::string::npos) << r.out << r.err;
  }
}

// --- weir -t checks what would stop a start (issue 5) ---------------------------

std::string withLogs(const std::string& access, const std::string& error) {
  std::string text = kGood;
  text.replace(text.find("access_log: { path: /dev/null"), 29, "access_log: { path: " + access);
  text.replace(text.find("error_log: { path: /dev/null"), 28, "error_log: { path: " + error);
  return text;
}

TEST(Cli, CheckReportsALogFileThatCannotBeOpened) {
  const std::string dir = testDir();
  struct Case {
    std::string access, error, expected;
  };
  const std::vector<Case> cases = {
      {dir + "/no-such-dir/access.log", "/dev/null",
       "access_log.path: " + dir + "/no-such-dir/access.log: cannot create: " + dir +
           "/no-such-dir: No such file or directory"},
      {"/dev/null", dir, "error_log.path: " + dir + ": cannot open for appending: Is a directory"},
      {dir + "/good.yaml/x.log", "/dev/null",
       "access_log.path: " + dir + "/good.yaml/x.log: cannot open for appending: Not a directory"},
  };
  writeConfig("good.yaml", kGood);
  for (const Case& c : cases) {
    std::string path = writeConfig("logs.yaml", withLogs(c.access, c.error));
    RunResult r = weirRun({"-t", "-c", path});
    EXPECT_EQ(r.exitCode, 1) << r.out << r.err;
    EXPECT_EQ(r.err, path + ": " + c.expected + "\n");
  }
  // A log file that does not exist yet in a writable directory is fine.
  std::string path = writeConfig("new-logs.yaml", withLogs(dir + "/new-access.log", dir + "/new-error.log"));
  RunResult r = weirRun({"-t", "-c", path});
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_TRUE(readFile(dir + "/new-access.log").empty()) << "-t must not write to the logs";
}

TEST(Cli, CheckReportsAUserThatDoesNotExist) {
  std::string path = writeConfig("user.yaml", kGood + "user: no-such-user-for-weir\n");
  int line = locate(readFile(path), "no-such-user-for-weir").first;
  RunResult r = weirRun({"-t", "-c", path});
  expectLocatedError(r, path, line, "user");
  EXPECT_NE(r.err.find("no such user \"no-such-user-for-weir\""), std::string::npos) << r.err;
  path = writeConfig("group.yaml", kGood + "user: root\ngroup: no-such-group-for-weir\n");
  r = weirRun({"-t", "-c", path});
  expectLocatedError(r, path, locate(readFile(path), "no-such-group").first, "group");
}

// Run as an unprivileged user (setpriv, when the tests run as root) so the
// check has something to find.
TEST(Cli, CheckReportsAPrivilegedPortItCannotBind) {
  std::vector<std::string> prefix;
  if (::geteuid() == 0) {
    if (::access("/usr/bin/setpriv", X_OK) != 0) GTEST_SKIP() << "needs /usr/bin/setpriv (util-linux) as root";
    prefix = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all"};
  }
  std::string text = kGood;
  text.replace(text.find("127.0.0.1:${PORT}"), 17, "127.0.0.1:80");
  std::string path = writeConfig("port80.yaml", text);
  std::vector<std::string> argv = prefix;
  argv.insert(argv.end(), {WEIR_BIN, "-t", "-c", path});
  RunResult r = run(argv, Ms(10000), "weir-cli");
  if (readFile("/proc/sys/net/ipv4/ip_unprivileged_port_start").rfind("0", 0) == 0) {
    GTEST_SKIP() << "every port is unprivileged on this machine";
  }
  EXPECT_EQ(r.exitCode, 1) << r.out << r.err;
  EXPECT_EQ(r.err, path + ": listeners[0].address: 127.0.0.1:80: ports below 1024 need root or "
                          "CAP_NET_BIND_SERVICE\n");
}

// --- Start-up line and listener shorthands (issue 5) -----------------------------

TEST(Cli, StartLineListsListenersAndWorkers) {
  uint16_t second = freePort();
  Weir two("workers: 2\nlisteners:\n  - address: 127.0.0.1:${PORT}\n  - address: 127.0.0.1:${SECOND}\n" +
               poolConfig({"127.0.0.1:9"}),
           {{"SECOND", std::to_string(second)}});
  ASSERT_TRUE(two.ok()) << two.error();
  std::string expected = "started: listening on 127.0.0.1:" + std::to_string(two.port()) + ", 127.0.0.1:" +
                         std::to_string(second) + "; 2 workers";
  EXPECT_TRUE(two.waitForLogLine(two.errorLogPath(),
                                 [&](const std::string& l) { return l.find(expected) != std::string::npos; }))
      << "no line with '" << expected << "' in:\n" << two.errorLog();
  Weir one(poolConfig({"127.0.0.1:9"}));
  ASSERT_TRUE(one.ok()) << one.error();
  std::string single = "started: listening on 127.0.0.1:" + std::to_string(one.port()) + "; 1 worker";
  auto line = one.waitForLogLine(one.errorLogPath(),
                                 [&](const std::string& l) { return l.find(single) != std::string::npos; });
  ASSERT_TRUE(line) << "no line with '" << single << "' in:\n" << one.errorLog();
  EXPECT_EQ(line->substr(line->size() - single.size()), single);
}

// As in nginx and HAProxy, a port alone means every address (the integer
// form is what YAML makes of an unquoted 8080).
TEST(Cli, PortAloneListensOnEveryAddress) {
  for (const char* form : {"${PORT}", "\":${PORT}\""}) {
    SCOPED_TRACE(form);
    Weir weir(std::string("listeners:\n  - address: ") + form + "\n" + poolConfig({"127.0.0.1:9"}));
    ASSERT_TRUE(weir.ok()) << weir.error();
    std::string expected = "listening on 0.0.0.0:" + std::to_string(weir.port()) + ";";
    EXPECT_TRUE(weir.waitForLogLine(weir.errorLogPath(),
                                    [&](const std::string& l) { return l.find(expected) != std::string::npos; }))
        << weir.errorLog();
  }
}

TEST(Cli, CheckUnquotedAddressSaysToQuoteIt) {
  std::string text = kGood;
  text.replace(text.find("127.0.0.1:${PORT}"), 17, "[::1]:${PORT}");
  std::string path = writeConfig("unquoted.yaml", text);
  RunResult r = weirRun({"-t", "-c", path});
  EXPECT_EQ(r.exitCode, 1);
  std::regex re(escapeRegex(path) + R"(:3:14: invalid YAML: quote the address, as "\[::1\]:\d+" )");
  EXPECT_TRUE(std::regex_search(r.err, re)) << r.err;
}

}  // namespace
}  // namespace weir::itest
