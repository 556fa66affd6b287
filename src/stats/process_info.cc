#include "weir/stats/process_info.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

namespace weir::stats {

double unixNow() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

std::string hashHex(uint64_t hash) {
  char text[17];
  std::snprintf(text, sizeof(text), "%016llx", static_cast<unsigned long long>(hash));
  return text;
}

ProcessInfo::ProcessInfo(const config::Config& loaded) {
  const double now = unixNow();
  s_.start_time = now;
  adopt(loaded, now);
}

void ProcessInfo::adopt(const config::Config& c, double now) {
  s_.config_file = c.source;
  s_.config_hash = c.hash;
  s_.config_loaded_at = now;
  s_.listeners.clear();
  for (const auto& l : c.listeners) s_.listeners.push_back(l.addr.toString());
}

void ProcessInfo::reloadSucceeded(const config::Config& loaded) {
  const double now = unixNow();
  std::lock_guard<std::mutex> lock(mu_);
  adopt(loaded, now);
  ++s_.reloads_ok;
  s_.last_reload_ok = true;
  s_.last_reload_at = now;
  s_.last_reload_error.clear();
}

void ProcessInfo::reloadFailed(const std::string& why) {
  const double now = unixNow();
  std::lock_guard<std::mutex> lock(mu_);
  ++s_.reloads_failed;
  s_.last_reload_ok = false;
  s_.last_reload_at = now;
  s_.last_reload_error = why;
}

ProcessInfo::Snapshot ProcessInfo::snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return s_;
}

namespace {

// utime and stime, fields 14 and 15 of /proc/self/stat, after the command
// name (which may hold spaces and parentheses: skip to the last ')').
double cpuSeconds() {
  FILE* f = std::fopen("/proc/self/stat", "re");
  if (f == nullptr) return 0;
  char buf[1024];
  size_t n = std::fread(buf, 1, sizeof(buf) - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  const char* p = std::strrchr(buf, ')');
  if (p == nullptr) return 0;
  unsigned long long utime = 0, stime = 0;
  // Fields 3..13 are skipped: state, ppid, pgrp, session, tty, tpgid, flags,
  // minflt, cminflt, majflt, cmajflt.
  if (std::sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2) return 0;
  const long hz = sysconf(_SC_CLK_TCK);
  return hz > 0 ? static_cast<double>(utime + stime) / static_cast<double>(hz) : 0;
}

uint64_t residentBytes() {
  FILE* f = std::fopen("/proc/self/statm", "re");
  if (f == nullptr) return 0;
  unsigned long long size = 0, resident = 0;
  int got = std::fscanf(f, "%llu %llu", &size, &resident);
  std::fclose(f);
  if (got != 2) return 0;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

uint64_t openFds() {
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) return 0;
  uint64_t n = 0;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n > 0 ? n - 1 : 0;  // the directory stream's own descriptor
}

}  // namespace

ProcessUsage readProcessUsage() {
  ProcessUsage u;
  u.cpu_seconds = cpuSeconds();
  u.resident_bytes = residentBytes();
  u.open_fds = openFds();
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0) u.max_fds = lim.rlim_cur == RLIM_INFINITY ? 0 : lim.rlim_cur;
  return u;
}

}  // namespace weir::stats
