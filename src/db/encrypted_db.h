// The connection set-up shared by the databases kept through EncryptedVfs
// (the index, the delivery queue, the accounts and the audit log): the pragmas
// every connection needs, the page layout a new file is given, the check of
// an existing file's layout, and the open sequence that ties them together.
// Each database declares its schema as numbered migrations (schema.h).
//
// Free functions over one SqliteDb; they use it like any other call on it,
// so the caller serialises them with its other uses of that connection.
#pragma once

#include <sqlite3.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "db/encrypted_vfs.h"
#include "db/schema.h"
#include "db/sqlite_db.h"
#include "mailvault/status.h"

namespace mailvault::db {

// How long a connection waits for another's lock before reporting
// Unavailable (a checkpoint or a writer in another process).
constexpr int kBusyTimeoutMs = 5000;

// Settings every connection needs: nothing may reach a temp file or a
// mapped page (see encrypted_vfs.h), and the busy timeout. With
// sync_commits false a commit is atomic but not fsynced
// (synchronous=NORMAL in WAL mode). `cache_bytes` is the page cache size.
Status ConfigureConnection(SqliteDb& db, size_t cache_bytes, bool sync_commits);

// Gives a database with no pages yet the page layout the VFS requires and
// switches it to WAL. Call once, on the connection that creates the file.
Status InitializeLayout(SqliteDb& db);

// Corruption unless the database has the page size, reserve and journal
// mode the VFS requires; the message says it is "not a mailvault
// <what_kind>" ("index", "delivery queue").
Status CheckLayout(SqliteDb& db, std::string_view what_kind);

// How OpenEncryptedDb opens a database. `vfs` must outlive the connection.
struct EncryptedDbOptions {
  std::string path;
  std::string_view what_kind;  // for messages: "index", "delivery queue"
  bool read_only = false;
  size_t cache_bytes = 8 << 20;
  bool sync_commits = true;
};

// Opens a connection through `vfs` and configures it. Read-only: NotFound
// if the file does not exist or has no pages ("the <kind> has not been
// created"). Otherwise the file is created if missing and a new, empty file
// gets its layout. Either way the layout is checked; with the wrong key the
// first read fails, as Corruption. The schema is not looked at: OpenDatabase
// does both.
Result<std::unique_ptr<SqliteDb>> OpenEncryptedDb(const EncryptedVfs& vfs,
                                                  const EncryptedDbOptions& options);

// A connection with its schema brought up to date (see OpenDatabase).
struct OpenedDb {
  std::unique_ptr<SqliteDb> db;
  int64_t schema_version = 0;  // what the file is at: schema.latest() for a writer
};

// The open every mailvault database goes through: OpenEncryptedDb, then
// MigrateSchema (a writer applies the missing migrations; a read-only open
// checks that it can read the version found). Errors as for those two.
Result<OpenedDb> OpenDatabase(const EncryptedVfs& vfs, const EncryptedDbOptions& options,
                              const Schema& schema);

// Binding and reading text without copies or surprises: the length is
// explicit (so embedded NULs survive) and SQLITE_STATIC means `v` must stay
// valid until the statement is reset, which StmtScope does.
inline int BindText(sqlite3_stmt* s, int i, std::string_view v) {
  return sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}
// A text column; valid until the statement steps or resets.
inline std::string_view ColText(sqlite3_stmt* s, int col) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, col));
  return p == nullptr ? std::string_view() : std::string_view(p, sqlite3_column_bytes(s, col));
}

}  // namespace mailvault::db
