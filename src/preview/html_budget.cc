// HtmlParseLimit (see html_budget.h).
//
// Design note. The model must follow gumbo 0.10's tree builder wherever it
// opens or closes elements: keeping an element open that gumbo closes is as
// wrong as closing one it keeps (a later <td> or <p> pops down to the stale
// entry in the model while gumbo's stack stays deep). It is written from the
// WHATWG rules of gumbo's time and gumbo's own quirks, each checked against
// gumbo (html_budget_test): unknown tag names are all one tag, main is not
// special, formatting end tags never fall back to "any other end tag",
// markers outlive the object/applet/marquee they came with unless their own
// end tag closes them, which is looked for in table scope, and </form>
// removes only the form. The tokenizer follows the HTML tokenizer wherever
// the split between markup and text matters (comments, bogus comments,
// RAWTEXT/RCDATA end tags, the script-data escape states). Where gumbo's
// result is harder to follow but never deeper (the adoption agency moving
// elements about, a <table> in a table cell's stale context), the model
// leaves its stack as it is.
#include "preview/html_budget.h"

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <list>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

namespace mailvault::preview {
namespace {

using Names = std::unordered_set<std::string_view>;

// gumbo's "special" elements (the spec's list of its time: main is not one).
const Names& Special() {
  static const Names s = {
      "address",  "applet",     "area",     "article",    "aside",    "base",     "basefont",
      "bgsound",  "blockquote", "body",     "br",         "button",   "caption",  "center",
      "col",      "colgroup",   "dd",       "details",    "dir",      "div",      "dl",
      "dt",       "embed",      "fieldset", "figcaption", "figure",   "footer",   "form",
      "frame",    "frameset",   "h1",       "h2",         "h3",       "h4",       "h5",
      "h6",       "head",       "header",   "hgroup",     "hr",       "html",     "iframe",
      "img",      "input",      "keygen",   "li",         "link",     "listing",  "marquee",
      "menu",     "meta",       "nav",      "noembed",    "noframes", "noscript", "object",
      "ol",       "p",          "param",    "plaintext",  "pre",      "script",   "section",
      "select",   "source",     "style",    "summary",    "table",    "tbody",    "td",
      "template", "textarea",   "tfoot",    "th",         "thead",    "title",    "tr",
      "track",    "ul",         "wbr",      "xmp"};
  return s;
}

// Start tags that close an open <p> (in button scope) and do not reconstruct.
const Names& ClosesP() {
  static const Names s = {"address", "article", "aside",     "blockquote", "center",     "details",
                          "dir",     "div",     "dl",        "fieldset",   "figcaption", "figure",
                          "footer",  "header",  "hgroup",    "main",       "menu",       "nav",
                          "ol",      "p",       "section",   "summary",    "ul",         "h1",
                          "h2",      "h3",      "h4",        "h5",         "h6",         "pre",
                          "listing", "form",    "plaintext", "table",      "hr",         "xmp"};
  return s;
}

const Names& Formatting() {
  static const Names s = {"a",    "b", "big",   "code",   "em",     "font", "i",
                          "nobr", "s", "small", "strike", "strong", "tt",   "u"};
  return s;
}

const Names& Void() {
  static const Names s = {"area",  "br",       "embed",   "img",   "keygen", "wbr",
                          "input", "param",    "source",  "track", "hr",     "image",
                          "base",  "basefont", "bgsound", "link",  "meta",   "frame"};
  return s;
}

// End tags that "in body" closes with a scope check; other special ones go
// through "any other end tag", which stops at special elements.
const Names& BlockEnd() {
  static const Names s = {
      "address", "article", "aside",    "blockquote", "button", "center", "details", "dir",
      "div",     "dl",      "fieldset", "figcaption", "figure", "footer", "header",  "hgroup",
      "listing", "main",    "menu",     "nav",        "ol",     "pre",    "section", "summary",
      "ul",      "applet",  "marquee",  "object",     "li",     "dd",     "dt"};
  return s;
}

bool IsHeading(std::string_view n) {
  return n.size() == 2 && n[0] == 'h' && n[1] >= '1' && n[1] <= '6';
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'; }

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// True if s[i..] starts with `word` (lower case), ignoring ASCII case.
bool StartsWithNoCase(std::string_view s, size_t i, std::string_view word) {
  if (s.size() - i < word.size()) return false;
  for (size_t k = 0; k < word.size(); ++k) {
    if (Lower(s[i + k]) != word[k]) return false;
  }
  return true;
}

// "</name" followed by a character that ends a tag name, at s[i].
bool EndTagAt(std::string_view s, size_t i, std::string_view name) {
  if (!StartsWithNoCase(s, i, "</") || !StartsWithNoCase(s, i + 2, name)) return false;
  size_t k = i + 2 + name.size();
  return k < s.size() && (IsSpace(s[k]) || s[k] == '/' || s[k] == '>');
}

struct Tag {
  std::string name;  // lower case
  bool end = false;
  size_t attributes = 0;
  // name=value pairs, first of each name, sorted: what the Noah's Ark clause
  // compares (raw values: entity spellings that decode alike count as
  // different, which only keeps more entries)
  std::vector<std::string> attrs;
};

// The tag names gumbo knows (its tag.in). Every other name is one and the
// same GUMBO_TAG_UNKNOWN to its tree builder: an end tag of any unknown name
// closes the nearest unknown element, whatever its name.
const Names& GumboTags() {
  static constexpr std::string_view kList =
      "html head title base link meta style script noscript template body article "
      "section nav aside h1 h2 h3 h4 h5 h6 hgroup header footer "
      "address p hr pre blockquote ol ul li dl dt dd figure "
      "figcaption main div a em strong small s cite q dfn abbr "
      "data time code var samp kbd sub sup i b u mark "
      "ruby rt rp bdi bdo span br wbr ins del image img "
      "iframe embed object param video audio source track canvas map area math "
      "mi mo mn ms mtext mglyph malignmark annotation-xml svg foreignobject desc table "
      "caption colgroup col tbody thead tfoot tr td th form fieldset legend "
      "label input button select datalist optgroup option textarea keygen output progress meter "
      "details summary menu menuitem applet acronym bgsound dir frame frameset noframes isindex "
      "listing xmp nextid noembed plaintext rb strike basefont big blink center font "
      "marquee multicol nobr spacer tt rtc";
  static const Names s = [] {
    Names names;
    for (size_t at = 0; at < kList.size();) {
      size_t end = std::min(kList.find(' ', at), kList.size());
      names.insert(kList.substr(at, end - at));
      at = end + 1;
    }
    return names;
  }();
  return s;
}

constexpr std::string_view kUnknown = "#unknown";

constexpr size_t kEof = std::string_view::npos;

constexpr size_t kTooMany = kEof - 1;

// Tokenizes the tag at s[i] ("<x" or "</x", x a letter) into *tag; returns
// the index after its '>', kEof when the input ends inside it (the
// tokenizer then drops the tag), or kTooMany when it has more than
// `max_attributes` attributes (gumbo checks each new attribute against all
// earlier ones, so 100,000 of them in one tag take it 24 s).
size_t ScanTag(std::string_view s, size_t i, Tag* tag, size_t max_attributes) {
  tag->end = s[i + 1] == '/';
  i += tag->end ? 2 : 1;
  while (i < s.size() && !IsSpace(s[i]) && s[i] != '/' && s[i] != '>') {
    tag->name.push_back(Lower(s[i++]));
  }
  if (!GumboTags().contains(tag->name)) tag->name = kUnknown;
  // Only formatting elements need their attributes (Noah's Ark clause).
  const bool keep = !tag->end && Formatting().contains(tag->name);
  size_t attributes = 0;
  for (;;) {
    while (i < s.size() && IsSpace(s[i])) ++i;
    if (i >= s.size()) return kEof;
    if (s[i] == '>') return i + 1;
    if (s[i] == '/') {
      if (i + 1 < s.size() && s[i + 1] == '>') return i + 2;  // self-closing: no matter in HTML
      ++i;
      continue;
    }
    if (++attributes > max_attributes) return kTooMany;
    tag->attributes = attributes;
    std::string attr(1, Lower(s[i++]));  // a leading '=' belongs to the name
    while (i < s.size() && !IsSpace(s[i]) && s[i] != '/' && s[i] != '>' && s[i] != '=') {
      attr.push_back(Lower(s[i++]));
    }
    while (i < s.size() && IsSpace(s[i])) ++i;
    std::string value;
    if (i < s.size() && s[i] == '=') {
      ++i;
      while (i < s.size() && IsSpace(s[i])) ++i;
      if (i >= s.size()) return kEof;
      if (s[i] == '"' || s[i] == '\'') {
        size_t close = s.find(s[i], i + 1);
        if (close == kEof) return kEof;
        value = s.substr(i + 1, close - i - 1);
        i = close + 1;
      } else {
        size_t start = i;
        while (i < s.size() && !IsSpace(s[i]) && s[i] != '>') ++i;
        value = s.substr(start, i - start);
      }
    }
    if (keep) {
      std::string pair = attr + '\0';
      bool seen = false;
      for (const std::string& a : tag->attrs) seen |= a.starts_with(pair);
      if (!seen) tag->attrs.push_back(pair + std::string(value));
    }
  }
}

// The end of a comment starting at s[i] ("<!--"): the index after it, or
// kEof.
size_t CommentEnd(std::string_view s, size_t i) {
  size_t j = i + 4;
  if (j < s.size() && s[j] == '>') return j + 1;
  if (s.substr(j, 2) == "->") return j + 2;
  for (size_t d = s.find("--", j); d != kEof; d = s.find("--", d + 1)) {
    if (s.substr(d + 2, 1) == ">") return d + 3;
    if (s.substr(d + 2, 2) == "!>") return d + 4;
  }
  return kEof;
}

// Where script data starting at s[i] ends (the "</script" of its end tag),
// following the script-data escaped and double-escaped states; kEof if it
// runs to the end.
size_t ScriptEnd(std::string_view s, size_t i) {
  enum { kData, kEscaped, kDouble } state = kData;
  auto delimited = [&](size_t k) {
    return k < s.size() && (IsSpace(s[k]) || s[k] == '/' || s[k] == '>');
  };
  while (i < s.size()) {
    if (s[i] == '<') {
      if (state != kDouble && EndTagAt(s, i, "script")) return i;
      if (state == kDouble && EndTagAt(s, i, "script")) {
        state = kEscaped;
        i += 8;
        continue;
      }
      if (state == kData && s.substr(i, 4) == "<!--") {
        state = kEscaped;
        i += 2;  // the dashes may be part of "-->" ("<!-->")
        continue;
      }
      if (state == kEscaped && StartsWithNoCase(s, i + 1, "script") && delimited(i + 7)) {
        state = kDouble;
        i += 7;
        continue;
      }
    } else if (state != kData && s.substr(i, 3) == "-->") {
      state = kData;
      i += 3;
      continue;
    }
    ++i;
  }
  return kEof;
}

class Model {
 public:
  explicit Model(const HtmlLimits& limits) : limits_(limits) {}

  HtmlBudget Run(std::string_view s) {
    size_t i = 0;
    while (i < s.size() && !over_) {
      size_t lt = s.find('<', i);
      if (lt != i) {  // a text run
        std::string_view text = s.substr(i, lt == kEof ? kEof : lt - i);
        bool space = true;
        for (char c : text) space &= IsSpace(c);
        if (!space) {
          head_ = Head::kBody;  // text starts the body
          LeaveColumnGroup();
        }
        Reconstruct();
        if (over_) return Cut(i);
        if (lt == kEof) break;
        i = lt;
      }
      size_t next = Markup(s, i);
      if (over_) return Cut(i);
      if (next == kEof) break;
      i = next;
    }
    budget_.limit = s.size();
    return budget_;
  }

 private:
  struct Active {
    std::string name;
    bool marker = false;
    bool open = false;
    std::string attrs;  // for the Noah's Ark clause
  };
  using ActiveIt = std::list<Active>::iterator;
  struct Entry {
    std::string name;
    bool marker = false;  // pushed a marker on the active formatting list
    bool has_active = false;
    ActiveIt active;
  };

  HtmlBudget Cut(size_t at) {
    budget_.limit = at;
    budget_.cut = true;
    return budget_;
  }

  bool TopIs(std::string_view name) const { return !stack_.empty() && stack_.back().name == name; }

  // Handles the markup at s[i] == '<'; returns the index after it, or kEof
  // when the rest of the input is not markup the model needs to see.
  size_t Markup(std::string_view s, size_t i) {
    char c = i + 1 < s.size() ? s[i + 1] : '\0';
    if (IsAlpha(c) || (c == '/' && i + 2 < s.size() && IsAlpha(s[i + 2]))) {
      Tag tag;
      size_t next = ScanTag(s, i, &tag, limits_.max_attributes);
      if (next == kTooMany) {
        over_ = true;
        return kEof;
      }
      if (next == kEof) return kEof;
      if (tag.end) {
        EndTag(tag.name);
        return next;
      }
      return StartTag(s, next, tag);
    }
    if (c == '/') {  // "</>" is dropped, "</" + other is a bogus comment
      if (i + 2 < s.size() && s[i + 2] == '>') return i + 3;
      size_t gt = s.find('>', i + 2);
      return gt == kEof ? kEof : gt + 1;
    }
    if (c == '!') {
      if (s.substr(i, 4) == "<!--") return CommentEnd(s, i);
      size_t gt = s.find('>', i + 2);  // doctype or bogus comment (CDATA too, in HTML)
      return gt == kEof ? kEof : gt + 1;
    }
    if (c == '?') {
      size_t gt = s.find('>', i + 2);
      return gt == kEof ? kEof : gt + 1;
    }
    Reconstruct();  // a lone '<' is text
    return i + 1;
  }

  // Handles a start tag whose '>' ends just before s[next]; returns where
  // tokenizing goes on.
  size_t StartTag(std::string_view s, size_t next, const Tag& tag) {
    const std::string& n = tag.name;
    if (n == "html" || n == "body") {
      // Their attributes are merged into the one element, each checked
      // against all it has: bounded like the attributes of one tag.
      merged_attributes_ += tag.attributes;
      if (merged_attributes_ > limits_.max_attributes) {
        over_ = true;
        return next;
      }
    }
    if (head_ != Head::kBody) {
      std::optional<size_t> done = HeadStart(s, next, n);
      if (done) return *done;
    }
    if (size_t select = SelectMode(); select != kEof) return SelectStart(s, next, tag, select);
    if (n != "col") LeaveColumnGroup();
    if (n == "html" || n == "head" || n == "body") return next;
    if (n == "svg" || n == "math" || n == "template" || n == "frameset") {
      over_ = true;  // not modelled (NeutralizeHtml renames them): the input ends here
      return next;
    }
    if (n == "table" && InTableMode()) {
      size_t table = FindInTableScope("table");
      if (table == kEof) return next;
      PopTo(table);  // the open table ends, the new one starts after it
      Push(n);
      return next;
    }
    if (n == "form") {
      if (form_pointer_) return next;  // a nested form is ignored, p and all
      form_pointer_ = true;
      if (InTableMode()) {  // inserted and popped at once
        Count(1);
        return next;
      }
    }
    if (ClosesP().contains(n)) {
      ClosePInButtonScope();
      if (IsHeading(n) && !stack_.empty() && IsHeading(stack_.back().name))
        PopTo(stack_.size() - 1);
      if (n == "hr") {
        Count(1);
        return next;
      }
      if (n == "xmp") Reconstruct();
      Push(n);
      if (n == "plaintext") return kEof;  // the rest is text
      return n == "xmp" ? RawText(s, next, n) : next;
    }
    if (n == "li" || n == "dd" || n == "dt") {
      for (size_t k = stack_.size(); k-- > 0;) {
        const std::string& e = stack_[k].name;
        if (n == "li" ? e == "li" : (e == "dd" || e == "dt")) {
          PopTo(k);
          break;
        }
        if (Special().contains(e) && e != "address" && e != "div" && e != "p") break;
      }
      ClosePInButtonScope();
      Push(n);
      return next;
    }
    if (n == "caption" || n == "colgroup" || n == "tbody" || n == "thead" || n == "tfoot" ||
        n == "tr" || n == "td" || n == "th" || n == "col") {
      TableStart(n);
      return next;
    }
    if (n == "isindex") {  // gumbo still expands it: form(hr, label(input), hr)
      if (form_pointer_) return next;
      ClosePInButtonScope();  // as the form start tag does
      size_t depth = stack_.size();
      Push("form");
      Push("label");
      Push("input");
      Count(2);
      PopTo(depth);
      return next;
    }
    if (n == "script" || n == "style") {
      Push(n);
      return RawText(s, next, n);
    }
    if (n == "iframe" || n == "noembed" || n == "noframes" || n == "textarea" || n == "title") {
      Push(n);
      return RawText(s, next, n);
    }
    if (n == "option" || n == "optgroup") {
      if (TopIs("option")) PopTo(stack_.size() - 1);
    }
    if (n == "button") {  // a button in scope is closed first
      size_t k = FindInScope(n);
      if (k != kEof) PopTo(k);
    }
    if (n == "rb" || n == "rtc" || n == "rp" || n == "rt") {
      if (FindInScope("ruby") != kEof) GenerateImpliedEndTags(n == "rp" || n == "rt");
      Push(n);
      return next;
    }
    Reconstruct();
    if (Void().contains(n)) {
      Count(1);
      return next;
    }
    Push(n);
    if (Formatting().contains(n)) AddFormatting(tag);
    if (n == "applet" || n == "marquee" || n == "object") PushMarker();
    return next;
  }

  // Start tags before the body: head elements stay in the head, a
  // <noscript> there admits only a few, anything else starts the body
  // (nullopt: process it as a body start tag).
  std::optional<size_t> HeadStart(std::string_view s, size_t next, const std::string& n) {
    static const Names kHeadVoid = {"base", "basefont", "bgsound", "link", "meta", "menuitem"};
    if (head_ == Head::kNoscript) {
      if (n == "basefont" || n == "bgsound" || n == "link" || n == "meta") {
        Count(1);
        return next;
      }
      if (n == "noframes" || n == "style") return SkipInHead(s, next, n);
      if (n == "head" || n == "noscript") return next;
      head_ = Head::kHead;  // the noscript ends; the tag is seen again in the head
    }
    if (n == "html" || n == "head") return next;
    if (kHeadVoid.contains(n)) {
      Count(1);
      return next;
    }
    if (n == "title" || n == "style" || n == "script" || n == "noframes") {
      return SkipInHead(s, next, n);
    }
    if (n == "noscript") {
      Count(1);
      head_ = Head::kNoscript;
      return next;
    }
    head_ = Head::kBody;
    return std::nullopt;
  }

  size_t SkipInHead(std::string_view s, size_t next, const std::string& n) {
    size_t depth = stack_.size();
    Push(n);
    size_t after = RawText(s, next, n);
    PopTo(depth);
    return after;
  }

  // Skips the RAWTEXT/RCDATA/script content of the element just pushed and
  // pops it; returns where markup starts again.
  size_t RawText(std::string_view s, size_t i, const std::string& name) {
    size_t end = kEof;
    if (name == "script") {
      end = ScriptEnd(s, i);
    } else {
      for (size_t at = s.find('<', i); at != kEof; at = s.find('<', at + 1)) {
        if (EndTagAt(s, at, name)) {
          end = at;
          break;
        }
      }
    }
    if (end == kEof) return kEof;  // text to the end
    PopTo(stack_.size() - 1);
    Tag tag;
    size_t after = ScanTag(s, end, &tag, limits_.max_attributes);
    if (after == kTooMany) over_ = true;
    return after == kTooMany ? kEof : after;
  }

  void TableStart(const std::string& n) {
    size_t table = FindInTableScope("table");
    if (table == kEof) {
      Count(1);  // ignored outside tables
      return;
    }
    auto find_above = [&](std::initializer_list<std::string_view> names) {
      for (size_t k = stack_.size(); k-- > table + 1;) {
        for (std::string_view x : names) {
          if (stack_[k].name == x) return k;
        }
      }
      return kEof;
    };
    if (n == "td" || n == "th") {
      size_t tr = find_above({"tr"});
      if (tr != kEof) {
        PopTo(tr + 1);
      } else {
        size_t section = find_above({"tbody", "thead", "tfoot"});
        if (section != kEof) {
          PopTo(section + 1);
        } else {
          PopTo(table + 1);
          Push("tbody");
        }
        Push("tr");
      }
      Push(n);
      PushMarker();
    } else if (n == "tr") {
      size_t section = find_above({"tbody", "thead", "tfoot"});
      if (section != kEof) {
        PopTo(section + 1);
      } else {
        PopTo(table + 1);
        Push("tbody");
      }
      Push(n);
    } else if (n == "col") {
      PopTo(table + 1);
      Push("colgroup");
      Count(1);
    } else {
      PopTo(table + 1);
      Push(n);
      if (n == "caption") PushMarker();
    }
  }

  void EndTag(const std::string& n) {
    if (head_ == Head::kNoscript) {
      if (n == "noscript") head_ = Head::kHead;
      if (n != "br") return;  // other end tags are ignored there
      head_ = Head::kBody;
    }
    if (head_ == Head::kHead) {
      if (n != "body" && n != "html" && n != "br") return;  // ignored before the body
      head_ = Head::kBody;
    }
    if (size_t select = SelectMode(); select != kEof) {
      if (n == "option" && TopIs("option")) {
        PopTo(stack_.size() - 1);
      } else if (n == "optgroup") {
        if (TopIs("option") && stack_.size() >= 2 && stack_[stack_.size() - 2].name == n) {
          PopTo(stack_.size() - 1);
        }
        if (TopIs("optgroup")) PopTo(stack_.size() - 1);
      } else if (n == "select") {
        PopTo(select);
      } else if (n == "caption" || n == "table" || n == "tbody" || n == "tfoot" || n == "thead" ||
                 n == "tr" || n == "td" || n == "th") {
        if (FindInTableScope(n, select) != kEof) {
          PopTo(select);
          EndTag(n);  // reprocessed
        }
      }
      return;  // everything else is ignored in a select
    }
    if (n == "colgroup" || n == "col") {  // only "in column group" has a colgroup to close
      if (n == "colgroup" && TopIs("colgroup")) PopTo(stack_.size() - 1);
      return;
    }
    LeaveColumnGroup();
    if (n == "html" || n == "body" || n == "head") return;
    if (n == "br") {
      Reconstruct();
      Count(1);
      return;
    }
    if (n == "p") {
      if (!ClosePInButtonScope()) Count(1);  // an empty <p> is inserted
      return;
    }
    if (Formatting().contains(n)) {
      FormattingEnd(n);
      return;
    }
    if (IsHeading(n)) {
      for (size_t k = stack_.size(); k-- > 0;) {
        if (IsHeading(stack_[k].name)) {
          PopTo(k);
          return;
        }
        if (IsBoundary(stack_[k], n)) return;
      }
      return;
    }
    if (n == "table" || n == "tbody" || n == "thead" || n == "tfoot" || n == "tr" || n == "td" ||
        n == "th" || n == "caption") {
      size_t k = FindInTableScope(n);
      if (k != kEof) PopTo(k);
      return;
    }
    if (n == "form") {
      // Only the form element itself leaves the stack, and what is above it
      // stays open inside it in the tree, one level deeper than the stack
      // says: so the model keeps a form open unless it is the current node.
      form_pointer_ = false;
      if (FindInScope(n) == kEof) return;
      GenerateImpliedEndTags(false);
      if (TopIs("form")) PopTo(stack_.size() - 1);
      return;
    }
    if (n == "applet" || n == "marquee" || n == "object") {
      // gumbo looks for these in table scope (other applet/marquee/object
      // elements above do not stop it).
      size_t k = FindInTableScope(n);
      if (k != kEof) {
        PopTo(k);
        ClearToMarker();
      }
      return;
    }
    if (BlockEnd().contains(n)) {
      size_t k = FindInScope(n, n == "li");
      if (k != kEof) PopTo(k);
      return;
    }
    AnyOtherEnd(n);
  }

  // "Any other end tag": the nearest element of that name, unless a special
  // element comes first.
  void AnyOtherEnd(const std::string& n) {
    for (size_t k = stack_.size(); k-- > 0;) {
      if (stack_[k].name == n) {
        PopTo(k);
        return;
      }
      if (Special().contains(stack_[k].name)) return;
    }
  }

  void FormattingEnd(const std::string& n) {
    // The last such entry after the last marker.
    ActiveIt entry = active_.end();
    for (auto it = active_.end(); it != active_.begin();) {
      --it;
      if (it->marker) break;
      if (it->name == n) {
        entry = it;
        break;
      }
    }
    if (entry == active_.end()) return;  // gumbo ignores it (no "any other end tag")
    size_t k = stack_.size();
    while (k-- > 0) {
      if (stack_[k].has_active && stack_[k].active == entry) break;
    }
    if (k == kEof) {  // not open: the entry goes
      active_.erase(entry);
      return;
    }
    if (FindInScope(n) == kEof) return;  // no such element in scope
    for (size_t j = k + 1; j < stack_.size(); ++j) {
      // The adoption agency moves things about but leaves no more open than
      // before: the model leaves them as they are.
      if (Special().contains(stack_[j].name)) return;
    }
    PopTo(k);
    active_.erase(entry);
  }

  // A boundary of the default scope when looking for `target`.
  static bool IsBoundary(const Entry& e, std::string_view target) {
    static const Names b = {"applet", "caption", "html",   "table",   "td",
                            "th",     "marquee", "object", "template"};
    return e.name != target && b.contains(e.name);
  }

  // `list_item`: list item scope (ol and ul are boundaries too).
  size_t FindInScope(std::string_view n, bool list_item = false) const {
    for (size_t k = stack_.size(); k-- > 0;) {
      const Entry& e = stack_[k];
      if (e.name == n) return k;
      if (IsBoundary(e, n) || (list_item && (e.name == "ol" || e.name == "ul"))) return kEof;
    }
    return kEof;
  }

  // Table scope, searched below `below` (the whole stack by default).
  size_t FindInTableScope(std::string_view n, size_t below = kEof) const {
    for (size_t k = std::min(below, stack_.size()); k-- > 0;) {
      const Entry& e = stack_[k];
      if (e.name == n) return k;
      if (e.name == "html" || e.name == "table" || e.name == "template") return kEof;
    }
    return kEof;
  }

  // True when the tree builder is in a table mode ("in table", "in table
  // body", "in row", "in column group"): the nearest table context is a
  // table part, not a cell or caption. Foster-parented content does not
  // change the mode.
  bool InTableMode() const {
    for (size_t k = stack_.size(); k-- > 0;) {
      const std::string& e = stack_[k].name;
      if (e == "td" || e == "th" || e == "caption" || e == "select" || e == "html") return false;
      if (e == "table" || e == "tbody" || e == "thead" || e == "tfoot" || e == "tr" ||
          e == "colgroup") {
        return true;
      }
    }
    return false;
  }

  bool ClosePInButtonScope() {
    for (size_t k = stack_.size(); k-- > 0;) {
      const Entry& e = stack_[k];
      if (e.name == "p") {
        PopTo(k);
        return true;
      }
      if (e.name == "button" || IsBoundary(e, "p")) return false;
    }
    return false;
  }

  // The index of the select whose "in select" mode the tree builder is in
  // (only option and optgroup can be above it then); kEof if none.
  size_t SelectMode() const {
    for (size_t k = stack_.size(); k-- > 0;) {
      const Entry& e = stack_[k];
      if (e.name == "select") return k;
      if (e.name != "option" && e.name != "optgroup") return kEof;
    }
    return kEof;
  }

  // "in select" (and "in select in table"): most start tags are ignored.
  size_t SelectStart(std::string_view s, size_t next, const Tag& tag, size_t select) {
    const std::string& n = tag.name;
    if (n == "option") {
      if (TopIs("option")) PopTo(stack_.size() - 1);
      Push(n);
    } else if (n == "optgroup") {
      if (TopIs("option")) PopTo(stack_.size() - 1);
      if (TopIs("optgroup")) PopTo(stack_.size() - 1);
      Push(n);
    } else if (n == "select") {
      PopTo(select);  // acts as </select>
    } else if (n == "input" || n == "keygen" || n == "textarea" || n == "caption" || n == "table" ||
               n == "tbody" || n == "tfoot" || n == "thead" || n == "tr" || n == "td" ||
               n == "th") {
      bool table_part = n != "input" && n != "keygen" && n != "textarea";
      if (table_part && FindInTableScope("table", select) == kEof) return next;
      PopTo(select);
      return StartTag(s, next, tag);  // reprocessed
    } else if (n == "script") {
      Push(n);
      return RawText(s, next, n);
    }
    return next;
  }

  void Count(size_t n) {
    budget_.elements += n;
    if (budget_.elements > limits_.max_elements) over_ = true;
  }

  void Push(std::string_view name) {
    Entry e;
    e.name = name;
    stack_.push_back(std::move(e));
    if (stack_.size() > limits_.max_depth) {
      over_ = true;
      return;
    }
    budget_.max_depth = std::max(budget_.max_depth, stack_.size());
    Count(1);
  }

  // Puts the element just pushed on the list of active formatting elements;
  // with three identical ones after the last marker already, the earliest
  // of them leaves the list (the Noah's Ark clause).
  void AddFormatting(const Tag& tag) {
    std::string attrs;
    std::vector<std::string> sorted = tag.attrs;
    std::sort(sorted.begin(), sorted.end());
    for (const std::string& a : sorted) attrs += a + '\1';
    int identical = 0;
    ActiveIt earliest = active_.end();
    for (auto it = active_.end(); it != active_.begin();) {
      --it;
      if (it->marker) break;
      if (it->name == tag.name && it->attrs == attrs) {
        ++identical;
        earliest = it;
      }
    }
    if (identical >= 3) {
      for (Entry& e : stack_) {
        if (e.has_active && e.active == earliest) e.has_active = false;
      }
      active_.erase(earliest);
    }
    active_.push_back(Active{tag.name, false, true, std::move(attrs)});
    stack_.back().has_active = true;
    stack_.back().active = std::prev(active_.end());
  }

  void PushMarker() {
    active_.push_back(Active{"", true, false, ""});
    stack_.back().marker = true;
  }

  // Pops stack_[k] and everything above it. Closing a cell or caption
  // clears the active formatting list to the last marker; other elements
  // that pushed one (object, applet, marquee) clear it only when their own
  // end tag closes them (EndTag), so a marker can outlive its element, as in
  // gumbo.
  void PopTo(size_t k) {
    while (stack_.size() > k) {
      Entry& e = stack_.back();
      if (e.has_active) e.active->open = false;
      bool clear = e.marker && (e.name == "td" || e.name == "th" || e.name == "caption");
      stack_.pop_back();
      if (clear) ClearToMarker();
    }
  }

  // "in column group": anything but a col (or white space) closes the
  // colgroup first.
  void LeaveColumnGroup() {
    if (TopIs("colgroup")) PopTo(stack_.size() - 1);
  }

  // Pops dd, dt, li, option, optgroup, p, rb, rp, rt and rtc off the top
  // (rtc stays when `keep_rtc`).
  void GenerateImpliedEndTags(bool keep_rtc) {
    static const Names kImplied = {"dd", "dt", "li", "option", "optgroup",
                                   "p",  "rb", "rp", "rt",     "rtc"};
    while (!stack_.empty() && kImplied.contains(stack_.back().name) &&
           !(keep_rtc && stack_.back().name == "rtc")) {
      PopTo(stack_.size() - 1);
    }
  }

  void ClearToMarker() {
    while (!active_.empty()) {
      bool marker = active_.back().marker;
      active_.pop_back();
      if (marker) break;
    }
  }

  // Re-opens the formatting elements closed since the last marker or the
  // last open one, as the tree builder does before text and most tags.
  void Reconstruct() {
    if (active_.empty() || active_.back().marker || active_.back().open) return;
    auto it = std::prev(active_.end());
    while (it != active_.begin()) {
      auto prev = std::prev(it);
      if (prev->marker || prev->open) break;
      it = prev;
    }
    for (; it != active_.end() && !over_; ++it) {
      Push(it->name);
      stack_.back().has_active = true;
      stack_.back().active = it;
      it->open = true;
    }
  }

  const HtmlLimits& limits_;
  HtmlBudget budget_;
  std::vector<Entry> stack_;
  std::list<Active> active_;
  enum class Head { kHead, kNoscript, kBody };
  Head head_ = Head::kHead;       // before the body (in or after the head), or in it
  size_t merged_attributes_ = 0;  // of all html and body start tags
  bool form_pointer_ = false;     // the tree builder's form element pointer is set
  bool over_ = false;
};

}  // namespace

std::string NeutralizeHtml(std::string_view html) {
  static constexpr std::string_view kNames[] = {"svg", "math", "template", "frameset"};
  std::string out;
  out.reserve(html.size() + 64);
  size_t done = 0;
  for (size_t at = html.find('<'); at != kEof; at = html.find('<', at + 1)) {
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

HtmlBudget HtmlParseLimit(std::string_view html, const HtmlLimits& limits) {
  return Model(limits).Run(html);
}

}  // namespace mailvault::preview
