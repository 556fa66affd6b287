#include "weir/log/access_format.h"

#include <sys/time.h>

#include <array>
#include <atomic>
#include <charconv>
#include <cstring>
#include <ctime>

namespace weir::log {
namespace {

constexpr char kHex[] = "0123456789ABCDEF";

// Appends a string literal without strlen.
template <size_t N>
void lit(std::string& out, const char (&s)[N]) {
  out.append(s, N - 1);
}
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// Bytes that combined lines escape as \xHH: what nginx escapes by default
// ("escape=default"), which leaves only printable ASCII on the line.
constexpr std::array<bool, 256> kClfEscape = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) t[c] = c < 0x20 || c >= 0x7f || c == '"' || c == '\\';
  return t;
}();

void appendClfEscaped(std::string& out, std::string_view v) {
  const char* p = v.data();
  const char* end = p + v.size();
  while (p < end) {
    const char* run = p;
    while (p < end && !kClfEscape[static_cast<unsigned char>(*p)]) ++p;
    if (p > run) out.append(run, static_cast<size_t>(p - run));
    if (p == end) break;
    const auto c = static_cast<unsigned char>(*p++);
    const char esc[4] = {'\\', 'x', kHex[c >> 4], kHex[c & 15]};
    out.append(esc, 4);
  }
}

// A field, or `-` when it is empty.
void appendClfField(std::string& out, std::string_view v) {
  if (v.empty()) {
    out.push_back('-');
  } else {
    appendClfEscaped(out, v);
  }
}

// Length of the valid UTF-8 sequence at p (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF), or 0 if the bytes there are not one.
size_t utf8Sequence(const unsigned char* p, const unsigned char* end) {
  const unsigned char c = p[0];
  size_t n;
  unsigned char lo = 0x80, hi = 0xbf;  // range of the second byte
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (static_cast<size_t>(end - p) < n) return 0;
  if (p[1] < lo || p[1] > hi) return 0;
  for (size_t i = 2; i < n; ++i) {
    if (p[i] < 0x80 || p[i] > 0xbf) return 0;
  }
  return n;
}

// ASCII that a JSON string holds as is.
constexpr std::array<bool, 256> kJsonPlain = [] {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x7f; ++c) t[c] = c != '"' && c != '\\';
  return t;
}();

void appendJsonEscaped(std::string& out, std::string_view v) {
  const auto* p = reinterpret_cast<const unsigned char*>(v.data());
  const auto* end = p + v.size();
  while (p < end) {
    const auto* run = p;
    while (p < end && kJsonPlain[*p]) ++p;
    if (p > run) out.append(reinterpret_cast<const char*>(run), static_cast<size_t>(p - run));
    if (p == end) break;
    const unsigned char c = *p;
    if (c == '"' || c == '\\') {
      const char esc[2] = {'\\', static_cast<char>(c)};
      out.append(esc, 2);
      ++p;
      continue;
    }
    if (c >= 0x80) {
      if (size_t n = utf8Sequence(p, end); n > 0) {
        out.append(reinterpret_cast<const char*>(p), n);
        p += n;
        continue;
      }
    }
    // A control byte, DEL, or a byte that is not valid UTF-8: its code point
    // as if it were Latin-1, which keeps the line valid and the byte known.
    const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
    out.append(esc, 6);
    ++p;
  }
}

void appendJsonString(std::string& out, std::string_view v) {
  out.push_back('"');
  appendJsonEscaped(out, v);
  out.push_back('"');
}

void appendJsonStringOrNull(std::string& out, std::string_view v) {
  if (v.empty()) {
    lit(out, "null");
  } else {
    appendJsonString(out, v);
  }
}

void appendUnsigned(std::string& out, uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<size_t>(r.ptr - buf));
}

void appendInt(std::string& out, int v) {
  char buf[16];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<size_t>(r.ptr - buf));
}

// Seconds with millisecond resolution ("0.004"); null when negative (none).
void appendSecondsOrNull(std::string& out, double seconds) {
  if (seconds < 0) {
    lit(out, "null");
    return;
  }
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, seconds, std::chars_format::fixed, 3);
  if (r.ec != std::errc()) {
    lit(out, "null");
    return;
  }
  out.append(buf, static_cast<size_t>(r.ptr - buf));
}

void put2(char* p, int v) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

void put4(char* p, int v) {
  put2(p, v / 100);
  put2(p + 2, v % 100);
}

// Bumped by timeZoneChanged(): every thread's cache is stale then.
std::atomic<unsigned> g_zone_epoch{0};

// One formatted second, in one time zone, for one thread.
struct SecondText {
  int64_t sec = INT64_MIN;
  unsigned epoch = 0;
  char clf[26];     // "01/Dec/2026:19:36:43 +0000"
  char iso[19];     // "2026-12-01T19:36:43"
  char offset[6];   // "-05:00"
};

void formatSecond(SecondText& s, int64_t sec, LogTime tz) {
  time_t t = static_cast<time_t>(sec);
  tm parts{};
  if (tz == LogTime::kLocal) {
    localtime_r(&t, &parts);
  } else {
    gmtime_r(&t, &parts);
  }
  long off_min = (tz == LogTime::kLocal ? parts.tm_gmtoff : 0) / 60;
  const char sign = off_min < 0 ? '-' : '+';
  if (off_min < 0) off_min = -off_min;
  const int off_h = static_cast<int>(off_min / 60), off_m = static_cast<int>(off_min % 60);
  const int year = parts.tm_year + 1900;

  char* c = s.clf;
  put2(c, parts.tm_mday);
  c[2] = '/';
  std::memcpy(c + 3, kMonths[parts.tm_mon], 3);
  c[6] = '/';
  put4(c + 7, year);
  c[11] = ':';
  put2(c + 12, parts.tm_hour);
  c[14] = ':';
  put2(c + 15, parts.tm_min);
  c[17] = ':';
  put2(c + 18, parts.tm_sec);
  c[20] = ' ';
  c[21] = sign;
  put2(c + 22, off_h);
  put2(c + 24, off_m);

  char* i = s.iso;
  put4(i, year);
  i[4] = '-';
  put2(i + 5, parts.tm_mon + 1);
  i[7] = '-';
  put2(i + 8, parts.tm_mday);
  i[10] = 'T';
  std::memcpy(i + 11, c + 12, 8);  // hh:mm:ss

  s.offset[0] = sign;
  put2(s.offset + 1, off_h);
  s.offset[3] = ':';
  put2(s.offset + 4, off_m);
}

int64_t nowMs() {
  timeval tv{};
  gettimeofday(&tv, nullptr);
  return static_cast<int64_t>(tv.tv_sec) * 1000 + tv.tv_usec / 1000;
}

// The cached text for this second: localtime_r and the formatting run once
// per second per thread and zone.
const SecondText& secondText(int64_t sec, LogTime tz) {
  thread_local SecondText cache[2];
  SecondText& s = cache[tz == LogTime::kUtc ? 1 : 0];
  const unsigned epoch = g_zone_epoch.load(std::memory_order_relaxed);
  if (s.sec != sec || s.epoch != epoch) {
    formatSecond(s, sec, tz);
    s.sec = sec;
    s.epoch = epoch;
  }
  return s;
}

void appendProtocol(std::string& out, const AccessRecord& r) {
  const char v[8] = {'H', 'T', 'T', 'P', '/', static_cast<char>('0' + r.version_major % 10), '.',
                     static_cast<char>('0' + r.version_minor % 10)};
  out.append(v, 8);
}

}  // namespace

bool basicAuthUser(std::string_view auth, std::string& scratch, std::string_view& user) {
  auto trim = [](std::string_view& s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  };
  trim(auth);
  size_t sp = auth.find_first_of(" \t");
  if (sp != 5) return false;
  static constexpr char kBasic[] = "basic";
  for (size_t i = 0; i < 5; ++i) {
    char c = auth[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kBasic[i]) return false;
  }
  std::string_view b64 = auth.substr(sp);
  trim(b64);
  size_t pad = 0;
  while (pad < 2 && !b64.empty() && b64.back() == '=') {
    b64.remove_suffix(1);
    ++pad;
  }
  if (b64.empty() || b64.size() % 4 == 1 || (pad > 0 && (b64.size() + pad) % 4 != 0)) return false;
  scratch.clear();
  uint32_t acc = 0;
  int bits = 0;
  for (char ch : b64) {
    int v;
    if (ch >= 'A' && ch <= 'Z') v = ch - 'A';
    else if (ch >= 'a' && ch <= 'z') v = ch - 'a' + 26;
    else if (ch >= '0' && ch <= '9') v = ch - '0' + 52;
    else if (ch == '+') v = 62;
    else if (ch == '/') v = 63;
    else return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      scratch.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  size_t colon = scratch.find(':');
  if (colon == std::string::npos || colon == 0) return false;
  user = std::string_view(scratch).substr(0, colon);
  return true;
}

void appendCombined(const AccessRecord& r, LogTime tz, std::string& out) {
  const int64_t ms = r.time_ms >= 0 ? r.time_ms : nowMs();
  const SecondText& when = secondText(ms / 1000, tz);
  thread_local std::string auth_scratch;
  std::string_view user;

  appendClfField(out, r.client);
  lit(out, " - ");
  if (!r.authorization.empty() && basicAuthUser(r.authorization, auth_scratch, user)) {
    appendClfEscaped(out, user);
    lit(out, " [");
  } else {
    lit(out, "- [");
  }
  out.append(when.clf, sizeof when.clf);
  lit(out, "] \"");
  if (r.method.empty()) {
    out.push_back('-');
  } else {
    appendClfEscaped(out, r.method);
    if (!r.target.empty()) {
      out.push_back(' ');
      appendClfEscaped(out, r.target);
    }
    if (r.has_version) {
      out.push_back(' ');
      appendProtocol(out, r);
    }
  }
  lit(out, "\" ");
  appendInt(out, r.status);
  out.push_back(' ');
  appendUnsigned(out, r.body_bytes);
  lit(out, " \"");
  appendClfField(out, r.referer);
  lit(out, "\" \"");
  appendClfField(out, r.user_agent);
  lit(out, "\" \"");
  appendClfField(out, r.request_id);
  lit(out, "\" \"");
  appendClfField(out, r.cache_status);
  lit(out, "\"\n");
}

void appendJson(const AccessRecord& r, LogTime tz, std::string& out) {
  const int64_t ms = r.time_ms >= 0 ? r.time_ms : nowMs();
  const int64_t sec = ms / 1000;
  const SecondText& when = secondText(sec, tz);
  thread_local std::string auth_scratch;
  std::string_view user;

  lit(out, "{\"time\":\"");
  out.append(when.iso, sizeof when.iso);
  char frac[4] = {'.', 0, 0, 0};
  const int msec = static_cast<int>(ms - sec * 1000);
  frac[1] = static_cast<char>('0' + msec / 100);
  put2(frac + 2, msec % 100);
  out.append(frac, 4);
  out.append(when.offset, sizeof when.offset);
  lit(out, "\",\"client\":");
  appendJsonString(out, r.client);
  lit(out, ",\"user\":");
  if (!r.authorization.empty() && basicAuthUser(r.authorization, auth_scratch, user)) {
    appendJsonString(out, user);
  } else {
    lit(out, "null");
  }
  lit(out, ",\"host\":");
  appendJsonStringOrNull(out, r.host);
  lit(out, ",\"method\":");
  appendJsonStringOrNull(out, r.method);
  lit(out, ",\"target\":");
  appendJsonStringOrNull(out, r.target);
  lit(out, ",\"protocol\":");
  if (r.has_version) {
    out.push_back('"');
    appendProtocol(out, r);
    out.push_back('"');
  } else {
    lit(out, "null");
  }
  lit(out, ",\"status\":");
  appendInt(out, r.status);
  lit(out, ",\"body_bytes\":");
  appendUnsigned(out, r.body_bytes);
  lit(out, ",\"request_bytes\":");
  appendUnsigned(out, r.request_bytes);
  lit(out, ",\"referer\":");
  appendJsonStringOrNull(out, r.referer);
  lit(out, ",\"user_agent\":");
  appendJsonStringOrNull(out, r.user_agent);
  lit(out, ",\"upstream\":");
  appendJsonStringOrNull(out, r.upstream);
  lit(out, ",\"upstream_connect_time\":");
  appendSecondsOrNull(out, r.upstream_connect_time);
  lit(out, ",\"upstream_header_time\":");
  appendSecondsOrNull(out, r.upstream_header_time);
  lit(out, ",\"request_time\":");
  appendSecondsOrNull(out, r.request_time < 0 ? 0 : r.request_time);
  lit(out, ",\"error\":");
  appendJsonStringOrNull(out, r.error);
  lit(out, ",\"request_id\":");
  appendJsonStringOrNull(out, r.request_id);
  lit(out, ",\"cache_status\":");
  appendJsonStringOrNull(out, r.cache_status);
  lit(out, "}\n");
}

void timeZoneChanged() {
  tzset();
  g_zone_epoch.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace weir::log
