// Tests of the encrypting VFS: its byte mapping (driven through the VFS
// methods directly), and what it refuses when SQLite drives it.
#include "db/encrypted_vfs.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "testutil/temp_dir.h"

namespace mailvault::db {
namespace {

namespace fs = std::filesystem;

constexpr int kPage = EncryptedVfs::kPageSize;
constexpr int kPayload = kPage - EncryptedVfs::kReserveBytes;

crypto::SymmetricKey Key(uint8_t seed) {
  crypto::SymmetricKey k;
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(seed + i);
  return k;
}

// A page of clear text: recognisable bytes, zero reserve; for slot 0 of a
// database, a header declaring the layout.
std::vector<uint8_t> Page(char fill, bool header = false) {
  std::vector<uint8_t> p(kPage, 0);
  std::memset(p.data(), fill, kPayload);
  if (header) {
    std::memcpy(p.data(), "SQLite format 3", 16);
    p[16] = kPage >> 8;
    p[17] = kPage & 0xff;
    p[20] = EncryptedVfs::kReserveBytes;
  }
  return p;
}

// One file opened through the VFS's methods, as SQLite would.
class VfsFile {
 public:
  VfsFile(const std::string& vfs_name, const std::string& path, int kind_flag) {
    vfs_ = sqlite3_vfs_find(vfs_name.c_str());
    mem_.resize(vfs_->szOsFile);
    file_ = reinterpret_cast<sqlite3_file*>(mem_.data());
    // SQLite passes names it allocated with room for URI parameters after
    // the terminating NUL; keep two more NULs.
    name_ = path + std::string(3, '\0');
    rc_ = vfs_->xOpen(vfs_, name_.c_str(), file_,
                      kind_flag | SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  }
  ~VfsFile() {
    if (file_->pMethods != nullptr) file_->pMethods->xClose(file_);
  }
  int open_rc() const { return rc_; }
  int Write(const void* p, int n, int64_t off) { return file_->pMethods->xWrite(file_, p, n, off); }
  int Read(void* p, int n, int64_t off) { return file_->pMethods->xRead(file_, p, n, off); }

 private:
  sqlite3_vfs* vfs_;
  std::vector<uint64_t> mem_;
  sqlite3_file* file_;
  std::string name_;
  int rc_;
};

TEST(EncryptedVfs, RegistersUniqueNamesAndUnregisters) {
  std::string first;
  {
    auto a = EncryptedVfs::Register(Key(1));
    auto b = EncryptedVfs::Register(Key(1));
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_NE((*a)->name(), (*b)->name());
    EXPECT_NE(sqlite3_vfs_find((*a)->name().c_str()), nullptr);
    first = (*a)->name();
  }
  EXPECT_EQ(sqlite3_vfs_find(first.c_str()), nullptr);
}

TEST(EncryptedVfs, DatabasePagesAreSealedAndReadBackAtAnyOffset) {
  TempDir dir;
  auto vfs = EncryptedVfs::Register(Key(1));
  ASSERT_TRUE(vfs.ok());
  const std::string path = dir.File("db");
  {
    VfsFile f((*vfs)->name(), path, SQLITE_OPEN_MAIN_DB);
    ASSERT_EQ(f.open_rc(), SQLITE_OK);
    auto p0 = Page('A', true), p1 = Page('B'), p2 = Page('C');
    ASSERT_EQ(f.Write(p0.data(), kPage, 0), SQLITE_OK);
    ASSERT_EQ(f.Write(p1.data(), kPage, kPage), SQLITE_OK);
    ASSERT_EQ(f.Write(p2.data(), kPage, 2 * kPage), SQLITE_OK);
    // The caller's buffer is never modified.
    EXPECT_EQ(p1, Page('B'));

    std::vector<uint8_t> buf(100);
    ASSERT_EQ(f.Read(buf.data(), 100, 0), SQLITE_OK);  // the header read
    EXPECT_EQ(std::memcmp(buf.data(), p0.data(), 100), 0);
    ASSERT_EQ(f.Read(buf.data(), 16, 24), SQLITE_OK);
    EXPECT_EQ(std::memcmp(buf.data(), p0.data() + 24, 16), 0);
    // A read across a page boundary, including the zeros of the reserve.
    std::vector<uint8_t> span(kPage);
    ASSERT_EQ(f.Read(span.data(), kPage, kPage + 100), SQLITE_OK);
    std::vector<uint8_t> expect(p1.begin() + 100, p1.end());
    expect.insert(expect.end(), p2.begin(), p2.begin() + 100);
    EXPECT_EQ(span, expect);
    // Beyond end of file: zero fill and a short read.
    std::vector<uint8_t> tail(2 * kPage, 0xee);
    EXPECT_EQ(f.Read(tail.data(), 2 * kPage, 2 * kPage), SQLITE_IOERR_SHORT_READ);
    EXPECT_TRUE(std::equal(tail.begin(), tail.begin() + kPage, p2.begin()));
    EXPECT_TRUE(std::all_of(tail.begin() + kPage, tail.end(), [](uint8_t b) { return b == 0; }));
    // Partial writes into a page, and pages that would lose data, are refused.
    EXPECT_EQ(f.Write(p1.data(), 100, kPage), SQLITE_IOERR_WRITE);
    auto bad = Page('D');
    bad[kPage - 1] = 1;  // data in the reserve
    EXPECT_EQ(f.Write(bad.data(), kPage, kPage), SQLITE_IOERR_WRITE);
    auto no_header = Page('E');
    EXPECT_EQ(f.Write(no_header.data(), kPage, 0), SQLITE_IOERR_WRITE);
  }
  const std::string raw = ReadAll(path);
  ASSERT_EQ(raw.size(), 3u * kPage);
  EXPECT_EQ(raw.find(std::string(64, 'B')), std::string::npos);
  EXPECT_EQ(raw.find("SQLite format 3"), std::string::npos);

  // A page moved to another slot, or altered, fails authentication.
  std::string moved = raw;
  moved.replace(2 * kPage, kPage, raw.substr(kPage, kPage));
  WriteAll(path, moved);
  {
    VfsFile f((*vfs)->name(), path, SQLITE_OPEN_MAIN_DB);
    std::vector<uint8_t> buf(kPage);
    EXPECT_EQ(f.Read(buf.data(), kPage, kPage), SQLITE_OK);
    EXPECT_EQ(f.Read(buf.data(), kPage, 2 * kPage), SQLITE_IOERR_DATA);
    EXPECT_EQ(f.Read(buf.data(), 10, 2 * kPage + 7), SQLITE_IOERR_DATA);
  }
  // Another key opens nothing.
  WriteAll(path, raw);
  auto other = EncryptedVfs::Register(Key(2));
  ASSERT_TRUE(other.ok());
  VfsFile f((*other)->name(), path, SQLITE_OPEN_MAIN_DB);
  std::vector<uint8_t> buf(100);
  EXPECT_EQ(f.Read(buf.data(), 100, 0), SQLITE_IOERR_DATA);
}

TEST(EncryptedVfs, WalHeadersPassInClearPagesAreSealed) {
  TempDir dir;
  auto vfs = EncryptedVfs::Register(Key(1));
  ASSERT_TRUE(vfs.ok());
  WriteAll(dir.File("db"), "");  // the unix VFS takes a WAL's mode from its database
  const std::string path = dir.File("db-wal");
  constexpr int kFrame = 24 + kPage;
  std::string wal_header(32, 'H');
  std::string frame_header(24, 'F');
  auto page0 = Page('P');
  auto page1 = Page('Q');
  {
    VfsFile f((*vfs)->name(), path, SQLITE_OPEN_WAL);
    ASSERT_EQ(f.open_rc(), SQLITE_OK);
    ASSERT_EQ(f.Write(wal_header.data(), 32, 0), SQLITE_OK);
    ASSERT_EQ(f.Write(frame_header.data(), 24, 32), SQLITE_OK);
    ASSERT_EQ(f.Write(page0.data(), kPage, 32 + 24), SQLITE_OK);
    ASSERT_EQ(f.Write(frame_header.data(), 24, 32 + kFrame), SQLITE_OK);
    ASSERT_EQ(f.Write(page1.data(), kPage, 32 + kFrame + 24), SQLITE_OK);
    // A whole frame, as WAL recovery reads it.
    std::vector<uint8_t> frame(kFrame);
    ASSERT_EQ(f.Read(frame.data(), kFrame, 32 + kFrame), SQLITE_OK);
    EXPECT_EQ(std::string(frame.begin(), frame.begin() + 24), frame_header);
    EXPECT_TRUE(std::equal(frame.begin() + 24, frame.end(), page1.begin()));
  }
  std::string raw = ReadAll(path);
  ASSERT_EQ(raw.size(), 32u + 2 * kFrame);
  EXPECT_EQ(raw.substr(0, 32), wal_header);
  EXPECT_EQ(raw.substr(32 + kFrame, 24), frame_header);
  EXPECT_EQ(raw.find(std::string(64, 'Q')), std::string::npos);

  // A damaged page: a whole-frame read (recovery) sees zeros, so the frame's
  // checksum fails; a page read (a reader) sees an error.
  raw[32 + kFrame + 24 + 5] ^= 1;
  WriteAll(path, raw);
  VfsFile f((*vfs)->name(), path, SQLITE_OPEN_WAL);
  std::vector<uint8_t> frame(kFrame, 0xee);
  ASSERT_EQ(f.Read(frame.data(), kFrame, 32 + kFrame), SQLITE_OK);
  EXPECT_EQ(std::string(frame.begin(), frame.begin() + 24), frame_header);
  EXPECT_TRUE(std::all_of(frame.begin() + 24, frame.end(), [](uint8_t b) { return b == 0; }));
  EXPECT_EQ(f.Read(frame.data(), kPage, 32 + kFrame + 24), SQLITE_IOERR_DATA);
  EXPECT_EQ(f.Read(frame.data(), kPage, 32 + 24), SQLITE_OK);
}

TEST(EncryptedVfs, RefusesFilesThatWouldHoldClearPages) {
  TempDir dir;
  auto vfs = EncryptedVfs::Register(Key(1));
  ASSERT_TRUE(vfs.ok());
  for (int kind : {SQLITE_OPEN_MAIN_JOURNAL, SQLITE_OPEN_TEMP_DB, SQLITE_OPEN_TEMP_JOURNAL,
                   SQLITE_OPEN_SUBJOURNAL, SQLITE_OPEN_SUPER_JOURNAL, SQLITE_OPEN_TRANSIENT_DB}) {
    VfsFile f((*vfs)->name(), dir.File("x-journal"), kind);
    EXPECT_EQ(f.open_rc(), SQLITE_CANTOPEN) << kind;
  }
  EXPECT_FALSE(fs::exists(dir.File("x-journal")));
}

class SqliteThroughVfs : public ::testing::Test {
 protected:
  void SetUp() override {
    auto v = EncryptedVfs::Register(Key(1));
    ASSERT_TRUE(v.ok());
    vfs_ = std::move(v).value();
    ASSERT_EQ(sqlite3_open_v2(dir_.File("t.db").c_str(), &db_,
                              SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs_->name().c_str()),
              SQLITE_OK);
  }
  void TearDown() override { sqlite3_close_v2(db_); }
  int Exec(const char* sql) { return sqlite3_exec(db_, sql, nullptr, nullptr, nullptr); }
  void SetLayout() {
    ASSERT_EQ(Exec("PRAGMA page_size=4096"), SQLITE_OK);
    int n = EncryptedVfs::kReserveBytes;
    ASSERT_EQ(sqlite3_file_control(db_, "main", SQLITE_FCNTL_RESERVE_BYTES, &n), SQLITE_OK);
  }

  TempDir dir_;
  std::unique_ptr<EncryptedVfs> vfs_;
  sqlite3* db_ = nullptr;
};

TEST_F(SqliteThroughVfs, RefusesAPageOneWithoutTheReserve) {
  ASSERT_EQ(Exec("PRAGMA journal_mode=MEMORY"), SQLITE_OK);
  EXPECT_NE(Exec("CREATE TABLE t(x)"), SQLITE_OK);
}

TEST_F(SqliteThroughVfs, RollbackJournalModeCannotWrite) {
  SetLayout();
  EXPECT_NE(Exec("CREATE TABLE t(x)"), SQLITE_OK);  // needs a -journal
  EXPECT_FALSE(fs::exists(dir_.File("t.db-journal")));
}

TEST_F(SqliteThroughVfs, WalModeWorksAndTempFilesAreRefused) {
  SetLayout();
  ASSERT_EQ(Exec("PRAGMA journal_mode=MEMORY; PRAGMA journal_mode=WAL;"), SQLITE_OK);
  ASSERT_EQ(Exec("CREATE TABLE t(x TEXT); INSERT INTO t VALUES('ClearTextCanary-98231');"),
            SQLITE_OK);
  // A temp database gets a file only once its pages spill out of the cache.
  const char* spill =
      "CREATE TEMP TABLE IF NOT EXISTS tt(x); PRAGMA temp.cache_size=2; "
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500) "
      "INSERT INTO tt SELECT randomblob(1000) FROM n;";
  ASSERT_EQ(Exec("PRAGMA temp_store=FILE"), SQLITE_OK);
  EXPECT_EQ(Exec(spill), SQLITE_CANTOPEN);
  ASSERT_EQ(Exec("PRAGMA temp_store=MEMORY"), SQLITE_OK);
  EXPECT_EQ(Exec(spill), SQLITE_OK);
  ASSERT_EQ(Exec("PRAGMA wal_checkpoint(FULL)"), SQLITE_OK);
  for (const char* f : {"t.db", "t.db-wal"}) {
    EXPECT_EQ(ReadAll(dir_.File(f)).find("ClearTextCanary"), std::string::npos) << f;
  }
  EXPECT_GT(ReadAll(dir_.File("t.db-wal")).size(), 0u);
}

}  // namespace
}  // namespace mailvault::db
