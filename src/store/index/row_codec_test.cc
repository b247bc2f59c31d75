// Tests of the row layout and search-pattern helpers.
#include "store/index/row_codec.h"

#include <gtest/gtest.h>

namespace mailvault::index {
namespace {

TEST(RowCodec, JsonColumnsRoundTrip) {
  std::vector<std::string> rcpt = {"a@b.c", "q\"uote@x", ""}, rcpt_out;
  ASSERT_TRUE(DecodeRcpt(EncodeRcpt(rcpt), &rcpt_out).ok());
  EXPECT_EQ(rcpt_out, rcpt);
  std::map<std::string, std::string> st = {{"anti-virus", "infected"}, {"x", "ü"}}, st_out;
  ASSERT_TRUE(DecodeStatuses(EncodeStatuses(st), &st_out).ok());
  EXPECT_EQ(st_out, st);
  std::vector<Attachment> att = {{"a.pdf", "application/pdf", 1ull << 50}, {}}, att_out;
  ASSERT_TRUE(DecodeAttachments(EncodeAttachments(att), &att_out).ok());
  EXPECT_EQ(att_out, att);
  EXPECT_EQ(EncodeRcpt({}), "[]");
}

TEST(RowCodec, JsonColumnsKeepBytesThatAreNotUtf8) {
  // An envelope is whatever the sender sent; the index must give back what
  // the record holds, or Verify would report every such copy.
  const std::string latin1 = "m\xfcller@example.org", nul("a\0b\xff", 4);
  std::vector<std::string> rcpt = {latin1, "plain@x", nul, "\xed\xa0\x80"}, rcpt_out;
  const std::string text = EncodeRcpt(rcpt);
  EXPECT_EQ(text.find('\xfc'), std::string::npos) << "the column itself is valid UTF-8";
  EXPECT_NE(text.find("\"plain@x\""), std::string::npos) << text;
  ASSERT_TRUE(DecodeRcpt(text, &rcpt_out).ok());
  EXPECT_EQ(rcpt_out, rcpt);
  std::map<std::string, std::string> st = {{"external", "sandbox \xff"}}, st_out;
  ASSERT_TRUE(DecodeStatuses(EncodeStatuses(st), &st_out).ok());
  EXPECT_EQ(st_out, st);
  std::vector<Attachment> att = {{latin1, "x/\xff", 3}}, att_out;
  ASSERT_TRUE(DecodeAttachments(EncodeAttachments(att), &att_out).ok());
  EXPECT_EQ(att_out, att);
  EXPECT_TRUE(DecodeRcpt("[{\"hex\": \"6\"}]", &rcpt_out).IsCorruption());
  EXPECT_TRUE(DecodeRcpt("[{\"hex\": \"zz\"}]", &rcpt_out).IsCorruption());
  EXPECT_TRUE(DecodeRcpt("[{\"hex\": \"61\", \"x\": 1}]", &rcpt_out).IsCorruption());
}

TEST(RowCodec, DamagedJsonIsCorruptionNotAnException) {
  std::vector<std::string> rcpt;
  std::map<std::string, std::string> st;
  std::vector<Attachment> att;
  EXPECT_TRUE(DecodeRcpt("[\"a\", 1]", &rcpt).IsCorruption());
  EXPECT_TRUE(DecodeRcpt("[\"a\"", &rcpt).IsCorruption());
  EXPECT_TRUE(DecodeStatuses("[]", &st).IsCorruption());
  EXPECT_TRUE(DecodeStatuses("{\"a\": 2}", &st).IsCorruption());
  EXPECT_TRUE(
      DecodeAttachments("[{\"name\": \"x\", \"type\": \"t\", \"size\": -1}]", &att).IsCorruption());
  EXPECT_TRUE(DecodeAttachments("[{\"name\": \"x\"}]", &att).IsCorruption());
  EXPECT_TRUE(DecodeAttachments("", &att).IsCorruption());
}

TEST(RowCodec, EngineMaskIgnoresUnknownEngines) {
  EXPECT_EQ(EngineMask({{"anti-virus", "infected"}, {"external", "x"}, {"nope", "y"}}), 1u | 64u);
  EXPECT_EQ(EngineMask({}), 0u);
}

TEST(RowCodec, LikePatternEscapes) {
  EXPECT_EQ(LikePattern("a%b_c\\d"), "%a\\%b\\_c\\\\d%");
  EXPECT_EQ(LikePattern(""), "%%");
}

TEST(RowCodec, TrigramMatch) {
  EXPECT_EQ(Utf8Length("Straße"), 6u);
  EXPECT_EQ(TrigramMatch("ab"), "");
  EXPECT_EQ(TrigramMatch("ße"), "");  // 3 bytes, 2 characters
  EXPECT_EQ(TrigramMatch("abc"), "\"abc\"");
  EXPECT_EQ(TrigramMatch("abcd"), "\"abc\" AND \"bcd\"");
  EXPECT_EQ(TrigramMatch("abcdef"), "\"abc\" AND \"def\"");
  EXPECT_EQ(TrigramMatch("abcdefg"), "\"abc\" AND \"def\" AND \"efg\"");
  EXPECT_EQ(TrigramMatch("Straße"), "\"Str\" AND \"aße\"");
  EXPECT_EQ(TrigramMatch("a\"b"), "\"a\"\"b\"");
  EXPECT_EQ(TrigramMatch("aaaaaa"), "\"aaa\"");
  EXPECT_EQ(TrigramMatch("a\xff"
                         "bcd"),
            "");
  EXPECT_EQ(TrigramMatch(std::string("ab\0cd", 5)), "");
  std::string long_needle(300, 'x');
  for (size_t i = 0; i < long_needle.size(); ++i) long_needle[i] = static_cast<char>('a' + i % 26);
  std::string m = TrigramMatch(long_needle);
  size_t tokens = 1;
  for (size_t p = m.find(" AND "); p != std::string::npos; p = m.find(" AND ", p + 1)) ++tokens;
  EXPECT_LE(tokens, 16u);
  EXPECT_GE(tokens, 8u);
}

}  // namespace
}  // namespace mailvault::index
