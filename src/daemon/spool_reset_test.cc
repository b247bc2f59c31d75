#include "daemon/spool_reset.h"

#include <gtest/gtest.h>

#include "testutil/temp_dir.h"

namespace mailvault::daemon {
namespace {

TEST(EmptySpool, RemovesWhatAnEarlierRunLeft) {
  TempDir dir;
  Env& env = *PosixEnv();
  const std::string spool = dir.File("spool");
  // Missing: created (the milter needs it), nothing removed.
  auto none = EmptySpool(env, spool);
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ(*none, 0);
  ASSERT_TRUE(env.Exists(spool));
  ASSERT_TRUE(env.WriteFileAtomic(JoinPath(spool, "left-by-a-crash"), "sealed pages").ok());
  ASSERT_TRUE(env.WriteFileAtomic(JoinPath(spool, ".hidden"), "x").ok());
  auto removed = EmptySpool(env, spool);
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_EQ(*removed, 2);
  auto left = env.ListDir(spool);
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->empty());
}

TEST(EmptySpool, ASubdirectoryIsNamedInTheError) {
  TempDir dir;
  Env& env = *PosixEnv();
  const std::string spool = dir.File("spool");
  ASSERT_TRUE(env.CreateDir(spool).ok());
  ASSERT_TRUE(env.CreateDir(JoinPath(spool, "odd")).ok());
  auto r = EmptySpool(env, spool);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("odd"), std::string::npos) << r.status().ToString();
}

}  // namespace
}  // namespace mailvault::daemon
