// Tests of SanitizeHtml, SafeLinkUrl and HtmlToText: the XSS corpus in
// tests/xss/corpus.txt (shared with the console's browser test) leaves no
// active content, no remote loads and no dangerous URLs, checked on the
// text and by parsing the output again; sanitizing is idempotent; ordinary
// mail HTML keeps its tables, fonts, links and inline images.
#include "preview/sanitize.h"

#include <gtest/gtest.h>
#include <gumbo.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "mime/text.h"
#include "preview/html_tree.h"
#include "preview/sandboxed.h"

namespace mailvault::preview {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

std::vector<std::string> Corpus() {
  std::ifstream in(std::string(MV_SOURCE_DIR) + "/tests/xss/corpus.txt", std::ios::binary);
  EXPECT_TRUE(in.good()) << "tests/xss/corpus.txt";
  std::vector<std::string> out;
  std::string line, block;
  while (std::getline(in, line)) {
    if (line == "----") {
      out.push_back(block);
      block.clear();
    } else {
      if (!block.empty()) block += '\n';
      block += line;
    }
  }
  if (!block.empty()) out.push_back(block);
  return out;
}

// Parses `html` again as a browser would and checks every element and
// attribute of the result.
void ExpectSafeTree(const std::string& html, const std::string& vector) {
  GumboOutput* out = gumbo_parse_with_options(&kGumboDefaultOptions, html.data(), html.size());
  static const std::vector<std::string> kForbidden = {
      "script", "style",    "iframe",   "frame",   "frameset", "object",   "embed",
      "applet", "form",     "input",    "button",  "select",   "textarea", "svg",
      "math",   "template", "noscript", "link",    "base",     "video",    "audio",
      "source", "marquee",  "xmp",      "isindex", "keygen",   "title"};
  int metas = 0;
  WalkTree(
      out->document,
      [&](const GumboNode& node) {
        if (node.type == GUMBO_NODE_TEMPLATE) {
          ADD_FAILURE() << "template in " << vector;
          return false;
        }
        if (node.type != GUMBO_NODE_ELEMENT) return true;
        const GumboElement& e = node.v.element;
        std::string tag = TagName(node);
        EXPECT_EQ(e.tag_namespace, GUMBO_NAMESPACE_HTML) << tag << " in " << vector;
        for (const std::string& bad : kForbidden) EXPECT_NE(tag, bad) << vector;
        if (tag == "meta") ++metas;
        for (unsigned i = 0; i < e.attributes.length; ++i) {
          const auto* a = static_cast<const GumboAttribute*>(e.attributes.data[i]);
          std::string name = a->name;
          std::string value = Lower(a->value);
          EXPECT_FALSE(name.starts_with("on")) << name << " in " << vector;
          for (const char* bad : {"id", "name", "class", "srcset", "background", "formaction",
                                  "action", "poster", "xmlns", "xlink:href", "data"}) {
            EXPECT_NE(name, bad) << vector;
          }
          if (name == "href") {
            EXPECT_TRUE(value.starts_with("http://") || value.starts_with("https://") ||
                        value.starts_with("mailto:"))
                << value << " in " << vector;
          }
          if (name == "src") {
            EXPECT_TRUE(value.starts_with("data:image/png;base64,") ||
                        value.starts_with("data:image/gif;base64,") ||
                        value.starts_with("data:image/jpeg;base64,"))
                << value << " in " << vector;
          }
          if (name == "style") {
            EXPECT_EQ(value.find("url("), std::string::npos) << vector;
            EXPECT_EQ(value.find('\\'), std::string::npos) << vector;
          }
        }
        return true;
      },
      [](const GumboNode&) {});
  EXPECT_EQ(metas, 1) << vector;  // ours: charset
  gumbo_destroy_output(&kGumboDefaultOptions, out);
}

constexpr std::string_view kPrefix =
    "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body";

TEST(SanitizeHtml, XssCorpus) {
  std::vector<std::string> corpus = Corpus();
  ASSERT_GE(corpus.size(), 40u);
  for (const std::string& v : corpus) {
    SanitizedHtml s = SanitizeHtml(v);
    std::string lower = Lower(s.html);
    EXPECT_TRUE(s.html.starts_with(kPrefix)) << v;
    EXPECT_TRUE(s.html.ends_with("</body></html>")) << v;
    for (const char* bad : {"<script", "javascript:", "vbscript:", "url(", "expression(", "@import",
                            "<iframe", "<svg", "<math", "<object", "<embed", "<style", "<meta http",
                            "<base", "<form", "data:text", "srcdoc"}) {
      EXPECT_EQ(lower.find(bad), std::string::npos) << bad << " from " << v << "\n" << s.html;
    }
    for (const char* bad : {" on", "\ton", "\non", "/on"}) {
      // Attribute names are only ever written after a space, so " on" in a
      // tag would be an event handler.
      for (size_t at = lower.find('<'); at != std::string::npos; at = lower.find('<', at + 1)) {
        size_t gt = lower.find('>', at);
        std::string tag = lower.substr(at, gt - at);
        // Attribute values are quoted and cannot hold '<' or '>' (escaped);
        // drop them before looking for names.
        std::string names;
        bool quoted = false;
        for (char c : tag) {
          if (c == '"')
            quoted = !quoted;
          else if (!quoted)
            names += c;
        }
        EXPECT_EQ(names.find(bad), std::string::npos) << tag << " from " << v;
      }
    }
    EXPECT_TRUE(mime::IsValidUtf8(s.html));
    ExpectSafeTree(s.html, v);
    SanitizedHtml again = SanitizeHtml(s.html);
    EXPECT_EQ(again.html, s.html) << "not idempotent: " << v;
    EXPECT_FALSE(again.remote_images_blocked) << v;
  }
}

// The same corpus through the sandboxed helper, as the console runs it:
// byte for byte what the in-process sanitizer gives (checked safe above),
// and safe on its own.
TEST(SanitizeHtml, XssCorpusThroughTheHelper) {
  HelperOptions helper;
  helper.path = MV_PREVIEW_HELPER;
  std::vector<std::string> corpus = Corpus();
  ASSERT_GE(corpus.size(), 40u);
  for (const std::string& v : corpus) {
    HelperRequest request;
    request.html = v;
    auto reply = RunHelper(helper, request);
    ASSERT_TRUE(reply.ok()) << reply.status().ToString() << " for " << v;
    SanitizedHtml direct = SanitizeHtml(v);
    EXPECT_EQ(reply->body, direct.html) << v;
    EXPECT_EQ(reply->remote_images_blocked, direct.remote_images_blocked) << v;
    ExpectSafeTree(reply->body, v);
  }
}

TEST(SanitizeHtml, RemoteImagesAreBlockedAndFlagged) {
  for (const char* html :
       {"<img src=\"http://t.example/p.gif\">", "<img src=\"//t.example/p.gif\">",
        "<img srcset=\"https://t.example/a.png 1x\">", "<table background=\"http://t/x.png\">",
        "<div style=\"background-image:url(https://t/x.png)\">x</div>",
        "<img src=\"data:image/png;base64,iVBORw0KGgo=\">"}) {
    SanitizedHtml s = SanitizeHtml(html);
    EXPECT_TRUE(s.remote_images_blocked) << html;
    EXPECT_GT(s.removed, 0u) << html;
    EXPECT_EQ(s.html.find("t.example"), std::string::npos) << s.html;
  }
  SanitizedHtml s = SanitizeHtml("<p>no images</p>");
  EXPECT_FALSE(s.remote_images_blocked);
  EXPECT_EQ(s.removed, 0u);
}

const std::string kPng =
    std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\1\0\0\0\1\x08\x06\0\0\0", 26);

TEST(SanitizeHtml, BenignMailSurvives) {
  std::string html =
      "<html><head><title>Offer</title><style>p{color:red}</style></head>"
      "<body bgcolor=\"#f0f0f0\"><center>"
      "<table width=\"600\" cellpadding=\"4\" cellspacing=\"0\" border=\"0\">"
      "<tr><td bgcolor=\"#ffffff\" align=\"left\" valign=\"top\" colspan=\"2\">"
      "<font face=\"Arial\" color=\"#333333\" size=\"2\">Hello <b>Bob</b> &amp; <i>team</i>,</font>"
      "</td></tr><tr><td style=\"padding: 8px; FONT-FAMILY: 'Segoe UI', Arial\">"
      "<a href=\"https://example.com/offer?a=1&amp;b=2\" title=\"Offer\">See the offer</a>"
      "</td><td><img src=\"cid:logo@example.com\" alt=\"Logo\" width=\"120\" height=\"40\">"
      "</td></tr></table></center>"
      "<ul><li>one</li><li>two</li></ul><blockquote>quoted</blockquote>"
      "<pre>  code\n  block</pre><hr><p style=\"color:red;text-align:center\">red</p>"
      "</body></html>";
  std::vector<mime::BodyImage> images = {{"logo@example.com", "image/png", kPng}};
  SanitizeOptions options;
  options.cid_images = &images;
  SanitizedHtml s = SanitizeHtml(html, options);
  EXPECT_FALSE(s.remote_images_blocked);
  for (const char* kept : {
           "<body bgcolor=\"#f0f0f0\">",
           "<table width=\"600\" cellpadding=\"4\" cellspacing=\"0\" border=\"0\"><tbody><tr>",
           "<td bgcolor=\"#ffffff\" align=\"left\" valign=\"top\" colspan=\"2\">",
           "<font face=\"Arial\" color=\"#333333\" size=\"2\">Hello <b>Bob</b> &amp; "
           "<i>team</i>,</font>",
           "<td style=\"padding: 8px; font-family: &#39;Segoe UI&#39;, Arial\">",
           "<a href=\"https://example.com/offer?a=1&amp;b=2\" title=\"Offer\" target=\"_blank\" "
           "rel=\"noopener noreferrer\">See the offer</a>",
           "<img src=\"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAY=\" "
           "alt=\"Logo\" width=\"120\" height=\"40\">",
           "<ul><li>one</li><li>two</li></ul><blockquote>quoted</blockquote>",
           "<pre>  code\n  block</pre><hr><p style=\"color: red; text-align: center\">red</p>",
       }) {
    EXPECT_NE(s.html.find(kept), std::string::npos) << kept << "\n" << s.html;
  }
  EXPECT_EQ(s.html.find("Offer</title>"), std::string::npos);
  EXPECT_EQ(s.html.find("p{color"), std::string::npos);
  EXPECT_NE(SanitizeHtml(s.html).html.find("<img alt=\"Logo\""), std::string::npos)
      << "re-sanitizing drops data: images the mail did not reference by cid";
}

TEST(SanitizeHtml, CidImages) {
  std::vector<mime::BodyImage> images = {{"a@x", "image/png", kPng},
                                         {"Case@X", "image/gif", "GIF89a..."},
                                         {"svg@x", "image/svg+xml", "<svg onload=alert(1)>"},
                                         {"lie@x", "image/png", "<html>not a png</html>"},
                                         {"jpeg@x", "image/png", "\xff\xd8\xff\xe0 jfif"}};
  SanitizeOptions options;
  options.cid_images = &images;
  auto src = [&](const std::string& ref) {
    SanitizedHtml s = SanitizeHtml("<img src=\"" + ref + "\">", options);
    EXPECT_FALSE(s.remote_images_blocked) << ref;
    size_t at = s.html.find("<img");
    return s.html.substr(at, s.html.find('>', at) - at + 1);
  };
  EXPECT_EQ(src("cid:a@x").substr(0, 32), "<img src=\"data:image/png;base64,");
  EXPECT_EQ(src("CID:a%40x").substr(0, 32), "<img src=\"data:image/png;base64,");
  EXPECT_EQ(src("cid:case@x"), "<img src=\"data:image/gif;base64,R0lGODlhLi4u\">");
  EXPECT_EQ(src("cid:svg@x"), "<img>");  // never SVG
  EXPECT_EQ(src("cid:lie@x"), "<img>");  // the bytes decide, not the label
  EXPECT_EQ(src("cid:jpeg@x").substr(0, 33), "<img src=\"data:image/jpeg;base64,");
  EXPECT_EQ(src("cid:unknown@x"), "<img>");
  // Without the message's images every cid: goes.
  EXPECT_EQ(SanitizeHtml("<img src=\"cid:a@x\">").html.find("data:"), std::string::npos);
}

TEST(SanitizeHtml, LinksAndUrls) {
  EXPECT_EQ(SafeLinkUrl("https://example.com/x"), "https://example.com/x");
  EXPECT_EQ(SafeLinkUrl("  HTTP://Example.com/ x "), "http://Example.com/x");
  EXPECT_EQ(SafeLinkUrl("mailto:bob@example.org"), "mailto:bob@example.org");
  EXPECT_EQ(SafeLinkUrl("MAILTO:bob@example.org"), "mailto:bob@example.org");
  for (const char* bad : {"javascript:alert(1)", "JAVASCRIPT:alert(1)", "java\tscript:x",
                          "java\nscript:x", "\x01javascript:x", "vbscript:x", "data:text/html,x",
                          "file:///etc/passwd", "/relative", "relative/path", "#top",
                          "//evil.example/", "http:evil", "ftp://x/", "", "cid:x", "about:blank"}) {
    EXPECT_EQ(SafeLinkUrl(bad), "") << bad;
  }
  SanitizedHtml s = SanitizeHtml("<a href=\"/console/delete\">x</a><a name=top>y</a>");
  EXPECT_NE(s.html.find("<span>x</span><span>y</span>"), std::string::npos) << s.html;
}

TEST(SanitizeHtml, ParsesBackToItself) {
  // Shapes where dropping markup naively changes how the result parses.
  for (const char* html :
       {"<h1><foo><h2>x</h2></foo></h1>", "<p><table><tr><td>x</td></tr></table>",
        "<pre>\n\nstarts with a newline</pre>", "<a href=\"http://a/\">1<a href=\"http://b/\">2",
        "<table>text<tr><td>cell</table>", "<ul><li>a<li>b</ul>", "<p>a<form><p>b</form>",
        "<b><p>x</b>y</p>", "<listing>\nx</listing>", "<select><option>x</select>after",
        "<dl><dt>a<dd>b</dl>", "<p><marquee><p>x</marquee>", "<table><caption>c<tr><td>d",
        // characters a parser changes when it reads them raw
        "<p title=\"&#1;&#13;x\">a&#14;&#xFDD0;&#x85;&#xFFFE;b&#13;c\x01d\re</p>",
        "<div><tr\x0b>an unknown tag that starts like a known one</div>",
        "<table><form><tr><td>a form the parser put in a table</table>"}) {
    std::string once = SanitizeHtml(html).html;
    EXPECT_EQ(SanitizeHtml(once).html, once) << html;
  }
  EXPECT_NE(SanitizeHtml("<pre>\n\nx</pre>").html.find("<pre>\n\nx</pre>"), std::string::npos);
  // Foster parenting builds trees no markup parses to (a <dt> inside a <dt>,
  // a <p> inside a <p>); from the second pass on the output is stable.
  for (const char* html : {"<dt><a><table><dt>x", "<p><b><table><p>x", "<li><table><li>y"}) {
    std::string twice = SanitizeHtml(SanitizeHtml(html).html).html;
    EXPECT_EQ(SanitizeHtml(twice).html, twice) << html;
  }
}

TEST(SanitizeHtml, InvalidUtf8AndNulComeOutAsUtf8) {
  SanitizedHtml s = SanitizeHtml(std::string("<p>a\xff\xfe\0b</p>", 10));
  EXPECT_TRUE(mime::IsValidUtf8(s.html));
  EXPECT_EQ(s.html.find('\0'), std::string::npos);
}

TEST(HtmlToText, ReadableText) {
  std::string text = HtmlToText(
      "<html><head><title>T</title><style>p{}</style><script>x()</script></head><body>"
      "<h1>Title</h1><p>First   paragraph\nwith <b>bold</b> &amp; more.</p>"
      "<p>Line one<br>Line two</p>"
      "<ul><li>apple</li><li>pear</li></ul>"
      "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td><td>d</td></tr></table>"
      "<p>Visit <a href=\"https://example.com/x\">our site</a>, "
      "<a href=\"https://example.com/y\">https://example.com/y</a> or "
      "<a href=\"mailto:help@example.com\">help@example.com</a> "
      "<a href=\"javascript:alert(1)\">not a link</a>.</p>"
      "<img src=\"cid:x\" alt=\"Logo\"><pre>  keep\n  spacing</pre><div>end</div>"
      "</body></html>");
  EXPECT_EQ(text,
            "Title\n\nFirst paragraph with bold & more.\n\nLine one\nLine two\n\n- apple\n"
            "- pear\n\na\tb\nc\td\n\nVisit our site <https://example.com/x>, "
            "https://example.com/y or help@example.com not a link.\n\n[Logo]\n\n  keep\n"
            "  spacing\n\nend");
  EXPECT_EQ(HtmlToText(""), "");
  // A link that starts after blanks a block boundary trims (found by fuzzing).
  EXPECT_EQ(HtmlToText("x <a href=\"http://a.example/\"><div>y</div></a>"),
            "x\ny\n<http://a.example/>");
  EXPECT_EQ(HtmlToText("plain"), "plain");
  EXPECT_EQ(HtmlToText("<svg><text>hidden</text></svg><template>t</template>shown"), "shown");
}

}  // namespace
}  // namespace mailvault::preview
