// Tests of DisplayText: the spoofing cases of issue 14 (a right-to-left
// override in a file name, bidi isolates in a From), controls, invalid
// UTF-8, and every code point checked against GLib's Unicode tables.
#include "base/display_text.h"

#include <glib.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace mailvault {
namespace {

std::string Utf8(char32_t c) {
  char buf[8];
  int n = g_unichar_to_utf8(static_cast<gunichar>(c), buf);
  return std::string(buf, static_cast<size_t>(n));
}

TEST(DisplayText, PlainTextPassesUnchanged) {
  EXPECT_EQ(DisplayText(""), "");
  EXPECT_EQ(DisplayText("Quarterly invoice"), "Quarterly invoice");
  EXPECT_EQ(DisplayText("J\u00FCrgen <j@example.de>"), "J\u00FCrgen <j@example.de>");
  EXPECT_EQ(DisplayText("\u05E9\u05DC\u05D5\u05DD \u0645\u0631\u062D\u0628\u0627"),
            "\u05E9\u05DC\u05D5\u05DD \u0645\u0631\u062D\u0628\u0627");  // RTL letters stay
  EXPECT_EQ(DisplayText("\u4F60\u597D \U0001F600 \u2764\uFE0F"),
            "\u4F60\u597D \U0001F600 \u2764\uFE0F");  // emoji with a variation selector
  EXPECT_EQ(DisplayText("\uFFFD"), "\uFFFD");
}

TEST(DisplayText, RightToLeftOverrideInAFileNameIsShown) {
  EXPECT_EQ(DisplayText("report\u202Efdp.exe"), "report\u27E8U+202E\u27E9fdp.exe");
  EXPECT_EQ(FinalExtension("report\u202Efdp.exe"), ".exe");
}

TEST(DisplayText, EveryBidiControlIsShown) {
  for (char32_t c : {0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069, 0x200E,
                     0x200F, 0x061C}) {
    char want[16];
    std::snprintf(want, sizeof want, "U+%04X", static_cast<unsigned>(c));
    EXPECT_EQ(DisplayText("a" + Utf8(c) + "b"), "a\u27E8" + std::string(want) + "\u27E9b");
  }
  // An isolate pair in a From cannot move the address it surrounds.
  EXPECT_EQ(DisplayText("Bank \u2067gro.elpmaxe@evil\u2069"),
            "Bank \u27E8U+2067\u27E9gro.elpmaxe@evil\u27E8U+2069\u27E9");
}

TEST(DisplayText, InvisibleCharactersAreShown) {
  EXPECT_EQ(DisplayText("pay\u200Bpal"), "pay\u27E8U+200B\u27E9pal");
  EXPECT_EQ(DisplayText("\u200C\u200D\u2060\uFEFF\u00AD"),
            "\u27E8U+200C\u27E9\u27E8U+200D\u27E9\u27E8U+2060\u27E9\u27E8U+FEFF\u27E9"
            "\u27E8U+00AD\u27E9");
  EXPECT_EQ(DisplayText("\u3164"), "\u27E8U+3164\u27E9");       // Hangul filler
  EXPECT_EQ(DisplayText("\U000E0041"), "\u27E8U+E0041\u27E9");  // tag
  EXPECT_EQ(DisplayText("\u2028\u2029"), "\u27E8U+2028\u27E9\u27E8U+2029\u27E9");
}

TEST(DisplayText, ControlCharactersAreShown) {
  EXPECT_EQ(DisplayText("a\x1b[31mred"), "a\u27E8U+001B\u27E9[31mred");  // no terminal escape
  EXPECT_EQ(DisplayText("a\r\nFrom: x"), "a\u27E8U+000D\u27E9\u27E8U+000A\u27E9From: x");
  EXPECT_EQ(DisplayText(std::string_view("a\0b", 3)), "a\u27E8U+0000\u27E9b");
  EXPECT_EQ(DisplayText("\x7f"), "\u27E8U+007F\u27E9");
  EXPECT_EQ(DisplayText("\u009B"), "\u27E8U+009B\u27E9");  // C1 CSI
  EXPECT_EQ(DisplayText("a\tb"), "a b");
}

TEST(DisplayText, InvalidUtf8IsShownBytewise) {
  EXPECT_EQ(DisplayText("m\xFCller"), "m\u27E80xFC\u27E9ller");
  EXPECT_EQ(DisplayText("\xFF\xFE"), "\u27E80xFF\u27E9\u27E80xFE\u27E9");
  EXPECT_EQ(DisplayText("\xED\xA0\x80"), "\u27E80xED\u27E9\u27E80xA0\u27E9\u27E80x80\u27E9");
  EXPECT_EQ(DisplayText("\xC0\xAF"), "\u27E80xC0\u27E9\u27E80xAF\u27E9");  // overlong '/'
  EXPECT_EQ(DisplayText("\xE0\x80\xAF"), "\u27E80xE0\u27E9\u27E80x80\u27E9\u27E80xAF\u27E9");
  EXPECT_EQ(DisplayText("\xF4\x90\x80\x80"),  // above U+10FFFF
            "\u27E80xF4\u27E9\u27E80x90\u27E9\u27E80x80\u27E9\u27E80x80\u27E9");
  EXPECT_EQ(DisplayText("ab\xE2\x80"), "ab\u27E80xE2\u27E9\u27E80x80\u27E9");  // cut short
  // An overlong form of U+202E does not get through as one.
  EXPECT_EQ(DisplayText("\xF0\x82\x80\xAE").find("\u202E"), std::string::npos);
}

TEST(DisplayText, OutputIsValidUtf8WithNothingHidden) {
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  all += "\xE2\x80\xAE\xE2\x81\xA6\xEF\xBB\xBF\xF3\xA0\x80\x81";
  std::string shown = DisplayText(all);
  ASSERT_TRUE(g_utf8_validate(shown.data(), static_cast<gssize>(shown.size()), nullptr));
  for (const char* p = shown.data(); p < shown.data() + shown.size(); p = g_utf8_next_char(p)) {
    gunichar c = g_utf8_get_char(p);
    EXPECT_FALSE(IsHiddenCodePoint(c) && c != '\t') << std::hex << c;
  }
}

// Every scalar value: what GLib calls a control, format, line or paragraph
// separator is escaped; whatever else is escaped is one of the named
// invisible fillers or a default-ignorable unassigned code point.
TEST(DisplayText, AgreesWithGlibOnEveryCodePoint) {
  for (char32_t c = 0; c <= 0x10FFFF; ++c) {
    if (c >= 0xD800 && c <= 0xDFFF) continue;
    const GUnicodeType type = g_unichar_type(c);
    const bool glib_hidden = type == G_UNICODE_CONTROL || type == G_UNICODE_FORMAT ||
                             type == G_UNICODE_LINE_SEPARATOR ||
                             type == G_UNICODE_PARAGRAPH_SEPARATOR;
    const bool filler = c == 0x034F || c == 0x115F || c == 0x1160 || c == 0x17B4 || c == 0x17B5 ||
                        c == 0x3164 || c == 0xFFA0;
    const bool ignorable_unassigned =
        type == G_UNICODE_UNASSIGNED &&
        ((c >= 0x2060 && c <= 0x206F) || (c >= 0xFFF0 && c <= 0xFFF8) ||
         (c >= 0xE0000 && c <= 0xE0FFF));
    const bool hidden = IsHiddenCodePoint(c);
    if (c == '\t') {
      EXPECT_EQ(DisplayText(Utf8(c)), " ");
      continue;
    }
    EXPECT_EQ(hidden, glib_hidden || filler || ignorable_unassigned)
        << "U+" << std::hex << static_cast<unsigned>(c) << " type " << type;
    const std::string shown = DisplayText(Utf8(c));
    EXPECT_EQ(shown == Utf8(c), !hidden) << std::hex << static_cast<unsigned>(c);
  }
}

TEST(FinalExtension, IsTheRealLastExtension) {
  EXPECT_EQ(FinalExtension("a.pdf"), ".pdf");
  EXPECT_EQ(FinalExtension("archive.tar.gz"), ".gz");
  EXPECT_EQ(FinalExtension("README"), "");
  EXPECT_EQ(FinalExtension(""), "");
  EXPECT_EQ(FinalExtension("invoice.pdf\u200B"), ".pdf\u27E8U+200B\u27E9");
  EXPECT_EQ(FinalExtension("invoice\u2024pdf"), "");  // a look-alike dot
  EXPECT_EQ(FinalExtension("evil.exe. . "), ".exe");  // Windows drops these
  EXPECT_EQ(FinalExtension("dir.d/payload"), "");     // only the last part
  EXPECT_EQ(FinalExtension("c:\\x.y\\run.bat"), ".bat");
  EXPECT_EQ(FinalExtension("photo\u2067gpj.\u2069.scr"), ".scr");
  EXPECT_EQ(FinalExtension("x.\xFF"), ".\u27E80xFF\u27E9");
}

}  // namespace
}  // namespace mailvault
