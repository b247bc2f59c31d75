// Tests of SanitizeStyle: allowed properties kept and normalised, every
// way to load or run something from CSS dropped, and idempotence.
#include "preview/css.h"

#include <gtest/gtest.h>

namespace mailvault::preview {
namespace {

TEST(SanitizeStyle, KeepsPresentation) {
  StyleResult r = SanitizeStyle(
      "COLOR: #333;  font-family: 'Segoe UI', Arial;font-size:12px ; "
      "background-color: rgb(255, 255, 255); border: 1px solid #ccc !important;;"
      "padding:0 4px; width: 100%; display: none; text-align:center");
  EXPECT_EQ(r.css,
            "color: #333; font-family: 'Segoe UI', Arial; font-size: 12px; "
            "background-color: rgb(255, 255, 255); border: 1px solid #ccc !important; "
            "padding: 0 4px; width: 100%; display: none; text-align: center");
  EXPECT_EQ(r.removed, 0u);
  EXPECT_FALSE(r.remote_image);
  EXPECT_EQ(SanitizeStyle(r.css).css, r.css);
}

TEST(SanitizeStyle, DropsWhatLoadsOrRuns) {
  for (const char* bad : {
           "background: url(http://t.example/x.png)",
           "background-image: URL('x')",
           "background: u\\72l(x)",
           "background:\\75rl(x)",
           "width: expression(alert(1))",
           "color: var(--c)",
           "width: calc(var(--w))",
           "content: attr(title)",
           "background: image-set('a.png' 1x)",
           "background: -webkit-image-set(url(a) 1x)",
           "background: linear-gradient(red, blue)",
           "behavior: url(x.htc)",
           "-moz-binding: url(x.xml#x)",
           "position: fixed",
           "display: fixed",
           "color: red/**/",
           "color: red; } body { color: blue",
           "font-family: 'unterminated",
           "color: \"x\\\"",
           "color: <script>",
           "@import 'x.css'",
           "c\\olor: red",
           "list-style-image: url(x)",
           "cursor: url(x), auto",
           "color: red\x01",
           "colour: red",
           "color",
           ": red",
           "font-family: 'a@b'",
           "font-family: \"x/*y*/\"",
           "font-family: 'url(x)'",
       }) {
    StyleResult r = SanitizeStyle(bad);
    EXPECT_EQ(r.css.find("url"), std::string::npos) << bad << " -> " << r.css;
    EXPECT_EQ(r.css.find('\\'), std::string::npos) << bad << " -> " << r.css;
    EXPECT_EQ(r.css.find("expression"), std::string::npos) << bad;
    EXPECT_EQ(r.css.find("fixed"), std::string::npos) << bad;
    EXPECT_EQ(r.css.find('{'), std::string::npos) << bad;
    EXPECT_GT(r.removed, 0u) << bad;
  }
  EXPECT_TRUE(SanitizeStyle("background: url(http://t.example/x.png)").remote_image);
  EXPECT_FALSE(SanitizeStyle("width: expression(1)").remote_image);
  // Only the bad declaration goes.
  StyleResult r = SanitizeStyle("color: red; background: url(x); font-weight: bold");
  EXPECT_EQ(r.css, "color: red; font-weight: bold");
  EXPECT_EQ(r.removed, 1u);
}

}  // namespace
}  // namespace mailvault::preview
