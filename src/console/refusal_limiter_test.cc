#include "console/refusal_limiter.h"

#include <gtest/gtest.h>

#include <climits>

namespace mailvault::console {
namespace {

constexpr int64_t kSecond = 1'000'000;

RefusalLimitOptions Small() {
  RefusalLimitOptions o;
  o.window_micros = 60 * kSecond;
  o.per_address = 3;
  o.total = 5;
  o.max_summaries = 2;
  o.max_addresses = 4;
  return o;
}

int Admitted(RefusalLimiter& l, std::string_view address, int n, int64_t now,
             std::string_view action = "request") {
  int admitted = 0;
  for (int i = 0; i < n; ++i) {
    bool first_cut = false;
    if (l.Admit(address, action, now, &first_cut)) ++admitted;
  }
  return admitted;
}

TEST(RefusalLimiter, RecordsTheFirstPerAddressThenCountsAndSummarisesWhenTheWindowEnds) {
  RefusalLimiter l(Small());
  const int64_t t0 = 1000 * kSecond;
  EXPECT_EQ(Admitted(l, "192.0.2.1", 3, t0), 3);
  bool first_cut = false;
  EXPECT_FALSE(l.Admit("192.0.2.1", "login", t0 + kSecond, &first_cut));
  EXPECT_TRUE(first_cut);  // one log line, not one per request
  EXPECT_FALSE(l.Admit("192.0.2.1", "request", t0 + 2 * kSecond, &first_cut));
  EXPECT_FALSE(first_cut);
  EXPECT_TRUE(l.TakeEnded(t0 + 59 * kSecond).empty());  // the window is still open

  auto ended = l.TakeEnded(t0 + 60 * kSecond);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].address, "192.0.2.1");
  EXPECT_EQ(ended[0].count, 2u);
  EXPECT_EQ(ended[0].first_micros, t0 + kSecond);
  EXPECT_EQ(ended[0].last_micros, t0 + 2 * kSecond);
  EXPECT_EQ(ended[0].actions.at("login"), 1u);
  EXPECT_EQ(ended[0].actions.at("request"), 1u);
  EXPECT_EQ(ended[0].Describe(),
            "2 further refusals of unauthenticated requests from 192.0.2.1 not recorded one by "
            "one (login: 1, request: 1)");
  EXPECT_TRUE(l.TakeEnded(t0 + 61 * kSecond).empty());  // taken once

  // A new window: the address is recorded again.
  EXPECT_EQ(Admitted(l, "192.0.2.1", 3, t0 + 120 * kSecond), 3);
}

TEST(RefusalLimiter, OneAddressDoesNotUseUpAnotherAddressesAllowanceBelowTheTotal) {
  RefusalLimiter l(Small());
  const int64_t t0 = 1000 * kSecond;
  EXPECT_EQ(Admitted(l, "192.0.2.1", 50, t0), 3);
  EXPECT_EQ(Admitted(l, "192.0.2.2", 1, t0), 1);
}

TEST(RefusalLimiter, TheTotalBoundsManyAddressesAndFoldsTheRestIntoOneSummary) {
  RefusalLimiter l(Small());
  const int64_t t0 = 1000 * kSecond;
  int admitted = 0;
  // 30 addresses, 2 refusals each: only `total` recorded; more addresses
  // than max_addresses are counted without being tracked.
  for (int i = 0; i < 30; ++i) {
    admitted += Admitted(l, "198.51.100." + std::to_string(i), 2, t0 + i);
  }
  EXPECT_EQ(admitted, 5);
  auto ended = l.TakeEnded(LLONG_MAX);  // shutdown: whatever is open ends now
  ASSERT_LE(ended.size(), 3u);          // max_summaries + one for the rest
  uint64_t cut = 0;
  for (const auto& s : ended) cut += s.count;
  EXPECT_EQ(cut, 60u - 5u);  // every refusal is either a record or counted
  EXPECT_EQ(ended.back().address, "");
  EXPECT_NE(ended.back().Describe().find("from many addresses"), std::string::npos);
}

TEST(RefusalLimiter, NothingCutMeansNoSummary) {
  RefusalLimiter l(Small());
  EXPECT_EQ(Admitted(l, "192.0.2.1", 2, 5 * kSecond), 2);
  EXPECT_TRUE(l.TakeEnded(LLONG_MAX).empty());
}

}  // namespace
}  // namespace mailvault::console
