// Tests of RunProcess against real programs (/bin/sh, /bin/cat, ...): what
// goes in comes out, a child past its deadline or its output bound is
// killed and reaped, and the child gets nothing of the caller's: no
// environment, cwd /, no inherited descriptor, no blocked signal.
#include "env/process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace mailvault {
namespace {

ProcessOptions Sh(const std::string& script) {
  ProcessOptions o;
  o.path = "/bin/sh";
  o.args = {"-c", script};
  return o;
}

TEST(RunProcess, FeedsStdinAndReadsStdout) {
  // Larger than a pipe's buffer both ways: the loop must write and read at
  // once or deadlock.
  std::string input;
  for (int i = 0; input.size() < (3 << 20); ++i) input += std::to_string(i) + '\n';
  ProcessOptions o;
  o.path = "/bin/cat";
  auto r = RunProcess(o, input);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->Succeeded());
  EXPECT_EQ(r->output, input);
}

TEST(RunProcess, TimeoutKills) {
  ProcessOptions o = Sh("echo started; exec /bin/sleep 60");
  o.timeout_micros = 200'000;
  auto r = RunProcess(o, "");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->timed_out);
  EXPECT_FALSE(r->exited);
  EXPECT_EQ(r->signal, SIGKILL);
  EXPECT_EQ(r->output, "started\n");
  EXPECT_FALSE(r->Succeeded());
}

TEST(RunProcess, TimeoutKillsAChildThatClosedItsStdout) {
  ProcessOptions o = Sh("exec >&-; exec /bin/sleep 60");
  o.timeout_micros = 200'000;
  auto r = RunProcess(o, "");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->signal, SIGKILL);
}

TEST(RunProcess, OutputBoundKills) {
  ProcessOptions o = Sh("while :; do echo 0123456789; done");
  o.max_output = 1000;
  auto r = RunProcess(o, "");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->output_overflow);
  EXPECT_FALSE(r->timed_out);
  EXPECT_EQ(r->signal, SIGKILL);
  EXPECT_EQ(r->output.size(), 1000u);
  EXPECT_FALSE(r->Succeeded());
}

TEST(RunProcess, ExactlyTheBoundIsNotAnOverflow) {
  ProcessOptions o = Sh("printf 0123456789");
  o.max_output = 10;
  auto r = RunProcess(o, "");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->Succeeded());
  EXPECT_EQ(r->output, "0123456789");
}

TEST(RunProcess, ExitCodeAndSignal) {
  auto exit3 = RunProcess(Sh("exit 3"), "");
  ASSERT_TRUE(exit3.ok());
  EXPECT_TRUE(exit3->exited);
  EXPECT_EQ(exit3->exit_code, 3);
  EXPECT_FALSE(exit3->Succeeded());
  auto segv = RunProcess(Sh("kill -SEGV $$"), "");
  ASSERT_TRUE(segv.ok());
  EXPECT_FALSE(segv->exited);
  EXPECT_EQ(segv->signal, SIGSEGV);
}

TEST(RunProcess, AChildThatDoesNotReadItsInputIsNoError) {
  // The write meets a closed pipe (EPIPE, and SIGPIPE on this thread, which
  // must not kill the test).
  ProcessOptions o;
  o.path = "/bin/true";
  auto r = RunProcess(o, std::string(4 << 20, 'x'));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->Succeeded());
}

TEST(RunProcess, EmptyEnvironmentAndRootCwd) {
  ::setenv("MV_PROCESS_TEST_SECRET", "1", 1);
  ProcessOptions env;
  env.path = "/usr/bin/env";
  auto e = RunProcess(env, "");
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->Succeeded());
  EXPECT_EQ(e->output, "");
  ProcessOptions pwd;
  pwd.path = "/bin/pwd";
  auto p = RunProcess(pwd, "");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->output, "/\n");
}

TEST(RunProcess, NoDescriptorIsInherited) {
  // Descriptor 9 without close-on-exec, as a careless library would leave
  // it: the child must not get it (dash: "Bad fd number", exit 2).
  int fd = ::dup2(1, 9);
  ASSERT_EQ(fd, 9);
  auto r = RunProcess(Sh("echo leaked >&9 && echo open"), "");
  ::close(9);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->Succeeded());
  EXPECT_EQ(r->output, "");
  // stderr goes nowhere, and is open (a write to it succeeds).
  auto err = RunProcess(Sh("echo noise >&2 && echo ok"), "");
  ASSERT_TRUE(err.ok());
  EXPECT_EQ(err->output, "ok\n");
}

TEST(RunProcess, BlockedSignalsAreNotInherited) {
  sigset_t term, old;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &term, &old);
  auto r = RunProcess(Sh("kill -TERM $$; echo survived"), "");
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->signal, SIGTERM);
  EXPECT_EQ(r->output, "");
}

TEST(RunProcess, MissingProgramIsAnError) {
  ProcessOptions o;
  o.path = "/nonexistent/mailvault-preview";
  auto r = RunProcess(o, "x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kIOError);
  EXPECT_NE(r.status().message().find("/nonexistent/mailvault-preview"), std::string::npos);
}

TEST(SelfExecutablePath, NamesThisTest) {
  auto p = SelfExecutablePath();
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->ends_with("/env_test")) << *p;
}

}  // namespace
}  // namespace mailvault
