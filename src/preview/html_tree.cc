#include "preview/html_tree.h"

#include <utility>
#include <vector>

namespace mailvault::preview {
namespace {

GumboOptions Options() {
  GumboOptions options = kGumboDefaultOptions;
  options.max_errors = 0;  // errors are not used; do not keep a list of them
  return options;
}

}  // namespace

HtmlTree::HtmlTree(std::string_view html, const HtmlLimits& limits) {
  std::string neutral = NeutralizeHtml(html);
  HtmlBudget budget = HtmlParseLimit(neutral, limits);
  truncated_ = budget.cut;
  input_ = "<!DOCTYPE html>";
  input_.append(neutral, 0, budget.limit);
  GumboOptions options = Options();
  output_ = gumbo_parse_with_options(&options, input_.data(), input_.size());
}

HtmlTree::~HtmlTree() {
  GumboOptions options = Options();
  gumbo_destroy_output(&options, output_);
}

const GumboNode* HtmlTree::body() const {
  const GumboVector* children = Children(*output_->root);
  for (unsigned i = 0; i < children->length; ++i) {
    const auto* node = static_cast<const GumboNode*>(children->data[i]);
    if (node->type == GUMBO_NODE_ELEMENT && node->v.element.tag == GUMBO_TAG_BODY) return node;
  }
  return nullptr;
}

const GumboVector* Children(const GumboNode& node) {
  static const GumboVector kEmpty = {nullptr, 0, 0};
  switch (node.type) {
    case GUMBO_NODE_DOCUMENT:
      return &node.v.document.children;
    case GUMBO_NODE_ELEMENT:
    case GUMBO_NODE_TEMPLATE:
      return &node.v.element.children;
    default:
      return &kEmpty;
  }
}

std::string TagName(const GumboNode& node) {
  if (node.type != GUMBO_NODE_ELEMENT && node.type != GUMBO_NODE_TEMPLATE) return {};
  const GumboElement& e = node.v.element;
  std::string name;
  if (e.tag != GUMBO_TAG_UNKNOWN) {
    name = gumbo_normalized_tagname(e.tag);
  } else {
    GumboStringPiece piece = e.original_tag;
    gumbo_tag_from_original_text(&piece);
    name.assign(piece.data == nullptr ? "" : piece.data, piece.length);
    // The source text can spell a known name where the parser read another
    // ("<tr\v>" is the unknown tag "tr\v"; the text ends at the \v): such an
    // element must not pass for the known one.
    if (gumbo_tagn_enum(name.data(), static_cast<unsigned>(name.size())) != GUMBO_TAG_UNKNOWN) {
      name = "x-unknown";
    }
  }
  for (char& c : name) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return name;
}

void WalkTree(const GumboNode* root, const std::function<bool(const GumboNode&)>& enter,
              const std::function<void(const GumboNode&)>& leave) {
  if (root == nullptr) return;
  // (node, index of the next child to visit)
  std::vector<std::pair<const GumboNode*, unsigned>> stack;
  if (!enter(*root)) return;
  stack.emplace_back(root, 0);
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    const GumboVector* children = Children(*node);
    if (next >= children->length) {
      const GumboNode* done = node;
      stack.pop_back();
      leave(*done);
      continue;
    }
    const auto* child = static_cast<const GumboNode*>(children->data[next++]);
    if (enter(*child)) stack.emplace_back(child, 0);
  }
}

}  // namespace mailvault::preview
