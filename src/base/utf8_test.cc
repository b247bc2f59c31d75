#include "base/utf8.h"

#include <gtest/gtest.h>

#include "base/json_text.h"

namespace mailvault {
namespace {

TEST(Utf8, ValidAndInvalid) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8(std::string("a\0b", 3)));
  EXPECT_TRUE(IsValidUtf8("Grüße \u202e \U0001F600"));
  EXPECT_FALSE(IsValidUtf8("m\xfcller"));  // Latin-1
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xe2\x80"));          // truncated
}

TEST(Utf8, DecodeAndAppendRoundTrip) {
  for (uint32_t cp : {0x0u, 0x7fu, 0x80u, 0x7ffu, 0x800u, 0xfffdu, 0x10000u, 0x10ffffu}) {
    std::string s;
    AppendUtf8(cp, &s);
    uint32_t back = 0;
    ASSERT_EQ(DecodeUtf8(s, 0, &back), s.size());
    EXPECT_EQ(back, cp);
  }
}

TEST(JsonText, InvalidBytesBecomeReplacementCharactersInsteadOfThrowing) {
  nlohmann::json j = {{"mail_from", "m\xfcller@example.org"}, {"x", "\xed\xa0\x80"}};
  std::string text;
  ASSERT_NO_THROW(text = JsonText(j));
  EXPECT_TRUE(IsValidUtf8(text));
  EXPECT_NE(text.find("m\uFFFDller@example.org"), std::string::npos) << text;
  EXPECT_EQ(JsonText(nlohmann::json{{"a", 1}}, 2), "{\n  \"a\": 1\n}");
}

}  // namespace
}  // namespace mailvault
