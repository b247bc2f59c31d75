// Sessions: random distinct tokens, idle and absolute timeouts on a fixed
// clock, logout, per-account removal and the size bound.
#include "console/sessions.h"

#include <gtest/gtest.h>

#include <set>

#include "testutil/fault_env.h"

namespace mailvault::console {
namespace {

constexpr int64_t kMinute = 60'000'000;

class SessionsTest : public ::testing::Test {
 protected:
  void SetUp() override { env_.SetClock(1'800'000'000'000'000); }
  FaultEnv env_{PosixEnv()};
};

TEST_F(SessionsTest, TokensAre128BitAndDistinct) {
  SessionTable t(env_, {});
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    Session s = t.Create("alice");
    EXPECT_EQ(s.token.size(), 32u);
    EXPECT_EQ(s.token.find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_NE(s.token, s.csrf_token);
    EXPECT_TRUE(seen.insert(s.token).second);
    EXPECT_TRUE(seen.insert(s.csrf_token).second);
  }
}

TEST_F(SessionsTest, IdleTimeoutResetsOnUse) {
  SessionTable t(env_, {.idle_micros = 30 * kMinute, .absolute_micros = 600 * kMinute});
  Session s = t.Create("alice");
  for (int i = 0; i < 5; ++i) {
    env_.AdvanceClock(29 * kMinute);
    auto live = t.Touch(s.token);
    ASSERT_TRUE(live) << i;
    EXPECT_EQ(live->account, "alice");
    EXPECT_EQ(live->csrf_token, s.csrf_token);
  }
  env_.AdvanceClock(30 * kMinute);
  EXPECT_FALSE(t.Touch(s.token));
  EXPECT_EQ(t.size(), 0u);  // the expired one is gone
}

TEST_F(SessionsTest, AbsoluteTimeoutEndsABusySession) {
  SessionTable t(env_, {.idle_micros = 30 * kMinute, .absolute_micros = 60 * kMinute});
  Session s = t.Create("alice");
  env_.AdvanceClock(25 * kMinute);
  ASSERT_TRUE(t.Touch(s.token));
  env_.AdvanceClock(25 * kMinute);
  auto live = t.Touch(s.token);
  ASSERT_TRUE(live);
  EXPECT_EQ(live->expires_at, s.created_at + 60 * kMinute);  // not last use + idle
  env_.AdvanceClock(10 * kMinute);
  EXPECT_FALSE(t.Touch(s.token));
}

TEST_F(SessionsTest, LogoutAndAccountRemoval) {
  SessionTable t(env_, {});
  Session a1 = t.Create("alice"), a2 = t.Create("alice"), b = t.Create("bob");
  EXPECT_TRUE(t.Remove(a1.token));
  EXPECT_FALSE(t.Remove(a1.token));
  EXPECT_FALSE(t.Touch(a1.token));
  EXPECT_EQ(t.RemoveAccount("alice"), 1u);
  EXPECT_FALSE(t.Touch(a2.token));
  EXPECT_TRUE(t.Touch(b.token));
  EXPECT_FALSE(t.Touch(""));
  EXPECT_FALSE(t.Touch("not-a-token"));
}

TEST_F(SessionsTest, BoundDropsLeastRecentlyUsed) {
  SessionTable t(env_, {.max_sessions = 3});
  Session s1 = t.Create("a");
  env_.AdvanceClock(1);
  Session s2 = t.Create("b");
  env_.AdvanceClock(1);
  Session s3 = t.Create("c");
  env_.AdvanceClock(1);
  ASSERT_TRUE(t.Touch(s1.token));  // s2 is now the least recently used
  Session s4 = t.Create("d");
  EXPECT_EQ(t.size(), 3u);
  EXPECT_FALSE(t.Touch(s2.token));
  EXPECT_TRUE(t.Touch(s1.token));
  EXPECT_TRUE(t.Touch(s3.token));
  EXPECT_TRUE(t.Touch(s4.token));
}

}  // namespace
}  // namespace mailvault::console
