// user:/group: (issue 5): started as root, weir binds and opens its logs,
// then runs as the configured user in every thread; started as anyone else
// it warns and goes on.
#include <dirent.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sstream>
#include <thread>

#include "harness.h"

namespace weir::itest {
namespace {

// "Uid:" / "Gid:" values (real, effective, saved, filesystem) of each thread.
std::vector<std::string> threadIdLines(pid_t pid, const std::string& key) {
  std::vector<std::string> out;
  std::string dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::istringstream status(readFile(dir + "/" + e->d_name + "/status"));
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind(key + ":", 0) == 0) out.push_back(line);
    }
  }
  ::closedir(d);
  return out;
}

std::string idLine(const std::string& key, unsigned id) {
  std::string s = std::to_string(id);
  return key + ":\t" + s + "\t" + s + "\t" + s + "\t" + s;
}

uid_t ownerOf(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 ? info.st_uid : static_cast<uid_t>(-1);
}

TEST(Privileges, UserNobodyServesWithItsIdsInEveryThread) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  passwd* nobody = ::getpwnam("nobody");
  if (nobody == nullptr) GTEST_SKIP() << "no user nobody";
  const uid_t uid = nobody->pw_uid;
  const gid_t gid = nobody->pw_gid;
  Origin origin("a");
  ASSERT_TRUE(origin.ok()) << origin.error();
  Weir weir("workers: 2\nuser: nobody\n" + poolConfig({origin.address()}));
  ASSERT_TRUE(weir.ok()) << weir.error();
  EXPECT_EQ(curl(weir.url("/as-nobody")).status, 200);

  std::vector<std::string> uids = threadIdLines(weir.pid(), "Uid");
  std::vector<std::string> gids = threadIdLines(weir.pid(), "Gid");
  ASSERT_GE(uids.size(), 3u) << "expected the main thread, 2 workers and the log writer";
  for (const std::string& line : uids) EXPECT_EQ(line, idLine("Uid", uid));
  for (const std::string& line : gids) EXPECT_EQ(line, idLine("Gid", gid));
  for (const std::string& line : threadIdLines(weir.pid(), "Groups")) {
    std::istringstream ids(line.substr(7));
    for (unsigned g; ids >> g;) EXPECT_NE(g, 0u) << "root's group kept: " << line;
  }
  EXPECT_TRUE(weir.waitForLogLine(weir.errorLogPath(), [](const std::string& l) {
    return l.find("running as user nobody") != std::string::npos;
  })) << weir.errorLog();

  // The logs weir opened as root now belong to nobody, so reopening them
  // (SIGUSR1) as nobody still works.
  EXPECT_EQ(ownerOf(weir.accessLogPath()), uid);
  EXPECT_EQ(ownerOf(weir.errorLogPath()), uid);
  weir.process().signal(SIGUSR1);
  ASSERT_TRUE(weir.waitForLogLine(weir.errorLogPath(), [](const std::string& l) {
    return l.find("reopening log files") != std::string::npos;
  }));
  std::optional<std::string> line;
  for (int i = 0; i < 20 && !line; ++i) {
    ASSERT_EQ(curl(weir.url("/after-reopen")).status, 200);
    line = weir.waitForLogLine(weir.accessLogPath(),
                               [](const std::string& l) { return l.find("/after-reopen") != std::string::npos; },
                               Ms(250));
  }
  EXPECT_TRUE(line) << "no access-log line after SIGUSR1";
  EXPECT_EQ(weir.errorLog().find("log reopen"), std::string::npos) << weir.errorLog();
}

// Started as root with user: and an admin listener, weir upgrades in place:
// the new process runs as nobody from its first instruction, so it cannot
// bind what root bound; it takes the data and admin sockets handed over,
// and rewrites the pid file the old process handed to nobody.
TEST(Privileges, UpgradeAsUserKeepsTheAdminListenerAndThePidFile) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  if (::getpwnam("nobody") == nullptr) GTEST_SKIP() << "no user nobody";
  Origin origin("a");
  ASSERT_TRUE(origin.ok()) << origin.error();
  // nobody re-reads the file on upgrade.
  ::chmod(testDir().c_str(), 0755);
  const uint16_t admin_port = freePort();
  Weir weir("user: nobody\npid_file: ${TMP}/weir.pid\nadmin:\n  address: 127.0.0.1:" + std::to_string(admin_port) +
            "\n" + poolConfig({origin.address()}));
  ASSERT_TRUE(weir.ok()) << weir.error();
  ::chmod(weir.configPath().c_str(), 0644);
  const std::string pid_file = testDir() + "/weir.pid";
  for (int i = 0; i < 250 && readFile(pid_file).empty(); ++i) std::this_thread::sleep_for(Ms(20));
  RunResult r = run({WEIR_BIN, "-c", weir.configPath(), "-s", "upgrade"}, Ms(40000), "weir-s-upgrade");
  const pid_t next = static_cast<pid_t>(std::atol(readFile(pid_file).c_str()));
  struct Stop {
    pid_t pid;
    ~Stop() {
      if (pid <= 0) return;
      ::kill(pid, SIGTERM);
      for (int i = 0; i < 200 && ::kill(pid, 0) == 0; ++i) std::this_thread::sleep_for(Ms(25));
      if (::kill(pid, 0) == 0) ::kill(pid, SIGKILL);
    }
  } stop{next != weir.pid() ? next : 0};
  ASSERT_EQ(r.exitCode, 0) << r.err << weir.errorLog();
  EXPECT_NE(next, weir.pid());
  EXPECT_EQ(curl(weir.url("/after-upgrade")).status, 200);
  CurlResult status = curl("http://127.0.0.1:" + std::to_string(admin_port) + "/status.json");
  EXPECT_EQ(status.status, 200);
  EXPECT_NE(status.body.find("\"pid\":" + std::to_string(next) + ","), std::string::npos) << status.body.substr(0, 200);
  EXPECT_EQ(threadIdLines(next, "Uid").front(), idLine("Uid", ::getpwnam("nobody")->pw_uid));
}

// As nginx does: user: only means something when started as root.
TEST(Privileges, NonRootStartWithUserWarnsAndServes) {
  std::vector<std::string> prefix;
  if (::geteuid() == 0) {
    if (::access("/usr/bin/setpriv", X_OK) != 0) GTEST_SKIP() << "needs /usr/bin/setpriv (util-linux) as root";
    prefix = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all"};
  }
  Origin origin("a");
  ASSERT_TRUE(origin.ok()) << origin.error();
  uint16_t port = freePort();
  std::string config = testDir() + "/nonroot.yaml";
  writeFile(config, "workers: 1\nuser: root\nlisteners: [{ address: 127.0.0.1:" + std::to_string(port) +
                        " }]\naccess_log: off\nerror_log: { path: /dev/stderr }\n" + poolConfig({origin.address()}));
  std::vector<std::string> argv = prefix;
  argv.insert(argv.end(), {WEIR_BIN, "-c", config});
  Process p(argv, "weir-nonroot");
  ASSERT_TRUE(waitForPort(port, Ms(5000))) << p.stderrText();
  EXPECT_EQ(curl("http://127.0.0.1:" + std::to_string(port) + "/").status, 200);
  EXPECT_NE(p.stderrText().find("user: \"root\" is ignored: weir was not started as root"), std::string::npos)
      << p.stderrText();
}

}  // namespace
}  // namespace weir::itest
