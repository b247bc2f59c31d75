// SqliteDb: one SQLite connection with a cache of prepared statements, and
// the mapping of SQLite result codes to Status. A thin layer so index.cc
// reads as SQL and logic, not as sqlite3_* plumbing.
//
// Not thread-safe: the owner serialises all use of one SqliteDb (the
// connection is opened with SQLITE_OPEN_NOMUTEX).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "mailvault/status.h"

namespace mailvault::db {

// The Status for SQLite result code `rc`: Corruption for pages that fail
// authentication or a damaged file, NoSpace, Unavailable for busy/locked,
// PermissionDenied for read-only, AlreadyExists for a primary key conflict,
// IOError otherwise. `what` names the operation.
Status SqliteStatus(sqlite3* db, int rc, std::string_view what);

class SqliteDb {
 public:
  // Opens `path` through VFS `vfs` with `flags` (SQLITE_OPEN_*; NOMUTEX and
  // extended result codes are added). NotFound if a database opened without
  // SQLITE_OPEN_CREATE does not exist.
  static Result<std::unique_ptr<SqliteDb>> Open(const std::string& path, const std::string& vfs,
                                                int flags);
  ~SqliteDb();  // finalizes the cached statements and closes
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  sqlite3* get() { return db_; }
  const std::string& path() const { return path_; }

  // Runs one or more statements that return no rows.
  Status Exec(const char* sql);
  // Runs a statement returning one integer (a pragma, a count).
  Result<int64_t> QueryInt(const char* sql);
  // Runs a statement returning one text value.
  Result<std::string> QueryText(const char* sql);

  // A prepared statement for `sql`, prepared once and kept; the caller
  // binds, steps and then resets it with a StmtScope.
  Result<sqlite3_stmt*> Prepare(const std::string& sql);

  Status Error(int rc, std::string_view what) { return SqliteStatus(db_, rc, what); }

 private:
  SqliteDb(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  struct Finalize {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
  };
  sqlite3* db_;
  std::string path_;
  std::unordered_map<std::string, std::unique_ptr<sqlite3_stmt, Finalize>> cache_;
};

// Resets a cached statement and clears its bindings when it goes out of
// scope, so it ends any read it began and is ready for the next use.
class StmtScope {
 public:
  explicit StmtScope(sqlite3_stmt* s) : s_(s) {}
  ~StmtScope() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  StmtScope(const StmtScope&) = delete;
  StmtScope& operator=(const StmtScope&) = delete;

 private:
  sqlite3_stmt* s_;
};

// Steps `s`: true for a row, false when done, or the error.
Result<bool> Step(sqlite3_stmt* s, std::string_view what);

// A transaction: BEGIN on Begin, ROLLBACK at scope exit unless committed.
class Transaction {
 public:
  explicit Transaction(SqliteDb& db) : db_(db) {}
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  // `immediate` takes the write lock at once (a writer); otherwise the
  // transaction reads one consistent snapshot.
  Status Begin(bool immediate);
  Status Commit();

 private:
  SqliteDb& db_;
  bool open_ = false;
};

}  // namespace mailvault::db
