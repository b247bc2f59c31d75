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
  EXPECT_EQ(Truncate("a\tb\nc", 10), "a b c");
  EXPECT_EQ(Truncate("\xff\xfe", 5), "\xff\xfe");  // stray bytes pass, never split
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
