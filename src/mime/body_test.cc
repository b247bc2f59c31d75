// Tests of ExtractBody: which parts are the bodies (alternative, related,
// mixed, attachments, attached messages), decoding of transfer encodings and
// charsets to UTF-8, limits cut on character boundaries, inline cid images,
// and what is salvaged from broken mail.
#include "mime/body.h"

#include <gtest/gtest.h>

#include <string>

#include "mime/text.h"
#include "testutil/base64.h"

namespace mailvault::mime {
namespace {

MessageBody Extract(std::string_view raw, const BodyLimits& limits = {}) {
  auto body = ExtractBody(raw, limits);
  EXPECT_TRUE(body.ok()) << body.status().ToString();
  if (!body.ok()) return {};
  EXPECT_TRUE(IsValidUtf8(body->text));
  EXPECT_TRUE(IsValidUtf8(body->html));
  return std::move(body).value();
}

constexpr std::string_view kHeaders =
    "From: Alice <alice@example.com>\r\n"
    "To: bob@example.org\r\n"
    "Subject: hello\r\n"
    "MIME-Version: 1.0\r\n";

const std::string kPng = std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16) + std::string(40, 'x');

// The line break before a boundary line belongs to the boundary (RFC 2046),
// so parts of a multipart end without it.
TEST(ExtractBody, AlternativeGivesBothBodies) {
  std::string raw = std::string(kHeaders) +
                    "Content-Type: multipart/alternative; boundary=\"alt\"\r\n"
                    "\r\n"
                    "--alt\r\n"
                    "Content-Type: text/plain; charset=us-ascii\r\n"
                    "\r\n"
                    "Hello Bob,\r\nsee you.\r\n"
                    "--alt\r\n"
                    "Content-Type: text/html; charset=us-ascii\r\n"
                    "\r\n"
                    "<p>Hello <b>Bob</b>,</p>\r\n"
                    "--alt--\r\n";
  MessageBody b = Extract(raw);
  EXPECT_TRUE(b.has_text);
  EXPECT_EQ(b.text, "Hello Bob,\nsee you.");
  EXPECT_TRUE(b.has_html);
  EXPECT_EQ(b.html, "<p>Hello <b>Bob</b>,</p>");
  EXPECT_FALSE(b.text_truncated);
  EXPECT_FALSE(b.html_truncated);
  EXPECT_TRUE(b.images.empty());
}

TEST(ExtractBody, RelatedHtmlWithCidImage) {
  std::string raw = std::string(kHeaders) +
                    "Content-Type: multipart/alternative; boundary=\"a1\"\r\n"
                    "\r\n"
                    "--a1\r\n"
                    "Content-Type: text/plain; charset=utf-8\r\n"
                    "\r\n"
                    "Logo below.\r\n"
                    "--a1\r\n"
                    "Content-Type: multipart/related; boundary=\"r1\"; type=\"text/html\"\r\n"
                    "\r\n"
                    "--r1\r\n"
                    "Content-Type: text/html; charset=utf-8\r\n"
                    "\r\n"
                    "<p>Logo <img src=\"cid:logo@example.com\"></p>\r\n"
                    "--r1\r\n"
                    "Content-Type: image/PNG; name=\"logo.png\"\r\n"
                    "Content-Disposition: inline; filename=\"logo.png\"\r\n"
                    "Content-ID: <logo@example.com>\r\n"
                    "Content-Transfer-Encoding: base64\r\n"
                    "\r\n" +
                    Base64Lines(kPng) +
                    "--r1\r\n"
                    "Content-Type: image/gif\r\n"
                    "Content-Transfer-Encoding: base64\r\n"
                    "\r\n" +
                    Base64Lines("GIF89a no content id") +
                    "--r1--\r\n"
                    "--a1--\r\n";
  MessageBody b = Extract(raw);
  EXPECT_EQ(b.text, "Logo below.");
  EXPECT_EQ(b.html, "<p>Logo <img src=\"cid:logo@example.com\"></p>");
  ASSERT_EQ(b.images.size(), 1u);
  EXPECT_EQ(b.images[0].content_id, "logo@example.com");
  EXPECT_EQ(b.images[0].type, "image/png");
  EXPECT_EQ(b.images[0].data, kPng);
}

TEST(ExtractBody, QuotedPrintableLatin1) {
  std::string raw = std::string(kHeaders) +
                    "Content-Type: text/plain; charset=ISO-8859-1\r\n"
                    "Content-Transfer-Encoding: quoted-printable\r\n"
                    "\r\n"
                    "Caf=E9 cr=E8me, soft =\r\n"
                    "break, =80 5\r\n";
  MessageBody b = Extract(raw);
  EXPECT_TRUE(b.has_text);
  EXPECT_FALSE(b.has_html);
  // ISO-8859-1 is read as Windows-1252, as browsers do: 0x80 is the euro.
  EXPECT_EQ(b.text, "Caf\u00e9 cr\u00e8me, soft break, \u20ac 5\n");
}

TEST(ExtractBody, Base64Utf8) {
  std::string text = "Gr\u00fc\u00dfe aus \u6771\u4eac \U0001F600\r\n";
  std::string raw = std::string(kHeaders) +
                    "Content-Type: text/plain; charset=\"UTF-8\"\r\n"
                    "Content-Transfer-Encoding: base64\r\n"
                    "\r\n" +
                    Base64Lines(text);
  MessageBody b = Extract(raw);
  EXPECT_EQ(b.text, "Gr\u00fc\u00dfe aus \u6771\u4eac \U0001F600\n");
}

TEST(ExtractBody, OtherCharsetsConvert) {
  std::string raw = std::string(kHeaders) +
                    "Content-Type: text/plain; charset=iso-8859-2\r\n"
                    "Content-Transfer-Encoding: 8bit\r\n"
                    "\r\n"
                    "\xb1\xe6\xea\r\n";
  EXPECT_EQ(Extract(raw).text, "\u0105\u0107\u0119\n");

  std::string utf16 = std::string("H\0i\0 \0\xac\x20", 8);  // "Hi €" UTF-16LE
  raw = std::string(kHeaders) +
        "Content-Type: text/plain; charset=utf-16le\r\n"
        "Content-Transfer-Encoding: base64\r\n"
        "\r\n" +
        Base64Lines(utf16);
  EXPECT_EQ(Extract(raw).text, "Hi \u20ac");
}

TEST(ExtractBody, UndeclaredAndBrokenCharsets) {
  // Undeclared 8-bit: UTF-8 when valid, else Windows-1252.
  std::string raw = "Subject: x\r\n\r\nna\xc3\xafve\r\n";
  EXPECT_EQ(Extract(raw).text, "na\u00efve\n");
  raw = "Subject: x\r\n\r\nna\xefve \x93quoted\x94\r\n";
  EXPECT_EQ(Extract(raw).text, "na\u00efve \u201cquoted\u201d\n");
  // US-ASCII declared but 8-bit sent: the same guess.
  raw = std::string(kHeaders) + "Content-Type: text/plain; charset=us-ascii\r\n\r\nna\xefve\r\n";
  EXPECT_EQ(Extract(raw).text, "na\u00efve\n");
  // An unknown charset: valid UTF-8 is kept.
  raw = std::string(kHeaders) +
        "Content-Type: text/plain; charset=x-unknown-8bit\r\n\r\n\xe2\x82\xac 1\r\n";
  EXPECT_EQ(Extract(raw).text, "\u20ac 1\n");
  // Declared UTF-8 that is not: invalid bytes become U+FFFD.
  raw = std::string(kHeaders) +
        "Content-Type: text/plain; charset=utf-8\r\n\r\nab\xff\xfe"
        "cd\r\n";
  MessageBody b = Extract(raw);
  EXPECT_EQ(b.text.find("ab"), 0u);
  EXPECT_NE(b.text.find("\ufffd"), std::string::npos);
  EXPECT_NE(b.text.find("cd\n"), std::string::npos);
}

TEST(ExtractBody, ControlCharactersAndLineEnds) {
  std::string raw = std::string(kHeaders) +
                    "Content-Type: text/plain\r\n"
                    "Content-Transfer-Encoding: base64\r\n"
                    "\r\n" +
                    Base64Lines(std::string("a\0b\x01\x1b[31mc\rd\r\ne\tf\x7fg\n", 20));
  EXPECT_EQ(Extract(raw).text, "ab[31mc\nd\ne\tfg\n");
}

TEST(ExtractBody, HtmlOnlyWithMetaCharset) {
  std::string raw =
      std::string(kHeaders) +
      "Content-Type: text/html\r\n"
      "\r\n"
      "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; "
      "charset=windows-1251\"></head><body>\xcf\xf0\xe8\xe2\xe5\xf2</body></html>\r\n";
  MessageBody b = Extract(raw);
  EXPECT_FALSE(b.has_text);
  EXPECT_TRUE(b.text.empty());
  EXPECT_TRUE(b.has_html);
  EXPECT_NE(b.html.find("<body>\u041f\u0440\u0438\u0432\u0435\u0442</body>"), std::string::npos)
      << b.html;
}

TEST(ExtractBody, TextOnlyWithoutMimeHeaders) {
  MessageBody b = Extract("From: a@example.com\r\nSubject: plain\r\n\r\nJust text.\r\n");
  EXPECT_TRUE(b.has_text);
  EXPECT_EQ(b.text, "Just text.\n");
  EXPECT_FALSE(b.has_html);
}

TEST(ExtractBody, AttachmentsAreNotBodies) {
  std::string raw = std::string(kHeaders) +
                    "Content-Type: multipart/mixed; boundary=\"m\"\r\n"
                    "\r\n"
                    "--m\r\n"
                    "Content-Type: text/html\r\n"
                    "Content-Disposition: attachment; filename=\"page.html\"\r\n"
                    "\r\n"
                    "<p>attached page</p>\r\n"
                    "--m\r\n"
                    "Content-Type: message/rfc822\r\n"
                    "\r\n"
                    "Subject: inner\r\n"
                    "Content-Type: text/plain\r\n"
                    "\r\n"
                    "inner message text\r\n"
                    "--m\r\n"
                    "Content-Type: text/plain; name=\"notes.txt\"\r\n"
                    "Content-Disposition: attachment; filename=\"notes.txt\"\r\n"
                    "\r\n"
                    "attached notes\r\n"
                    "--m\r\n"
                    "Content-Type: image/png; name=\"x.png\"\r\n"
                    "Content-Disposition: attachment; filename=\"x.png\"\r\n"
                    "Content-ID: <x@y>\r\n"
                    "\r\n"
                    "png\r\n"
                    "--m--\r\n";
  MessageBody b = Extract(raw);
  EXPECT_FALSE(b.has_text) << b.text;
  EXPECT_FALSE(b.has_html) << b.html;
  // An attached picture with a Content-ID stays available to cid: links (as
  // mail clients resolve them); pictures of the attached message do not.
  ASSERT_EQ(b.images.size(), 1u);
  EXPECT_EQ(b.images[0].content_id, "x@y");
}

TEST(ExtractBody, InlineTextPartsOfMixedAreJoined) {
  // Apple Mail's shape for a plain-text mail with a picture in the middle.
  std::string raw = std::string(kHeaders) +
                    "Content-Type: multipart/mixed; boundary=\"m\"\r\n"
                    "\r\n"
                    "--m\r\n"
                    "Content-Type: text/plain\r\n"
                    "\r\n"
                    "before\r\n"
                    "--m\r\n"
                    "Content-Type: image/jpeg; name=\"p.jpg\"\r\n"
                    "Content-Disposition: inline; filename=\"p.jpg\"\r\n"
                    "\r\n"
                    "jpeg\r\n"
                    "--m\r\n"
                    "Content-Type: text/plain\r\n"
                    "\r\n"
                    "after\r\n"
                    "--m--\r\n";
  EXPECT_EQ(Extract(raw).text, "before\nafter");
}

TEST(ExtractBody, FirstAlternativeOfEachKindWins) {
  std::string raw = std::string(kHeaders) +
                    "Content-Type: multipart/alternative; boundary=\"a\"\r\n"
                    "\r\n"
                    "--a\r\n"
                    "Content-Type: text/plain\r\n"
                    "\r\n"
                    "one\r\n"
                    "--a\r\n"
                    "Content-Type: multipart/alternative; boundary=\"b\"\r\n"
                    "\r\n"
                    "--b\r\n"
                    "Content-Type: text/plain\r\n"
                    "\r\n"
                    "two\r\n"
                    "--b\r\n"
                    "Content-Type: text/html\r\n"
                    "\r\n"
                    "<i>html</i>\r\n"
                    "--b--\r\n"
                    "--a--\r\n";
  MessageBody b = Extract(raw);
  EXPECT_EQ(b.text, "one");
  EXPECT_EQ(b.html, "<i>html</i>");
}

TEST(ExtractBody, BoundaryThatNeverOccursIsGuessed) {
  std::string raw = std::string(kHeaders) +
                    "Content-Type: multipart/alternative; boundary=\"declared\"\r\n"
                    "\r\n"
                    "--actual\r\n"
                    "Content-Type: text/plain\r\n"
                    "\r\n"
                    "salvaged text\r\n"
                    "--actual\r\n"
                    "Content-Type: text/html\r\n"
                    "\r\n"
                    "<b>salvaged</b>\r\n"
                    "--actual--\r\n";
  MessageBody b = Extract(raw);
  EXPECT_EQ(b.text, "salvaged text");
  EXPECT_EQ(b.html, "<b>salvaged</b>");

  // No boundary parameter and no "--" line: the preamble is the text.
  raw = std::string(kHeaders) + "Content-Type: multipart/mixed\r\n\r\nall of it\r\n";
  b = Extract(raw);
  EXPECT_TRUE(b.has_text);
  EXPECT_EQ(b.text, "all of it\n");
}

TEST(ExtractBody, UnterminatedMultipartKeepsWhatArrived) {
  std::string raw = std::string(kHeaders) +
                    "Content-Type: multipart/alternative; boundary=\"x\"\r\n"
                    "\r\n"
                    "--x\r\n"
                    "Content-Type: text/plain\r\n"
                    "\r\n"
                    "complete\r\n"
                    "--x\r\n"
                    "Content-Type: text/html\r\n"
                    "Content-Transfer-Encoding: base64\r\n"
                    "\r\n" +
                    Base64Lines("<p>cut off in the mid").substr(0, 20);
  MessageBody b = Extract(raw);
  EXPECT_EQ(b.text, "complete");
  EXPECT_TRUE(b.has_html);
  EXPECT_EQ(b.html.find("<p>cut"), 0u);
}

TEST(ExtractBody, HeaderlessInputIsText) {
  MessageBody b = Extract("this is not a header\r\nat all\r\n");
  EXPECT_TRUE(b.has_text);
  EXPECT_EQ(b.text, "this is not a header\nat all\n");
  b = Extract("");
  EXPECT_FALSE(b.has_text);
  EXPECT_FALSE(b.has_html);
}

TEST(ExtractBody, TruncatesOnCharacterBoundary) {
  std::string raw = std::string(kHeaders) + "Content-Type: text/plain; charset=utf-8\r\n\r\n" +
                    "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9";  // 12 bytes
  BodyLimits limits;
  limits.max_text = 11;
  MessageBody b = Extract(raw, limits);
  EXPECT_EQ(b.text, "\u00e9\u00e9\u00e9\u00e9\u00e9");
  EXPECT_TRUE(b.text_truncated);
  limits.max_text = 12;
  b = Extract(raw, limits);
  EXPECT_EQ(b.text, "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9");
  EXPECT_FALSE(b.text_truncated);

  // A big body is cut without decoding all of it.
  std::string big(3 << 20, 'a');
  raw = std::string(kHeaders) + "Content-Type: text/html\r\n\r\n" + big;
  limits = {};
  b = Extract(raw, limits);
  EXPECT_EQ(b.html.size(), limits.max_html);
  EXPECT_TRUE(b.html_truncated);
}

TEST(ExtractBody, ImageLimits) {
  auto image = [](std::string_view id, std::string_view data) {
    return "--r\r\nContent-Type: image/png\r\nContent-ID: " + std::string(id) +
           "\r\nContent-Transfer-Encoding: base64\r\n\r\n" + Base64Lines(data);
  };
  std::string raw = std::string(kHeaders) +
                    "Content-Type: multipart/related; boundary=\"r\"\r\n\r\n"
                    "--r\r\nContent-Type: text/html\r\n\r\n<img src=cid:a>\r\n" +
                    image("<a>", kPng) + image("big@x", std::string(5000, 'b')) +
                    image("<c>", "ccc") + image("<d>", "ddd") + "--r--\r\n";
  BodyLimits limits;
  limits.max_image_bytes = 4000;
  limits.max_images = 2;
  MessageBody b = Extract(raw, limits);
  ASSERT_EQ(b.images.size(), 2u);
  EXPECT_EQ(b.images[0].content_id, "a");
  EXPECT_EQ(b.images[0].data, kPng);
  EXPECT_EQ(b.images[1].content_id, "c");  // the big one is skipped
  EXPECT_EQ(b.images[1].data, "ccc");
}

TEST(ExtractBody, HostileStructureStaysBounded) {
  // 2000 nested multiparts, then a text part far below the depth cap.
  std::string raw = std::string(kHeaders);
  for (int i = 0; i < 2000; ++i) {
    raw += "Content-Type: multipart/mixed; boundary=\"b" + std::to_string(i) + "\"\r\n\r\n--b" +
           std::to_string(i) + "\r\n";
  }
  raw += "Content-Type: text/plain\r\n\r\ndeep\r\n";
  MessageBody b = Extract(raw);
  EXPECT_FALSE(b.has_text);

  // Every prefix of a real-world shape parses to valid UTF-8.
  std::string related = std::string(kHeaders) +
                        "Content-Type: multipart/related; boundary=\"r\"\r\n\r\n"
                        "--r\r\nContent-Type: text/html; charset=iso-8859-1\r\n"
                        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
                        "<p>caf=E9 =C3=A9</p>\r\n"
                        "--r\r\nContent-Type: image/png\r\nContent-ID: <i>\r\n"
                        "Content-Transfer-Encoding: base64\r\n\r\n" +
                        Base64Lines(kPng) + "--r--\r\n";
  for (size_t n = 0; n <= related.size(); ++n) Extract(related.substr(0, n));
}

}  // namespace
}  // namespace mailvault::mime
