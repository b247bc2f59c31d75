// UTF-8 at the byte level: the one decoder the code base uses to tell
// well-formed text from arbitrary bytes (message bytes are not text:
// CONVENTIONS.md 14). Pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mailvault {

// Decodes one UTF-8 sequence at s[i] (i < s.size()). Returns its length
// (1-4) and sets *cp, or 0 if the bytes at i are not a well-formed sequence
// (overlong forms, surrogates and values above U+10FFFF are not).
size_t DecodeUtf8(std::string_view s, size_t i, uint32_t* cp);

// Appends the UTF-8 form of code point `cp` (at most U+10FFFF).
void AppendUtf8(uint32_t cp, std::string* out);

// True if `s` is well-formed UTF-8. NUL bytes are valid UTF-8.
bool IsValidUtf8(std::string_view s);

}  // namespace mailvault
