// AccountsDb over one SQLite connection through db::EncryptedVfs (see
// accounts_db.h). One connection behind one mutex, as for the queue: the
// table holds a handful of rows. Commits are fsynced (sync_commits), so no
// per-call switch of PRAGMA synchronous is needed.
//
// Schema: meta(key, value) holds 'accounts_schema'; accounts is WITHOUT
// ROWID keyed by the lower-case name, so List's ORDER BY name walks the
// primary key.
#include "directory/accounts_db.h"

#include "db/encrypted_db.h"
#include "db/encrypted_vfs.h"
#include "db/schema.h"
#include "db/sqlite_db.h"

namespace mailvault::index {
namespace {

constexpr char kKind[] = "accounts database";
constexpr size_t kCacheBytes = 1 << 20;

// The accounts database's migrations. 1 created it; 2 added the session
// cut-off, until then only a password change; 3 the addresses of personal
// accounts and the settings of the personal Backup.
db::Schema AccountsSchemaDecl() {
  db::Schema s;
  s.kind = kKind;
  s.version_key = "accounts_schema";
  s.oldest_readable = 1;  // read with kColumnsV1
  s.migrations = {
      {1, R"sql(
CREATE TABLE accounts(
  name TEXT PRIMARY KEY,
  role TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  disabled INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  password_changed_at INTEGER NOT NULL) WITHOUT ROWID;
)sql"},
      {2, R"sql(
ALTER TABLE accounts ADD COLUMN sessions_ended_at INTEGER NOT NULL DEFAULT 0;
UPDATE accounts SET sessions_ended_at = password_changed_at;
)sql"},
      {3, R"sql(
CREATE TABLE account_addresses(
  name TEXT NOT NULL, position INTEGER NOT NULL, address TEXT NOT NULL,
  PRIMARY KEY(name, position)) WITHOUT ROWID;
CREATE TABLE settings(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
)sql"},
  };
  return s;
}

constexpr char kColumns[] =
    "name, role, password_hash, disabled, created_at, updated_at, password_changed_at, "
    "sessions_ended_at";
// A version 1 file read without migrating it: sessions ended when the
// password last changed, which is what the migration writes.
constexpr char kColumnsV1[] =
    "name, role, password_hash, disabled, created_at, updated_at, password_changed_at, "
    "password_changed_at";

// Binds `r` to ?1..?8 in kColumns order. Strings are bound without
// copying: `r` must outlive the step.
int BindRow(sqlite3_stmt* s, const AccountRow& r) {
  int rc = db::BindText(s, 1, r.name);
  if (rc == SQLITE_OK) rc = db::BindText(s, 2, r.role);
  if (rc == SQLITE_OK) rc = db::BindText(s, 3, r.password_hash);
  if (rc == SQLITE_OK) rc = sqlite3_bind_int64(s, 4, r.disabled ? 1 : 0);
  if (rc == SQLITE_OK) rc = sqlite3_bind_int64(s, 5, r.created_at);
  if (rc == SQLITE_OK) rc = sqlite3_bind_int64(s, 6, r.updated_at);
  if (rc == SQLITE_OK) rc = sqlite3_bind_int64(s, 7, r.password_changed_at);
  if (rc == SQLITE_OK) rc = sqlite3_bind_int64(s, 8, r.sessions_ended_at);
  return rc;
}

AccountRow ReadRow(sqlite3_stmt* s) {
  AccountRow r;
  r.name = db::ColText(s, 0);
  r.role = db::ColText(s, 1);
  r.password_hash = db::ColText(s, 2);
  r.disabled = sqlite3_column_int64(s, 3) != 0;
  r.created_at = sqlite3_column_int64(s, 4);
  r.updated_at = sqlite3_column_int64(s, 5);
  r.password_changed_at = sqlite3_column_int64(s, 6);
  r.sessions_ended_at = sqlite3_column_int64(s, 7);
  return r;
}

std::string Quoted(const std::string& name) { return "'" + name + "'"; }

}  // namespace

const db::Schema& AccountsSchema() {
  static const db::Schema* schema = new db::Schema(AccountsSchemaDecl());
  return *schema;
}

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

AccountsDb::AccountsDb(std::unique_ptr<db::EncryptedVfs> vfs, std::unique_ptr<db::SqliteDb> db,
                       bool read_only, std::string columns, bool has_v3)
    : vfs_(std::move(vfs)),
      db_(std::move(db)),
      read_only_(read_only),
      columns_(std::move(columns)),
      has_v3_(has_v3) {}

Status AccountsDb::ReadAddresses(AccountRow* row) {
  row->addresses.clear();
  if (!has_v3_) return Status::Ok();
  MV_ASSIGN_OR_RETURN(
      sqlite3_stmt * s,
      db_->Prepare("SELECT address FROM account_addresses WHERE name = ?1 ORDER BY position"));
  db::StmtScope scope(s);
  db::BindText(s, 1, row->name);
  while (true) {
    MV_ASSIGN_OR_RETURN(bool more, db::Step(s, "read addresses"));
    if (!more) return Status::Ok();
    row->addresses.emplace_back(db::ColText(s, 0));
  }
}

Status AccountsDb::WriteAddresses(const AccountRow& row) {
  MV_ASSIGN_OR_RETURN(sqlite3_stmt * del,
                      db_->Prepare("DELETE FROM account_addresses WHERE name = ?1"));
  {
    db::StmtScope scope(del);
    db::BindText(del, 1, row.name);
    MV_RETURN_IF_ERROR(db::Step(del, "replace addresses").status());
  }
  MV_ASSIGN_OR_RETURN(
      sqlite3_stmt * ins,
      db_->Prepare("INSERT INTO account_addresses(name, position, address) VALUES(?1, ?2, ?3)"));
  for (size_t i = 0; i < row.addresses.size(); ++i) {
    db::StmtScope scope(ins);
    db::BindText(ins, 1, row.name);
    sqlite3_bind_int64(ins, 2, static_cast<int64_t>(i));
    db::BindText(ins, 3, row.addresses[i]);
    MV_RETURN_IF_ERROR(db::Step(ins, "store addresses").status());
  }
  return Status::Ok();
}

Result<std::map<std::string, std::string>> AccountsDb::Settings() {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, std::string> out;
  if (!has_v3_) return out;
  MV_ASSIGN_OR_RETURN(sqlite3_stmt * s, db_->Prepare("SELECT key, value FROM settings"));
  db::StmtScope scope(s);
  while (true) {
    MV_ASSIGN_OR_RETURN(bool row, db::Step(s, "read settings"));
    if (!row) return out;
    out[std::string(db::ColText(s, 0))] = std::string(db::ColText(s, 1));
  }
}

Status AccountsDb::PutSettings(const std::map<std::string, std::string>& values) {
  if (read_only_) return ReadOnly();
  std::lock_guard<std::mutex> lock(mu_);
  db::Transaction txn(*db_);
  MV_RETURN_IF_ERROR(txn.Begin(true));
  MV_ASSIGN_OR_RETURN(sqlite3_stmt * s,
                      db_->Prepare("INSERT OR REPLACE INTO settings(key, value) VALUES(?1, ?2)"));
  for (const auto& [key, value] : values) {
    db::StmtScope scope(s);
    db::BindText(s, 1, key);
    db::BindText(s, 2, value);
    MV_RETURN_IF_ERROR(db::Step(s, "store setting " + key).status());
  }
  return txn.Commit();
}

AccountsDb::~AccountsDb() { db_.reset(); }  // before the VFS it was opened through

Status AccountsDb::ReadOnly() const {
  return Status::PermissionDenied("the accounts database is open read-only");
}

Result<AccountRow> AccountsDb::Select(const std::string& name) {
  AccountRow out;
  {
    MV_ASSIGN_OR_RETURN(sqlite3_stmt * s,
                        db_->Prepare("SELECT " + columns_ + " FROM accounts WHERE name = ?1"));
    db::StmtScope scope(s);
    db::BindText(s, 1, name);
    MV_ASSIGN_OR_RETURN(bool row, db::Step(s, "read account"));
    if (!row) return Status::NotFound("no account " + Quoted(name));
    out = ReadRow(s);
  }
  MV_RETURN_IF_ERROR(ReadAddresses(&out));
  return out;
}

Status AccountsDb::Add(const AccountRow& given) {
  if (read_only_) return ReadOnly();
  AccountRow row = given;
  row.name = LowerAscii(row.name);
  if (row.name.empty()) return Status::InvalidArgument("an account needs a name");
  std::lock_guard<std::mutex> lock(mu_);
  db::Transaction txn(*db_);
  MV_RETURN_IF_ERROR(txn.Begin(true));
  MV_ASSIGN_OR_RETURN(sqlite3_stmt * s,
                      db_->Prepare(std::string("INSERT INTO accounts(") + kColumns +
                                   ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
  {
    db::StmtScope scope(s);
    int rc = BindRow(s, row);
    if (rc != SQLITE_OK) return db_->Error(rc, "add account: bind");
    auto step = db::Step(s, "add account " + Quoted(row.name));
    if (!step.ok() && step.status().code() == Code::kAlreadyExists) {
      return Status::AlreadyExists("account " + Quoted(row.name) + " already exists");
    }
    MV_RETURN_IF_ERROR(step.status());
  }
  if (!row.addresses.empty()) MV_RETURN_IF_ERROR(WriteAddresses(row));
  return txn.Commit();
}

Status AccountsDb::Update(std::string_view given_name,
                          const std::function<Status(AccountRow*)>& change) {
  if (read_only_) return ReadOnly();
  const std::string name = LowerAscii(given_name);
  std::lock_guard<std::mutex> lock(mu_);
  db::Transaction txn(*db_);
  MV_RETURN_IF_ERROR(txn.Begin(true));
  MV_ASSIGN_OR_RETURN(AccountRow row, Select(name));
  MV_RETURN_IF_ERROR(change(&row));
  if (row.name != name) {
    return Status::InvalidArgument("an account update cannot rename " + Quoted(name));
  }
  MV_ASSIGN_OR_RETURN(
      sqlite3_stmt * s,
      db_->Prepare("UPDATE accounts SET role = ?2, password_hash = ?3, "
                   "disabled = ?4, created_at = ?5, updated_at = ?6, "
                   "password_changed_at = ?7, sessions_ended_at = ?8 WHERE name = ?1"));
  {
    db::StmtScope scope(s);
    int rc = BindRow(s, row);
    if (rc != SQLITE_OK) return db_->Error(rc, "update account: bind");
    MV_RETURN_IF_ERROR(db::Step(s, "update account " + Quoted(name)).status());
  }
  MV_RETURN_IF_ERROR(WriteAddresses(row));
  return txn.Commit();
}

Status AccountsDb::Remove(std::string_view given_name) {
  if (read_only_) return ReadOnly();
  const std::string name = LowerAscii(given_name);
  std::lock_guard<std::mutex> lock(mu_);
  db::Transaction txn(*db_);
  MV_RETURN_IF_ERROR(txn.Begin(true));
  MV_ASSIGN_OR_RETURN(sqlite3_stmt * s, db_->Prepare("DELETE FROM accounts WHERE name = ?1"));
  {
    db::StmtScope scope(s);
    db::BindText(s, 1, name);
    MV_RETURN_IF_ERROR(db::Step(s, "remove account " + Quoted(name)).status());
    if (sqlite3_changes(db_->get()) == 0) return Status::NotFound("no account " + Quoted(name));
  }
  AccountRow gone;
  gone.name = name;
  MV_RETURN_IF_ERROR(WriteAddresses(gone));  // none: the addresses go with the account
  return txn.Commit();
}

Result<AccountRow> AccountsDb::Get(std::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  return Select(LowerAscii(name));
}

Result<std::vector<AccountRow>> AccountsDb::List() {
  std::lock_guard<std::mutex> lock(mu_);
  MV_ASSIGN_OR_RETURN(sqlite3_stmt * s,
                      db_->Prepare("SELECT " + columns_ + " FROM accounts ORDER BY name"));
  db::StmtScope scope(s);
  std::vector<AccountRow> rows;
  while (true) {
    MV_ASSIGN_OR_RETURN(bool row, db::Step(s, "list accounts"));
    if (!row) break;
    rows.push_back(ReadRow(s));
  }
  for (AccountRow& r : rows) MV_RETURN_IF_ERROR(ReadAddresses(&r));
  return rows;
}

Result<std::unique_ptr<AccountsDb>> AccountsDb::Open(const AccountsDbOptions& options,
                                                     const crypto::SymmetricKey& key) {
  if (options.path.empty()) return Status::InvalidArgument("accounts database path is empty");
  MV_ASSIGN_OR_RETURN(std::unique_ptr<db::EncryptedVfs> vfs, db::EncryptedVfs::Register(key));
  db::EncryptedDbOptions db_options;
  db_options.path = options.path;
  db_options.what_kind = kKind;
  db_options.read_only = options.read_only;
  db_options.cache_bytes = kCacheBytes;
  db_options.sync_commits = true;  // rare changes, each one durable
  MV_ASSIGN_OR_RETURN(db::OpenedDb opened, db::OpenDatabase(*vfs, db_options, AccountsSchema()));
  std::unique_ptr<db::SqliteDb> db = std::move(opened.db);
  if (options.read_only) MV_RETURN_IF_ERROR(db->Exec("PRAGMA query_only=1"));
  std::string columns = opened.schema_version == 1 ? kColumnsV1 : kColumns;
  return std::unique_ptr<AccountsDb>(new AccountsDb(std::move(vfs), std::move(db),
                                                    options.read_only, std::move(columns),
                                                    opened.schema_version >= 3));
}

}  // namespace mailvault::index
