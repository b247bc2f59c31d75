// Tests of CLI rendering: truncation on character boundaries, the search
// table and its paging line, and the JSON shapes.
#include "cli/output.h"

#include <gtest/gtest.h>

namespace mailvault::cli {
namespace {

CopyMeta Sample() {
  CopyMeta m;
  m.id = 7;
  m.placed_at = 1'700'000'000'000'000;
  m.received_at = m.placed_at;
  m.mail_from = "alice@example.com";
  m.rcpt = {"bob@example.org"};
  m.from = "Alice <alice@example.com>";
  m.to = "bob@example.org";
  m.subject = "Quarterly invoice";
  m.size = 2049;
  m.statuses = {{"anti-virus", "infected"}, {"anti-spam", "spam"}};
  m.attachments = {{"a.pdf", "application/pdf", 100}};
  return m;
}

TEST(TruncateTest, KeepsUtf8Whole) {
  EXPECT_EQ(Truncate("hello", 10), "hello");
  EXPECT_EQ(Truncate("hello world", 5), "hell\u2026");
  EXPECT_EQ(Truncate("h\u00e9llo w\u00f6rld", 3), "h\u00e9\u2026");
  EXPECT_EQ(Truncate("a\tb\nc", 20), "a b\u27E8U+000A\u27E9c");
  EXPECT_EQ(Truncate("\xff\xfe", 20), "\u27E80xFF\u27E9\u27E80xFE\u27E9");
}

TEST(TruncateTest, NeverCutsAToken) {
  // "ab⟨U+202E⟩cd" is 12 code points; a cut inside the token drops it whole.
  EXPECT_EQ(Truncate("ab\u202Ecd", 12), "ab\u27E8U+202E\u27E9cd");
  EXPECT_EQ(Truncate("ab\u202Ecd", 11), "ab\u27E8U+202E\u27E9\u2026");
  EXPECT_EQ(Truncate("ab\u202Ecd", 10), "ab\u2026");
  EXPECT_EQ(Truncate("ab\u202Ecd", 3), "ab\u2026");
  // Text that merely looks like a token's start is cut as text.
  EXPECT_EQ(Truncate("\u27E8note\u27E9 more text", 5), "\u27E8not\u2026");
}

// Issue 14 item 3: what a spoofing sender puts in a header or a file name
// reaches the terminal as visible tokens, never as a control.
CopyMeta Spoofed() {
  CopyMeta m = Sample();
  m.from = "\u2067moc.knab@\u2069 Bank <x@evil.example>";
  m.subject = "Invoice \u202Efdp.exe\x1b]0;owned\x07";
  m.to = "bob@example.org\r\nBcc: all@example.org";
  m.statuses = {{"external", "bad\u202Elabel"}};
  m.attachments = {{"report\u202Efdp.exe", "application/pdf\u200B", 100},
                   {"plain", "text/plain", 1}};
  return m;
}

void ExpectNothingRaw(const std::string& text) {
  for (const char* raw : {"\u202E", "\u2067", "\u2069", "\u200B", "\x1b", "\x07", "\r"}) {
    EXPECT_EQ(text.find(raw), std::string::npos) << "raw " << raw << " in\n" << text;
  }
}

TEST(OutputTest, ShowEscapesSpoofingCharacters) {
  std::string s = FormatCopy(Spoofed());
  ExpectNothingRaw(s);
  EXPECT_NE(s.find("from:        \u27E8U+2067\u27E9moc.knab@\u27E8U+2069\u27E9 Bank"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("Invoice \u27E8U+202E\u27E9fdp.exe\u27E8U+001B\u27E9]0;owned\u27E8U+0007\u27E9"),
            std::string::npos);
  EXPECT_NE(s.find("bob@example.org\u27E8U+000D\u27E9\u27E8U+000A\u27E9Bcc:"), std::string::npos);
  EXPECT_NE(s.find("external=bad\u27E8U+202E\u27E9label"), std::string::npos);
  // The attachment's real extension comes first, then the shown name.
  EXPECT_NE(
      s.find("  - [.exe]  report\u27E8U+202E\u27E9fdp.exe  application/pdf\u27E8U+200B\u27E9  "
             "100 bytes\n"),
      std::string::npos)
      << s;
  EXPECT_NE(s.find("  - [no extension]  plain  text/plain  1 bytes\n"), std::string::npos);
}

TEST(OutputTest, SearchTableEscapesSpoofingCharacters) {
  SearchPage page;
  page.items.push_back(Spoofed());
  std::string t = FormatSearchTable(page);
  ExpectNothingRaw(t);
  EXPECT_NE(t.find("Invoice \u27E8U+202E\u27E9fdp.exe"), std::string::npos) << t;
  EXPECT_NE(t.find("external=bad\u27E8U+202E\u27E9label"), std::string::npos) << t;
  // One line per copy: a CR/LF in a header cannot add a row.
  size_t lines = 0;
  for (char c : t) lines += c == '\n';
  EXPECT_EQ(lines, 2u);
}

TEST(OutputTest, QueueTableEscapesSpoofingCharacters) {
  DeliveryPage page;
  DeliveryEntry e;
  e.id = 1;
  e.copy_id = 7;
  e.rcpt = "a\u202Egro.elpmaxe@b";
  e.last_reply = "250 ok\x1b[2J";
  page.items.push_back(e);
  std::string t = FormatQueueTable(page, DeliveryCounts{});
  ExpectNothingRaw(t);
  EXPECT_NE(t.find("a\u27E8U+202E\u27E9gro.elpmaxe@b"), std::string::npos) << t;
  EXPECT_NE(t.find("250 ok\u27E8U+001B\u27E9[2J"), std::string::npos) << t;
}

TEST(OutputTest, SizeKbRoundsUp) {
  EXPECT_EQ(SizeKb(0), "0 KB");
  EXPECT_EQ(SizeKb(1), "1 KB");
  EXPECT_EQ(SizeKb(1024), "1 KB");
  EXPECT_EQ(SizeKb(1025), "2 KB");
}

TEST(OutputTest, SearchTable) {
  SearchPage page;
  page.items.push_back(Sample());
  std::string t = FormatSearchTable(page);
  EXPECT_NE(t.find("ID"), std::string::npos);
  EXPECT_NE(t.find("Quarterly invoice"), std::string::npos);
  EXPECT_NE(t.find("2023-11-14 22:13"), std::string::npos);
  EXPECT_NE(t.find("3 KB"), std::string::npos);
  EXPECT_NE(t.find("anti-spam=spam, anti-virus=infected"), std::string::npos);
  EXPECT_EQ(t.find("next:"), std::string::npos);
  page.next = 7;
  EXPECT_NE(FormatSearchTable(page).find("\nnext: --after 7\n"), std::string::npos);
  EXPECT_EQ(FormatSearchTable(SearchPage{}), "no copies found\n");
}

TEST(OutputTest, SearchJson) {
  SearchPage page;
  page.items.push_back(Sample());
  nlohmann::json j = SearchPageToJson(page);
  ASSERT_EQ(j["items"].size(), 1u);
  EXPECT_EQ(j["items"][0]["id"], 7);
  EXPECT_EQ(j["items"][0]["subject"], "Quarterly invoice");
  EXPECT_TRUE(j["next"].is_null());
  page.next = 3;
  EXPECT_EQ(SearchPageToJson(page)["next"], 3);
}

TEST(OutputTest, ShowListsEveryField) {
  std::string s = FormatCopy(Sample());
  for (const char* field : {"id:", "subject:", "from:", "to:", "cc:", "bcc:", "mail from:", "rcpt:",
                            "rule:", "statuses:", "reason:", "placed:", "received:", "sent:",
                            "message-id:", "queue id:", "size:", "attachments:", "a.pdf"}) {
    EXPECT_NE(s.find(field), std::string::npos) << field;
  }
  EXPECT_NE(s.find("sent:        -"), std::string::npos);
}

TEST(OutputTest, StatsJson) {
  StoreStats st;
  st.count = 2;
  st.max_bytes = 7'320'000'000;
  nlohmann::json j = StatsToJson(st);
  EXPECT_EQ(j["count"], 2);
  EXPECT_EQ(j["max_bytes"], 7'320'000'000ULL);
  EXPECT_TRUE(j["oldest"].is_null());
  EXPECT_NE(FormatStats(st).find("copies:      2"), std::string::npos);
}

}  // namespace
}  // namespace mailvault::cli
