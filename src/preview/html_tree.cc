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

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'; }

// True if s[i..] starts with `word` (lower case), ignoring ASCII case.
bool StartsWithNoCase(std::string_view s, size_t i, std::string_view word) {
  if (i + word.size() > s.size()) return false;
  for (size_t k = 0; k < word.size(); ++k) {
    char c = s[i + k];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != word[k]) return false;
  }
  return true;
}

// `html` with every "<svg", "</svg", "<math", ... followed by a character
// that ends a tag name renamed to "<x-mv-svg" and so on, wherever it is
// (also in attribute values, comments or raw text, where the renaming is
// harmless: the sanitizer drops or escapes those).
std::string NeutralizeHtml(std::string_view html) {
  static constexpr std::string_view kNames[] = {"svg", "math", "template", "frameset"};
  std::string out;
  out.reserve(html.size() + 64);
  size_t done = 0;
  for (size_t at = html.find('<'); at != std::string_view::npos; at = html.find('<', at + 1)) {
    size_t name = at + 1;
    if (name < html.size() && html[name] == '/') ++name;
    for (std::string_view n : kNames) {
      size_t end = name + n.size();
      if (StartsWithNoCase(html, name, n) &&
          (end == html.size() || IsSpace(html[end]) || html[end] == '/' || html[end] == '>')) {
        out.append(html.substr(done, name - done));
        out.append("x-mv-");
        done = name;
        break;
      }
    }
  }
  out.append(html.substr(done));
  return out;
}

}  // namespace

HtmlTree::HtmlTree(std::string_view html) {
  input_ = "<!DOCTYPE html>";
  input_ += NeutralizeHtml(html);
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
