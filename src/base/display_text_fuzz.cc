// libFuzzer target: DisplayText's promises on any bytes (display_text.h).
// The output is well-formed UTF-8 with no hidden code point in it (so no
// bidi control or terminal escape survives), showing it again changes
// nothing, plain printable ASCII passes unchanged, and FinalExtension is a
// suffix of the shown name. Built by tests/fuzz/CMakeLists.txt.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/display_text.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

// Strict UTF-8 (the same rules as the decoder under test, written plainly):
// returns false on any ill-formed sequence or a hidden code point.
bool CleanUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    char32_t cp = n == 1 ? c : c & (0x7F >> n);
    for (size_t k = 1; k < n; ++k) {
      const auto t = static_cast<unsigned char>(s[i + k]);
      if ((t & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (t & 0x3F);
    }
    static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    if (mailvault::IsHiddenCodePoint(cp)) return false;
    i += n;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::string shown = mailvault::DisplayText(in);
  Check(CleanUtf8(shown));
  Check(mailvault::DisplayText(shown) == shown);
  bool printable = true;
  for (unsigned char c : in) printable = printable && c >= 0x20 && c < 0x7F;
  if (printable) Check(shown == in);
  const std::string ext = mailvault::FinalExtension(in);
  Check(ext.empty() || (ext[0] == '.' && shown.find(ext) != std::string::npos));
  return 0;
}
