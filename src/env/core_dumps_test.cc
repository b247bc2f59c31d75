#include "env/core_dumps.h"

#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>

namespace mailvault {
namespace {

// Each case runs in a forked child: the settings are process-wide and
// "off" cannot be undone.
int InChild(void (*body)()) {
  pid_t pid = ::fork();
  if (pid == 0) {
    body();
    ::_exit(::testing::Test::HasFailure() ? 1 : 0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

TEST(CoreDumps, OffMeansNoLimitAndNotDumpable) {
  EXPECT_EQ(InChild([] {
              ASSERT_TRUE(SetCoreDumps(false).ok());
              auto s = GetCoreDumpState();
              ASSERT_TRUE(s.ok()) << s.status().ToString();
              EXPECT_EQ(s->soft, 0u);
              EXPECT_EQ(s->hard, 0u);
              EXPECT_FALSE(s->dumpable);
              // Cannot be raised again (no privilege needed to lower, some
              // to raise: without CAP_SYS_RESOURCE this fails).
              struct rlimit up = {RLIM_INFINITY, RLIM_INFINITY};
              if (::geteuid() != 0) {
                EXPECT_NE(::setrlimit(RLIMIT_CORE, &up), 0);
              }
            }),
            0);
}

TEST(CoreDumps, OnRaisesTheSoftLimitToTheHardOne) {
  EXPECT_EQ(InChild([] {
              struct rlimit limit = {0, 1 << 20};
              ASSERT_EQ(::setrlimit(RLIMIT_CORE, &limit), 0);
              ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
              ASSERT_TRUE(SetCoreDumps(true).ok());
              auto s = GetCoreDumpState();
              ASSERT_TRUE(s.ok()) << s.status().ToString();
              EXPECT_EQ(s->soft, 1u << 20);
              EXPECT_EQ(s->hard, 1u << 20);
              EXPECT_TRUE(s->dumpable);
            }),
            0);
}

}  // namespace
}  // namespace mailvault
