// SqliteQueueDb: QueueDb over one SQLite connection through db::EncryptedVfs.
// Design note:
//
// One connection behind one mutex: queue work is a few rows per message,
// so a second (reader) connection as in the index would buy nothing. Every
// write is one IMMEDIATE transaction, which takes SQLite's write lock at
// BEGIN: that, not the mutex, is what keeps two processes (mailvaultd and
// a CLI writing) from claiming one entry twice.
//
// Durability: the connection runs with synchronous=NORMAL (WAL commits are
// atomic, not fsynced). Enqueue alone switches it to FULL for its commit,
// so the WAL, with every commit before it, is fsynced before Enqueue
// returns; ConsumeRelease does the same. PRAGMA synchronous is per connection and takes effect at
// the next commit, so it is set between transactions, under the mutex.
//
// Schema, row codec and the List query: queue_schema.h.
#include "delivery/queue_db.h"

#include <algorithm>
#include <limits>
#include <mutex>
#include <tuple>

#include "db/encrypted_db.h"
#include "db/encrypted_vfs.h"
#include "db/sqlite_db.h"
#include "delivery/queue_schema.h"

namespace mailvault::index {
namespace {

constexpr char kKind[] = "delivery queue";
constexpr size_t kCacheBytes = 2 << 20;  // the queue's working set is small
constexpr size_t kMaxPage = 1 << 20;     // List's limit is capped here

constexpr int64_t kQueued = StateToSql(DeliveryState::kQueued);
constexpr int64_t kSending = StateToSql(DeliveryState::kSending);
constexpr int64_t kDeferred = StateToSql(DeliveryState::kDeferred);

// Makes the commits on `db` fsync the WAL (synchronous=FULL) while it
// lives. Declare it before the db::Transaction so the setting goes back to
// NORMAL only after the commit or rollback.
class SyncedCommits {
 public:
  explicit SyncedCommits(db::SqliteDb& db) : db_(db) {}
  // Failing to go back leaves FULL on: slower, never less safe.
  ~SyncedCommits() { db_.Exec("PRAGMA synchronous=NORMAL").IgnoreError(); }
  SyncedCommits(const SyncedCommits&) = delete;
  SyncedCommits& operator=(const SyncedCommits&) = delete;
  Status Enable() { return db_.Exec("PRAGMA synchronous=FULL"); }

 private:
  db::SqliteDb& db_;
};

class SqliteQueueDb final : public QueueDb {
 public:
  SqliteQueueDb(std::unique_ptr<db::EncryptedVfs> vfs, std::unique_ptr<db::SqliteDb> db,
                bool read_only)
      : vfs_(std::move(vfs)), db_(std::move(db)), read_only_(read_only) {}
  ~SqliteQueueDb() override { db_.reset(); }  // before the VFS it was opened through

  Result<std::vector<DeliveryEntry>> Enqueue(std::vector<DeliveryEntry> entries) override;
  Result<std::vector<DeliveryEntry>> ForCopy(CopyId copy_id) override;
  Result<std::vector<DeliveryEntry>> ClaimDue(int64_t now, size_t max) override;
  Status Record(const std::vector<DeliveryOutcome>& outcomes, int64_t now) override;
  Result<uint64_t> RequeueInterrupted(int64_t now) override;
  Result<std::optional<int64_t>> NextDue() override;
  Result<DeliveryPage> List(const DeliveryQuery& query) override;
  Result<DeliveryEntry> Get(uint64_t id) override;
  Result<DeliveryCounts> Counts() override;
  Result<std::vector<CopyId>> FinishedCopies() override;
  Result<uint64_t> ForgetFinished(const std::vector<CopyId>& copy_ids) override;
  Result<bool> ConsumeRelease(std::string_view nonce, int64_t expires_at, int64_t now) override;

 private:
  Status ReadOnly() const {
    return Status::PermissionDenied("the delivery queue is open read-only");
  }
  // Reads a meta counter / sets it (inside a transaction).
  Result<int64_t> Meta(const char* key);
  Status SetMeta(const char* key, int64_t value);

  std::unique_ptr<db::EncryptedVfs> vfs_;  // outlives db_
  std::mutex mu_;
  std::unique_ptr<db::SqliteDb> db_;  // guarded by mu_
  const bool read_only_;
};

Result<int64_t> SqliteQueueDb::Meta(const char* key) {
  MV_ASSIGN_OR_RETURN(sqlite3_stmt * s, db_->Prepare("SELECT value FROM meta WHERE key = ?1"));
  db::StmtScope scope(s);
  db::BindText(s, 1, key);
  MV_ASSIGN_OR_RETURN(bool row, db::Step(s, "read queue meta"));
  if (!row) return Status::Corruption(db_->path() + ": queue meta '" + key + "' is missing");
  return static_cast<int64_t>(sqlite3_column_int64(s, 0));
}

Status SqliteQueueDb::SetMeta(const char* key, int64_t value) {
  MV_ASSIGN_OR_RETURN(sqlite3_stmt * s, db_->Prepare("UPDATE meta SET value = ?2 WHERE key = ?1"));
  db::StmtScope scope(s);
  db::BindText(s, 1, key);
  sqlite3_bind_int64(s, 2, value);
  return db::Step(s, "update queue meta").status();
}

Result<std::vector<DeliveryEntry>> SqliteQueueDb::Enqueue(std::vector<DeliveryEntry> entries) {
  if (read_only_) return ReadOnly();
  for (const DeliveryEntry& e : entries) {
    if (e.copy_id == 0 || e.copy_id > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
        e.rcpt.empty() || !ValidFormat(static_cast<int64_t>(e.format))) {
      return Status::InvalidArgument("enqueue: entry for copy " + std::to_string(e.copy_id) +
                                     " to '" + e.rcpt + "' is not valid");
    }
  }
  if (entries.empty()) return entries;  // no request to make
  std::lock_guard<std::mutex> lock(mu_);
  SyncedCommits synced(*db_);
  MV_RETURN_IF_ERROR(synced.Enable());
  db::Transaction txn(*db_);
  MV_RETURN_IF_ERROR(txn.Begin(true));
  MV_ASSIGN_OR_RETURN(int64_t last_id, Meta("last_id"));
  MV_ASSIGN_OR_RETURN(int64_t last_request, Meta("last_request"));
  MV_ASSIGN_OR_RETURN(sqlite3_stmt * ins, db_->Prepare(kInsertDelivery));
  const uint64_t request = static_cast<uint64_t>(last_request) + 1;
  for (DeliveryEntry& e : entries) {
    e.id = static_cast<uint64_t>(++last_id);
    e.request = request;
    e.state = DeliveryState::kQueued;
    e.attempts = 0;
    e.updated_at = e.created_at;
    db::StmtScope scope(ins);
    int rc = BindDelivery(ins, e);
    if (rc != SQLITE_OK) return db_->Error(rc, "enqueue: bind");
    MV_RETURN_IF_ERROR(db::Step(ins, "enqueue").status());
  }
  MV_RETURN_IF_ERROR(SetMeta("last_id", last_id));
  MV_RETURN_IF_ERROR(SetMeta("last_request", ToSql(request)));
  MV_RETURN_IF_ERROR(txn.Commit());
  return entries;
}

Result<std::vector<DeliveryEntry>> SqliteQueueDb::ForCopy(CopyId copy_id) {
  std::lock_guard<std::mutex> lock(mu_);
  MV_ASSIGN_OR_RETURN(sqlite3_stmt * s,
                      db_->Prepare(SelectDeliveries("WHERE copy_id = ?1 ORDER BY id")));
  db::StmtScope scope(s);
  sqlite3_bind_int64(s, 1, ToSql(copy_id));
  return ReadDeliveries(s, "queue entries of copy " + std::to_string(copy_id));
}

Result<std::vector<DeliveryEntry>> SqliteQueueDb::ClaimDue(int64_t now, size_t max) {
  if (read_only_) return ReadOnly();
  if (max == 0) return std::vector<DeliveryEntry>();
  std::lock_guard<std::mutex> lock(mu_);
  db::Transaction txn(*db_);
  MV_RETURN_IF_ERROR(txn.Begin(true));
  MV_ASSIGN_OR_RETURN(
      sqlite3_stmt * s,
      db_->Prepare(ReturningDeliveries(
          "UPDATE deliveries SET state = ?3, updated_at = ?1 WHERE id IN (SELECT id FROM "
          "deliveries WHERE state IN (?4, ?5) AND next_attempt_at <= ?1 ORDER BY "
          "next_attempt_at, id LIMIT ?2)")));
  std::vector<DeliveryEntry> claimed;
  {
    db::StmtScope scope(s);
    sqlite3_bind_int64(s, 1, now);
    sqlite3_bind_int64(s, 2, ClampToSql(max));
    sqlite3_bind_int64(s, 3, kSending);
    sqlite3_bind_int64(s, 4, kQueued);
    sqlite3_bind_int64(s, 5, kDeferred);
    MV_ASSIGN_OR_RETURN(claimed, ReadDeliveries(s, "claim due deliveries"));
  }
  MV_RETURN_IF_ERROR(txn.Commit());
  std::sort(claimed.begin(), claimed.end(), [](const DeliveryEntry& a, const DeliveryEntry& b) {
    return std::tie(a.request, a.copy_id, a.id) < std::tie(b.request, b.copy_id, b.id);
  });
  return claimed;
}

Status SqliteQueueDb::Record(const std::vector<DeliveryOutcome>& outcomes, int64_t now) {
  if (read_only_) return ReadOnly();
  for (const DeliveryOutcome& o : outcomes) {
    if (o.state != DeliveryState::kDelivered && o.state != DeliveryState::kDeferred &&
        o.state != DeliveryState::kFailed) {
      return Status::InvalidArgument("record delivery entry " + std::to_string(o.id) +
                                     ": an attempt ends delivered, deferred or failed");
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  db::Transaction txn(*db_);
  MV_RETURN_IF_ERROR(txn.Begin(true));
  MV_ASSIGN_OR_RETURN(
      sqlite3_stmt * s,
      db_->Prepare("UPDATE deliveries SET attempts = attempts + 1, state = ?2, last_reply = ?3, "
                   "updated_at = ?4, next_attempt_at = CASE WHEN ?2 = ?6 THEN ?5 ELSE "
                   "next_attempt_at END WHERE id = ?1"));
  for (const DeliveryOutcome& o : outcomes) {
    db::StmtScope scope(s);
    sqlite3_bind_int64(s, 1, ClampToSql(o.id));
    sqlite3_bind_int64(s, 2, StateToSql(o.state));
    db::BindText(s, 3, o.reply);
    sqlite3_bind_int64(s, 4, now);
    sqlite3_bind_int64(s, 5, o.next_attempt_at);
    sqlite3_bind_int64(s, 6, kDeferred);
    MV_RETURN_IF_ERROR(db::Step(s, "record delivery attempt").status());
    if (sqlite3_changes(db_->get()) == 0) {
      return Status::NotFound("no delivery entry " + std::to_string(o.id));
    }
  }
  return txn.Commit();
}

Result<uint64_t> SqliteQueueDb::RequeueInterrupted(int64_t now) {
  if (read_only_) return ReadOnly();
  std::lock_guard<std::mutex> lock(mu_);
  MV_ASSIGN_OR_RETURN(sqlite3_stmt * s,
                      db_->Prepare("UPDATE deliveries SET state = ?2, next_attempt_at = ?1, "
                                   "updated_at = ?1 WHERE state = ?3"));
  db::StmtScope scope(s);
  sqlite3_bind_int64(s, 1, now);
  sqlite3_bind_int64(s, 2, kQueued);
  sqlite3_bind_int64(s, 3, kSending);
  MV_RETURN_IF_ERROR(db::Step(s, "requeue interrupted deliveries").status());
  return static_cast<uint64_t>(sqlite3_changes(db_->get()));
}

Result<std::optional<int64_t>> SqliteQueueDb::NextDue() {
  std::lock_guard<std::mutex> lock(mu_);
  MV_ASSIGN_OR_RETURN(
      sqlite3_stmt * s,
      db_->Prepare("SELECT MIN(next_attempt_at) FROM deliveries WHERE state IN (?1, ?2)"));
  db::StmtScope scope(s);
  sqlite3_bind_int64(s, 1, kQueued);
  sqlite3_bind_int64(s, 2, kDeferred);
  MV_ASSIGN_OR_RETURN(bool row, db::Step(s, "next due delivery"));
  if (!row || sqlite3_column_type(s, 0) == SQLITE_NULL) return std::optional<int64_t>();
  return std::optional<int64_t>(sqlite3_column_int64(s, 0));
}

Result<DeliveryPage> SqliteQueueDb::List(const DeliveryQuery& q) {
  if (q.limit == 0) return Status::InvalidArgument("queue list limit must be at least 1");
  const size_t limit = std::min(q.limit, kMaxPage);
  std::vector<int64_t> params;
  const std::string sql = ListSql(q, limit, &params);
  std::lock_guard<std::mutex> lock(mu_);
  MV_ASSIGN_OR_RETURN(sqlite3_stmt * s, db_->Prepare(sql));
  db::StmtScope scope(s);
  for (size_t i = 0; i < params.size(); ++i) {
    sqlite3_bind_int64(s, static_cast<int>(i + 1), params[i]);
  }
  DeliveryPage page;
  MV_ASSIGN_OR_RETURN(page.items, ReadDeliveries(s, "list deliveries"));
  if (page.items.size() > limit) {
    page.items.resize(limit);
    page.next = page.items.back().id;
  }
  return page;
}

Result<DeliveryEntry> SqliteQueueDb::Get(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  MV_ASSIGN_OR_RETURN(sqlite3_stmt * s, db_->Prepare(SelectDeliveries("WHERE id = ?1")));
  db::StmtScope scope(s);
  sqlite3_bind_int64(s, 1, ClampToSql(id));
  MV_ASSIGN_OR_RETURN(std::vector<DeliveryEntry> rows, ReadDeliveries(s, "get delivery entry"));
  if (rows.empty()) return Status::NotFound("no delivery entry " + std::to_string(id));
  return std::move(rows.front());
}

Result<DeliveryCounts> SqliteQueueDb::Counts() {
  std::lock_guard<std::mutex> lock(mu_);
  MV_ASSIGN_OR_RETURN(sqlite3_stmt * s,
                      db_->Prepare("SELECT state, count(*) FROM deliveries GROUP BY state"));
  db::StmtScope scope(s);
  DeliveryCounts c;
  while (true) {
    MV_ASSIGN_OR_RETURN(bool row, db::Step(s, "count deliveries"));
    if (!row) return c;
    const int64_t state = sqlite3_column_int64(s, 0);
    const auto n = static_cast<uint64_t>(sqlite3_column_int64(s, 1));
    if (!ValidState(state)) {
      return Status::Corruption(db_->path() + ": unknown delivery state " + std::to_string(state));
    }
    uint64_t* slots[] = {&c.queued, &c.sending, &c.delivered, &c.deferred, &c.failed};
    *slots[state] = n;  // slots follow the enum's numbering
  }
}

Result<std::vector<CopyId>> SqliteQueueDb::FinishedCopies() {
  std::lock_guard<std::mutex> lock(mu_);
  MV_ASSIGN_OR_RETURN(sqlite3_stmt * s,
                      db_->Prepare("SELECT DISTINCT copy_id FROM deliveries WHERE state IN "
                                   "(?1, ?2) ORDER BY copy_id"));
  db::StmtScope scope(s);
  sqlite3_bind_int64(s, 1, StateToSql(DeliveryState::kDelivered));
  sqlite3_bind_int64(s, 2, StateToSql(DeliveryState::kFailed));
  std::vector<CopyId> ids;
  while (true) {
    MV_ASSIGN_OR_RETURN(bool row, db::Step(s, "finished copies"));
    if (!row) return ids;
    ids.push_back(static_cast<CopyId>(sqlite3_column_int64(s, 0)));
  }
}

Result<uint64_t> SqliteQueueDb::ForgetFinished(const std::vector<CopyId>& copy_ids) {
  if (read_only_) return ReadOnly();
  std::lock_guard<std::mutex> lock(mu_);
  db::Transaction txn(*db_);
  MV_RETURN_IF_ERROR(txn.Begin(true));
  MV_ASSIGN_OR_RETURN(sqlite3_stmt * s,
                      db_->Prepare("DELETE FROM deliveries WHERE copy_id = ?1 AND state IN "
                                   "(?2, ?3)"));
  uint64_t removed = 0;
  for (CopyId id : copy_ids) {
    db::StmtScope scope(s);
    sqlite3_bind_int64(s, 1, ClampToSql(id));
    sqlite3_bind_int64(s, 2, StateToSql(DeliveryState::kDelivered));
    sqlite3_bind_int64(s, 3, StateToSql(DeliveryState::kFailed));
    MV_RETURN_IF_ERROR(db::Step(s, "forget finished deliveries").status());
    removed += static_cast<uint64_t>(sqlite3_changes(db_->get()));
  }
  MV_RETURN_IF_ERROR(txn.Commit());
  return removed;
}

Result<bool> SqliteQueueDb::ConsumeRelease(std::string_view nonce, int64_t expires_at,
                                           int64_t now) {
  if (read_only_) return ReadOnly();
  if (nonce.empty()) return Status::InvalidArgument("consume release: empty nonce");
  std::lock_guard<std::mutex> lock(mu_);
  SyncedCommits synced(*db_);
  MV_RETURN_IF_ERROR(synced.Enable());
  db::Transaction txn(*db_);
  MV_RETURN_IF_ERROR(txn.Begin(true));
  {
    MV_ASSIGN_OR_RETURN(sqlite3_stmt * s,
                        db_->Prepare("DELETE FROM consumed_releases WHERE expires_at < ?1"));
    db::StmtScope scope(s);
    sqlite3_bind_int64(s, 1, now);
    MV_RETURN_IF_ERROR(db::Step(s, "expire consumed releases").status());
  }
  bool fresh = false;
  {
    MV_ASSIGN_OR_RETURN(sqlite3_stmt * s,
                        db_->Prepare("INSERT OR IGNORE INTO consumed_releases(nonce, expires_at) "
                                     "VALUES(?1, ?2)"));
    db::StmtScope scope(s);
    db::BindText(s, 1, nonce);
    sqlite3_bind_int64(s, 2, expires_at);
    MV_RETURN_IF_ERROR(db::Step(s, "consume release").status());
    fresh = sqlite3_changes(db_->get()) == 1;
  }
  MV_RETURN_IF_ERROR(txn.Commit());
  return fresh;
}

}  // namespace

Result<std::unique_ptr<QueueDb>> QueueDb::Open(const QueueDbOptions& options,
                                               const crypto::SymmetricKey& key) {
  if (options.path.empty()) return Status::InvalidArgument("delivery queue path is empty");
  MV_ASSIGN_OR_RETURN(std::unique_ptr<db::EncryptedVfs> vfs, db::EncryptedVfs::Register(key));
  db::EncryptedDbOptions db_options;
  db_options.path = options.path;
  db_options.what_kind = kKind;
  db_options.read_only = options.read_only;
  db_options.cache_bytes = kCacheBytes;
  db_options.sync_commits = false;  // Enqueue turns syncing on for its own commits
  MV_ASSIGN_OR_RETURN(db::OpenedDb opened, db::OpenDatabase(*vfs, db_options, QueueSchema()));
  std::unique_ptr<db::SqliteDb> db = std::move(opened.db);
  if (options.read_only) MV_RETURN_IF_ERROR(db->Exec("PRAGMA query_only=1"));
  return std::unique_ptr<QueueDb>(
      new SqliteQueueDb(std::move(vfs), std::move(db), options.read_only));
}

}  // namespace mailvault::index
