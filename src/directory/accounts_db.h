// AccountsDb: the console's local accounts in their own SQLite database,
// DATA/accounts.db, encrypted page by page like the index and the delivery
// queue (encrypted_vfs.h) under a key derived from the index key
// (KeyRing::Derived(crypto::KeyPurpose::kAccounts), crypto/key_purpose.h).
//
// A plain row store: names, roles and hashes are the caller's
// (directory/accounts.h validates them and hashes passwords); this class
// only lower-cases names (ASCII), so lookups are case-insensitive.
//
// Durability: every commit fsyncs the WAL (synchronous=FULL) before it
// returns; account changes are rare, and a password change that a crash
// takes back would be a surprise.
//
// Thread-safe: every method takes an internal lock. Several processes (the
// daemon and the `mailvault user` CLI) may read and write one file at once:
// each write is one IMMEDIATE transaction, which takes SQLite's write lock
// at BEGIN, and nothing is cached, so each call sees the last commit of any
// process. A read-only AccountsDb's writing methods return PermissionDenied.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/keyring.h"
#include "mailvault/status.h"

namespace mailvault::db {
class EncryptedVfs;
class SqliteDb;
struct Schema;
}  // namespace mailvault::db

namespace mailvault::index {

// The accounts database's numbered migrations (meta 'accounts_schema').
// Version 2 added accounts.sessions_ended_at; version 3 the addresses of
// personal accounts (account_addresses) and the administrator's personal
// Backup settings (settings). An older file is migrated when a writer opens
// it (and read as if migrated by a reader: no addresses, no settings).
const db::Schema& AccountsSchema();

// One row of `accounts`. Times are microseconds since the Unix epoch.
struct AccountRow {
  std::string name;  // lower case; the primary key
  std::string role;
  std::string password_hash;
  bool disabled = false;
  int64_t created_at = 0;
  int64_t updated_at = 0;
  int64_t password_changed_at = 0;
  // Console sessions made at or before this time are over (the account was
  // disabled or its password changed); 0 = none ended.
  int64_t sessions_ended_at = 0;
  // The mail addresses of a personal account (as the caller normalised
  // them), in the order given; stored in account_addresses.
  std::vector<std::string> addresses;
};

struct AccountsDbOptions {
  std::string path;  // the database file
  bool read_only = false;
};

class AccountsDb {
 public:
  // Opens or creates the database (read-only: NotFound if it does not exist
  // or was never given its schema). Corruption if `key` does not open it, if
  // the file is not an accounts database (a queue, say) or if its schema
  // version is unknown.
  static Result<std::unique_ptr<AccountsDb>> Open(const AccountsDbOptions& options,
                                                  const crypto::SymmetricKey& key);
  ~AccountsDb();
  AccountsDb(const AccountsDb&) = delete;
  AccountsDb& operator=(const AccountsDb&) = delete;

  // Stores a new row as given (name lower-cased). AlreadyExists ("account
  // 'x' already exists") if the name is taken; InvalidArgument for an empty
  // name.
  Status Add(const AccountRow& row);

  // Reads the row of `name`, lets `change` edit it and writes it back, in
  // one IMMEDIATE transaction, so that two processes changing one account
  // at once never lose either change. `change` must not alter the name
  // (InvalidArgument if it does); a non-OK status from it is returned and
  // nothing is written. NotFound ("no account 'x'") for an unknown name.
  // `change` runs under the write lock: keep it short (no password hashing).
  Status Update(std::string_view name, const std::function<Status(AccountRow*)>& change);

  Status Remove(std::string_view name);           // NotFound
  Result<AccountRow> Get(std::string_view name);  // NotFound
  Result<std::vector<AccountRow>> List();         // every row, by name

  // The settings table: key -> value, as the caller spells them (the
  // personal Backup's toggles, directory/accounts_personal.h). Empty for a
  // file older than version 3 read-only.
  Result<std::map<std::string, std::string>> Settings();
  // Writes every pair of `values` in one transaction.
  Status PutSettings(const std::map<std::string, std::string>& values);

 private:
  AccountsDb(std::unique_ptr<db::EncryptedVfs> vfs, std::unique_ptr<db::SqliteDb> db,
             bool read_only, std::string columns, bool has_v3);
  // The addresses of `row` read into it; the caller holds mu_.
  Status ReadAddresses(AccountRow* row);
  // Replaces the addresses of `row.name`; the caller holds mu_ in a
  // write transaction.
  Status WriteAddresses(const AccountRow& row);
  Status ReadOnly() const;
  // The row of `name` (lower case) or NotFound; the caller holds mu_.
  Result<AccountRow> Select(const std::string& name);

  std::unique_ptr<db::EncryptedVfs> vfs_;  // outlives db_
  std::mutex mu_;
  std::unique_ptr<db::SqliteDb> db_;  // guarded by mu_
  const bool read_only_;
  const std::string columns_;  // the SELECT list: a version 1 file read-only differs
  const bool has_v3_;          // the file has the version 3 tables
};

// ASCII lower case: account names are case-insensitive.
std::string LowerAscii(std::string_view s);

}  // namespace mailvault::index
