// Tests of search argument translation: periods, KB units, time bounds,
// cursors and the ENGINE=LABEL form.
#include "base/search_args.h"

#include <gtest/gtest.h>

namespace mailvault {
namespace {

constexpr int64_t kNow = 1'800'000'000'000'000;  // 2027-01-15
constexpr int64_t kDay = 86'400'000'000;

TEST(PeriodTest, AllNamedPeriods) {
  EXPECT_EQ(*PeriodMicros("hour"), 3'600'000'000);
  EXPECT_EQ(*PeriodMicros("day"), kDay);
  EXPECT_EQ(*PeriodMicros("week"), 7 * kDay);
  EXPECT_EQ(*PeriodMicros("2weeks"), 14 * kDay);
  EXPECT_EQ(*PeriodMicros("month"), 30 * kDay);
  EXPECT_EQ(*PeriodMicros("3months"), 90 * kDay);
  EXPECT_EQ(*PeriodMicros("year"), 365 * kDay);
}

TEST(PeriodTest, BadPeriodListsValidOnes) {
  auto r = PeriodMicros("fortnight");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("fortnight"), std::string::npos);
  EXPECT_NE(r.status().message().find("hour, day, week, 2weeks, month, 3months, year"),
            std::string::npos);
  EXPECT_FALSE(PeriodMicros("").ok());
  EXPECT_FALSE(PeriodMicros("Day").ok());
}

TEST(BuildSearchQueryTest, ControlCharactersInATextFilterAreRefusedByName) {
  struct Case {
    std::string SearchArgs::*field;
    const char* flag;
  };
  for (Case c :
       {Case{&SearchArgs::from, "--from"}, Case{&SearchArgs::to, "--to"},
        Case{&SearchArgs::subject, "--subject"}, Case{&SearchArgs::message_id, "--message-id"},
        Case{&SearchArgs::rule_id, "--rule"}}) {
    for (std::string bad :
         {std::string("\0zzz", 4), std::string("a\rb"), std::string("tab\t"), std::string("x\x7f"),
          std::string("c1 \xc2\x85 next line"), std::string("esc\x1b[31m")}) {
      SearchArgs a;
      a.*(c.field) = bad;
      auto q = BuildSearchQuery(a, kNow);
      ASSERT_FALSE(q.ok()) << c.flag;
      EXPECT_EQ(q.status().code(), Code::kInvalidArgument);
      EXPECT_EQ(q.status().message().rfind(std::string(c.flag) + ": the control character U+00", 0),
                0u)
          << q.status().message();
    }
    SearchArgs fine;
    fine.*(c.field) = "caf\xc3\xa9 \xc2\xa0 \xff";  // UTF-8, NBSP, a stray byte: not controls
    EXPECT_TRUE(BuildSearchQuery(fine, kNow).ok()) << c.flag;
  }
  SearchArgs nul;
  nul.subject = std::string("\0", 1);
  EXPECT_NE(BuildSearchQuery(nul, kNow).status().message().find("U+0000"), std::string::npos);
}

TEST(BuildSearchQueryTest, TextFiltersAndDefaults) {
  SearchArgs a;
  a.from = "exa";
  a.to = "bob";
  a.subject = "Invoice";
  a.message_id = "abc@";
  a.rule_id = "R7";
  auto q = BuildSearchQuery(a, kNow);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->from, "exa");
  EXPECT_EQ(q->to, "bob");
  EXPECT_EQ(q->subject, "Invoice");
  EXPECT_EQ(q->message_id, "abc@");
  EXPECT_EQ(q->rule_id, "R7");
  EXPECT_EQ(q->limit, 50u);
  EXPECT_FALSE(q->since || q->until || q->size_le || q->size_ge || q->before);
}

TEST(BuildSearchQueryTest, PeriodSetsSinceFromNow) {
  SearchArgs a;
  a.period = "week";
  auto q = BuildSearchQuery(a, kNow);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(*q->since, kNow - 7 * kDay);
  EXPECT_FALSE(q->until);
  a.period = "bogus";
  EXPECT_FALSE(BuildSearchQuery(a, kNow).ok());
}

TEST(BuildSearchQueryTest, SinceUntil) {
  SearchArgs a;
  a.since = "2026-01-01T00:00:00Z";
  a.until = "2026-01-02T00:00:00+00:00";
  auto q = BuildSearchQuery(a, kNow);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(*q->until - *q->since, kDay);
  a.period = "day";
  EXPECT_FALSE(BuildSearchQuery(a, kNow).ok());  // both --period and --since
  a.period.clear();
  std::swap(a.since, a.until);
  EXPECT_FALSE(BuildSearchQuery(a, kNow).ok());  // empty range
  a.since = "yesterday";
  auto bad = BuildSearchQuery(a, kNow);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("--since"), std::string::npos);
}

TEST(BuildSearchQueryTest, SizesAreKibibytes) {
  SearchArgs a;
  a.size_le_kb = 10;
  a.size_ge_kb = 2;
  auto q = BuildSearchQuery(a, kNow);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(*q->size_le, 10u * 1024);
  EXPECT_EQ(*q->size_ge, 2u * 1024);
  a.size_ge_kb = 11;
  EXPECT_FALSE(BuildSearchQuery(a, kNow).ok());
  a.size_ge_kb.reset();
  a.size_le_kb = UINT64_MAX / 2;
  EXPECT_FALSE(BuildSearchQuery(a, kNow).ok());  // overflow
}

TEST(BuildSearchQueryTest, EnginesLimitCursor) {
  SearchArgs a;
  a.engines = {"anti-virus", "external"};
  a.limit = 5;
  a.after = 42;
  auto q = BuildSearchQuery(a, kNow);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->engines, a.engines);
  EXPECT_EQ(q->limit, 5u);
  EXPECT_EQ(*q->before, 42u);
  a.engines = {"antivirus"};
  EXPECT_FALSE(BuildSearchQuery(a, kNow).ok());
  a.engines.clear();
  a.limit = 0;
  EXPECT_FALSE(BuildSearchQuery(a, kNow).ok());
  a.limit = kMaxLimit + 1;
  EXPECT_FALSE(BuildSearchQuery(a, kNow).ok());
  a.limit = 1;
  a.after = 0;
  EXPECT_FALSE(BuildSearchQuery(a, kNow).ok());
}

TEST(ParseStatusArgTest, Forms) {
  auto s = ParseStatusArg("anti-virus=infected");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->first, "anti-virus");
  EXPECT_EQ(s->second, "infected");
  auto ext = ParseStatusArg("external=sandbox=bad");  // label may hold '='
  ASSERT_TRUE(ext.ok()) << ext.status().ToString();
  EXPECT_EQ(ext->second, "sandbox=bad");
  EXPECT_FALSE(ParseStatusArg("anti-virus").ok());
  EXPECT_FALSE(ParseStatusArg("=infected").ok());
  EXPECT_FALSE(ParseStatusArg("anti-virus=").ok());
  EXPECT_FALSE(ParseStatusArg("anti-virus=spam").ok());
  EXPECT_FALSE(ParseStatusArg("nope=spam").ok());
}

}  // namespace
}  // namespace mailvault
