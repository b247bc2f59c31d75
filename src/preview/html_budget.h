// HtmlBudget: how much of an HTML document gumbo may parse.
//
// gumbo has no limits of its own, and hostile HTML makes it slow or huge:
// its scope checks walk the stack of open elements for every tag, so
// 100,000 nested <div> take 14 s (time grows with the square of the depth),
// and formatting elements left open are re-created for every later text
// ("<b a=1>...<b a=200></div>" then "<div>x</div>" over and over: 240 KB of
// input, 4 million nodes, 1.5 GB). HtmlParseLimit runs a model of gumbo's
// tree builder over the input in one pass (a tokenizer that follows the HTML
// tokenizer's states for tags, comments, raw text and script data, and a
// stack of open elements with the list of active formatting elements, scope
// rules, implied and ignored tags, select and table modes) and finds the
// longest prefix for which the model stays within the limits.
//
// The model must never close what gumbo keeps open (an element it wrongly
// keeps open is just as bad: a later table cell or paragraph pops down to
// it). Foreign content (SVG, MathML), templates and framesets have rules of
// their own that the model does not follow, so NeutralizeHtml first renames
// those tags (<svg> becomes <x-mv-svg>, an unknown element gumbo treats like
// a <span>); the sanitizer drops them with their content either way, and no
// namespace confusion can reach the tree. html_budget_test checks the model
// against gumbo on hostile patterns and random tag soup.
//
// Legitimate mail is far below the limits. Pure functions, thread-safe;
// time linear in the input times max_depth.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mailvault::preview {

struct HtmlLimits {
  size_t max_depth = 256;        // open elements at any time
  size_t max_elements = 200000;  // elements created, implied and re-created ones included
  size_t max_attributes = 256;   // on one tag
};

struct HtmlBudget {
  size_t limit = 0;      // bytes of the input gumbo may parse
  bool cut = false;      // limit < input size because a limit was reached
  size_t max_depth = 0;  // the model's deepest stack within `limit`
  size_t elements = 0;   // elements the model created within `limit`
};

// `html` with the start and end tags of svg, math, template and frameset
// renamed to x-mv-svg, x-mv-math, x-mv-template and x-mv-frameset (also
// where such text sits in attribute values, comments or raw text).
std::string NeutralizeHtml(std::string_view html);

// For HTML that went through NeutralizeHtml (an svg, math, template or
// frameset start tag ends the allowed prefix).
HtmlBudget HtmlParseLimit(std::string_view html, const HtmlLimits& limits = {});

}  // namespace mailvault::preview
