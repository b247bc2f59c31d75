// HtmlTree: an HTML document parsed by gumbo, within the parse budget.
//
// The sanitizer and the HTML-to-text conversion share this parse. The input
// has its svg, math, template and frameset tags renamed (NeutralizeHtml), is
// cut where the budget (html_budget.h) says gumbo would get too deep or too
// big, and is parsed as a standards-mode document (a doctype is put in
// front: mail HTML rarely has one, and a quirks-mode tree, where a <table>
// may sit inside a <p>, does not parse back to itself in the standards-mode
// document the sanitizer writes). The tree is walked without recursion.
// Internal to src/preview. One HtmlTree per thread; gumbo keeps no global
// state.
#pragma once

#include <gumbo.h>

#include <functional>
#include <string>
#include <string_view>

#include "preview/html_budget.h"

namespace mailvault::preview {

class HtmlTree {
 public:
  // Never fails: gumbo makes a tree of any bytes.
  explicit HtmlTree(std::string_view html, const HtmlLimits& limits = {});
  ~HtmlTree();
  HtmlTree(const HtmlTree&) = delete;
  HtmlTree& operator=(const HtmlTree&) = delete;

  // The <body> element; null for a frameset document.
  const GumboNode* body() const;
  // True if the budget cut the input.
  bool truncated() const { return truncated_; }

 private:
  std::string input_;  // gumbo points into it
  GumboOutput* output_;
  bool truncated_;
};

// Depth-first walk of `root` and its descendants without recursion.
// `enter` is called for every node and says whether to visit its children;
// `leave` is called for each node whose children were visited (after them).
void WalkTree(const GumboNode* root, const std::function<bool(const GumboNode&)>& enter,
              const std::function<void(const GumboNode&)>& leave);

// The children of an element, document or template node (empty for others).
const GumboVector* Children(const GumboNode& node);

// Lower-case tag name of an element ("" for other nodes); unknown tags by
// their name in the source, or "x-unknown" where that text reads as a known
// name.
std::string TagName(const GumboNode& node);

}  // namespace mailvault::preview
