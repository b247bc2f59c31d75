// UTF-8 validation and clean-up of header text (see text.h). Written by hand
// rather than with glib because g_utf8_validate rejects embedded NULs and we
// need a decoder that reports code points for the control-character filter.
#include "mime/text.h"

#include <cstdint>

namespace mailvault::mime {
namespace {

// Decodes one UTF-8 sequence at s[i]. Returns its length (1-4) and sets *cp,
// or 0 if the bytes at i are not a well-formed sequence.
size_t DecodeOne(std::string_view s, size_t i, uint32_t* cp) {
  const auto b = [&](size_t k) { return static_cast<uint8_t>(s[i + k]); };
  const size_t left = s.size() - i;
  const uint8_t c = b(0);
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  size_t len;
  uint32_t v;
  uint32_t min;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2, v = c & 0x1F, min = 0x80;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3, v = c & 0x0F, min = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4, v = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (left < len) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((b(k) & 0xC0) != 0x80) return 0;
    v = (v << 6) | (b(k) & 0x3F);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return len;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  uint32_t cp;
  for (size_t i = 0; i < s.size();) {
    size_t n = DecodeOne(s, i, &cp);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string CleanText(std::string_view s, size_t max_bytes) {
  const bool utf8 = IsValidUtf8(s);
  std::string out;
  out.reserve(s.size() < max_bytes ? s.size() : max_bytes);
  std::string ch;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp;
    if (utf8) {
      i += DecodeOne(s, i, &cp);  // cannot be 0: validated above
    } else {
      cp = static_cast<uint8_t>(s[i++]);  // Latin-1: byte value = code point
    }
    if (cp == '\t' || cp == '\r' || cp == '\n') {
      cp = ' ';
    } else if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) {
      continue;
    }
    if (cp == ' ' && out.empty()) continue;  // leading spaces
    ch.clear();
    AppendUtf8(cp, &ch);
    if (out.size() + ch.size() > max_bytes) break;
    out += ch;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace mailvault::mime
