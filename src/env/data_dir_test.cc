#include "env/data_dir.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <set>
#include <sstream>

#include "testutil/temp_dir.h"

namespace mailvault {
namespace {

// Every DataFile has exactly one row, in enum order, with a distinct name.
TEST(DataDirTest, EveryFileHasOneRow) {
  std::set<std::string_view> names;
  int i = 0;
  for (const DataFileInfo& info : DataFiles()) {
    EXPECT_EQ(static_cast<int>(info.file), i++) << info.name;
    EXPECT_TRUE(names.insert(info.name).second) << info.name;
    EXPECT_FALSE(info.holds.empty()) << info.name;
    EXPECT_EQ(info.name.find('/'), std::string_view::npos) << info.name;
  }
  EXPECT_EQ(i, static_cast<int>(DataFile::kLdapCache) + 1);
}

// Each accessor is the row's name in the data dir; the keys may be elsewhere.
TEST(DataDirTest, AccessorsNameTheRows) {
  const DataDir d("/data");
  const std::pair<std::string, DataFile> accessors[] = {
      {d.store_marker(), DataFile::kStoreMarker},
      {d.settings(), DataFile::kSettings},
      {d.lock(), DataFile::kLock},
      {d.keys(), DataFile::kKeys},
      {d.segments(), DataFile::kSegments},
      {d.index(), DataFile::kIndex},
      {d.index_new(), DataFile::kIndexNew},
      {d.index_rebuild(), DataFile::kIndexRebuild},
      {d.reserve(), DataFile::kReserve},
      {d.lost(), DataFile::kLost},
      {d.accounts(), DataFile::kAccounts},
      {d.audit(), DataFile::kAudit},
      {d.audit_pending(), DataFile::kAuditPending},
      {d.deliveries(), DataFile::kDeliveries},
      {d.api_token(), DataFile::kApiToken},
      {d.daemon_port(), DataFile::kDaemonPort},
      {d.spool(), DataFile::kSpool},
      {d.log(), DataFile::kLog},
      {d.ldap_cache(), DataFile::kLdapCache},
  };
  ASSERT_EQ(std::size(accessors), DataFiles().size());
  for (const auto& [path, file] : accessors) {
    EXPECT_EQ(path, "/data/" + std::string(InfoOf(file).name));
  }
  EXPECT_EQ(d.index_damaged("20261207T153354Z"), "/data/index.db.damaged-20261207T153354Z");
  EXPECT_EQ(DataDir("/data", "/mnt/keys").keys(), "/mnt/keys");
  EXPECT_EQ(DataDir("/data", "/mnt/keys").index(), "/data/index.db");
}

// docs/data-dir.md lists the same names as the code, no more, no fewer.
TEST(DataDirTest, DocsListTheSameFiles) {
  std::ifstream in(std::string(MV_SOURCE_DIR) + "/docs/data-dir.md");
  ASSERT_TRUE(in) << "docs/data-dir.md";
  std::set<std::string> documented;
  std::string line;
  bool in_table = false;
  while (std::getline(in, line)) {
    if (line.rfind("| name | kind |", 0) == 0) {
      in_table = true;
      continue;
    }
    if (!in_table) continue;
    if (line.rfind("|---", 0) == 0) continue;
    if (line.rfind("| `", 0) != 0) break;  // the end of the table
    const size_t end = line.find('`', 3);
    ASSERT_NE(end, std::string::npos) << line;
    documented.insert(line.substr(3, end - 3));
    const bool dir = line.find("| dir |") != std::string::npos;
    for (const DataFileInfo& info : DataFiles()) {
      if (info.name == line.substr(3, end - 3)) {
        EXPECT_EQ(info.is_dir, dir) << info.name;
      }
    }
  }
  std::set<std::string> code;
  for (const DataFileInfo& info : DataFiles()) code.insert(std::string(info.name));
  EXPECT_EQ(documented, code);
}

// The directories a store needs are made 0700 whatever the umask.
TEST(DataDirTest, CreateDirsMakesPrivateDirectories) {
  TempDir tmp;
  const DataDir d(tmp.File("data"));
  const mode_t old = ::umask(0);
  Status s = d.CreateDirs(*PosixEnv());
  ::umask(old);
  ASSERT_TRUE(s.ok()) << s.ToString();
  for (const std::string& path : {d.root(), d.keys(), d.segments()}) {
    struct stat st;
    ASSERT_EQ(::stat(path.c_str(), &st), 0) << path;
    EXPECT_TRUE(S_ISDIR(st.st_mode)) << path;
    EXPECT_EQ(st.st_mode & 0777, kDataDirMode) << path;
  }
  EXPECT_FALSE(d.IsStore(*PosixEnv()));
  EXPECT_TRUE(d.CreateDirs(*PosixEnv()).ok());  // again: nothing to do
}

}  // namespace
}  // namespace mailvault
