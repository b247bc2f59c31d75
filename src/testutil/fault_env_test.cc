// Tests for FaultEnv: injected failures land on the right call and leave the
// base file untouched, the crash model drops exactly what was not durable,
// and the write budget reports a full disk.
#include "testutil/fault_env.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

namespace mailvault {
namespace {

using Op = FaultEnv::Op;

class FaultEnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mv_faultenv_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Path(const std::string& name) { return dir_ + "/" + name; }
  std::string Contents(const std::string& name) {
    auto r = PosixEnv()->ReadFile(Path(name));
    return r.ok() ? *r : "<" + r.status().ToString() + ">";
  }

  std::string dir_;
  FaultEnv env_{PosixEnv()};
};

TEST_F(FaultEnvTest, FailsTheKthWriteOnly) {
  auto f = env_.OpenAppendable(Path("a"));
  ASSERT_TRUE(f.ok());
  env_.FailAt(Op::kWrite, 3);
  EXPECT_TRUE((*f)->Append("1").ok());
  EXPECT_TRUE((*f)->Append("2").ok());
  Status s = (*f)->Append("3");
  EXPECT_EQ(s.code(), Code::kIOError);
  EXPECT_NE(s.message().find("injected"), std::string::npos);
  EXPECT_TRUE((*f)->Append("4").ok());
  EXPECT_EQ((*f)->Size(), 3u);
  EXPECT_EQ(Contents("a"), "124");
  EXPECT_EQ(env_.Count(Op::kWrite), 4u);
  EXPECT_EQ(env_.Count(Op::kSync), 0u);
}

TEST_F(FaultEnvTest, CountsFromWhenArmed) {
  auto f = env_.OpenAppendable(Path("a"));
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append("x").ok());
  ASSERT_TRUE((*f)->Append("x").ok());
  env_.FailAt(Op::kWrite, 1);
  EXPECT_FALSE((*f)->Append("y").ok());
  EXPECT_TRUE((*f)->Append("z").ok());
}

TEST_F(FaultEnvTest, StickyFailsEveryLaterCallUntilDisarmed) {
  auto f = env_.OpenAppendable(Path("a"));
  ASSERT_TRUE(f.ok());
  env_.FailAt(Op::kSync, 2, /*sticky=*/true);
  EXPECT_TRUE((*f)->Sync().ok());
  EXPECT_FALSE((*f)->Sync().ok());
  EXPECT_FALSE((*f)->Sync().ok());
  EXPECT_TRUE((*f)->Append("writes are another kind").ok());
  env_.FailAt(Op::kSync, 0);
  EXPECT_TRUE((*f)->Sync().ok());
}

TEST_F(FaultEnvTest, AnyCountsEveryKind) {
  auto f = env_.OpenAppendable(Path("a"));
  ASSERT_TRUE(f.ok());
  env_.FailAt(Op::kAny, 4);
  EXPECT_TRUE((*f)->Append("a").ok());                   // 1
  EXPECT_TRUE((*f)->Sync().ok());                        // 2
  EXPECT_TRUE(env_.SyncDir(dir_).ok());                  // 3
  EXPECT_FALSE(env_.Rename(Path("a"), Path("b")).ok());  // 4
  EXPECT_TRUE(env_.Exists(Path("a")));
  EXPECT_FALSE(env_.Exists(Path("b")));
  EXPECT_EQ(env_.Count(Op::kAny), 4u);
  EXPECT_EQ(env_.Count(Op::kRename), 1u);
  EXPECT_EQ(env_.Count(Op::kSyncDir), 1u);
}

TEST_F(FaultEnvTest, DropTruncatesToLastSync) {
  {
    auto f = env_.OpenAppendable(Path("log"));
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE((*f)->Append("abc").ok());
    ASSERT_TRUE((*f)->Sync().ok());
    ASSERT_TRUE(env_.SyncDir(dir_).ok());
    ASSERT_TRUE((*f)->Append("def").ok());
    env_.FailAt(Op::kSync, 1);
    ASSERT_FALSE((*f)->Sync().ok());  // a failed sync makes nothing durable
    ASSERT_TRUE((*f)->Close().ok());
  }
  EXPECT_EQ(Contents("log"), "abcdef");
  ASSERT_TRUE(env_.DropUnsyncedData().ok());
  EXPECT_EQ(Contents("log"), "abc");
}

TEST_F(FaultEnvTest, DropRemovesFilesWhoseDirectoryWasNotSynced) {
  ASSERT_TRUE(PosixEnv()->WriteFileAtomic(Path("old"), "before").ok());
  {
    auto f = env_.OpenAppendable(Path("new"));
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE((*f)->Append("synced but not linked").ok());
    ASSERT_TRUE((*f)->Sync().ok());
    auto g = env_.OpenAppendable(Path("old"));  // predates FaultEnv: durable
    ASSERT_TRUE(g.ok());
    ASSERT_TRUE((*g)->Append(" after").ok());
  }
  ASSERT_TRUE(env_.DropUnsyncedData().ok());
  EXPECT_FALSE(PosixEnv()->Exists(Path("new")));
  EXPECT_EQ(Contents("old"), "before");
}

TEST_F(FaultEnvTest, WriteFileAtomicIsDurableOnlyWhenComplete) {
  ASSERT_TRUE(env_.WriteFileAtomic(Path("current"), "1").ok());
  EXPECT_EQ(env_.Count(Op::kWrite), 1u);
  EXPECT_EQ(env_.Count(Op::kSync), 1u);
  EXPECT_EQ(env_.Count(Op::kRename), 1u);
  EXPECT_EQ(env_.Count(Op::kSyncDir), 1u);

  env_.FailAt(Op::kRename, 1);
  EXPECT_FALSE(env_.WriteFileAtomic(Path("current"), "2").ok());
  EXPECT_EQ(Contents("current"), "1");
  // A stale temp file is truncated first, not appended to.
  ASSERT_TRUE(env_.WriteFileAtomic(Path("current"), "3").ok());
  EXPECT_EQ(Contents("current"), "3");

  // Replaced, but the directory sync failed: the name survives a crash.
  env_.FailAt(Op::kSyncDir, 1);
  EXPECT_FALSE(env_.WriteFileAtomic(Path("current"), "4").ok());
  ASSERT_TRUE(env_.DropUnsyncedData().ok());
  EXPECT_EQ(Contents("current"), "4");

  // A new file whose directory sync failed does not.
  env_.FailAt(Op::kSyncDir, 1);
  EXPECT_FALSE(env_.WriteFileAtomic(Path("fresh"), "x").ok());
  ASSERT_TRUE(env_.DropUnsyncedData().ok());
  EXPECT_FALSE(PosixEnv()->Exists(Path("fresh")));
  EXPECT_EQ(Contents("current"), "4");
}

TEST_F(FaultEnvTest, RenameMovesTrackedState) {
  {
    auto f = env_.OpenAppendable(Path("seg.tmp"));
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE((*f)->Append("12345").ok());
    ASSERT_TRUE((*f)->Sync().ok());
    ASSERT_TRUE((*f)->Append("678").ok());
  }
  ASSERT_TRUE(env_.Rename(Path("seg.tmp"), Path("seg")).ok());
  ASSERT_TRUE(env_.SyncDir(dir_).ok());
  ASSERT_TRUE(env_.DropUnsyncedData().ok());
  EXPECT_EQ(Contents("seg"), "12345");
  EXPECT_FALSE(PosixEnv()->Exists(Path("seg.tmp")));
}

TEST_F(FaultEnvTest, BudgetGivesNoSpace) {
  auto f = env_.OpenAppendable(Path("a"));
  ASSERT_TRUE(f.ok());
  env_.SetWriteBudget(10);
  EXPECT_TRUE((*f)->Append("123456").ok());
  EXPECT_EQ((*f)->Append("78901").code(), Code::kNoSpace);
  EXPECT_TRUE((*f)->Append("7890").ok());
  EXPECT_EQ((*f)->Append("x").code(), Code::kNoSpace);
  EXPECT_EQ(Contents("a"), "1234567890");
  env_.SetWriteBudget(UINT64_MAX);
  EXPECT_TRUE((*f)->Append("x").ok());
}

}  // namespace
}  // namespace mailvault
