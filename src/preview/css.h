// Sanitizing the CSS of a style attribute.
//
// SanitizeStyle keeps the declarations of an allow-list of presentational
// properties (colours, fonts, text, box sizes, margins, padding, borders,
// display, tables, lists) whose values can neither load nor run anything:
// a value is dropped when it holds a function other than rgb(), rgba(),
// hsl() or hsla() (so no url(), expression(), var(), attr(), image-set(),
// gradients...), an escape (backslash), a comment, an at-sign, braces,
// angle brackets, unbalanced quotes, control characters, or the keywords
// fixed, absolute or sticky, anywhere in it (quoted strings included). Property names must be plain
// lower-case identifiers after lower-casing (no escapes, no vendor bindings such as -moz-binding or
// behavior). The result is the kept declarations as "name: value" joined by "; " with white space
// collapsed, so sanitizing it again gives the same text. Pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mailvault::preview {

struct StyleResult {
  std::string css;            // empty if nothing was kept
  size_t removed = 0;         // declarations dropped
  bool remote_image = false;  // a dropped value would have loaded a url()
};

StyleResult SanitizeStyle(std::string_view style);

}  // namespace mailvault::preview
