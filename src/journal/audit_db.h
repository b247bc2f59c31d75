// AuditDb: the audit log's rows in their own SQLite database, DATA/audit.db,
// encrypted page by page like the index, the delivery queue and the
// accounts (encrypted_vfs.h) under a key derived from the index key
// (KeyRing::Derived(crypto::KeyPurpose::kAudit), crypto/key_purpose.h).
//
// A plain, append-only row store: journal/audit_log.h validates and cleans
// the events, batches them (group commit) and turns them into JSON. Rows get
// ascending ids that are never handed out twice: rotation removes only the
// oldest rows and never the newest, so the next id is always above every id
// ever given.
//
// Rotation: the file keeps its cap (meta 'max_records', 1,000,000 for a new
// file). Each Append, in its own transaction, removes the rows whose id is at
// or below (newest id - cap), an id-range delete on the primary key, so at
// most `cap` rows remain and a steady stream deletes about as many rows as
// it adds. The cap is stored rather than passed to every Append so that
// every writer (mailvaultd configured with another cap, the CLI with none)
// rotates to the same number.
//
// Durability: every commit fsyncs the WAL (synchronous=FULL) before it
// returns: the console records an access before it answers.
//
// Thread-safe: every method takes an internal lock. Several processes (the
// daemon and the CLI) may append to one file at once: each write is one
// IMMEDIATE transaction and the busy timeout waits for the other's commit.
// A read-only AuditDb reads beside them; its writing methods return
// PermissionDenied.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "crypto/keyring.h"
#include "journal/audit_event.h"
#include "mailvault/status.h"

namespace mailvault::db {
class EncryptedVfs;
class SqliteDb;
struct Schema;
}  // namespace mailvault::db

namespace mailvault::index {

// The audit database's numbered migrations (meta 'audit_schema').
const db::Schema& AuditSchema();
// The cap of a new file.
constexpr uint64_t kDefaultAuditMaxRecords = 1'000'000;

// One row of `audit` is one journal::AuditEvent (its id assigned by
// Append).
using journal::AuditEvent;

// Which rows List returns: every set filter must match. Empty strings, an
// unset copy_id and zero times/cursor do not filter.
struct AuditFilter {
  std::string account, action, result;  // exact match
  std::optional<uint64_t> copy_id;      // the row names this copy
  int64_t since = 0;                    // at >= since
  int64_t until = 0;                    // at < until
  int64_t before = 0;                   // id < before (the keyset cursor)
  size_t limit = 100;                   // 1..kMaxAuditPage
};
constexpr size_t kMaxAuditPage = 10'000;

struct AuditRowPage {
  std::vector<AuditEvent> rows;  // newest (highest id) first
  // Set when more rows match: pass it as `before` for the next page.
  std::optional<int64_t> next;
};

struct AuditDbOptions {
  std::string path;  // the database file
  bool read_only = false;
};

class AuditDb {
 public:
  // Opens or creates the database (read-only: NotFound if it does not exist
  // or was never given its schema). Corruption if `key` does not open it, if
  // the file is not an audit database (a queue, say) or if its schema
  // version is unknown.
  static Result<std::unique_ptr<AuditDb>> Open(const AuditDbOptions& options,
                                               const crypto::SymmetricKey& key);
  ~AuditDb();
  AuditDb(const AuditDb&) = delete;
  AuditDb& operator=(const AuditDb&) = delete;

  // Adds the rows in one transaction, durably, all or nothing, and rotates
  // to the stored cap in the same transaction. Returns the ids given, in the
  // order of `rows` (ascending). Ids in the rows are ignored. No rows: no
  // transaction, no ids.
  Result<std::vector<int64_t>> Append(const std::vector<AuditEvent>& rows);

  // Stores a new cap (>= 1, else InvalidArgument) and rotates to it at once.
  // Returns the rows removed.
  Result<uint64_t> SetMaxRecords(uint64_t max_records);
  Result<uint64_t> MaxRecords();

  // Removes the oldest rows so that at most `keep` (>= 1) remain, whatever
  // the stored cap. Returns the rows removed.
  Result<uint64_t> DeleteOldest(uint64_t keep);

  // InvalidArgument for limit 0; limits above kMaxAuditPage are capped.
  Result<AuditRowPage> List(const AuditFilter& filter);
  Result<uint64_t> Count();

 private:
  AuditDb(std::unique_ptr<db::EncryptedVfs> vfs, std::unique_ptr<db::SqliteDb> db, bool read_only);
  Status ReadOnly() const;
  // The caller holds mu_ and an open write transaction.
  Result<uint64_t> DeleteUpTo(int64_t last_id);
  Result<uint64_t> StoredCap();
  Result<uint64_t> RotateLocked(uint64_t keep);

  std::unique_ptr<db::EncryptedVfs> vfs_;  // outlives db_
  std::mutex mu_;
  std::unique_ptr<db::SqliteDb> db_;  // guarded by mu_
  const bool read_only_;
};

}  // namespace mailvault::index
