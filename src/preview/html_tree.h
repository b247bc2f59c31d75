// HtmlTree: an HTML document parsed by gumbo.
//
// The sanitizer and the HTML-to-text conversion share this parse. The input
// has the start and end tags of svg, math, template and frameset renamed to
// x-mv-svg, x-mv-math, x-mv-template and x-mv-frameset (unknown elements the
// sanitizer drops with their content), so that no foreign-content or
// template parsing rule, and no namespace confusion, reaches the tree; it
// is parsed as a standards-mode document (a doctype is put in
// front: mail HTML rarely has one, and a quirks-mode tree, where a <table>
// may sit inside a <p>, does not parse back to itself in the standards-mode
// document the sanitizer writes). The tree is walked without recursion.
// gumbo has no limits of its own: hostile HTML can make it slow (100,000
// nested <div> take seconds) or huge (formatting elements re-created for
// every text). The parse is bounded by the process it runs in: only the
// sandboxed helper (helper_main.cc) parses mail HTML, under its CPU, memory
// and wall-clock limits. Internal to src/preview. One HtmlTree per thread;
// gumbo keeps no global state.
#pragma once

#include <gumbo.h>

#include <functional>
#include <string>
#include <string_view>

namespace mailvault::preview {

class HtmlTree {
 public:
  // Never fails: gumbo makes a tree of any bytes.
  explicit HtmlTree(std::string_view html);
  ~HtmlTree();
  HtmlTree(const HtmlTree&) = delete;
  HtmlTree& operator=(const HtmlTree&) = delete;

  // The <body> element; null for a frameset document.
  const GumboNode* body() const;

 private:
  std::string input_;  // gumbo points into it
  GumboOutput* output_;
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
