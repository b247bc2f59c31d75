#include "intake/spool.h"

#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "testutil/temp_dir.h"

namespace mailvault::intake {
namespace {

std::string RandomText(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>('a' + rng() % 26);
  return s;
}

TEST(Spool, SmallMessageStaysInMemory) {
  TempDir dir;
  Spool spool(*PosixEnv(), dir.path());
  ASSERT_TRUE(spool.Append("Subject: hi\r\n\r\nbody\r\n").ok());
  EXPECT_FALSE(spool.on_disk());
  auto all = ReadAllBytes(spool);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, "Subject: hi\r\n\r\nbody\r\n");
}

TEST(Spool, LargeMessageReadsBackAtEveryOffsetAndLeavesNoClearTextOrFile) {
  TempDir dir;
  const std::string msg = RandomText(5 * Spool::kMemoryBytes + 1234, 1);
  Spool spool(*PosixEnv(), dir.path());
  // Appended in uneven chunks, as a milter gets them.
  for (size_t off = 0; off < msg.size(); off += 7777) {
    ASSERT_TRUE(spool.Append(std::string_view(msg).substr(off, 7777)).ok());
  }
  EXPECT_TRUE(spool.on_disk());
  EXPECT_EQ(spool.size(), msg.size());
  // The temp file has no name: the directory stays empty.
  auto names = PosixEnv()->ListDir(dir.path());
  ASSERT_TRUE(names.ok());
  EXPECT_TRUE(names->empty());
  std::mt19937 rng(2);
  for (int i = 0; i < 200; ++i) {
    uint64_t off = rng() % msg.size();
    size_t n = rng() % 40000;
    std::string out;
    ASSERT_TRUE(spool.ReadAt(off, n, &out).ok());
    ASSERT_EQ(out, msg.substr(off, n)) << off << " " << n;
  }
  std::string whole;
  ASSERT_TRUE(ForEachChunk(spool, 10000, [&](std::string_view p) {
                whole.append(p);
                return Status::Ok();
              }).ok());
  EXPECT_EQ(whole, msg);
}

TEST(Spool, ConcurrentReaders) {
  TempDir dir;
  const std::string msg = RandomText(300'000, 3);
  Spool spool(*PosixEnv(), dir.path());
  ASSERT_TRUE(spool.Append(msg).ok());
  std::vector<std::thread> readers;
  std::atomic<int> bad{0};
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&, t] {
      auto all = ReadAllBytes(spool);
      if (!all.ok() || *all != msg) ++bad;
      std::string part;
      if (!spool.ReadAt(1000 * t, 50'000, &part).ok() || part != msg.substr(1000 * t, 50'000))
        ++bad;
    });
  }
  for (auto& r : readers) r.join();
  EXPECT_EQ(bad.load(), 0);
}

TEST(Spool, ResetForgetsTheMessage) {
  TempDir dir;
  Spool spool(*PosixEnv(), dir.path());
  ASSERT_TRUE(spool.Append(RandomText(200'000, 4)).ok());
  spool.Reset();
  EXPECT_EQ(spool.size(), 0u);
  EXPECT_FALSE(spool.on_disk());
  ASSERT_TRUE(spool.Append("next").ok());
  EXPECT_EQ(*ReadAllBytes(spool), "next");
}

TEST(Spool, UnusableDiskFallsBackToMemory) {
  Spool spool(*PosixEnv(), "/nonexistent/spool/dir");
  const std::string msg = RandomText(200'000, 5);
  ASSERT_TRUE(spool.Append(msg.substr(0, 100'000)).ok());
  ASSERT_TRUE(spool.Append(msg.substr(100'000)).ok());
  EXPECT_FALSE(spool.disk_error().ok());
  EXPECT_FALSE(spool.on_disk());
  EXPECT_EQ(*ReadAllBytes(spool), msg);
  spool.Reset();
  EXPECT_TRUE(spool.disk_error().ok());
}

TEST(Spool, ReadPastEndIsInvalid) {
  TempDir dir;
  Spool spool(*PosixEnv(), dir.path());
  ASSERT_TRUE(spool.Append("abc").ok());
  std::string out;
  EXPECT_FALSE(spool.ReadAt(4, 1, &out).ok());
  EXPECT_TRUE(spool.ReadAt(3, 10, &out).ok());
  EXPECT_EQ(out, "");
}

}  // namespace
}  // namespace mailvault::intake
