// LdapDirectory: the LDAP/AD side of the directory as the rest of mailvault
// uses it. It owns the cache (ldap_cache_db.h, DATA/ldap.db) and knows how
// to refresh it (Sync: connect, three paged searches, BuildSnapshot, one
// atomic Replace) and how to check a password (Authenticate: find the entry
// in the cache, then a simple bind as its DN over TLS on a fresh
// connection). Lookups read the cache only, never the network.
//
// A failed or partial sync (a server unreachable, a page that times out, a
// connection cut mid-way, a size limit hit) changes nothing but the
// recorded state: the old cache stays in use, State().last_error says why.
//
// Thread-safe: lookups and Authenticate may run on any thread at once;
// Sync calls are serialised (a second waits for the first). The options
// and the key are copied; `env` must outlive the object.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/keyring.h"
#include "directory/ldap_cache_db.h"
#include "directory/ldap_options.h"
#include "env/data_dir.h"
#include "env/env.h"
#include "mailvault/status.h"

namespace mailvault::directory {

struct LdapSyncReport {
  LdapSyncState state;
  std::vector<std::string> skipped;  // the first kMaxSkipLines reasons
};

// What `mailvault ldap test` shows: the live server's view, not the cache's.
struct LdapTestReport {
  std::string server;
  int64_t users = 0;                 // entries of the user filter (paged)
  std::vector<CachedEntry> samples;  // the first few users, mapped
  std::string login_filter;          // the filter TestLdap(.., login) sent
  std::vector<CachedEntry> matches;  // the users it found, mapped
};

class LdapDirectory {
 public:
  // Opens DATA/ldap.db (created unless read_only; read-only: NotFound if no
  // sync ever wrote it) under keys.Derived(kLdapCache). InvalidArgument for
  // options CheckLdapOptions refuses.
  static Result<std::unique_ptr<LdapDirectory>> Open(const LdapOptions& options, Env& env,
                                                     const DataDir& data,
                                                     const crypto::KeyRing& keys, bool read_only);
  ~LdapDirectory();
  LdapDirectory(const LdapDirectory&) = delete;
  LdapDirectory& operator=(const LdapDirectory&) = delete;

  // Reads the directory and swaps the new cache in. On failure the error
  // (Unavailable: server or network; PermissionDenied: the lookup
  // account's bind; IOError: the password file) is also recorded in the
  // state, and the cache is unchanged.
  Result<LdapSyncReport> Sync();

  // The cache's user for a login name (any login attribute, any case).
  // NotFound; InvalidArgument for a login several users share.
  Result<DirectoryUser> FindUser(std::string_view login);
  // The mailboxes delegated to the user of `dn` (directly or through a
  // group), each with how.
  Result<std::vector<DelegatedMailbox>> DelegatedTo(std::string_view dn);

  // Checks `password` for `login`: the entry from the cache, then a simple
  // bind as its DN over TLS (StartTLS or ldaps://; refused if the options
  // would send it in clear), with the per-operation timeout. Returns the
  // user on success. PermissionDenied ("wrong login or password", the same
  // words for an unknown, ambiguous or malformed login, an empty or wrong
  // password); Unavailable when no server answers in time.
  Result<DirectoryUser> Authenticate(std::string_view login, std::string_view password);

  Result<LdapSyncState> State();
  const LdapOptions& options() const { return options_; }

 private:
  LdapDirectory(const LdapOptions& options, Env& env, std::unique_ptr<LdapCacheDb> cache);
  Result<LdapSyncReport> SyncLocked();

  const LdapOptions options_;
  Env& env_;
  std::unique_ptr<LdapCacheDb> cache_;  // thread-safe itself
  std::mutex sync_mu_;                  // one sync at a time
};

// Connects and binds as the lookup account, counts the users and maps the
// first `samples`, without any cache (`mailvault ldap test`). With a
// `login`, also searches the directory for it (LoginFilter: the value
// escaped, RFC 4515). Errors as for a sync.
Result<LdapTestReport> TestLdap(const LdapOptions& options, Env& env, int samples,
                                std::string_view login);

// The lookup account's password: the first line of bind_password_file
// ("" when none is set). IOError for a missing, unreadable or empty file.
Result<std::string> ReadBindPassword(const LdapOptions& options, Env& env);

// The attributes each search asks for.
std::vector<std::string> UserAttributes(const LdapOptions& options);
std::vector<std::string> GroupAttributes(const LdapOptions& options);

}  // namespace mailvault::directory
