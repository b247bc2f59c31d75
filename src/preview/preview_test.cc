// Tests of MakeTextPreview and MakeHtmlPreview on whole messages: which body
// each shows, HTML-only mail as text, cid images resolved end to end, remote
// images and hostile HTML, and the NotFound of a mail without HTML. The HTML
// is parsed by the real helper program (MV_PREVIEW_HELPER, built beside).
#include "preview/preview.h"

#include <gtest/gtest.h>

#include <string>

#include "testutil/base64.h"

namespace mailvault::preview {
namespace {

constexpr std::string_view kHeaders =
    "From: Shop <news@shop.example>\r\n"
    "To: bob@example.org\r\n"
    "Subject: offer\r\n"
    "MIME-Version: 1.0\r\n";

HelperOptions Helper() {
  HelperOptions h;
  h.path = MV_PREVIEW_HELPER;
  return h;
}

const std::string kGif("GIF89a\x01\x00\x01\x00\x00\x00\x00;", 14);

std::string Alternative() {
  return std::string(kHeaders) +
         "Content-Type: multipart/alternative; boundary=\"a\"\r\n\r\n"
         "--a\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
         "Plain offer: 10 \xe2\x82\xac\r\n"
         "--a\r\nContent-Type: multipart/related; boundary=\"r\"\r\n\r\n"
         "--r\r\nContent-Type: text/html; charset=iso-8859-1\r\n"
         "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
         "<p onclick=3D\"steal()\">Caf=E9 <img src=3D\"cid:dot@shop\" alt=3Ddot>"
         "<img src=3D\"https://tracker.example/p.gif\"><script>x()</script></p>\r\n"
         "--r\r\nContent-Type: image/gif\r\nContent-ID: <dot@shop>\r\n"
         "Content-Transfer-Encoding: base64\r\n\r\n" +
         Base64Lines(kGif) + "--r--\r\n--a--\r\n";
}

TEST(MakeTextPreview, PrefersThePlainBody) {
  auto p = MakeTextPreview(Alternative(), Helper());
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->text, "Plain offer: 10 \u20ac");
  EXPECT_TRUE(p->has_html);
  EXPECT_FALSE(p->truncated);
}

TEST(MakeTextPreview, HtmlOnlyMailBecomesText) {
  std::string raw = std::string(kHeaders) +
                    "Content-Type: text/html; charset=utf-8\r\n\r\n"
                    "<html><head><style>p{}</style></head><body><p>Dear Bob,</p>"
                    "<p>click <a href=\"https://phish.example/login\">here</a></p>"
                    "<script>alert(1)</script></body></html>\r\n";
  auto p = MakeTextPreview(raw, Helper());
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->text, "Dear Bob,\n\nclick here <https://phish.example/login>");
  EXPECT_TRUE(p->has_html);
}

TEST(MakeTextPreview, NoBodyIsEmptyNotAnError) {
  std::string raw = std::string(kHeaders) +
                    "Content-Type: application/pdf; name=\"x.pdf\"\r\n"
                    "Content-Transfer-Encoding: base64\r\n\r\n" +
                    Base64Lines("%PDF-1.4");
  auto p = MakeTextPreview(raw, Helper());
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->text, "");
  EXPECT_FALSE(p->has_html);
  ASSERT_TRUE(MakeTextPreview("", Helper()).ok());
}

TEST(MakeHtmlPreview, SanitizesWithInlineImages) {
  auto p = MakeHtmlPreview(Alternative(), Helper());
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_TRUE(p->remote_images_blocked);
  EXPECT_FALSE(p->truncated);
  EXPECT_NE(p->html.find("<p>Caf\u00e9 <img src=\"data:image/gif;base64,R0lGODlhAQABAAAAADs=\" "
                         "alt=\"dot\"><img></p>"),
            std::string::npos)
      << p->html;
  EXPECT_EQ(p->html.find("onclick"), std::string::npos);
  EXPECT_EQ(p->html.find("script"), std::string::npos);
  EXPECT_EQ(p->html.find("tracker"), std::string::npos);
}

TEST(MakeHtmlPreview, NotFoundWithoutHtml) {
  std::string raw = std::string(kHeaders) + "Content-Type: text/plain\r\n\r\nonly text\r\n";
  auto p = MakeHtmlPreview(raw, Helper());
  ASSERT_FALSE(p.ok());
  EXPECT_TRUE(p.status().IsNotFound());
  EXPECT_EQ(p.status().message(), "the message has no HTML body");
}

TEST(MakeHtmlPreview, HostileHtmlIsUnavailableNotAHang) {
  // 100,000 nested <div>: gumbo's scope checks make this quadratic (seconds
  // to minutes); the helper is killed at its deadline or CPU limit.
  std::string html;
  for (int i = 0; i < 100000; ++i) html += "<div>";
  std::string raw = std::string(kHeaders) + "Content-Type: text/html\r\n\r\n" + html + "\r\n";
  HelperOptions h = Helper();
  h.timeout_micros = 500'000;
  h.cpu_seconds = 1;
  auto p = MakeHtmlPreview(raw, h);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), Code::kUnavailable);
  EXPECT_TRUE(p.status().message().starts_with("preview unavailable: the HTML "))
      << p.status().message();
  // The text of an HTML-only mail comes from the same helper.
  auto t = MakeTextPreview(raw, h);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), Code::kUnavailable);
}

TEST(MakeHtmlPreview, NoHelperIsUnavailable) {
  HelperOptions h;
  h.path = "/nonexistent/mailvault-preview";
  auto p = MakeHtmlPreview(Alternative(), h);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), Code::kUnavailable);
  EXPECT_NE(p.status().message().find("cannot start the preview helper"), std::string::npos);
  // A mail with a text body needs no helper.
  EXPECT_TRUE(MakeTextPreview(Alternative(), h).ok());
}

}  // namespace
}  // namespace mailvault::preview
