// Tests for the password hashes: round trip, wrong and malformed inputs,
// the limits on the password, and rehash detection across costs.
#include "crypto/password.h"

#include <gtest/gtest.h>

#include <string>

namespace mailvault::crypto {
namespace {

TEST(Password, HashVerifies) {
  auto hash = HashPassword("correct horse battery", kTestCost);
  ASSERT_TRUE(hash.ok()) << hash.status().ToString();
  EXPECT_TRUE(hash->starts_with("$argon2id$")) << *hash;
  EXPECT_TRUE(VerifyPassword(*hash, "correct horse battery"));
  EXPECT_FALSE(VerifyPassword(*hash, "correct horse batterz"));
  EXPECT_FALSE(VerifyPassword(*hash, "correct horse battery "));
  EXPECT_FALSE(VerifyPassword(*hash, ""));
}

TEST(Password, SaltsEachHash) {
  auto a = HashPassword("same password", kTestCost);
  auto b = HashPassword("same password", kTestCost);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  EXPECT_TRUE(VerifyPassword(*a, "same password"));
  EXPECT_TRUE(VerifyPassword(*b, "same password"));
}

TEST(Password, PasswordBytesMatterIncludingNul) {
  const std::string with_nul("abc\0def", 7);
  auto hash = HashPassword(with_nul, kTestCost);
  ASSERT_TRUE(hash.ok());
  EXPECT_TRUE(VerifyPassword(*hash, with_nul));
  EXPECT_FALSE(VerifyPassword(*hash, "abc"));
}

TEST(Password, RefusesEmptyAndOverlongPasswords) {
  EXPECT_EQ(HashPassword("", kTestCost).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(HashPassword(std::string(kMaxPasswordBytes + 1, 'x'), kTestCost).status().code(),
            Code::kInvalidArgument);
  auto longest = HashPassword(std::string(kMaxPasswordBytes, 'x'), kTestCost);
  ASSERT_TRUE(longest.ok());
  EXPECT_TRUE(VerifyPassword(*longest, std::string(kMaxPasswordBytes, 'x')));
}

TEST(Password, RefusesACostOutsideTheLimits) {
  EXPECT_EQ(HashPassword("password", PasswordCost{0, kTestCost.mem}).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(HashPassword("password", PasswordCost{kTestCost.ops, 1}).status().code(),
            Code::kInvalidArgument);
}

TEST(Password, MalformedHashesNeverVerify) {
  auto hash = HashPassword("password", kTestCost);
  ASSERT_TRUE(hash.ok());
  std::string altered = *hash;
  altered[altered.size() - 2] = altered[altered.size() - 2] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(VerifyPassword(altered, "password"));
  EXPECT_FALSE(VerifyPassword("", "password"));
  EXPECT_FALSE(VerifyPassword("password", "password"));
  EXPECT_FALSE(VerifyPassword("$argon2id$v=19$m=8,t=1,p=1$", "password"));
  EXPECT_FALSE(VerifyPassword(hash->substr(0, hash->size() / 2), "password"));
  EXPECT_FALSE(VerifyPassword(*hash + std::string("\0x", 2), "password"));
  EXPECT_FALSE(VerifyPassword(std::string(1000, '$'), "password"));
}

TEST(Password, NeedsRehashWhenTheCostChanged) {
  auto hash = HashPassword("password", kTestCost);
  ASSERT_TRUE(hash.ok());
  EXPECT_FALSE(PasswordNeedsRehash(*hash, kTestCost));
  EXPECT_TRUE(PasswordNeedsRehash(*hash, kInteractiveCost));
  EXPECT_TRUE(PasswordNeedsRehash(*hash, PasswordCost{kTestCost.ops + 1, kTestCost.mem}));
  EXPECT_TRUE(PasswordNeedsRehash("not a hash", kTestCost));
  EXPECT_TRUE(PasswordNeedsRehash("", kTestCost));
}

// One real interactive-cost hash, so the default is known to work here.
TEST(Password, InteractiveCostWorks) {
  auto hash = HashPassword("interactive password", kInteractiveCost);
  ASSERT_TRUE(hash.ok()) << hash.status().ToString();
  EXPECT_TRUE(VerifyPassword(*hash, "interactive password"));
  EXPECT_FALSE(PasswordNeedsRehash(*hash, kInteractiveCost));
}

}  // namespace
}  // namespace mailvault::crypto
