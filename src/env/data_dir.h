// DataDir: the files of a mailvault data dir, named in one place.
//
// Every file and directory the daemon and the CLI keep in the data dir
// (default /var/lib/mailvault) is a row of DataFiles(), with what it holds;
// docs/data-dir.md lists the same rows (data_dir_test.cc checks both ways).
// A component asks a DataDir for a path instead of spelling a name. The
// modes are the service account's alone: directories 0700 (Env::CreateDir),
// files 0600 (every Env call that creates a file), whatever the umask.
// The key ring may live elsewhere (another mount): DataDir(root, keys_dir).
// Immutable after construction, so thread-safe.
#pragma once

#include <array>
#include <span>
#include <string>
#include <string_view>

#include "env/env.h"
#include "mailvault/status.h"

namespace mailvault {

enum class DataFile {
  kStoreMarker,   // store.json
  kSettings,      // settings.json
  kLock,          // LOCK
  kKeys,          // keys/
  kSegments,      // segments/
  kIndex,         // index.db
  kIndexNew,      // index.db.new
  kIndexRebuild,  // index.rebuild
  kReserve,       // reserve
  kLost,          // lost
  kAccounts,      // accounts.db
  kAudit,         // audit.db
  kAuditPending,  // audit-pending.jsonl
  kDeliveries,    // deliveries.db
  kApiToken,      // api.token
  kDaemonPort,    // mailvaultd.port
  kSpool,         // spool/
  kLog,           // log/
  kLdapCache,     // ldap.db
};

struct DataFileInfo {
  DataFile file;
  std::string_view name;   // the name in the data dir
  bool is_dir = false;     // a directory (0700), else a file (0600)
  std::string_view holds;  // what it holds, one line
};

// Every row, in the order of DataFile.
std::span<const DataFileInfo> DataFiles();
const DataFileInfo& InfoOf(DataFile file);

// The files beside a SQLite database: the database, its WAL and its
// shared-memory index ("", "-wal", "-shm" appended to the path).
inline constexpr std::array<std::string_view, 3> kDbSuffixes = {"", "-wal", "-shm"};

inline constexpr uint32_t kDataDirMode = 0700;
inline constexpr uint32_t kDataFileMode = 0600;

class DataDir {
 public:
  // `root`: the data dir; `keys_dir`: the key ring's directory, "" for
  // root/keys.
  explicit DataDir(std::string root, std::string keys_dir = "");

  const std::string& root() const { return root_; }
  // The path of `file`: root/<name>, or the key ring's directory for kKeys.
  std::string Path(DataFile file) const;

  std::string store_marker() const { return Path(DataFile::kStoreMarker); }
  std::string settings() const { return Path(DataFile::kSettings); }
  std::string lock() const { return Path(DataFile::kLock); }
  std::string keys() const { return Path(DataFile::kKeys); }
  std::string segments() const { return Path(DataFile::kSegments); }
  std::string index() const { return Path(DataFile::kIndex); }
  std::string index_new() const { return Path(DataFile::kIndexNew); }
  // Where a damaged index is set aside: index.db.damaged-<stamp>.
  std::string index_damaged(std::string_view stamp) const;
  std::string index_rebuild() const { return Path(DataFile::kIndexRebuild); }
  std::string reserve() const { return Path(DataFile::kReserve); }
  std::string lost() const { return Path(DataFile::kLost); }
  std::string accounts() const { return Path(DataFile::kAccounts); }
  std::string audit() const { return Path(DataFile::kAudit); }
  std::string audit_pending() const { return Path(DataFile::kAuditPending); }
  std::string deliveries() const { return Path(DataFile::kDeliveries); }
  std::string api_token() const { return Path(DataFile::kApiToken); }
  std::string daemon_port() const { return Path(DataFile::kDaemonPort); }
  std::string spool() const { return Path(DataFile::kSpool); }
  std::string log() const { return Path(DataFile::kLog); }
  std::string ldap_cache() const { return Path(DataFile::kLdapCache); }

  // True when the data dir holds a store (its store.json).
  bool IsStore(Env& env) const;
  // Creates the data dir and the directories a store needs (keys,
  // segments) through `env`, mode 0700, and syncs each parent so the
  // entries survive a crash. OK if they exist.
  Status CreateDirs(Env& env) const;

 private:
  std::string root_;
  std::string keys_dir_;
};

}  // namespace mailvault
