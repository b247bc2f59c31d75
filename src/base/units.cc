#include "base/units.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace mailvault {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Splits "7.32GB" into 7.32 and "gb".
bool SplitNumber(std::string_view text, double* number, std::string* unit) {
  text = Trim(text);
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
    ++i;
  if (i == 0) return false;
  std::string digits(text.substr(0, i));
  char* end = nullptr;
  *number = std::strtod(digits.c_str(), &end);
  if (end != digits.c_str() + digits.size() || !std::isfinite(*number)) return false;
  *unit = Lower(Trim(text.substr(i)));
  return true;
}

}  // namespace

Result<uint64_t> ParseSize(std::string_view text) {
  double n = 0;
  std::string unit;
  if (!SplitNumber(text, &n, &unit)) {
    return Status::InvalidArgument("not a size: \"" + std::string(text) + "\" (try 7.32GB)");
  }
  double mult = 0;
  if (unit.empty() || unit == "b")
    mult = 1;
  else if (unit == "kb" || unit == "k")
    mult = 1e3;
  else if (unit == "mb" || unit == "m")
    mult = 1e6;
  else if (unit == "gb" || unit == "g")
    mult = 1e9;
  else if (unit == "tb" || unit == "t")
    mult = 1e12;
  else if (unit == "kib")
    mult = 1024.0;
  else if (unit == "mib")
    mult = 1024.0 * 1024;
  else if (unit == "gib")
    mult = 1024.0 * 1024 * 1024;
  else if (unit == "tib")
    mult = 1024.0 * 1024 * 1024 * 1024;
  else
    return Status::InvalidArgument("unknown size unit \"" + unit + "\" in \"" + std::string(text) +
                                   "\"");
  double bytes = n * mult;
  if (bytes > 9.2e18) return Status::InvalidArgument("size too large: " + std::string(text));
  return static_cast<uint64_t>(std::llround(bytes));
}

std::string FormatSize(uint64_t bytes) {
  static const char* kUnits[] = {"B", "KB", "MB", "GB", "TB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1000 && u < 4) {
    v /= 1000;
    ++u;
  }
  char buf[32];
  if (u == 0)
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  else
    std::snprintf(buf, sizeof buf,
                  v < 10    ? "%.2f %s"
                  : v < 100 ? "%.1f %s"
                            : "%.0f %s",
                  v, kUnits[u]);
  return buf;
}

Result<int64_t> ParseDurationMicros(std::string_view text) {
  double n = 0;
  std::string unit;
  if (!SplitNumber(text, &n, &unit)) {
    return Status::InvalidArgument("not a duration: \"" + std::string(text) + "\" (try 30s)");
  }
  double mult = 0;
  if (unit == "us")
    mult = 1;
  else if (unit == "ms")
    mult = 1e3;
  else if (unit.empty() || unit == "s")
    mult = 1e6;
  else if (unit == "m" || unit == "min")
    mult = 60e6;
  else if (unit == "h")
    mult = 3600e6;
  else if (unit == "d")
    mult = 86400e6;
  else if (unit == "w")
    mult = 7 * 86400e6;
  else
    return Status::InvalidArgument("unknown duration unit \"" + unit + "\"");
  double micros = n * mult;
  // llround of a value outside int64 is undefined; nothing needs more than
  // a few centuries.
  if (std::fabs(micros) > 9.2e18) {
    return Status::InvalidArgument("duration too long: \"" + std::string(text) + "\"");
  }
  return static_cast<int64_t>(std::llround(micros));
}

Status CheckPositiveSize(uint64_t bytes) {
  if (bytes == 0) return Status::InvalidArgument("must be more than 0");
  return Status::Ok();
}

Status CheckPositiveDuration(int64_t micros) {
  constexpr int64_t kMaxMicros = 100LL * 365 * 86'400'000'000;
  if (micros <= 0) return Status::InvalidArgument("must be more than 0");
  if (micros > kMaxMicros) return Status::InvalidArgument("must be at most 100 years");
  return Status::Ok();
}

Result<uint64_t> ParsePositiveSize(std::string_view text) {
  MV_ASSIGN_OR_RETURN(uint64_t bytes, ParseSize(text));
  MV_RETURN_IF_ERROR(CheckPositiveSize(bytes));
  return bytes;
}

Result<int64_t> ParsePositiveDuration(std::string_view text) {
  MV_ASSIGN_OR_RETURN(int64_t micros, ParseDurationMicros(text));
  MV_RETURN_IF_ERROR(CheckPositiveDuration(micros));
  return micros;
}

Result<int64_t> ParseRfc3339(std::string_view text) {
  std::string s(Trim(text));
  int y, mo, d, h = 0, mi = 0, sec = 0;
  int consumed = 0;
  auto bad = [&] {
    return Status::InvalidArgument("not an RFC 3339 time: \"" + s +
                                   "\" (try 2026-11-22T08:00:00Z)");
  };
  if (std::sscanf(s.c_str(), "%4d-%2d-%2d%n", &y, &mo, &d, &consumed) != 3) return bad();
  size_t pos = static_cast<size_t>(consumed);
  int64_t frac_us = 0;
  int64_t offset_s = 0;
  if (pos < s.size()) {
    if (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') return bad();
    ++pos;
    if (std::sscanf(s.c_str() + pos, "%2d:%2d:%2d%n", &h, &mi, &sec, &consumed) != 3) return bad();
    pos += static_cast<size_t>(consumed);
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      int64_t scale = 100000;
      while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
        frac_us += (s[pos] - '0') * scale;
        scale /= 10;
        ++pos;
      }
    }
    if (pos >= s.size()) return bad();
    if (s[pos] == 'Z' || s[pos] == 'z') {
      ++pos;
    } else if (s[pos] == '+' || s[pos] == '-') {
      int oh, om;
      if (std::sscanf(s.c_str() + pos + 1, "%2d:%2d%n", &oh, &om, &consumed) != 2) return bad();
      offset_s = (oh * 3600 + om * 60) * (s[pos] == '+' ? 1 : -1);
      pos += 1 + static_cast<size_t>(consumed);
    } else {
      return bad();
    }
    if (pos != s.size()) return bad();
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return bad();
  struct tm tm = {};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  time_t t = timegm(&tm);
  return (static_cast<int64_t>(t) - offset_s) * 1000000 + frac_us;
}

std::string FormatRfc3339(int64_t micros) {
  int64_t secs = micros / 1000000;
  int64_t frac = micros % 1000000;
  if (frac < 0) {
    frac += 1000000;
    --secs;
  }
  time_t t = static_cast<time_t>(secs);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[64];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out(buf, n);
  if (frac != 0) {
    char f[16];
    std::snprintf(f, sizeof f, ".%06lld", static_cast<long long>(frac));
    out += f;
  }
  out += 'Z';
  return out;
}

}  // namespace mailvault
