// Text from a message (a header value, an address, a file name) made safe to
// show to a person: every character that is invisible, moves other text or
// is not text at all is replaced by a visible token, so "report\u202Efdp.exe"
// shows as "report⟨U+202E⟩fdp.exe" and never as "reportexe.pdf".
//
// Escaped, as ⟨U+XXXX⟩ (at least four upper-case hex digits):
//   - C0 and C1 controls and DEL (Unicode Cc), except TAB, which becomes a
//     space (folded headers keep it; it hides nothing);
//   - format characters (Unicode Cf, Unicode 15): the bidi embeddings,
//     overrides and isolates U+202A–U+202E and U+2066–U+2069, the marks
//     U+200E, U+200F and U+061C, the zero-width U+200B–U+200D, U+2060 and
//     U+FEFF, the soft hyphen U+00AD, tags U+E0001 and U+E0020–U+E007F, ...;
//   - the line and paragraph separators U+2028 and U+2029 (Zl, Zp);
//   - the fillers that draw nothing although they are letters or marks:
//     U+034F, U+115F, U+1160, U+17B4, U+17B5, U+3164, U+FFA0, and the other
//     default-ignorable code points U+FFF0–U+FFF8 and U+E0000–U+E0FFF (but
//     not the variation selectors U+E0100–U+E01EF).
// A byte that is not part of well-formed UTF-8 (a stray byte, an overlong
// form, a surrogate, a value above U+10FFFF, a cut sequence) becomes
// ⟨0xNN⟩, one token per byte. Everything else passes unchanged, so the
// result is well-formed UTF-8 with no bidi control left in it: a value
// cannot reorder its neighbours. The web console has the same rules in
// web/src/display.ts; keep the two in step.
//
// This is display only: stored bytes, search and JSON stay as received.
// Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace mailvault {

std::string DisplayText(std::string_view text);

// Whether DisplayText escapes the code point `c` (a scalar value).
bool IsHiddenCodePoint(char32_t c);

// The last extension of a file name as the receiving system sees it, shown
// beside the name so that the name's look cannot lie about its type:
// computed on DisplayText(name) after dropping trailing dots and spaces
// (which Windows drops) and anything up to the last '/' or '\'. ".exe" for
// "report\u202Efdp.exe", ".pdf⟨U+200B⟩" for "a.pdf\u200B", "" when the name
// has no '.' (a look-alike dot such as U+2024 is not a dot).
std::string FinalExtension(std::string_view name);

}  // namespace mailvault
