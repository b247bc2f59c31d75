// DisplayText over base/utf8.h's decoder, and the table of code points that
// are shown as tokens.
#include "base/display_text.h"

#include <cstdint>
#include <cstdio>
#include <iterator>

#include "base/utf8.h"

namespace mailvault {
namespace {

struct Range {
  char32_t first, last;
};

// Sorted, disjoint. Cc, Cf (Unicode 15.0), Zl, Zp, and the invisible
// fillers and default-ignorable code points named in display_text.h.
constexpr Range kHidden[] = {
    {0x0000, 0x0008},   {0x000A, 0x001F},   {0x007F, 0x009F},   {0x00AD, 0x00AD},
    {0x034F, 0x034F},   {0x0600, 0x0605},   {0x061C, 0x061C},   {0x06DD, 0x06DD},
    {0x070F, 0x070F},   {0x0890, 0x0891},   {0x08E2, 0x08E2},   {0x115F, 0x1160},
    {0x17B4, 0x17B5},   {0x180E, 0x180E},   {0x200B, 0x200F},   {0x2028, 0x202E},
    {0x2060, 0x206F},   {0x3164, 0x3164},   {0xFEFF, 0xFEFF},   {0xFFA0, 0xFFA0},
    {0xFFF0, 0xFFFB},   {0x110BD, 0x110BD}, {0x110CD, 0x110CD}, {0x13430, 0x1343F},
    {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A}, {0xE0000, 0xE00FF}, {0xE01F0, 0xE0FFF},
};

// One decoded step: a scalar value and its length, or len 0 for a byte that
// does not start a well-formed sequence (base/utf8.h).
struct Step {
  char32_t cp = 0;
  size_t len = 0;
};

Step Decode(std::string_view s, size_t i) {
  uint32_t cp = 0;
  const size_t len = DecodeUtf8(s, i, &cp);
  return {static_cast<char32_t>(cp), len};
}

void AppendToken(std::string& out, const char* format, unsigned value) {
  char buf[16];
  int n = std::snprintf(buf, sizeof buf, format, value);
  out += "\u27E8";
  out.append(buf, static_cast<size_t>(n));
  out += "\u27E9";
}

}  // namespace

bool IsHiddenCodePoint(char32_t c) {
  size_t lo = 0, hi = std::size(kHidden);
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (c < kHidden[mid].first) {
      hi = mid;
    } else if (c > kHidden[mid].last) {
      lo = mid + 1;
    } else {
      return true;
    }
  }
  return false;
}

std::string DisplayText(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    Step st = Decode(text, i);
    if (st.len == 0) {
      AppendToken(out, "0x%02X", static_cast<unsigned char>(text[i]));
      ++i;
      continue;
    }
    if (st.cp == '\t') {
      out += ' ';
    } else if (IsHiddenCodePoint(st.cp)) {
      AppendToken(out, "U+%04X", static_cast<unsigned>(st.cp));
    } else {
      out.append(text.substr(i, st.len));
    }
    i += st.len;
  }
  return out;
}

std::string FinalExtension(std::string_view name) {
  const std::string shown = DisplayText(name);
  std::string_view s = shown;
  while (!s.empty() && (s.back() == '.' || s.back() == ' ')) s.remove_suffix(1);
  size_t slash = s.find_last_of("/\\");
  if (slash != std::string_view::npos) s.remove_prefix(slash + 1);
  size_t dot = s.rfind('.');
  if (dot == std::string_view::npos) return "";
  return std::string(s.substr(dot));
}

}  // namespace mailvault
