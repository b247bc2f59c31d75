// SqliteDb: connection, statement cache and error mapping (see sqlite_db.h).
#include "db/sqlite_db.h"

namespace mailvault::db {

Status SqliteStatus(sqlite3* db, int rc, std::string_view what) {
  std::string msg(what);
  msg += ": ";
  msg += (db != nullptr && sqlite3_extended_errcode(db) == rc) ? sqlite3_errmsg(db)
                                                               : sqlite3_errstr(rc);
  switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Status::Corruption(msg);
    case SQLITE_IOERR:
      if (rc == SQLITE_IOERR_DATA) {
        return Status::Corruption(msg +
                                  " (index pages fail authentication: wrong index key, "
                                  "or the file was altered)");
      }
      return Status::IOError(msg);
    case SQLITE_FULL:
      return Status::NoSpace(msg);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Unavailable(msg);
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return Status::PermissionDenied(msg);
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE) {
        return Status::AlreadyExists(msg);
      }
      return Status::InvalidArgument(msg);
    case SQLITE_RANGE:
    case SQLITE_MISMATCH:
    case SQLITE_TOOBIG:
      return Status::InvalidArgument(msg);
    default:
      return Status::IOError(msg);
  }
}

Result<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::string& path, const std::string& vfs,
                                                 int flags) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
                           vfs.c_str());
  if (rc != SQLITE_OK) {
    Status s = (rc & 0xff) == SQLITE_CANTOPEN && (flags & SQLITE_OPEN_CREATE) == 0
                   ? Status::NotFound("open index " + path + ": " + sqlite3_errstr(rc))
                   : SqliteStatus(db, rc, "open index " + path);
    sqlite3_close_v2(db);
    return s;
  }
  sqlite3_extended_result_codes(db, 1);
  return std::unique_ptr<SqliteDb>(new SqliteDb(db, path));
}

SqliteDb::~SqliteDb() {
  cache_.clear();
  sqlite3_close_v2(db_);
}

Status SqliteDb::Exec(const char* sql) {
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return Error(rc, path_);
  return Status::Ok();
}

Result<int64_t> SqliteDb::QueryInt(const char* sql) {
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql, -1, &s, nullptr);
  if (rc != SQLITE_OK) return Error(rc, path_);
  std::unique_ptr<sqlite3_stmt, Finalize> owned(s);
  rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) return static_cast<int64_t>(sqlite3_column_int64(s, 0));
  if (rc == SQLITE_DONE) return Status::NotFound(path_ + ": no result for " + sql);
  return Error(rc, path_);
}

Result<std::string> SqliteDb::QueryText(const char* sql) {
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql, -1, &s, nullptr);
  if (rc != SQLITE_OK) return Error(rc, path_);
  std::unique_ptr<sqlite3_stmt, Finalize> owned(s);
  rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    return std::string(text != nullptr ? text : "");
  }
  if (rc == SQLITE_DONE) return Status::NotFound(path_ + ": no result for " + sql);
  return Error(rc, path_);
}

Result<sqlite3_stmt*> SqliteDb::Prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) return it->second.get();
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &s, nullptr);
  if (rc != SQLITE_OK) return Error(rc, path_);
  cache_.emplace(sql, std::unique_ptr<sqlite3_stmt, Finalize>(s));
  return s;
}

Result<bool> Step(sqlite3_stmt* s, std::string_view what) {
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteStatus(sqlite3_db_handle(s), rc, what);
}

Transaction::~Transaction() {
  if (open_) db_.Exec("ROLLBACK").IgnoreError();  // the error that got us here matters more
}

Status Transaction::Begin(bool immediate) {
  MV_RETURN_IF_ERROR(db_.Exec(immediate ? "BEGIN IMMEDIATE" : "BEGIN"));
  open_ = true;
  return Status::Ok();
}

Status Transaction::Commit() {
  MV_RETURN_IF_ERROR(db_.Exec("COMMIT"));
  open_ = false;
  return Status::Ok();
}

}  // namespace mailvault::db
