// Connection set-up for databases behind EncryptedVfs (see encrypted_db.h).
#include "db/encrypted_db.h"

#include <algorithm>

namespace mailvault::db {

Status ConfigureConnection(SqliteDb& db, size_t cache_bytes, bool sync_commits) {
  sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);
  std::string pragmas =
      std::string("PRAGMA temp_store=MEMORY; PRAGMA mmap_size=0; PRAGMA synchronous=") +
      (sync_commits ? "FULL; " : "NORMAL; ") + "PRAGMA cache_size=-" +
      std::to_string(std::max<size_t>(cache_bytes / 1024, 256)) + ";";
  MV_RETURN_IF_ERROR(db.Exec(pragmas.c_str()));
  // A temp file would hold clear pages: make sure the setting took (a
  // build with SQLITE_TEMP_STORE=0 ignores it).
  MV_ASSIGN_OR_RETURN(int64_t temp_store, db.QueryInt("PRAGMA temp_store"));
  if (temp_store != 2) return Status::IOError(db.path() + ": temp_store=MEMORY did not take");
  return Status::Ok();
}

// The switch to WAL writes page 1; with journal_mode MEMORY that write
// needs no rollback journal file (the VFS refuses one).
Status InitializeLayout(SqliteDb& db) {
  MV_RETURN_IF_ERROR(db.Exec("PRAGMA page_size=4096; PRAGMA auto_vacuum=NONE;"));
  int reserve = EncryptedVfs::kReserveBytes;
  int rc = sqlite3_file_control(db.get(), "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve);
  if (rc != SQLITE_OK) return db.Error(rc, db.path() + ": reserve bytes");
  MV_ASSIGN_OR_RETURN(std::string mode, db.QueryText("PRAGMA journal_mode=MEMORY"));
  MV_ASSIGN_OR_RETURN(mode, db.QueryText("PRAGMA journal_mode=WAL"));
  if (mode != "wal") return Status::IOError(db.path() + ": cannot switch to WAL (" + mode + ")");
  return Status::Ok();
}

Status CheckLayout(SqliteDb& db, std::string_view what_kind) {
  MV_ASSIGN_OR_RETURN(int64_t page_size, db.QueryInt("PRAGMA page_size"));
  int reserve = -1;  // negative: only report the current value
  int rc = sqlite3_file_control(db.get(), "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve);
  if (rc != SQLITE_OK) return db.Error(rc, db.path() + ": reserve bytes");
  MV_ASSIGN_OR_RETURN(std::string mode, db.QueryText("PRAGMA journal_mode"));
  if (page_size != EncryptedVfs::kPageSize || reserve != EncryptedVfs::kReserveBytes ||
      mode != "wal") {
    return Status::Corruption(db.path() + ": not a mailvault " + std::string(what_kind) +
                              " (page size " + std::to_string(page_size) + ", reserve " +
                              std::to_string(reserve) + ", journal " + mode + ")");
  }
  return Status::Ok();
}

Result<std::unique_ptr<SqliteDb>> OpenEncryptedDb(const EncryptedVfs& vfs,
                                                  const EncryptedDbOptions& options) {
  const std::string& path = options.path;
  const std::string what = "open " + std::string(options.what_kind) + " " + path;
  const int flags =
      options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  MV_ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db, SqliteDb::Open(path, vfs.name(), flags));
  MV_RETURN_IF_ERROR(
      ConfigureConnection(*db, options.cache_bytes, options.sync_commits).Annotate(what));
  // The first read of the file: with the wrong key this is where it fails.
  auto pages = db->QueryInt("PRAGMA page_count");
  if (!pages.ok()) return pages.status().Annotate(what);
  if (*pages == 0) {
    if (options.read_only) {
      return Status::NotFound(path + ": the " + std::string(options.what_kind) +
                              " has not been created");
    }
    MV_RETURN_IF_ERROR(InitializeLayout(*db).Annotate(what));
  }
  MV_RETURN_IF_ERROR(CheckLayout(*db, options.what_kind).Annotate(what));
  return db;
}

Result<OpenedDb> OpenDatabase(const EncryptedVfs& vfs, const EncryptedDbOptions& options,
                              const Schema& schema) {
  OpenedDb out;
  MV_ASSIGN_OR_RETURN(out.db, OpenEncryptedDb(vfs, options));
  MV_ASSIGN_OR_RETURN(out.schema_version,
                      MigrateSchema(*out.db, schema, /*writer=*/!options.read_only));
  return out;
}

}  // namespace mailvault::db
