// The throttle on a fixed clock: free failures, growing delays with a cap,
// the real user at her own address unaffected by a guesser elsewhere, the
// per-address allowance, forgetting, and the memory bound.
#include "console/login_throttle.h"

#include <gtest/gtest.h>

#include "testutil/fault_env.h"

namespace mailvault::console {
namespace {

constexpr int64_t kSecond = 1'000'000;

class ThrottleTest : public ::testing::Test {
 protected:
  void SetUp() override { env_.SetClock(1'800'000'000'000'000); }
  FaultEnv env_{PosixEnv()};
};

TEST_F(ThrottleTest, FreeFailuresThenDoublingDelayCapped) {
  LoginThrottle t(
      env_, {.free_failures = 3, .base_delay_micros = kSecond, .max_delay_micros = 8 * kSecond});
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(t.WaitMicros("alice", "192.0.2.1"), 0) << i;
    t.Failed("alice", "192.0.2.1");
  }
  EXPECT_EQ(t.WaitMicros("alice", "192.0.2.1"), 1 * kSecond);
  std::vector<int64_t> waits;
  for (int i = 0; i < 6; ++i) {
    env_.AdvanceClock(t.WaitMicros("alice", "192.0.2.1"));
    EXPECT_EQ(t.WaitMicros("alice", "192.0.2.1"), 0);
    t.Failed("alice", "192.0.2.1");
    waits.push_back(t.WaitMicros("alice", "192.0.2.1"));
  }
  EXPECT_EQ(waits, (std::vector<int64_t>{2 * kSecond, 4 * kSecond, 8 * kSecond, 8 * kSecond,
                                         8 * kSecond, 8 * kSecond}));
}

TEST_F(ThrottleTest, AGuesserElsewhereDoesNotLockTheUserOut) {
  LoginThrottle t(env_, {.free_failures = 3});
  for (int i = 0; i < 50; ++i) t.Failed("alice", "198.51.100.7");
  EXPECT_GT(t.WaitMicros("alice", "198.51.100.7"), 0);
  EXPECT_EQ(t.WaitMicros("alice", "192.0.2.1"), 0);
  EXPECT_EQ(t.WaitMicros("Alice", "192.0.2.1"), 0);
  EXPECT_GT(t.WaitMicros("ALICE", "198.51.100.7"), 0);  // names are case-insensitive
}

TEST_F(ThrottleTest, SuccessClearsThePair) {
  LoginThrottle t(env_, {.free_failures = 2});
  for (int i = 0; i < 4; ++i) t.Failed("alice", "192.0.2.1");
  ASSERT_GT(t.WaitMicros("alice", "192.0.2.1"), 0);
  t.Succeeded("alice", "192.0.2.1");
  EXPECT_EQ(t.WaitMicros("alice", "192.0.2.1"), 0);
}

TEST_F(ThrottleTest, AnAddressSprayingNamesIsSlowed) {
  LoginThrottle t(env_, {.free_failures = 5, .free_failures_address = 10});
  for (int i = 0; i < 10; ++i) t.Failed("user" + std::to_string(i), "203.0.113.9");
  EXPECT_GT(t.WaitMicros("someone-new", "203.0.113.9"), 0);
  EXPECT_EQ(t.WaitMicros("someone-new", "192.0.2.1"), 0);
}

TEST_F(ThrottleTest, FailuresAreForgotten) {
  LoginThrottle t(env_, {.free_failures = 2, .forget_after_micros = 3600 * kSecond});
  for (int i = 0; i < 10; ++i) t.Failed("alice", "192.0.2.1");
  ASSERT_GT(t.WaitMicros("alice", "192.0.2.1"), 0);
  env_.AdvanceClock(3600 * kSecond);
  EXPECT_EQ(t.WaitMicros("alice", "192.0.2.1"), 0);
  t.Failed("alice", "192.0.2.1");  // counting starts again
  EXPECT_EQ(t.WaitMicros("alice", "192.0.2.1"), 0);
}

TEST_F(ThrottleTest, MemoryIsBounded) {
  LoginThrottle t(env_, {.free_failures = 1, .max_entries = 100});
  for (int i = 0; i < 1000; ++i) {
    env_.AdvanceClock(1);
    t.Failed("n" + std::to_string(i), "10.0.0." + std::to_string(i % 250));
  }
  // The newest pair is still counted.
  t.Failed("n999", "10.0.0.249");
  EXPECT_GT(t.WaitMicros("n999", "10.0.0.249"), 0);
}

}  // namespace
}  // namespace mailvault::console
