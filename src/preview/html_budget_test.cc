// Tests of HtmlParseLimit: ordinary mail HTML is never cut; the shapes that
// make gumbo slow or huge are; and, checked against gumbo itself on hostile
// patterns and on random tag soup, the tree gumbo builds from the allowed
// prefix is never deeper or bigger than the limits (plus the few elements
// every document has).
#include "preview/html_budget.h"

#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "preview/html_tree.h"

namespace mailvault::preview {
namespace {

std::string Repeat(std::string_view s, size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

struct TreeSize {
  size_t depth = 0;
  size_t elements = 0;
};

TreeSize Measure(const HtmlTree& tree) {
  TreeSize size;
  size_t depth = 0;
  WalkTree(
      tree.body(),
      [&](const GumboNode& node) {
        if (node.type != GUMBO_NODE_ELEMENT && node.type != GUMBO_NODE_TEMPLATE) return false;
        ++size.elements;
        size.depth = std::max(size.depth, ++depth);
        return true;
      },
      [&](const GumboNode&) { --depth; });
  return size;
}

// The parse of `html` under `limits` stays within them.
void ExpectBounded(const std::string& html, const HtmlLimits& limits) {
  HtmlTree tree(html, limits);
  TreeSize size = Measure(tree);
  EXPECT_LE(size.depth, limits.max_depth + 2) << html.substr(0, 200);
  EXPECT_LE(size.elements, limits.max_elements + 2) << html.substr(0, 200);
}

// A newsletter: nested layout tables, fonts, links, images, unclosed <p>
// and <li>, comments and conditional comments.
std::string Newsletter(size_t rows) {
  std::string html =
      "<html><head><style>td{font:12px Arial}</style><!--[if mso]><xml>x</xml><![endif]-->"
      "</head><body bgcolor=#fff><center><table width=600><tr><td>";
  for (size_t i = 0; i < rows; ++i) {
    html +=
        "<table><tr><td style=\"padding:4px\"><font face=Arial><a href=\"https://e.example/"
        "x\"><img src=\"https://e.example/i.png\" alt=pic></a></font></td><td><p>Item <b>bold"
        "</b> and <i>italic<p>unclosed paragraph<ul><li>one<li>two</ul></td></tr></table>\n";
  }
  html += "</td></tr></table></center><script>var a = '<div>';</script></body></html>";
  return html;
}

TEST(HtmlBudget, OrdinaryMailIsNotCut) {
  for (size_t rows : {1u, 100u, 5000u}) {
    std::string html = Newsletter(rows);
    HtmlBudget b = HtmlParseLimit(html);
    EXPECT_FALSE(b.cut) << rows;
    EXPECT_EQ(b.limit, html.size());
    EXPECT_LT(b.max_depth, 20u);
  }
  // Old-style HTML that never closes anything.
  std::string html = Repeat("<p>para <font color=red>red <b>bold<br>", 2000);
  HtmlBudget b = HtmlParseLimit(html);
  EXPECT_FALSE(b.cut) << b.max_depth;
}

TEST(HtmlBudget, DeepNestingIsCut) {
  std::string html = Repeat("<div>", 400000);
  HtmlBudget b = HtmlParseLimit(html);
  EXPECT_TRUE(b.cut);
  EXPECT_LE(b.limit, 300u * 5);
  EXPECT_EQ(b.max_depth, 256u);
  ExpectBounded(html, HtmlLimits{});
}

TEST(HtmlBudget, ElementFloodIsCut) {
  std::string html = Repeat("<br>", 300000);
  HtmlBudget b = HtmlParseLimit(html);
  EXPECT_TRUE(b.cut);
  EXPECT_EQ(b.elements, 200001u);
}

// Each pattern grows gumbo's stack, or its node count, without a matching
// rise in a naive count of start and end tags.
TEST(HtmlBudget, HostilePatternsStayBounded) {
  HtmlLimits limits;
  limits.max_depth = 64;
  limits.max_elements = 5000;
  std::string formatting;
  for (int i = 0; i < 60; ++i) formatting += "<b a=" + std::to_string(i) + ">";
  const std::vector<std::string> patterns = {
      Repeat("<div>", 1000),
      Repeat("<b><div></b>", 1000),        // adoption agency
      Repeat("<form><div></form>", 1000),  // </form> removes only the form
      Repeat("<div><script><!--<script></script></div></script>", 1000),  // double escape
      "<div>" + formatting + "</div>" + Repeat("<div>x</div>", 2000),     // reconstruction
      Repeat("<table><td><div>", 1000),
      Repeat("<div><select></div>", 1000),
      Repeat("<div><svg><style></div><g>", 1000),  // style is no raw text in SVG
      Repeat("<svg><g><![CDATA[</g>]]>", 1000),
      Repeat("<math><mtext><mglyph><style></mglyph></style>", 1000),
      Repeat("<div><noscript></div></noscript>", 1000),
      Repeat("<div><xmp></div></xmp>", 1000),
      Repeat("<p><marquee><p>", 1000),
      Repeat("<frameset><script></frameset>", 1000),
      Repeat("<a><table><a>", 1000),
      Repeat("<li><span><li>", 1000),
      Repeat("<svg><foreignObject><div></foreignObject>", 1000),
      Repeat("<div><!-- --!></div> -->", 1000),
      Repeat("<dd><dt><div>", 1000),
      Repeat("<tr><td><table>", 1000),
  };
  for (const std::string& html : patterns) ExpectBounded(html, limits);
}

// Random tag soup from the pieces that steer the tree builder, checked
// against gumbo with small limits so that they are reached often.
TEST(HtmlBudget, RandomSoupAgreesWithGumbo) {
  static const std::vector<std::string> pieces = {"<div>",
                                                  "</div>",
                                                  "<p>",
                                                  "</p>",
                                                  "<b>",
                                                  "</b>",
                                                  "<i x=1>",
                                                  "</i>",
                                                  "<a href=x>",
                                                  "</a>",
                                                  "<table>",
                                                  "</table>",
                                                  "<tr>",
                                                  "</tr>",
                                                  "<td>",
                                                  "</td>",
                                                  "<th>",
                                                  "<tbody>",
                                                  "<caption>",
                                                  "<col>",
                                                  "<colgroup>",
                                                  "<li>",
                                                  "</li>",
                                                  "<ul>",
                                                  "</ul>",
                                                  "<dd>",
                                                  "<dt>",
                                                  "<h1>",
                                                  "</h2>",
                                                  "<form>",
                                                  "</form>",
                                                  "<select>",
                                                  "</select>",
                                                  "<option>",
                                                  "<svg>",
                                                  "</svg>",
                                                  "<math>",
                                                  "<mtext>",
                                                  "<mglyph>",
                                                  "<foreignObject>",
                                                  "</foreignObject>",
                                                  "<desc>",
                                                  "<g>",
                                                  "</g>",
                                                  "<g/>",
                                                  "<annotation-xml encoding=text/html>",
                                                  "<style>",
                                                  "</style>",
                                                  "<script>",
                                                  "</script>",
                                                  "<!--",
                                                  "-->",
                                                  "<!-->",
                                                  "<![CDATA[",
                                                  "]]>",
                                                  "<xmp>",
                                                  "</xmp>",
                                                  "<textarea>",
                                                  "</textarea>",
                                                  "<title>",
                                                  "</title>",
                                                  "<noscript>",
                                                  "</noscript>",
                                                  "<template>",
                                                  "</template>",
                                                  "<frameset>",
                                                  "<marquee>",
                                                  "</marquee>",
                                                  "<object>",
                                                  "<button>",
                                                  "<nobr>",
                                                  "<font color=red>",
                                                  "</font>",
                                                  "<span>",
                                                  "</span>",
                                                  "<br>",
                                                  "</br>",
                                                  "<plaintext>",
                                                  "<isindex>",
                                                  "<image>",
                                                  "<body>",
                                                  "</body>",
                                                  "<html>",
                                                  "</html>",
                                                  "x",
                                                  " ",
                                                  "<",
                                                  ">",
                                                  "\"",
                                                  "'",
                                                  "=",
                                                  "/",
                                                  "<x-y>",
                                                  "</x-y>",
                                                  "<iframe>",
                                                  "</iframe>",
                                                  "<pre>",
                                                  "<listing>",
                                                  "<applet>",
                                                  "</applet>",
                                                  "<input>",
                                                  "<keygen>",
                                                  "<hr>",
                                                  "<dialog>",
                                                  "<details>",
                                                  "<object>",
                                                  "</object>",
                                                  "</caption>",
                                                  "</colgroup>",
                                                  "</tbody>",
                                                  "</th>",
                                                  "</dd>",
                                                  "</dt>",
                                                  "</ol>",
                                                  "<ol>",
                                                  "</h1>",
                                                  "<h2>",
                                                  "</nobr>",
                                                  "</option>",
                                                  "</optgroup>",
                                                  "<optgroup>",
                                                  "</button>",
                                                  "<b x=2>",
                                                  "<font face=a>",
                                                  "<a>",
                                                  "<u>",
                                                  "</u>",
                                                  "<s>",
                                                  "</s>",
                                                  "<em>",
                                                  "</em>",
                                                  "<big>",
                                                  "<code>",
                                                  "<tt>",
                                                  "</tt>",
                                                  "<strike>",
                                                  "<small>",
                                                  "<textarea>",
                                                  "<noembed>",
                                                  "</noembed>",
                                                  "<noframes>",
                                                  "</noframes>",
                                                  "<rt>",
                                                  "<rp>",
                                                  "<ruby>",
                                                  "<tfoot>",
                                                  "<thead>",
                                                  "</thead>",
                                                  "<address>",
                                                  "</address>",
                                                  "<center>",
                                                  "</center>",
                                                  "<fieldset>",
                                                  "<legend>",
                                                  "<label>",
                                                  "</label>",
                                                  "<x-a>",
                                                  "</x-a>",
                                                  "<x-b>",
                                                  "<menu>",
                                                  "<dir>",
                                                  "</dir>",
                                                  "<section>",
                                                  "</section>",
                                                  "<main>",
                                                  "</main>",
                                                  "<blockquote>",
                                                  "</blockquote>",
                                                  "<figure>",
                                                  "<wbr>",
                                                  "<img>",
                                                  "<area>",
                                                  "<embed>",
                                                  "<param>",
                                                  "<source>",
                                                  "<frame>",
                                                  "<frameset>",
                                                  "</frameset>",
                                                  "</template>",
                                                  "</math>",
                                                  "<mi>",
                                                  "<mo>",
                                                  "</mtext>",
                                                  "<script><!--",
                                                  "<script><!--<script>",
                                                  "</script>",
                                                  "<xmp>",
                                                  "<style><!--",
                                                  "<image>",
                                                  "<isindex>",
                                                  "<select><option>",
                                                  "<p><b>",
                                                  "<table><tr><td>",
                                                  "</td></tr></table>",
                                                  "x",
                                                  "x",
                                                  "x",
                                                  "\n",
                                                  "<body>",
                                                  "<br/>",
                                                  "<div/>"};
  std::mt19937 rng(20261207);
  HtmlLimits limits;
  limits.max_depth = 24;
  limits.max_elements = 600;
  for (int round = 0; round < 3000; ++round) {
    std::string html;
    size_t n = 20 + rng() % 400;
    for (size_t i = 0; i < n; ++i) html += pieces[rng() % pieces.size()];
    ExpectBounded(html, limits);
    if (HasFailure()) break;
  }
}

// Inputs that cost gumbo time out of proportion to their size are cut, or
// cost little, at the full 2 MB a mail body may have. The bound is loose
// (sanitizer builds are slow); what it catches is quadratic time, which at
// this size is tens of seconds to minutes.
TEST(HtmlBudget, WorstCasesAreFast) {
  constexpr size_t kSize = 2 << 20;
  auto fill = [](std::string s, std::string_view piece) {
    while (s.size() < kSize) s += piece;
    return s;
  };
  std::string distinct = "<div ";
  for (int i = 0; distinct.size() < kSize; ++i) distinct += "a" + std::to_string(i) + " ";
  distinct += ">";
  std::string merged;
  for (int i = 0; merged.size() < kSize; ++i) merged += "<body a" + std::to_string(i) + ">";
  const std::vector<std::pair<std::string, bool>> cases = {
      {distinct, true},                                // gumbo: 24 s per 100,000
      {merged, true},                                  // merged into one body: 10 s per MB
      {fill("<div ", "a "), true},                     // the same name again and again
      {fill("", "<div>"), true},                       // depth
      {fill(Repeat("<div>", 250), "</span>"), false},  // a long scope walk for each
      {fill("", "<!--x-->"), false},                   // the "--!>" search
      {fill("<table>", "<span>x</span>"), false},      // foster parenting
      {fill("", "</div a b c d e f g h i j k l m n o p>"), false},
  };
  for (const auto& [html, cut] : cases) {
    auto start = std::chrono::steady_clock::now();
    HtmlTree tree(html);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_EQ(tree.truncated(), cut) << html.substr(0, 60);
    EXPECT_LT(seconds, 10.0) << html.substr(0, 60);
  }
}

TEST(HtmlBudget, TextAndTagsAroundRawText) {
  // The </div> inside the script is text: the div stays open.
  std::string html = "<div><script>document.write('</div>')</script>" + Repeat("<div>", 10);
  HtmlBudget b = HtmlParseLimit(html);
  EXPECT_EQ(b.max_depth, 11u);
  // An unterminated comment hides the rest.
  b = HtmlParseLimit("<div><!-- " + Repeat("<div>", 1000));
  EXPECT_EQ(b.max_depth, 1u);
  EXPECT_FALSE(b.cut);
}

}  // namespace
}  // namespace mailvault::preview
