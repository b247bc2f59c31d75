#include "daemon/trace_log.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "testutil/temp_dir.h"

namespace mailvault::daemon {
namespace {

mode_t ModeOf(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

// A small limit: the file rotates, the number of files is kept, and every
// file is 0600 although the umask would let others read it.
TEST(TraceLog, RotatesAtTheLimitKeepsTheFilesAndIsPrivate) {
  TempDir dir;
  config::DaemonOptions o;
  o.data_dir = dir.File("data");
  ASSERT_TRUE(PosixEnv()->CreateDir(o.data_dir).ok());
  o.trace_max_size = 64'000;
  o.trace_files = 2;
  o.log_level = "debug";
  const mode_t old = ::umask(022);
  auto logger = MakeDaemonLogger(o, /*to_stderr=*/false);
  ASSERT_TRUE(logger.ok()) << logger.status().ToString();
  const std::string line(200, 'x');
  for (int i = 0; i < 2000; ++i) (*logger)->debug("line {} {}", i, line);  // ~420 KB
  (*logger)->flush();
  ::umask(old);
  const std::string log_dir = dir.File("data/log");
  EXPECT_EQ(config::TraceFilePath(o), log_dir + "/trace.log");
  EXPECT_EQ(ModeOf(log_dir), 0700u);
  for (const char* name : {"trace.log", "trace.1.log", "trace.2.log"}) {
    const std::string path = log_dir + "/" + name;
    EXPECT_EQ(ModeOf(path), 0600u) << path;
    auto size = PosixEnv()->FileSize(path);
    ASSERT_TRUE(size.ok()) << path;
    EXPECT_LE(*size, 64'000u) << path;
  }
  EXPECT_FALSE(PosixEnv()->Exists(log_dir + "/trace.3.log"));
  auto names = PosixEnv()->ListDir(log_dir);
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(names->size(), 3u);
  // The newest lines are in trace.log, the last of them included.
  auto text = PosixEnv()->ReadFile(log_dir + "/trace.log");
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find("line 1999 "), std::string::npos);
}

TEST(TraceLog, BelowTheLevelStaysOut) {
  TempDir dir;
  config::DaemonOptions o;
  o.trace_file = dir.File("t/trace.log");
  o.log_level = "warn";
  auto logger = MakeDaemonLogger(o, false);
  ASSERT_TRUE(logger.ok()) << logger.status().ToString();
  (*logger)->info("an info line");
  (*logger)->warn("a warning");
  (*logger)->flush();
  auto text = PosixEnv()->ReadFile(o.trace_file);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->find("an info line"), std::string::npos);
  EXPECT_NE(text->find("[warning] a warning"), std::string::npos);
}

TEST(TraceLog, AnUnwritablePlaceIsAnError) {
  TempDir dir;
  ASSERT_TRUE(PosixEnv()->WriteFileAtomic(dir.File("file"), "x").ok());
  config::DaemonOptions o;
  o.trace_file = dir.File("file/trace.log");  // under a file
  auto logger = MakeDaemonLogger(o, false);
  ASSERT_FALSE(logger.ok());
  EXPECT_NE(logger.status().message().find("trace_file"), std::string::npos)
      << logger.status().ToString();
}

}  // namespace
}  // namespace mailvault::daemon
