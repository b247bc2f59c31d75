// SanitizeStyle (see css.h). Declarations are split on ';' outside quotes
// and parentheses, which is how a CSS parser reads a style attribute's
// declaration list for the purpose here: a piece that is not a clean
// "property: value" is dropped whole.
#include "preview/css.h"

#include <string>
#include <unordered_set>
#include <vector>

namespace mailvault::preview {
namespace {

const std::unordered_set<std::string_view>& Properties() {
  static const std::unordered_set<std::string_view> s = {"color",
                                                         "background",
                                                         "background-color",
                                                         "opacity",
                                                         "font",
                                                         "font-family",
                                                         "font-size",
                                                         "font-style",
                                                         "font-variant",
                                                         "font-weight",
                                                         "text-align",
                                                         "text-decoration",
                                                         "text-decoration-color",
                                                         "text-decoration-line",
                                                         "text-decoration-style",
                                                         "text-indent",
                                                         "text-transform",
                                                         "text-overflow",
                                                         "letter-spacing",
                                                         "word-spacing",
                                                         "line-height",
                                                         "vertical-align",
                                                         "white-space",
                                                         "word-wrap",
                                                         "word-break",
                                                         "overflow-wrap",
                                                         "direction",
                                                         "visibility",
                                                         "overflow",
                                                         "overflow-x",
                                                         "overflow-y",
                                                         "margin",
                                                         "margin-top",
                                                         "margin-right",
                                                         "margin-bottom",
                                                         "margin-left",
                                                         "padding",
                                                         "padding-top",
                                                         "padding-right",
                                                         "padding-bottom",
                                                         "padding-left",
                                                         "border",
                                                         "border-top",
                                                         "border-right",
                                                         "border-bottom",
                                                         "border-left",
                                                         "border-color",
                                                         "border-style",
                                                         "border-width",
                                                         "border-collapse",
                                                         "border-spacing",
                                                         "border-radius",
                                                         "border-top-color",
                                                         "border-right-color",
                                                         "border-bottom-color",
                                                         "border-left-color",
                                                         "border-top-style",
                                                         "border-right-style",
                                                         "border-bottom-style",
                                                         "border-left-style",
                                                         "border-top-width",
                                                         "border-right-width",
                                                         "border-bottom-width",
                                                         "border-left-width",
                                                         "border-top-left-radius",
                                                         "border-top-right-radius",
                                                         "border-bottom-left-radius",
                                                         "border-bottom-right-radius",
                                                         "width",
                                                         "height",
                                                         "max-width",
                                                         "min-width",
                                                         "max-height",
                                                         "min-height",
                                                         "display",
                                                         "float",
                                                         "clear",
                                                         "table-layout",
                                                         "caption-side",
                                                         "empty-cells",
                                                         "list-style-type",
                                                         "list-style-position"};
  return s;
}

const std::unordered_set<std::string_view>& Functions() {
  static const std::unordered_set<std::string_view> s = {"rgb", "rgba", "hsl", "hsla"};
  return s;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Splits on ';' outside quotes and parentheses.
std::vector<std::string_view> Declarations(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  char quote = 0;
  int depth = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      if (depth > 0) --depth;
    } else if (c == ';' && depth == 0) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  out.push_back(s.substr(start));
  return out;
}

bool IsIdentChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// True if the (lower-case) value is safe to keep. The characters and
// functions below are refused inside quoted strings too: a string never
// loads anything, but refusing them everywhere leaves no room for CSS parsers
// to disagree about where a string ends.
bool SafeValue(std::string_view v) {
  if (v.empty()) return false;
  char quote = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    auto c = static_cast<unsigned char>(v[i]);
    if (c < 0x20 || c == 0x7F) return false;
    switch (c) {
      case '"':
      case '\'':
        if (quote == 0) {
          quote = static_cast<char>(c);
        } else if (quote == static_cast<char>(c)) {
          quote = 0;
        }
        break;
      case '\\':
      case '@':
      case '{':
      case '}':
      case '<':
      case '>':
      case '`':
      case ';':
        return false;
      case '/':
        if (i + 1 < v.size() && v[i + 1] == '*') return false;
        break;
      case '*':
        if (i + 1 < v.size() && v[i + 1] == '/') return false;
        break;
      case '(': {
        size_t b = i;
        while (b > 0 && IsIdentChar(v[b - 1])) --b;
        if (!Functions().contains(v.substr(b, i - b))) return false;
        break;
      }
      default:
        break;
    }
  }
  if (quote != 0) return false;
  for (std::string_view bad : {"fixed", "absolute", "sticky", "expression", "javascript",
                               "vbscript", "behavior", "binding"}) {
    if (v.find(bad) != std::string_view::npos) return false;
  }
  return true;
}

// Runs of white space outside quotes become one space.
std::string Collapse(std::string_view v) {
  std::string out;
  char quote = 0;
  for (char c : v) {
    if (quote == 0 && IsSpace(c)) {
      if (!out.empty() && out.back() != ' ') out.push_back(' ');
      continue;
    }
    if (quote != 0 && c == quote) {
      quote = 0;
    } else if (quote == 0 && (c == '"' || c == '\'')) {
      quote = c;
    }
    out.push_back(c);
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace

StyleResult SanitizeStyle(std::string_view style) {
  StyleResult r;
  for (std::string_view decl : Declarations(style)) {
    decl = Trim(decl);
    if (decl.empty()) continue;
    size_t colon = decl.find(':');
    std::string name =
        colon == std::string_view::npos ? std::string() : Lower(Trim(decl.substr(0, colon)));
    std::string value =
        colon == std::string_view::npos ? std::string() : Lower(Trim(decl.substr(colon + 1)));
    if (!Properties().contains(name) || !SafeValue(value)) {
      ++r.removed;
      if (value.find("url(") != std::string::npos ||
          value.find("image-set(") != std::string::npos ||
          value.find("image(") != std::string::npos) {
        r.remote_image = true;
      }
      continue;
    }
    // The value's own case is kept (font names); only checks are on the
    // lower-case copy.
    std::string kept = Collapse(Trim(decl.substr(colon + 1)));
    if (!r.css.empty()) r.css += "; ";
    r.css += name;
    r.css += ": ";
    r.css += kept;
  }
  return r;
}

}  // namespace mailvault::preview
