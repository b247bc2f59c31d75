// Tests of the password prompt on a real pseudo-terminal: the typed line
// comes back without being echoed, echo is on again afterwards (also when
// SIGINT ends the process mid-prompt), and the refusals (not a terminal, a
// line too long, Ctrl-D) are the documented statuses.
#include "env/terminal.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <string>
#include <thread>

namespace mailvault {
namespace {

class TerminalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    master_ = ::posix_openpt(O_RDWR | O_NOCTTY);
    if (master_ < 0) GTEST_SKIP() << "no pseudo-terminals here";
    ASSERT_EQ(::grantpt(master_), 0);
    ASSERT_EQ(::unlockpt(master_), 0);
    slave_ = ::open(::ptsname(master_), O_RDWR | O_NOCTTY);
    ASSERT_GE(slave_, 0);
  }
  void TearDown() override {
    if (slave_ >= 0) ::close(slave_);
    if (master_ >= 0) ::close(master_);
  }

  // What the terminal shows: reads the master side until `want` appears
  // (or, with want empty, until nothing more comes for 200 ms); at most 5 s.
  std::string Screen(std::string_view want = "") {
    std::string out;
    for (int waited = 0; waited < 5000;) {
      if (!want.empty() && out.find(want) != std::string::npos) break;
      struct pollfd p = {master_, POLLIN, 0};
      int timeout = want.empty() ? 200 : 50;
      if (::poll(&p, 1, timeout) <= 0) {
        if (want.empty()) break;
        waited += timeout;
        continue;
      }
      char buf[256];
      ssize_t n = ::read(master_, buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
  void Type(std::string_view s) {
    ASSERT_EQ(::write(master_, s.data(), s.size()), static_cast<ssize_t>(s.size()));
  }
  bool EchoOn() {
    struct termios t;
    EXPECT_EQ(::tcgetattr(slave_, &t), 0);
    return (t.c_lflag & ECHO) != 0;
  }

  int master_ = -1, slave_ = -1;
};

TEST_F(TerminalTest, ReadsTheLineWithoutEchoAndRestoresEcho) {
  ASSERT_TRUE(IsTerminal(slave_));
  ASSERT_TRUE(EchoOn());
  Result<std::string> got = Status::IOError("not run");
  std::thread reader([&] { got = ReadPasswordFromTerminal(slave_, slave_, "Password: ", 1024); });
  ASSERT_NE(Screen("Password: ").find("Password: "), std::string::npos);
  Type("correct horse battery\n");
  reader.join();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "correct horse battery");
  std::string after = Screen();
  EXPECT_EQ(after.find("correct"), std::string::npos) << "echoed: " << after;
  EXPECT_NE(after.find('\n'), std::string::npos) << "the prompt's line was not ended";
  // Echo is back: the terminal shows what is typed now.
  EXPECT_TRUE(EchoOn());
  Type("visible\n");
  EXPECT_NE(Screen("visible").find("visible"), std::string::npos);
}

TEST_F(TerminalTest, AnEmptyLineIsAnEmptyPassword) {
  Result<std::string> got = Status::IOError("not run");
  std::thread reader([&] { got = ReadPasswordFromTerminal(slave_, slave_, "> ", 1024); });
  Screen("> ");
  Type("\n");
  reader.join();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "");
}

TEST_F(TerminalTest, TooLongLineIsRefused) {
  Result<std::string> got = std::string();
  std::thread reader([&] { got = ReadPasswordFromTerminal(slave_, slave_, "> ", 8); });
  Screen("> ");
  Type("0123456789abcdef\n");
  reader.join();
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), Code::kInvalidArgument);
  EXPECT_NE(got.status().message().find("longer than 8 bytes"), std::string::npos);
  EXPECT_TRUE(EchoOn());
}

TEST_F(TerminalTest, EndOfInputBeforeAnythingIsNotFound) {
  Result<std::string> got = std::string();
  std::thread reader([&] { got = ReadPasswordFromTerminal(slave_, slave_, "> ", 1024); });
  Screen("> ");
  Type("\x04");  // VEOF, Ctrl-D
  reader.join();
  ASSERT_FALSE(got.ok());
  EXPECT_TRUE(got.status().IsNotFound()) << got.status().ToString();
  EXPECT_TRUE(EchoOn());
}

TEST_F(TerminalTest, SigintMidPromptRestoresEchoThenKills) {
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto got = ReadPasswordFromTerminal(slave_, slave_, "Password: ", 1024);
    ::_exit(got.ok() ? 0 : 3);
  }
  Screen("Password: ");
  EXPECT_FALSE(EchoOn());  // the child waits with echo off
  ASSERT_EQ(::kill(child, SIGINT), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "exit status " << status;
  EXPECT_EQ(WTERMSIG(status), SIGINT);
  EXPECT_TRUE(EchoOn());
}

TEST(TerminalNoTtyTest, PipeIsNotATerminal) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  EXPECT_FALSE(IsTerminal(fds[0]));
  auto got = ReadPasswordFromTerminal(fds[0], fds[1], "> ", 1024);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), Code::kInvalidArgument);
  ::close(fds[0]);
  ::close(fds[1]);
}

}  // namespace
}  // namespace mailvault
