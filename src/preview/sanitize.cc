// SanitizeHtml, HtmlToText and SafeLinkUrl (see sanitize.h).
//
// Design notes.
// - Nothing of the input is copied through as markup: the output is written
//   from gumbo's tree, element by element, from allow-lists, with text and
//   attribute values escaped (and characters a parser would change when
//   reading them raw written as it would read them). What the browser
//   parses is therefore only markup this file wrote.
// - The output must parse back to the tree it was written from, or a filter
//   on the tree would not be a filter on what the browser builds. Dropping
//   an element's tags while keeping its content would change what the parser
//   sees as the current node (<h1><foo><h2> parses h2 inside foo, <h1><h2>
//   does not), so an element that is not allowed but whose content is kept
//   becomes a <span> or, where the parser treats it as a block that closes
//   paragraphs, a <div>. html_tree.h parses in standards mode (a quirks-mode
//   <p><table> does not parse back), a nested <a> becomes a <span>, and in a
//   table only table parts are written (anything else there was put by the
//   parser and would be moved out). Foster parenting can still build trees
//   no markup parses to; then the second pass's tree is stable (sanitize.h).
// - Elements whose content is not text for the reader, or is active, are
//   dropped with it (DroppedWithContent), and so is everything outside the
//   HTML namespace, svg and math included (html_tree.h renames them, so
//   none reaches the tree as foreign content).
#include "preview/sanitize.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <unordered_set>

#include "preview/css.h"
#include "preview/html_tree.h"

namespace mailvault::preview {
namespace {

using Names = std::unordered_set<std::string_view>;

const Names& Kept() {
  static const Names s = {
      "a",       "abbr",     "acronym",    "address",    "article", "aside",  "b",      "bdi",
      "bdo",     "big",      "blockquote", "br",         "caption", "center", "cite",   "code",
      "col",     "colgroup", "dd",         "del",        "details", "dfn",    "dir",    "div",
      "dl",      "dt",       "em",         "figcaption", "figure",  "font",   "footer", "h1",
      "h2",      "h3",       "h4",         "h5",         "h6",      "header", "hgroup", "hr",
      "i",       "img",      "ins",        "kbd",        "li",      "main",   "mark",   "menu",
      "nav",     "ol",       "p",          "pre",        "q",       "rp",     "rt",     "ruby",
      "s",       "samp",     "section",    "small",      "span",    "strike", "strong", "sub",
      "summary", "sup",      "table",      "tbody",      "td",      "tfoot",  "th",     "thead",
      "time",    "tr",       "tt",         "u",          "ul",      "var",    "wbr"};
  return s;
}

// Dropped together with their content.
const Names& DroppedWithContent() {
  static const Names s = {"script", "style", "title", "meta", "link", "base", "basefont", "bgsound",
                          "head", "iframe", "frame", "frameset", "noframes", "object", "embed",
                          "applet", "param", "input", "button", "select", "option", "optgroup",
                          "textarea", "datalist", "keygen", "output", "audio", "video", "source",
                          "track", "canvas", "map", "area", "svg", "math", "template", "noscript",
                          "noembed", "marquee", "portal", "menuitem", "image",
                          // what html_tree.h renames svg, math, template and frameset to
                          "x-mv-svg", "x-mv-math", "x-mv-template", "x-mv-frameset"};
  return s;
}

// Not allowed, content kept: these the parser treats as paragraph-closing
// blocks, so they become <div> (the others become <span>).
const Names& BlockLike() {
  static const Names s = {"form",   "fieldset", "xmp",     "plaintext", "dialog",
                          "search", "legend",   "listing", "frameset"};
  return s;
}

const Names& VoidElements() {
  static const Names s = {"br", "hr", "img", "wbr", "col"};
  return s;
}

// Attributes allowed on every kept element (style is sanitized).
const Names& CommonAttributes() {
  static const Names s = {"title",   "dir",     "lang",    "style",   "align",       "valign",
                          "width",   "height",  "bgcolor", "border",  "cellpadding", "cellspacing",
                          "colspan", "rowspan", "nowrap",  "span",    "summary",     "abbr",
                          "scope",   "clear",   "noshade", "hspace",  "vspace",      "datetime",
                          "frame",   "rules",   "char",    "charoff", "headers"};
  return s;
}

bool ElementAttribute(std::string_view tag, std::string_view attr) {
  if (tag == "font") return attr == "color" || attr == "face" || attr == "size";
  if (tag == "img") return attr == "alt";  // src is handled on its own
  if (tag == "ol") return attr == "start" || attr == "type" || attr == "reversed";
  if (tag == "ul") return attr == "type";
  if (tag == "li") return attr == "type" || attr == "value";
  if (tag == "details") return attr == "open";
  if (tag == "hr") return attr == "color" || attr == "size";
  return false;
}

// Attributes that would load an image from elsewhere.
bool RemoteImageAttribute(std::string_view attr) {
  return attr == "background" || attr == "srcset" || attr == "lowsrc" || attr == "dynsrc" ||
         attr == "poster";
}

// True for the code points a parser replaces with U+FFFD when it reads them
// raw: controls other than tab, LF, FF and CR, and noncharacters. Text can
// hold them (from character references like &#1;); writing them raw would
// make the output parse to something else than what it says.
bool ReplacedWhenRead(uint32_t cp) {
  return (cp >= 0x01 && cp <= 0x08) || cp == 0x0B || (cp >= 0x0E && cp <= 0x1F) ||
         (cp >= 0x7F && cp <= 0x9F) || (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE ||
         cp == 0;
}

// Text or an attribute value (UTF-8, as gumbo gives it) escaped for HTML:
// & < > " ' as references, CR as LF and what a parser would replace as
// U+FFFD, so that the output reads back exactly as written.
void AppendEscaped(std::string_view s, std::string* out) {
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (i + len > s.size()) len = s.size() - i;
    uint32_t cp = c;
    if (len == 2) cp = ((c & 0x1Fu) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3Fu);
    if (len == 3) {
      cp = ((c & 0x0Fu) << 12) | ((static_cast<unsigned char>(s[i + 1]) & 0x3Fu) << 6) |
           (static_cast<unsigned char>(s[i + 2]) & 0x3Fu);
    }
    if (len == 4) {
      cp = ((c & 0x07u) << 18) | ((static_cast<unsigned char>(s[i + 1]) & 0x3Fu) << 12) |
           ((static_cast<unsigned char>(s[i + 2]) & 0x3Fu) << 6) |
           (static_cast<unsigned char>(s[i + 3]) & 0x3Fu);
    }
    switch (cp) {
      case '&':
        *out += "&amp;";
        break;
      case '<':
        *out += "&lt;";
        break;
      case '>':
        *out += "&gt;";
        break;
      case '"':
        *out += "&quot;";
        break;
      case '\'':
        *out += "&#39;";
        break;
      case '\r':
        *out += '\n';
        break;
      default:
        if (ReplacedWhenRead(cp)) {
          *out += "\xEF\xBF\xBD";
        } else {
          out->append(s.substr(i, len));
        }
    }
    i += len;
  }
}

void AppendAttribute(std::string_view name, std::string_view value, std::string* out) {
  out->push_back(' ');
  out->append(name);
  out->append("=\"");
  AppendEscaped(value, out);
  out->push_back('"');
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// The URL without ASCII white space and control characters (a browser's URL
// parser strips leading/trailing C0 and space and drops tab and newlines
// anywhere; dropping the rest too only makes the scheme check stricter).
std::string CleanUrl(std::string_view url) {
  std::string out;
  for (char c : url) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F) continue;
    out.push_back(c);
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    int hi, lo;
    if (s[i] == '%' && i + 2 < s.size() && (hi = HexValue(s[i + 1])) >= 0 &&
        (lo = HexValue(s[i + 2])) >= 0) {
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string Base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t v = static_cast<uint32_t>(static_cast<unsigned char>(in[i])) << 16;
    if (i + 1 < in.size()) v |= static_cast<uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8;
    if (i + 2 < in.size()) v |= static_cast<unsigned char>(in[i + 2]);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kAlphabet[v & 63] : '=';
  }
  return out;
}

// The image type the bytes are, when it is one browsers show as a picture
// and nothing else (never SVG); empty otherwise.
std::string_view SniffImage(std::string_view d) {
  if (d.starts_with("\x89PNG\r\n\x1a\n")) return "image/png";
  if (d.starts_with("GIF87a") || d.starts_with("GIF89a")) return "image/gif";
  if (d.starts_with("\xff\xd8\xff")) return "image/jpeg";
  if (d.size() >= 12 && d.starts_with("RIFF") && d.substr(8, 4) == "WEBP") return "image/webp";
  if (d.starts_with("BM")) return "image/bmp";
  return {};
}

const GumboAttribute* FindAttribute(const GumboElement& e, const char* name) {
  return gumbo_get_attribute(&e.attributes, name);
}

class Sanitizer {
 public:
  explicit Sanitizer(const SanitizeOptions& options) : options_(options) {}

  SanitizedHtml Run(std::string_view html) {
    HtmlTree tree(html);
    out_ = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body";
    const GumboNode* body = tree.body();
    if (body != nullptr) Attributes(body->v.element, "body", &out_);
    out_ += ">";
    if (body != nullptr) {
      WalkTree(
          body, [&](const GumboNode& node) { return &node == body || Enter(node); },
          [&](const GumboNode& node) {
            if (&node != body) Leave(node);
          });
    }
    out_ += "</body></html>";
    result_.html = std::move(out_);
    return std::move(result_);
  }

 private:
  bool Enter(const GumboNode& node) {
    switch (node.type) {
      case GUMBO_NODE_TEXT:
      case GUMBO_NODE_WHITESPACE:
        AppendEscaped(node.v.text.text, &out_);
        return false;
      case GUMBO_NODE_CDATA:
      case GUMBO_NODE_COMMENT:
      case GUMBO_NODE_DOCUMENT:
        return false;
      case GUMBO_NODE_TEMPLATE:
        ++result_.removed;
        return false;
      case GUMBO_NODE_ELEMENT:
        break;
    }
    const GumboElement& e = node.v.element;
    std::string tag = TagName(node);
    if (e.tag_namespace != GUMBO_NAMESPACE_HTML || DroppedWithContent().contains(tag)) {
      ++result_.removed;
      return false;
    }
    if (InTableStructure() && !IsTablePart(tag)) {
      // Only the parser puts such an element there (a form in "in table"
      // mode, inserted and closed at once); written out, it would be
      // foster-parented out of the table when read again.
      ++result_.removed;
      return false;
    }
    std::string name = tag;
    if (!Kept().contains(tag) || (tag == "a" && !LinkAllowed(e))) {
      ++result_.removed;
      name = BlockLike().contains(tag) ? "div" : tag == "listing" ? "pre" : "span";
    }
    if (name == "a") ++open_links_;
    out_ += '<';
    out_ += name;
    Attributes(e, name, &out_);
    out_ += '>';
    // The parser drops a newline right after <pre>; one the text starts with
    // must survive the trip, so write it twice.
    if (name == "pre" && e.children.length > 0) {
      const auto* first = static_cast<const GumboNode*>(e.children.data[0]);
      if ((first->type == GUMBO_NODE_TEXT || first->type == GUMBO_NODE_WHITESPACE) &&
          first->v.text.text[0] == '\n') {
        out_ += '\n';
      }
    }
    names_.push_back(std::move(name));
    return true;
  }

  void Leave(const GumboNode& node) {
    if (node.type != GUMBO_NODE_ELEMENT) return;
    std::string name = std::move(names_.back());
    names_.pop_back();
    if (name == "a") --open_links_;
    if (VoidElements().contains(name)) return;
    out_ += "</";
    out_ += name;
    out_ += '>';
  }

  // The current output element is a table, a row group or a row, whose
  // children can only be table parts.
  bool InTableStructure() const {
    if (names_.empty()) return false;
    const std::string& n = names_.back();
    return n == "table" || n == "tbody" || n == "thead" || n == "tfoot" || n == "tr" ||
           n == "colgroup";
  }

  static bool IsTablePart(std::string_view tag) {
    return tag == "caption" || tag == "colgroup" || tag == "col" || tag == "thead" ||
           tag == "tbody" || tag == "tfoot" || tag == "tr" || tag == "td" || tag == "th";
  }

  bool LinkAllowed(const GumboElement& e) const {
    if (open_links_ > 0) return false;  // no <a> inside <a>
    const GumboAttribute* href = FindAttribute(e, "href");
    return href != nullptr && !SafeLinkUrl(href->value).empty();
  }

  // Writes the allowed attributes of `e`, written out as element `name`.
  void Attributes(const GumboElement& e, std::string_view name, std::string* out) {
    for (unsigned i = 0; i < e.attributes.length; ++i) {
      const auto* a = static_cast<const GumboAttribute*>(e.attributes.data[i]);
      std::string_view attr = a->name;
      std::string_view value = a->value;
      if (attr == "style") {
        StyleResult css = SanitizeStyle(value);
        result_.removed += css.removed;
        result_.remote_images_blocked |= css.remote_image;
        if (!css.css.empty()) AppendAttribute("style", css.css, out);
      } else if (name == "a" && attr == "href") {
        AppendAttribute("href", SafeLinkUrl(value), out);
      } else if (name == "a" && (attr == "target" || attr == "rel")) {
        // replaced below
      } else if (name == "img" && attr == "src") {
        ImageSource(value, out);
      } else if (name == "body" &&
                 (attr == "bgcolor" || attr == "text" || attr == "link" || attr == "vlink" ||
                  attr == "alink" || attr == "dir" || attr == "lang")) {
        AppendAttribute(attr, value, out);
      } else if (name != "body" &&
                 (CommonAttributes().contains(attr) || ElementAttribute(name, attr))) {
        AppendAttribute(attr, value, out);
      } else {
        ++result_.removed;
        if (RemoteImageAttribute(attr) && !value.empty()) result_.remote_images_blocked = true;
      }
    }
    if (name == "a") {
      AppendAttribute("target", "_blank", out);
      AppendAttribute("rel", "noopener noreferrer", out);
    }
  }

  // src of an image: a cid: reference to one of the message's own images
  // becomes a data: URI; anything else is removed.
  void ImageSource(std::string_view src, std::string* out) {
    std::string url = CleanUrl(src);
    if (AsciiLower(url.substr(0, 4)) == "cid:") {
      if (const mime::BodyImage* image = FindImage(PercentDecode(url.substr(4)))) {
        std::string_view type = SniffImage(image->data);
        if (!type.empty()) {
          std::string data = "data:";
          data += type;
          data += ";base64,";
          data += Base64(image->data);
          AppendAttribute("src", data, out);
          return;
        }
      }
      ++result_.removed;
      return;
    }
    ++result_.removed;
    if (!url.empty()) result_.remote_images_blocked = true;
  }

  const mime::BodyImage* FindImage(const std::string& id) const {
    if (options_.cid_images == nullptr || id.empty()) return nullptr;
    for (const mime::BodyImage& image : *options_.cid_images) {
      if (image.content_id == id) return &image;
    }
    std::string lower = AsciiLower(id);
    for (const mime::BodyImage& image : *options_.cid_images) {
      if (AsciiLower(image.content_id) == lower) return &image;
    }
    return nullptr;
  }

  const SanitizeOptions& options_;
  SanitizedHtml result_;
  std::string out_;
  std::vector<std::string> names_;  // output names of the open elements
  int open_links_ = 0;
};

// HTML to text.
class TextWriter {
 public:
  std::string Run(std::string_view html) {
    HtmlTree tree(html);
    const GumboNode* body = tree.body();
    WalkTree(
        body, [&](const GumboNode& node) { return Enter(node); },
        [&](const GumboNode& node) { Leave(node); });
    return Finish();
  }

 private:
  struct Open {
    std::string name;
    size_t start;  // where its text starts in out_
  };

  bool Enter(const GumboNode& node) {
    if (node.type == GUMBO_NODE_TEXT || node.type == GUMBO_NODE_WHITESPACE ||
        node.type == GUMBO_NODE_CDATA) {
      Text(node.v.text.text);
      return false;
    }
    if (node.type != GUMBO_NODE_ELEMENT) return false;
    const GumboElement& e = node.v.element;
    std::string tag = TagName(node);
    static const Names kSkipped = {
        "script",   "style",    "head",      "title",         "template",     "noscript", "svg",
        "math",     "iframe",   "object",    "select",        "textarea",     "noframes", "noembed",
        "frameset", "x-mv-svg", "x-mv-math", "x-mv-template", "x-mv-frameset"};
    if (e.tag_namespace != GUMBO_NAMESPACE_HTML || kSkipped.contains(tag)) return false;
    if (tag == "br") {
      out_ += '\n';
    } else if (tag == "img") {
      const GumboAttribute* alt = FindAttribute(e, "alt");
      if (alt != nullptr && alt->value[0] != '\0') {
        Text("[");
        Text(alt->value);
        Text("]");
      }
    } else if (tag == "li") {
      Break(1);
      out_ += "- ";
    } else if (tag == "td" || tag == "th") {
      // separated on leaving the cell
    } else if (tag == "pre" || tag == "listing" || tag == "plaintext" || tag == "xmp") {
      Break(2);
      ++pre_;
    } else if (IsBlock(tag)) {
      Break(IsParagraph(tag) ? 2 : 1);
    }
    open_.push_back(Open{tag, out_.size()});
    if (tag == "a") {
      const GumboAttribute* href = FindAttribute(e, "href");
      links_.push_back(href == nullptr ? std::string() : SafeLinkUrl(href->value));
    }
    return true;
  }

  void Leave(const GumboNode& node) {
    if (node.type != GUMBO_NODE_ELEMENT) return;
    Open open = std::move(open_.back());
    open_.pop_back();
    const std::string& tag = open.name;
    if (tag == "a") {
      std::string url = std::move(links_.back());
      links_.pop_back();
      // Break() may have trimmed blanks the link started after.
      std::string text = out_.substr(std::min(open.start, out_.size()));
      std::string plain = url.starts_with("mailto:") ? url.substr(7) : url;
      if (!url.empty() && text.find(plain) == std::string::npos) {
        Text(" <" + url + ">");
      }
    } else if (tag == "td" || tag == "th") {
      out_ += '\t';
    } else if (tag == "tr") {
      Break(1);
    } else if (tag == "pre" || tag == "listing" || tag == "plaintext" || tag == "xmp") {
      --pre_;
      Break(2);
    } else if (tag == "hr") {
      Break(1);
    } else if (IsBlock(tag)) {
      Break(IsParagraph(tag) ? 2 : 1);
    }
  }

  static bool IsParagraph(std::string_view tag) {
    return tag == "p" || tag == "h1" || tag == "h2" || tag == "h3" || tag == "h4" || tag == "h5" ||
           tag == "h6" || tag == "blockquote" || tag == "table" || tag == "ul" || tag == "ol" ||
           tag == "dl";
  }

  static bool IsBlock(std::string_view tag) {
    static const Names kBlocks = {
        "address", "article", "aside",  "blockquote", "center",  "dd",       "details",
        "dialog",  "dir",     "div",    "dl",         "dt",      "fieldset", "figcaption",
        "figure",  "footer",  "form",   "h1",         "h2",      "h3",       "h4",
        "h5",      "h6",      "header", "hgroup",     "hr",      "li",       "main",
        "menu",    "nav",     "ol",     "p",          "section", "summary",  "table",
        "tbody",   "thead",   "tfoot",  "tr",         "ul",      "caption",  "legend"};
    return kBlocks.contains(tag);
  }

  void Text(std::string_view s) {
    if (pre_ > 0) {
      out_.append(s);
      return;
    }
    for (char c : s) {
      bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
      if (space) {
        if (!out_.empty() && out_.back() != ' ' && out_.back() != '\n' && out_.back() != '\t') {
          out_ += ' ';
        }
      } else {
        out_ += c;
      }
    }
  }

  // Ends the current line and makes sure `lines` - 1 empty lines follow the
  // text so far (none at the very start).
  void Break(int lines) {
    while (!out_.empty() && (out_.back() == ' ' || out_.back() == '\t')) out_.pop_back();
    if (out_.empty()) return;
    int have = 0;
    for (size_t i = out_.size(); i-- > 0 && out_[i] == '\n';) ++have;
    for (; have < lines; ++have) out_ += '\n';
  }

  // Trailing blanks of each line go, as do runs of more than one empty line
  // and blank lines at both ends.
  std::string Finish() {
    std::string out;
    size_t empty_run = 0;
    size_t start = 0;
    while (start <= out_.size()) {
      size_t end = out_.find('\n', start);
      if (end == std::string::npos) end = out_.size();
      std::string_view line(out_.data() + start, end - start);
      while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
      if (line.empty()) {
        ++empty_run;
      } else {
        if (!out.empty()) out.append(std::min<size_t>(empty_run, 1) + 1, '\n');
        out.append(line);
        empty_run = 0;
      }
      start = end + 1;
    }
    return out;
  }

  std::string out_;
  std::vector<Open> open_;
  std::vector<std::string> links_;
  int pre_ = 0;
};

}  // namespace

std::string SafeLinkUrl(std::string_view href) {
  std::string url = CleanUrl(href);
  size_t colon = url.find(':');
  if (colon == std::string::npos) return {};  // relative: would point into the console
  size_t other = url.find_first_of("/?#");
  if (other != std::string::npos && other < colon) return {};
  std::string scheme = AsciiLower(url.substr(0, colon));
  if (scheme != "http" && scheme != "https" && scheme != "mailto") return {};
  if (scheme != "mailto" && !url.substr(colon + 1).starts_with("//")) return {};
  return scheme + url.substr(colon);
}

SanitizedHtml SanitizeHtml(std::string_view html, const SanitizeOptions& options) {
  return Sanitizer(options).Run(html);
}

std::string HtmlToText(std::string_view html) { return TextWriter().Run(html); }

}  // namespace mailvault::preview
