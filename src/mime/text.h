// Making untrusted header text safe to index and display.
//
// Everything ExtractMetadata returns passes through CleanText: the result is
// valid UTF-8 (input that is not valid UTF-8 is taken as Latin-1, the usual
// charset of undeclared 8-bit mail headers), has no control characters (tab,
// CR and LF become spaces; other C0, DEL and C1 controls are dropped), has no
// leading or trailing spaces and is at most `max_bytes` long, cut at a
// character boundary. Pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mailvault::mime {

// True if `s` is well-formed UTF-8 (no overlong forms, no surrogates, nothing
// above U+10FFFF). NUL bytes are valid UTF-8.
bool IsValidUtf8(std::string_view s);

std::string CleanText(std::string_view s, size_t max_bytes);

// ASCII-only lower-casing (addr-specs are compared this way; non-ASCII bytes
// are left alone so UTF-8 stays valid).
std::string AsciiLower(std::string_view s);

}  // namespace mailvault::mime
