// LdapCacheDb over one SQLite connection through db::EncryptedVfs (see
// ldap_cache_db.h). Entries get rowids in the snapshot's order (by DN);
// logins, addresses and groups keep their order in a pos column.
#include "directory/ldap_cache_db.h"

#include <unordered_map>

#include "db/encrypted_db.h"
#include "db/encrypted_vfs.h"
#include "db/schema.h"
#include "db/sqlite_db.h"
#include "directory/ldap_filter.h"

namespace mailvault::directory {
namespace {

constexpr char kKind[] = "LDAP cache";
constexpr size_t kCacheBytes = 4 << 20;

db::Schema LdapCacheSchemaDecl() {
  db::Schema s;
  s.kind = kKind;
  s.version_key = "ldap_schema";
  s.migrations = {
      {1, R"sql(
CREATE TABLE entries(
  id INTEGER PRIMARY KEY,
  dn TEXT NOT NULL,
  dn_norm TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  is_user INTEGER NOT NULL,
  is_mailbox INTEGER NOT NULL,
  direct_groups INTEGER NOT NULL);
CREATE TABLE logins(
  login TEXT NOT NULL,
  entry INTEGER NOT NULL,
  pos INTEGER NOT NULL,
  PRIMARY KEY(login, entry)) WITHOUT ROWID;
CREATE INDEX logins_by_entry ON logins(entry);
CREATE TABLE addresses(
  entry INTEGER NOT NULL,
  pos INTEGER NOT NULL,
  address TEXT NOT NULL,
  PRIMARY KEY(entry, pos)) WITHOUT ROWID;
CREATE INDEX addresses_by_address ON addresses(address);
CREATE TABLE entry_groups(
  entry INTEGER NOT NULL,
  pos INTEGER NOT NULL,
  group_dn TEXT NOT NULL,
  PRIMARY KEY(entry, pos)) WITHOUT ROWID;
CREATE TABLE delegations(
  user INTEGER NOT NULL,
  mailbox INTEGER NOT NULL,
  via TEXT NOT NULL,
  PRIMARY KEY(user, mailbox, via)) WITHOUT ROWID;
CREATE TABLE sync_state(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  last_attempt INTEGER NOT NULL,
  last_success INTEGER NOT NULL,
  last_error TEXT NOT NULL,
  server TEXT NOT NULL,
  users INTEGER NOT NULL,
  mailboxes INTEGER NOT NULL,
  groups INTEGER NOT NULL,
  delegations INTEGER NOT NULL,
  skipped INTEGER NOT NULL,
  duration_micros INTEGER NOT NULL);
INSERT INTO sync_state VALUES(1, 0, 0, '', '', 0, 0, 0, 0, 0, 0);
)sql"},
  };
  return s;
}

// Binds and steps one statement; `bind` binds its parameters.
template <typename F>
Status Run(db::SqliteDb& db, const char* sql, std::string_view what, F bind) {
  MV_ASSIGN_OR_RETURN(sqlite3_stmt * s, db.Prepare(sql));
  db::StmtScope scope(s);
  int rc = bind(s);
  if (rc != SQLITE_OK) return db.Error(rc, what);
  return db::Step(s, what).status();
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

const db::Schema& LdapCacheSchema() {
  static const db::Schema* schema = new db::Schema(LdapCacheSchemaDecl());
  return *schema;
}

LdapCacheDb::LdapCacheDb(std::unique_ptr<db::EncryptedVfs> vfs, std::unique_ptr<db::SqliteDb> db,
                         bool read_only)
    : vfs_(std::move(vfs)), db_(std::move(db)), read_only_(read_only) {}

LdapCacheDb::~LdapCacheDb() { db_.reset(); }  // before the VFS it was opened through

Result<std::unique_ptr<LdapCacheDb>> LdapCacheDb::Open(const std::string& path,
                                                       const crypto::SymmetricKey& key,
                                                       bool read_only) {
  if (path.empty()) return Status::InvalidArgument("LDAP cache path is empty");
  MV_ASSIGN_OR_RETURN(std::unique_ptr<db::EncryptedVfs> vfs, db::EncryptedVfs::Register(key));
  db::EncryptedDbOptions o;
  o.path = path;
  o.what_kind = kKind;
  o.read_only = read_only;
  o.cache_bytes = kCacheBytes;
  o.sync_commits = true;  // a sync an hour: durable is cheap
  MV_ASSIGN_OR_RETURN(db::OpenedDb opened, db::OpenDatabase(*vfs, o, LdapCacheSchema()));
  if (read_only) MV_RETURN_IF_ERROR(opened.db->Exec("PRAGMA query_only=1"));
  return std::unique_ptr<LdapCacheDb>(
      new LdapCacheDb(std::move(vfs), std::move(opened.db), read_only));
}

Status LdapCacheDb::Replace(const Snapshot& snap, const LdapSyncState& st) {
  if (read_only_) return Status::PermissionDenied("the LDAP cache is open read-only");
  std::lock_guard<std::mutex> lock(mu_);
  db::SqliteDb& d = *db_;
  db::Transaction txn(d);
  MV_RETURN_IF_ERROR(txn.Begin(true));
  MV_RETURN_IF_ERROR(
      d.Exec("DELETE FROM delegations; DELETE FROM entry_groups; DELETE FROM addresses; "
             "DELETE FROM logins; DELETE FROM entries;"));
  std::unordered_map<std::string_view, int64_t> ids;
  int64_t id = 0;
  for (const CachedEntry& e : snap.entries) {
    ids.emplace(e.dn_norm, ++id);
    MV_RETURN_IF_ERROR(Run(d,
                           "INSERT INTO entries(id, dn, dn_norm, name, is_user, is_mailbox, "
                           "direct_groups) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                           "cache entry", [&](sqlite3_stmt* s) {
                             int rc = sqlite3_bind_int64(s, 1, id);
                             if (rc == SQLITE_OK) rc = db::BindText(s, 2, e.dn);
                             if (rc == SQLITE_OK) rc = db::BindText(s, 3, e.dn_norm);
                             if (rc == SQLITE_OK) rc = db::BindText(s, 4, e.name);
                             if (rc == SQLITE_OK) rc = sqlite3_bind_int(s, 5, e.is_user);
                             if (rc == SQLITE_OK) rc = sqlite3_bind_int(s, 6, e.is_mailbox);
                             if (rc == SQLITE_OK) {
                               rc = sqlite3_bind_int64(s, 7, static_cast<int64_t>(e.direct_groups));
                             }
                             return rc;
                           }));
    auto list = [&](const char* sql, const std::vector<std::string>& values) -> Status {
      for (size_t i = 0; i < values.size(); ++i) {
        MV_RETURN_IF_ERROR(Run(d, sql, "cache list", [&](sqlite3_stmt* s) {
          int rc = sqlite3_bind_int64(s, 1, id);
          if (rc == SQLITE_OK) rc = sqlite3_bind_int64(s, 2, static_cast<int64_t>(i));
          if (rc == SQLITE_OK) rc = db::BindText(s, 3, values[i]);
          return rc;
        }));
      }
      return Status::Ok();
    };
    MV_RETURN_IF_ERROR(list("INSERT INTO logins(entry, pos, login) VALUES(?1, ?2, ?3)", e.logins));
    MV_RETURN_IF_ERROR(
        list("INSERT INTO addresses(entry, pos, address) VALUES(?1, ?2, ?3)", e.addresses));
    MV_RETURN_IF_ERROR(
        list("INSERT INTO entry_groups(entry, pos, group_dn) VALUES(?1, ?2, ?3)", e.groups));
  }
  for (const CachedDelegation& g : snap.delegations) {
    auto user = ids.find(g.user);
    auto mailbox = ids.find(g.mailbox);
    if (user == ids.end() || mailbox == ids.end()) {
      return Status::InvalidArgument("a delegation names an entry the snapshot lacks");
    }
    MV_RETURN_IF_ERROR(Run(d,
                           "INSERT OR IGNORE INTO delegations(user, mailbox, via) "
                           "VALUES(?1, ?2, ?3)",
                           "cache delegation", [&](sqlite3_stmt* s) {
                             int rc = sqlite3_bind_int64(s, 1, user->second);
                             if (rc == SQLITE_OK) rc = sqlite3_bind_int64(s, 2, mailbox->second);
                             if (rc == SQLITE_OK) rc = db::BindText(s, 3, g.via);
                             return rc;
                           }));
  }
  MV_RETURN_IF_ERROR(Run(d,
                         "UPDATE sync_state SET last_attempt = ?1, last_success = ?2, "
                         "last_error = '', server = ?3, users = ?4, mailboxes = ?5, groups = ?6, "
                         "delegations = ?7, skipped = ?8, duration_micros = ?9",
                         "cache state", [&](sqlite3_stmt* s) {
                           int rc = sqlite3_bind_int64(s, 1, st.last_attempt);
                           if (rc == SQLITE_OK) rc = sqlite3_bind_int64(s, 2, st.last_success);
                           if (rc == SQLITE_OK) rc = db::BindText(s, 3, st.server);
                           if (rc == SQLITE_OK) rc = sqlite3_bind_int64(s, 4, st.users);
                           if (rc == SQLITE_OK) rc = sqlite3_bind_int64(s, 5, st.mailboxes);
                           if (rc == SQLITE_OK) rc = sqlite3_bind_int64(s, 6, st.groups);
                           if (rc == SQLITE_OK) rc = sqlite3_bind_int64(s, 7, st.delegations);
                           if (rc == SQLITE_OK) rc = sqlite3_bind_int64(s, 8, st.skipped);
                           if (rc == SQLITE_OK) rc = sqlite3_bind_int64(s, 9, st.duration_micros);
                           return rc;
                         }));
  return txn.Commit();
}

Status LdapCacheDb::RecordFailure(int64_t when, std::string_view error) {
  if (read_only_) return Status::PermissionDenied("the LDAP cache is open read-only");
  std::lock_guard<std::mutex> lock(mu_);
  std::string e = error.empty() ? std::string("unknown error") : std::string(error);
  return Run(*db_, "UPDATE sync_state SET last_attempt = ?1, last_error = ?2", "cache state",
             [&](sqlite3_stmt* s) {
               int rc = sqlite3_bind_int64(s, 1, when);
               if (rc == SQLITE_OK) rc = db::BindText(s, 2, e);
               return rc;
             });
}

Result<DirectoryUser> LdapCacheDb::Load(int64_t id) {
  DirectoryUser u;
  {
    MV_ASSIGN_OR_RETURN(sqlite3_stmt * s,
                        db_->Prepare("SELECT dn, dn_norm, name, is_user, is_mailbox, "
                                     "direct_groups FROM entries WHERE id = ?1"));
    db::StmtScope scope(s);
    sqlite3_bind_int64(s, 1, id);
    MV_ASSIGN_OR_RETURN(bool row, db::Step(s, "read cache entry"));
    if (!row) return Status::NotFound("no such cache entry");
    u.dn = db::ColText(s, 0);
    u.dn_norm = db::ColText(s, 1);
    u.name = db::ColText(s, 2);
    u.is_user = sqlite3_column_int(s, 3) != 0;
    u.is_mailbox = sqlite3_column_int(s, 4) != 0;
    u.direct_groups = static_cast<size_t>(sqlite3_column_int64(s, 5));
  }
  for (auto [sql, out] : {
           std::pair<const char*, std::vector<std::string>*>{
               "SELECT login FROM logins WHERE entry = ?1 ORDER BY pos", &u.logins},
           {"SELECT address FROM addresses WHERE entry = ?1 ORDER BY pos", &u.addresses},
           {"SELECT group_dn FROM entry_groups WHERE entry = ?1 ORDER BY pos", &u.groups},
       }) {
    MV_ASSIGN_OR_RETURN(sqlite3_stmt * s, db_->Prepare(sql));
    db::StmtScope scope(s);
    sqlite3_bind_int64(s, 1, id);
    while (true) {
      MV_ASSIGN_OR_RETURN(bool row, db::Step(s, "read cache entry"));
      if (!row) break;
      out->emplace_back(db::ColText(s, 0));
    }
  }
  return u;
}

Result<DirectoryUser> LdapCacheDb::FindByLogin(std::string_view login) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string key = Lower(login);
  std::vector<int64_t> ids;
  {
    MV_ASSIGN_OR_RETURN(sqlite3_stmt * s,
                        db_->Prepare("SELECT logins.entry FROM logins JOIN entries ON "
                                     "entries.id = logins.entry WHERE login = ?1 AND "
                                     "entries.is_user = 1 LIMIT 2"));
    db::StmtScope scope(s);
    db::BindText(s, 1, key);
    while (true) {
      MV_ASSIGN_OR_RETURN(bool row, db::Step(s, "find login"));
      if (!row) break;
      ids.push_back(sqlite3_column_int64(s, 0));
    }
  }
  if (ids.empty()) return Status::NotFound("no directory user with that login");
  if (ids.size() > 1) {
    return Status::InvalidArgument("the login names several directory users: refused");
  }
  return Load(ids[0]);
}

Result<DirectoryUser> LdapCacheDb::FindByDn(std::string_view dn) {
  MV_ASSIGN_OR_RETURN(std::string norm, NormalizeDn(dn));
  std::lock_guard<std::mutex> lock(mu_);
  int64_t id = 0;
  {
    MV_ASSIGN_OR_RETURN(sqlite3_stmt * s,
                        db_->Prepare("SELECT id FROM entries WHERE dn_norm = ?1"));
    db::StmtScope scope(s);
    db::BindText(s, 1, norm);
    MV_ASSIGN_OR_RETURN(bool row, db::Step(s, "find DN"));
    if (!row) return Status::NotFound("no directory entry with that DN");
    id = sqlite3_column_int64(s, 0);
  }
  return Load(id);
}

Result<std::vector<DelegatedMailbox>> LdapCacheDb::DelegatedTo(std::string_view dn) {
  auto norm = NormalizeDn(dn);
  if (!norm.ok()) return std::vector<DelegatedMailbox>();
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::pair<int64_t, std::string>> rows;
  {
    MV_ASSIGN_OR_RETURN(sqlite3_stmt * s,
                        db_->Prepare("SELECT d.mailbox, d.via FROM delegations d JOIN entries u "
                                     "ON u.id = d.user JOIN entries m ON m.id = d.mailbox "
                                     "WHERE u.dn_norm = ?1 ORDER BY m.dn_norm, d.via"));
    db::StmtScope scope(s);
    db::BindText(s, 1, *norm);
    while (true) {
      MV_ASSIGN_OR_RETURN(bool row, db::Step(s, "read delegations"));
      if (!row) break;
      rows.emplace_back(sqlite3_column_int64(s, 0), std::string(db::ColText(s, 1)));
    }
  }
  std::vector<DelegatedMailbox> out;
  int64_t last = -1;
  for (auto& [mailbox, via] : rows) {
    if (mailbox != last) {
      MV_ASSIGN_OR_RETURN(DirectoryUser m, Load(mailbox));
      out.push_back(DelegatedMailbox{std::move(m), {}});
      last = mailbox;
    }
    out.back().via.push_back(std::move(via));
  }
  return out;
}

Result<std::vector<DirectoryUser>> LdapCacheDb::Users(int limit) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<int64_t> ids;
  {
    MV_ASSIGN_OR_RETURN(sqlite3_stmt * s, db_->Prepare("SELECT id FROM entries WHERE is_user = 1 "
                                                       "ORDER BY dn_norm LIMIT ?1"));
    db::StmtScope scope(s);
    sqlite3_bind_int(s, 1, limit);
    while (true) {
      MV_ASSIGN_OR_RETURN(bool row, db::Step(s, "list users"));
      if (!row) break;
      ids.push_back(sqlite3_column_int64(s, 0));
    }
  }
  std::vector<DirectoryUser> out;
  for (int64_t id : ids) {
    MV_ASSIGN_OR_RETURN(DirectoryUser u, Load(id));
    out.push_back(std::move(u));
  }
  return out;
}

Result<LdapSyncState> LdapCacheDb::State() {
  std::lock_guard<std::mutex> lock(mu_);
  MV_ASSIGN_OR_RETURN(sqlite3_stmt * s,
                      db_->Prepare("SELECT last_attempt, last_success, last_error, server, users, "
                                   "mailboxes, groups, delegations, skipped, duration_micros "
                                   "FROM sync_state WHERE id = 1"));
  db::StmtScope scope(s);
  MV_ASSIGN_OR_RETURN(bool row, db::Step(s, "read sync state"));
  if (!row) return Status::Corruption("the LDAP cache has no sync state");
  LdapSyncState st;
  st.last_attempt = sqlite3_column_int64(s, 0);
  st.last_success = sqlite3_column_int64(s, 1);
  st.last_error = db::ColText(s, 2);
  st.server = db::ColText(s, 3);
  st.users = sqlite3_column_int64(s, 4);
  st.mailboxes = sqlite3_column_int64(s, 5);
  st.groups = sqlite3_column_int64(s, 6);
  st.delegations = sqlite3_column_int64(s, 7);
  st.skipped = sqlite3_column_int64(s, 8);
  st.duration_micros = sqlite3_column_int64(s, 9);
  return st;
}

}  // namespace mailvault::directory
