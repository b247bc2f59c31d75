// AuditDb over one SQLite connection through db::EncryptedVfs (see audit_db.h).
// Design note:
//
// One connection behind one mutex, as for the queue and the accounts: the
// journal above batches many events into one Append, so one writer
// connection per process is enough, and commits are fsynced
// (sync_commits), the point of the log.
//
// Schema: meta(key, value) holds 'audit_schema' and 'max_records'. audit is
// a rowid table (id INTEGER PRIMARY KEY), so List's ORDER BY id DESC and
// rotation's id-range delete walk the table's own b-tree. The indexes on
// account and action hold the rowid after the key, so "account = ? ORDER BY
// id DESC" is one index range read backwards. copy_ids is a blob of 8-byte
// little-endian ids (what a row holds); audit_copies(copy_id, audit_id) is
// what the copy filter reads, so "who touched copy N" is one primary-key
// range, not a scan of every row's blob.
#include "journal/audit_db.h"

#include <algorithm>
#include <limits>

#include "db/encrypted_db.h"
#include "db/encrypted_vfs.h"
#include "db/schema.h"
#include "db/sqlite_db.h"

namespace mailvault::index {
namespace {

constexpr char kKind[] = "audit database";
constexpr size_t kCacheBytes = 2 << 20;

// The audit database's migrations. 1 created it, with the cap of a new file.
db::Schema AuditSchemaDecl() {
  db::Schema s;
  s.kind = kKind;
  s.version_key = "audit_schema";
  s.migrations = {
      {1, R"sql(
CREATE TABLE audit(
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  account TEXT NOT NULL,
  role TEXT NOT NULL,
  client TEXT NOT NULL,
  action TEXT NOT NULL,
  copy_ids BLOB NOT NULL,
  result TEXT NOT NULL,
  detail TEXT NOT NULL);
CREATE INDEX audit_by_account ON audit(account);
CREATE INDEX audit_by_action ON audit(action);
CREATE INDEX audit_by_at ON audit(at);
CREATE TABLE audit_copies(
  copy_id INTEGER NOT NULL,
  audit_id INTEGER NOT NULL,
  PRIMARY KEY(copy_id, audit_id)) WITHOUT ROWID;
CREATE INDEX audit_copies_by_event ON audit_copies(audit_id);
INSERT INTO meta(key, value) VALUES('max_records', )sql" +
              std::to_string(kDefaultAuditMaxRecords) + ");"},
  };
  return s;
}

constexpr char kColumns[] =
    "a.id, a.at, a.account, a.role, a.client, a.action, a.copy_ids, a.result, a.detail";

std::string EncodeIds(const std::vector<uint64_t>& ids) {
  std::string out;
  out.reserve(ids.size() * 8);
  for (uint64_t v : ids) {
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  return out;
}

Status DecodeIds(sqlite3_stmt* s, int col, std::vector<uint64_t>* out) {
  const auto* p = static_cast<const unsigned char*>(sqlite3_column_blob(s, col));
  const auto n = static_cast<size_t>(sqlite3_column_bytes(s, col));
  if (n % 8 != 0) return Status::Corruption("audit row: copy_ids is not a list of ids");
  out->clear();
  out->reserve(n / 8);
  for (size_t k = 0; k < n; k += 8) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[k + static_cast<size_t>(i)];
    out->push_back(v);
  }
  return Status::Ok();
}

Result<AuditEvent> ReadRow(sqlite3_stmt* s) {
  AuditEvent r;
  r.id = sqlite3_column_int64(s, 0);
  r.at = sqlite3_column_int64(s, 1);
  r.account = db::ColText(s, 2);
  r.role = db::ColText(s, 3);
  r.client = db::ColText(s, 4);
  r.action = db::ColText(s, 5);
  MV_RETURN_IF_ERROR(DecodeIds(s, 6, &r.copy_ids));
  r.result = db::ColText(s, 7);
  r.detail = db::ColText(s, 8);
  return r;
}

// A bound value of the List query: text or integer.
struct Param {
  bool is_text = false;
  std::string text;
  int64_t num = 0;
};

// The SELECT for List. The text depends only on which filters are set, so
// the statement cache holds at most one statement per combination.
std::string ListSql(const AuditFilter& f, size_t limit, std::vector<Param>* params) {
  auto add = [&](Param p) {
    params->push_back(std::move(p));
    return "?" + std::to_string(params->size());
  };
  std::string sql = std::string("SELECT ") + kColumns + " FROM ";
  std::vector<std::string> where;
  if (f.copy_id) {
    // Driven by audit_copies' primary key: the rows of one copy, newest
    // first, each joined to its event.
    sql += "audit_copies c JOIN audit a ON a.id = c.audit_id";
    where.push_back("c.copy_id = " +
                    add({false, "", static_cast<int64_t>(*f.copy_id)}));  // bit for bit
    if (f.before > 0) where.push_back("c.audit_id < " + add({false, "", f.before}));
  } else {
    sql += "audit a";
    if (f.before > 0) where.push_back("a.id < " + add({false, "", f.before}));
  }
  if (!f.account.empty()) where.push_back("a.account = " + add({true, f.account, 0}));
  if (!f.action.empty()) where.push_back("a.action = " + add({true, f.action, 0}));
  if (!f.result.empty()) where.push_back("a.result = " + add({true, f.result, 0}));
  if (f.since != 0) where.push_back("a.at >= " + add({false, "", f.since}));
  if (f.until != 0) where.push_back("a.at < " + add({false, "", f.until}));
  for (size_t i = 0; i < where.size(); ++i) sql += (i == 0 ? " WHERE " : " AND ") + where[i];
  sql += f.copy_id ? " ORDER BY c.audit_id DESC" : " ORDER BY a.id DESC";
  sql += " LIMIT " + add({false, "", static_cast<int64_t>(limit + 1)});
  return sql;
}

}  // namespace

const db::Schema& AuditSchema() {
  static const db::Schema* schema = new db::Schema(AuditSchemaDecl());
  return *schema;
}

AuditDb::AuditDb(std::unique_ptr<db::EncryptedVfs> vfs, std::unique_ptr<db::SqliteDb> db,
                 bool read_only)
    : vfs_(std::move(vfs)), db_(std::move(db)), read_only_(read_only) {}

AuditDb::~AuditDb() { db_.reset(); }  // before the VFS it was opened through

Status AuditDb::ReadOnly() const {
  return Status::PermissionDenied("the audit database is open read-only");
}

Result<uint64_t> AuditDb::StoredCap() {
  MV_ASSIGN_OR_RETURN(int64_t cap,
                      db_->QueryInt("SELECT value FROM meta WHERE key = 'max_records'"));
  if (cap < 1) {
    return Status::Corruption(db_->path() + ": audit cap " + std::to_string(cap) + " is not valid");
  }
  return static_cast<uint64_t>(cap);
}

Result<uint64_t> AuditDb::DeleteUpTo(int64_t last_id) {
  MV_ASSIGN_OR_RETURN(sqlite3_stmt * c,
                      db_->Prepare("DELETE FROM audit_copies WHERE audit_id <= ?1"));
  {
    db::StmtScope scope(c);
    sqlite3_bind_int64(c, 1, last_id);
    MV_RETURN_IF_ERROR(db::Step(c, "rotate the audit log").status());
  }
  MV_ASSIGN_OR_RETURN(sqlite3_stmt * s, db_->Prepare("DELETE FROM audit WHERE id <= ?1"));
  db::StmtScope scope(s);
  sqlite3_bind_int64(s, 1, last_id);
  MV_RETURN_IF_ERROR(db::Step(s, "rotate the audit log").status());
  return static_cast<uint64_t>(sqlite3_changes(db_->get()));
}

// Ids are unique integers, so keeping only ids above (newest - keep) keeps at
// most `keep` rows, whatever gaps there are.
Result<uint64_t> AuditDb::RotateLocked(uint64_t keep) {
  MV_ASSIGN_OR_RETURN(int64_t newest, db_->QueryInt("SELECT coalesce(max(id), 0) FROM audit"));
  const uint64_t capped = std::min<uint64_t>(keep, std::numeric_limits<int64_t>::max());
  if (newest <= static_cast<int64_t>(capped)) return uint64_t{0};
  return DeleteUpTo(newest - static_cast<int64_t>(capped));
}

Result<std::vector<int64_t>> AuditDb::Append(const std::vector<AuditEvent>& rows) {
  if (read_only_) return ReadOnly();
  std::vector<int64_t> ids;
  if (rows.empty()) return ids;
  ids.reserve(rows.size());
  std::lock_guard<std::mutex> lock(mu_);
  db::Transaction txn(*db_);
  MV_RETURN_IF_ERROR(txn.Begin(true));
  MV_ASSIGN_OR_RETURN(
      sqlite3_stmt * ins,
      db_->Prepare("INSERT INTO audit(at, account, role, client, action, copy_ids, result, "
                   "detail) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
  MV_ASSIGN_OR_RETURN(
      sqlite3_stmt * link,
      db_->Prepare("INSERT OR IGNORE INTO audit_copies(copy_id, audit_id) VALUES(?1, ?2)"));
  for (const AuditEvent& r : rows) {
    const std::string blob = EncodeIds(r.copy_ids);
    {
      db::StmtScope scope(ins);
      int rc = sqlite3_bind_int64(ins, 1, r.at);
      if (rc == SQLITE_OK) rc = db::BindText(ins, 2, r.account);
      if (rc == SQLITE_OK) rc = db::BindText(ins, 3, r.role);
      if (rc == SQLITE_OK) rc = db::BindText(ins, 4, r.client);
      if (rc == SQLITE_OK) rc = db::BindText(ins, 5, r.action);
      if (rc == SQLITE_OK) {
        rc = sqlite3_bind_blob(ins, 6, blob.data(), static_cast<int>(blob.size()), SQLITE_STATIC);
      }
      if (rc == SQLITE_OK) rc = db::BindText(ins, 7, r.result);
      if (rc == SQLITE_OK) rc = db::BindText(ins, 8, r.detail);
      if (rc != SQLITE_OK) return db_->Error(rc, "append to the audit log: bind");
      MV_RETURN_IF_ERROR(db::Step(ins, "append to the audit log").status());
    }
    const int64_t id = sqlite3_last_insert_rowid(db_->get());
    ids.push_back(id);
    for (uint64_t copy : r.copy_ids) {
      db::StmtScope scope(link);
      sqlite3_bind_int64(link, 1, static_cast<int64_t>(copy));  // bit for bit
      sqlite3_bind_int64(link, 2, id);
      MV_RETURN_IF_ERROR(db::Step(link, "append to the audit log").status());
    }
  }
  MV_ASSIGN_OR_RETURN(uint64_t cap, StoredCap());
  MV_RETURN_IF_ERROR(RotateLocked(cap).status());
  MV_RETURN_IF_ERROR(txn.Commit());
  return ids;
}

Result<uint64_t> AuditDb::SetMaxRecords(uint64_t max_records) {
  if (read_only_) return ReadOnly();
  if (max_records < 1 || max_records > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return Status::InvalidArgument("the audit log must keep at least 1 record");
  }
  std::lock_guard<std::mutex> lock(mu_);
  db::Transaction txn(*db_);
  MV_RETURN_IF_ERROR(txn.Begin(true));
  MV_ASSIGN_OR_RETURN(sqlite3_stmt * s,
                      db_->Prepare("UPDATE meta SET value = ?1 WHERE key = 'max_records'"));
  {
    db::StmtScope scope(s);
    sqlite3_bind_int64(s, 1, static_cast<int64_t>(max_records));
    MV_RETURN_IF_ERROR(db::Step(s, "set the audit cap").status());
  }
  MV_ASSIGN_OR_RETURN(uint64_t removed, RotateLocked(max_records));
  MV_RETURN_IF_ERROR(txn.Commit());
  return removed;
}

Result<uint64_t> AuditDb::MaxRecords() {
  std::lock_guard<std::mutex> lock(mu_);
  return StoredCap();
}

Result<uint64_t> AuditDb::DeleteOldest(uint64_t keep) {
  if (read_only_) return ReadOnly();
  if (keep < 1) return Status::InvalidArgument("the audit log must keep at least 1 record");
  std::lock_guard<std::mutex> lock(mu_);
  db::Transaction txn(*db_);
  MV_RETURN_IF_ERROR(txn.Begin(true));
  MV_ASSIGN_OR_RETURN(uint64_t removed, RotateLocked(keep));
  MV_RETURN_IF_ERROR(txn.Commit());
  return removed;
}

Result<AuditRowPage> AuditDb::List(const AuditFilter& filter) {
  if (filter.limit == 0) return Status::InvalidArgument("audit list limit must be at least 1");
  const size_t limit = std::min(filter.limit, kMaxAuditPage);
  std::vector<Param> params;
  const std::string sql = ListSql(filter, limit, &params);
  std::lock_guard<std::mutex> lock(mu_);
  MV_ASSIGN_OR_RETURN(sqlite3_stmt * s, db_->Prepare(sql));
  db::StmtScope scope(s);
  for (size_t i = 0; i < params.size(); ++i) {
    const int n = static_cast<int>(i + 1);
    int rc = params[i].is_text ? db::BindText(s, n, params[i].text)
                               : sqlite3_bind_int64(s, n, params[i].num);
    if (rc != SQLITE_OK) return db_->Error(rc, "list the audit log: bind");
  }
  AuditRowPage page;
  while (true) {
    MV_ASSIGN_OR_RETURN(bool row, db::Step(s, "list the audit log"));
    if (!row) break;
    MV_ASSIGN_OR_RETURN(AuditEvent r, ReadRow(s));
    page.rows.push_back(std::move(r));
  }
  if (page.rows.size() > limit) {
    page.rows.resize(limit);
    page.next = page.rows.back().id;
  }
  return page;
}

Result<uint64_t> AuditDb::Count() {
  std::lock_guard<std::mutex> lock(mu_);
  MV_ASSIGN_OR_RETURN(int64_t n, db_->QueryInt("SELECT count(*) FROM audit"));
  return static_cast<uint64_t>(n);
}

Result<std::unique_ptr<AuditDb>> AuditDb::Open(const AuditDbOptions& options,
                                               const crypto::SymmetricKey& key) {
  if (options.path.empty()) return Status::InvalidArgument("audit database path is empty");
  MV_ASSIGN_OR_RETURN(std::unique_ptr<db::EncryptedVfs> vfs, db::EncryptedVfs::Register(key));
  db::EncryptedDbOptions db_options;
  db_options.path = options.path;
  db_options.what_kind = kKind;
  db_options.read_only = options.read_only;
  db_options.cache_bytes = kCacheBytes;
  db_options.sync_commits = true;  // each append durable before it returns
  MV_ASSIGN_OR_RETURN(db::OpenedDb opened, db::OpenDatabase(*vfs, db_options, AuditSchema()));
  std::unique_ptr<db::SqliteDb> db = std::move(opened.db);
  if (options.read_only) MV_RETURN_IF_ERROR(db->Exec("PRAGMA query_only=1"));
  return std::unique_ptr<AuditDb>(new AuditDb(std::move(vfs), std::move(db), options.read_only));
}

}  // namespace mailvault::index
