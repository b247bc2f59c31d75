// Numbered migrations (see schema.h).
#include "db/schema.h"

namespace mailvault::db {
namespace {

constexpr char kMetaTable[] =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID";

Status CheckDeclared(const Schema& schema) {
  if (schema.migrations.empty() || schema.version_key.empty()) {
    return Status::InvalidArgument(schema.kind + ": schema declares no migrations");
  }
  for (size_t i = 1; i < schema.migrations.size(); ++i) {
    if (schema.migrations[i].version != schema.migrations[i - 1].version + 1) {
      return Status::InvalidArgument(schema.kind + ": migrations are not numbered consecutively");
    }
  }
  if (schema.migrations.front().version < 1) {
    return Status::InvalidArgument(schema.kind + ": migrations are numbered from 1");
  }
  return Status::Ok();
}

Status Newer(SqliteDb& db, const Schema& schema, int64_t version) {
  return Status::InvalidArgument(
      db.path() + ": " + schema.kind + " schema version " + std::to_string(version) +
      " is newer than this mailvault knows (up to " + std::to_string(schema.latest()) +
      "): it was written by a newer mailvault version, which must open it; it is never "
      "downgraded");
}

Status TooOld(SqliteDb& db, const Schema& schema, int64_t version, int64_t oldest,
              std::string_view what) {
  std::string msg = db.path() + ": " + schema.kind + " schema version " + std::to_string(version) +
                    " is older than the oldest " + std::string(what) + " (" +
                    std::to_string(oldest) + ")";
  if (!schema.too_old_hint.empty()) msg += "; " + schema.too_old_hint;
  return Status::Corruption(msg);
}

Status SetVersion(SqliteDb& db, const Schema& schema, int64_t version) {
  MV_ASSIGN_OR_RETURN(sqlite3_stmt * s,
                      db.Prepare("INSERT INTO meta(key, value) VALUES(?1, ?2) "
                                 "ON CONFLICT(key) DO UPDATE SET value = excluded.value"));
  StmtScope scope(s);
  sqlite3_bind_text(s, 1, schema.version_key.data(), static_cast<int>(schema.version_key.size()),
                    SQLITE_STATIC);
  sqlite3_bind_int64(s, 2, version);
  return Step(s, schema.kind + ": set schema version").status();
}

// Applies the one migration after version `from` in the open transaction:
// for an empty database (0), the first, which creates the tables.
Status Apply(SqliteDb& db, const Schema& schema, int64_t from) {
  const int64_t first = schema.migrations.front().version;
  const Migration& m = schema.migrations[from == 0 ? 0 : static_cast<size_t>(from + 1 - first)];
  if (from == 0) MV_RETURN_IF_ERROR(db.Exec(kMetaTable));
  Status st = db.Exec(m.sql.c_str());
  if (!st.ok()) {
    return st.Annotate(schema.kind + ": migration to schema version " + std::to_string(m.version));
  }
  return SetVersion(db, schema, m.version);
}

}  // namespace

Result<int64_t> SchemaVersion(SqliteDb& db, const Schema& schema) {
  MV_ASSIGN_OR_RETURN(int64_t tables, db.QueryInt("SELECT count(*) FROM sqlite_schema"));
  if (tables == 0) return 0;
  MV_ASSIGN_OR_RETURN(sqlite3_stmt * s, db.Prepare("SELECT value FROM meta WHERE key = ?1"));
  StmtScope scope(s);
  sqlite3_bind_text(s, 1, schema.version_key.data(), static_cast<int>(schema.version_key.size()),
                    SQLITE_STATIC);
  auto row = Step(s, "read schema version");
  if (!row.ok() || !*row) {
    return Status::Corruption(
        db.path() + ": not a mailvault " + schema.kind + " (" +
        (row.ok() ? "no '" + schema.version_key + "' in meta" : row.status().message()) + ")");
  }
  return static_cast<int64_t>(sqlite3_column_int64(s, 0));
}

Result<int64_t> MigrateSchema(SqliteDb& db, const Schema& schema, bool writer) {
  MV_RETURN_IF_ERROR(CheckDeclared(schema));
  const int64_t first = schema.migrations.front().version;
  const int64_t latest = schema.latest();
  if (!writer) {
    MV_ASSIGN_OR_RETURN(int64_t v, SchemaVersion(db, schema));
    if (v == 0)
      return Status::NotFound(db.path() + ": the " + schema.kind + " has not been created");
    if (v > latest) return Newer(db, schema, v);
    const int64_t oldest = schema.oldest_readable > 0 ? schema.oldest_readable : latest;
    if (v < oldest) {
      return TooOld(db, schema, v, oldest, "a reader can use as it is (a writer upgrades it)");
    }
    return v;
  }
  while (true) {
    // Each step is its own transaction: the version is re-read under the
    // write lock, so a concurrent opener's step is never applied twice.
    Transaction txn(db);
    MV_RETURN_IF_ERROR(txn.Begin(/*immediate=*/true));
    MV_ASSIGN_OR_RETURN(int64_t v, SchemaVersion(db, schema));
    if (v == latest) return v;  // the transaction only read: rolled back
    if (v > latest) return Newer(db, schema, v);
    // The first migration creates the tables, so only an empty database
    // starts below it.
    if (v != 0 && v < first) return TooOld(db, schema, v, first, "this mailvault can upgrade");
    MV_RETURN_IF_ERROR(Apply(db, schema, v));
    MV_RETURN_IF_ERROR(txn.Commit());
  }
}

}  // namespace mailvault::db
