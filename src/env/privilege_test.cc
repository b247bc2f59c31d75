// DropToOwnerOf: a root process becomes the owner of a directory for good,
// and what it then creates there is that owner's. Each case runs in a child
// process (the change cannot be undone); without root the test skips.
#include "env/privilege.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace mailvault {
namespace {

// Runs `body` in a forked child; its return value is the exit status.
int InChild(int (*body)(const std::string&), const std::string& dir) {
  pid_t pid = fork();
  if (pid == 0) _exit(body(dir));
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

std::string MakeDir(uid_t uid, gid_t gid) {
  char tmpl[] = "/tmp/mv-privilege-test.XXXXXX";
  std::string dir = mkdtemp(tmpl);
  EXPECT_EQ(chown(dir.c_str(), uid, gid), 0);
  return dir;
}

// The child's checks, as exit codes: 0 = all held.
int DropAndCreate(const std::string& dir) {
  auto who = DropToOwnerOf(dir);
  if (!who.ok()) return 1;
  if (!who->has_value() || (*who)->uid != 65534) return 2;
  if (getuid() != 65534 || geteuid() != 65534) return 3;
  if (getgid() == 0 || getegid() == 0) return 4;
  gid_t groups[64];
  int n = getgroups(64, groups);
  for (int i = 0; i < n; ++i)
    if (groups[i] == 0) return 5;
  if (setuid(0) == 0 || seteuid(0) == 0) return 6;
  std::ofstream(dir + "/made") << "x";
  struct stat st {};
  if (stat((dir + "/made").c_str(), &st) != 0) return 7;
  if (st.st_uid != 65534) return 8;
  return 0;
}

int StaysRoot(const std::string& dir) {
  auto who = DropToOwnerOf(dir);
  if (!who.ok() || who->has_value()) return 1;
  return geteuid() == 0 ? 0 : 2;
}

TEST(DropToOwnerOf, RootBecomesTheOwnerForGood) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  std::string dir = MakeDir(65534, 65534);  // nobody:nogroup
  EXPECT_EQ(InChild(DropAndCreate, dir), 0);
  struct stat st {};
  ASSERT_EQ(stat((dir + "/made").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 65534u);
  std::filesystem::remove_all(dir);
}

TEST(DropToOwnerOf, ARootOwnedOrMissingDirChangesNothing) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  std::string dir = MakeDir(0, 0);
  EXPECT_EQ(InChild(StaysRoot, dir), 0);
  EXPECT_EQ(InChild(StaysRoot, dir + "/missing"), 0);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mailvault
