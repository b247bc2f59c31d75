// Schema: the one way a mailvault database declares, creates and upgrades
// its tables. A database lists numbered migrations; migration k takes the
// schema from version k-1 to version k. The first one creates the tables
// from nothing (its number is the oldest version this code can upgrade;
// older files are refused, for the index: rebuilt). MigrateSchema applies
// the missing ones in order, each in its own IMMEDIATE transaction together
// with the new version number, so a failure leaves the database at the last
// version that completed, never half-way. A database newer than the code
// is refused by name, never downgraded.
//
// The version lives where each database kept it before this layer existed:
// in its table meta(key TEXT PRIMARY KEY, value INTEGER) WITHOUT ROWID,
// under a key of its own ('schema' for the index, 'accounts_schema', ...).
// MigrateSchema creates that table with the first migration; migrations do
// not create or version it themselves.
//
// Stateless; the SqliteDb passed in belongs to the caller, who serialises
// its use. Two processes may migrate at once: the IMMEDIATE transaction
// re-reads the version, so each step is applied once.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "db/sqlite_db.h"
#include "mailvault/status.h"

namespace mailvault::db {

// One step: `sql` (one or more statements) takes the schema from
// `version - 1` to `version`.
struct Migration {
  int64_t version = 0;
  std::string sql;
};

struct Schema {
  std::string kind;         // for messages: "index", "accounts database"
  std::string version_key;  // the meta row holding the version
  // Consecutive versions, oldest first; migrations.front() creates the
  // tables in an empty database.
  std::vector<Migration> migrations;
  // A read-only open accepts a version from here to the latest (it cannot
  // migrate); 0 means the latest only.
  int64_t oldest_readable = 0;
  // Appended to the refusal of a version too old to upgrade or to read
  // (e.g. "rebuild the index").
  std::string too_old_hint;

  int64_t latest() const { return migrations.empty() ? 0 : migrations.back().version; }
};

// A writer (`writer` true) brings `db` to schema.latest(), applying the
// missing migrations in order; a reader only checks. Returns the version
// the database is at. Errors:
//   NotFound          a reader found no tables ("has not been created");
//   Corruption        tables but no version in meta ("not a mailvault
//                     <kind>"), or a version older than migrations.front()
//                     (a writer) / oldest_readable (a reader);
//   InvalidArgument   a version newer than schema.latest(): written by a
//                     newer mailvault, refused, never downgraded;
//   else              the error of the migration that failed; the database
//                     stays at the version before it.
// A malformed `schema` (no migrations, gaps) is InvalidArgument.
Result<int64_t> MigrateSchema(SqliteDb& db, const Schema& schema, bool writer);

// The version `db` is at: 0 for a database without tables. Corruption if it
// has tables but no version under `schema.version_key`.
Result<int64_t> SchemaVersion(SqliteDb& db, const Schema& schema);

}  // namespace mailvault::db
