// Clean-up of header text (see text.h), over base/utf8.h's decoder rather
// than glib's: g_utf8_validate rejects embedded NULs, and the
// control-character filter needs code points.
#include "mime/text.h"

#include <cstdint>

#include "base/utf8.h"

namespace mailvault::mime {

std::string CleanText(std::string_view s, size_t max_bytes) {
  const bool utf8 = IsValidUtf8(s);
  std::string out;
  out.reserve(s.size() < max_bytes ? s.size() : max_bytes);
  std::string ch;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp;
    if (utf8) {
      i += DecodeUtf8(s, i, &cp);  // cannot be 0: validated above
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
