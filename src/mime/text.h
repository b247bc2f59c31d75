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

#include "base/utf8.h"

namespace mailvault::mime {

// Well-formed UTF-8 (base/utf8.h), named here for the callers of CleanText.
using ::mailvault::IsValidUtf8;

std::string CleanText(std::string_view s, size_t max_bytes);

// ASCII-only lower-casing (addr-specs are compared this way; non-ASCII bytes
// are left alone so UTF-8 stays valid).
std::string AsciiLower(std::string_view s);

}  // namespace mailvault::mime
