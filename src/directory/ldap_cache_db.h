// LdapCacheDb: the LDAP/AD cache in its own SQLite database, DATA/ldap.db,
// encrypted page by page like the other databases (db/encrypted_vfs.h)
// under KeyRing::Derived(crypto::KeyPurpose::kLdapCache). It holds what a
// sync understood (ldap_mapping.h): entries with their logins, addresses
// and groups, the delegations, and the state of the last sync.
//
// A sync replaces the whole content in one IMMEDIATE transaction (Replace):
// readers, in this process or another (the CLI, the daemon), see the old
// cache or the new one, never a mix, and a sync that fails before Replace
// leaves the old cache as it was (RecordFailure only notes why).
//
// Thread-safe: every method takes an internal lock; nothing is cached in
// memory, so each call sees the last commit of any process. A read-only
// LdapCacheDb's writing methods return PermissionDenied.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/keyring.h"
#include "directory/ldap_mapping.h"
#include "mailvault/status.h"

namespace mailvault::db {
class EncryptedVfs;
class SqliteDb;
struct Schema;
}  // namespace mailvault::db

namespace mailvault::directory {

// The cache's numbered migrations (meta 'ldap_schema').
const db::Schema& LdapCacheSchema();

// One entry of the cache as the rest of mailvault sees it.
struct DirectoryUser {
  std::string dn;                      // as the directory spells it: bind as this
  std::string dn_norm;                 // NormalizeDn(dn): the key
  std::string name;                    // displayName, else cn
  bool is_user = false;                // matched the user filter: may sign in
  bool is_mailbox = false;             // a shared mailbox (has the delegation attribute)
  std::vector<std::string> logins;     // lower case
  std::vector<std::string> addresses;  // lower case, the directory's order
  std::vector<std::string> groups;     // every group DN, direct first, nested after
  size_t direct_groups = 0;
};

// A mailbox a user may read, and how: `via` is "" when the mailbox names
// the user, else the group DN it names (the user is a member, maybe
// through nested groups).
struct DelegatedMailbox {
  DirectoryUser mailbox;
  std::vector<std::string> via;  // "" and/or group DNs, each once
};

// The last sync, for `mailvault ldap ...` and the daemon's health.
struct LdapSyncState {
  int64_t last_attempt = 0;  // microseconds since the epoch; 0 = never
  int64_t last_success = 0;  // when the cache in use was made; 0 = never
  std::string last_error;    // "" when the last attempt succeeded
  std::string server;        // the server of the last success
  int64_t users = 0, mailboxes = 0, groups = 0, delegations = 0, skipped = 0;
  int64_t duration_micros = 0;  // of the last success
};

class LdapCacheDb {
 public:
  // Opens or creates the database (read-only: NotFound if it does not
  // exist). Corruption if `key` does not open it or it is not an LDAP
  // cache; InvalidArgument for a schema newer than this code.
  static Result<std::unique_ptr<LdapCacheDb>> Open(const std::string& path,
                                                   const crypto::SymmetricKey& key, bool read_only);
  ~LdapCacheDb();
  LdapCacheDb(const LdapCacheDb&) = delete;
  LdapCacheDb& operator=(const LdapCacheDb&) = delete;

  // Swaps in `snapshot` as the whole cache and records `state` (its
  // last_error should be ""), atomically.
  Status Replace(const Snapshot& snapshot, const LdapSyncState& state);
  // Notes a failed attempt (`when`, `error`); the cache stays as it is.
  Status RecordFailure(int64_t when, std::string_view error);

  // The entry that may sign in with `login` (any login attribute, case-
  // insensitive). NotFound if none; InvalidArgument if several users have
  // it (an ambiguous login never picks one).
  Result<DirectoryUser> FindByLogin(std::string_view login);
  // The entry of a DN (any spelling). NotFound if none.
  Result<DirectoryUser> FindByDn(std::string_view dn);
  // The mailboxes delegated to the user of `dn`, by DN. Empty if none
  // (also for an unknown DN).
  Result<std::vector<DelegatedMailbox>> DelegatedTo(std::string_view dn);
  // Up to `limit` users (is_user), by DN, for samples and listings.
  Result<std::vector<DirectoryUser>> Users(int limit);
  Result<LdapSyncState> State();

 private:
  LdapCacheDb(std::unique_ptr<db::EncryptedVfs> vfs, std::unique_ptr<db::SqliteDb> db,
              bool read_only);
  // The entry with rowid `id`; the caller holds mu_.
  Result<DirectoryUser> Load(int64_t id);

  std::unique_ptr<db::EncryptedVfs> vfs_;  // outlives db_
  std::mutex mu_;
  std::unique_ptr<db::SqliteDb> db_;  // guarded by mu_
  const bool read_only_;
};

}  // namespace mailvault::directory
