// Accounts: the console's local accounts (administrators, helpdesk,
// auditors, and personal users with their mail addresses) with argon2id password hashes, kept in
// DATA/accounts.db (directory/accounts_db.h) under a key derived from the store's index key.
//
// Every call reads the database; nothing is cached, so a change made by
// `mailvault user` while mailvaultd runs is seen by the daemon's next call.
// Thread-safe: AccountsDb serialises its connection; the lazily made dummy
// hash has its own mutex. Hashing (Add, SetPassword, Authenticate) happens
// outside any database lock, so a slow hash never blocks another process.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/keyring.h"
#include "crypto/password.h"
#include "directory/accounts_db.h"
#include "directory/accounts_personal.h"
#include "env/data_dir.h"
#include "env/env.h"
#include "mailvault/status.h"

namespace mailvault::directory {

// kPersonal: an end user who sees only the copies addressed to their own
// mailboxes (docs/personal.md); never an administrator route.
enum class Role { kAdministrator, kHelpdesk, kAuditor, kPersonal };

// "administrator", "helpdesk", "auditor", "personal".
std::string_view RoleName(Role role);
// The role named `name` (exactly as RoleName spells it); InvalidArgument
// naming the valid roles otherwise.
Result<Role> ParseRole(std::string_view name);

struct Account {
  std::string name;  // lower case
  Role role = Role::kAuditor;
  bool disabled = false;
  int64_t created_at = 0, updated_at = 0, password_changed_at = 0;  // micros since epoch
  // Console sessions made at or before this time are over: set when the
  // account is disabled or its password changes, so a later enable does not
  // revive a session from before (0 = none ended).
  int64_t sessions_ended_at = 0;
  // A personal account's mail addresses (NormalizeAddress), as given;
  // empty for the other roles.
  std::vector<std::string> addresses;
};

// At most this many addresses per account.
inline constexpr size_t kMaxAddresses = 100;

// A mail address as accounts keep it and the index's recipient table keys
// it: local@domain, 3..254 bytes of well-formed UTF-8 without spaces,
// controls or any of <>()[],;:\" outside the local part's letters, one
// '@' with something on both sides; ASCII letters lower-cased.
// InvalidArgument saying what is wrong.
Result<std::string> NormalizeAddress(std::string_view address);

// 1..64 characters of [a-z0-9._@-], starting with a letter or digit. Names
// are case-insensitive: upper-case letters are accepted here and stored
// lower case. InvalidArgument saying what is wrong.
Status ValidateAccountName(std::string_view name);

// At least 10 bytes (bytes of UTF-8 count), at most 1024, no NUL;
// InvalidArgument saying why.
Status ValidatePassword(std::string_view password);

// The accounts file in a data dir: DATA/accounts.db.
std::string AccountsPath(const std::string& data_dir);

// The message of every failed Authenticate.
inline constexpr std::string_view kWrongLogin = "wrong user name or password";

class Accounts {
 public:
  // Opens (creates unless read_only) DATA/accounts.db with the accounts key
  // of `keys`, the process's key ring (used during Open only; secret keys
  // not needed). `cost` is used for new hashes and for the rehash check. NotFound
  // when read-only and the file was never created; Corruption for a wrong
  // key or a file that is not an accounts database. `env` must outlive the
  // Accounts.
  static Result<std::unique_ptr<Accounts>> Open(
      Env& env, const DataDir& data, const crypto::KeyRing& keys, bool read_only,
      crypto::PasswordCost cost = crypto::kInteractiveCost);
  Accounts(const Accounts&) = delete;
  Accounts& operator=(const Accounts&) = delete;

  // AlreadyExists for a taken name; InvalidArgument for a bad name,
  // password or address, for a personal account without an address, and
  // for addresses given to another role. Addresses are normalised and
  // de-duplicated.
  Status Add(std::string_view name, Role role, std::string_view password,
             const std::vector<std::string>& addresses = {});
  // Replaces a personal account's addresses (at least one); ends none of
  // its sessions (the next request sees the new set). NotFound,
  // InvalidArgument (as Add).
  Status SetAddresses(std::string_view name, const std::vector<std::string>& addresses);
  // A new hash, password_changed_at = sessions_ended_at = now. NotFound,
  // InvalidArgument.
  Status SetPassword(std::string_view name, std::string_view password);
  // NotFound. The addresses stay as they are: they count for the personal
  // role only (a personal account without any sees no copy).
  Status SetRole(std::string_view name, Role role);
  // Disabling also sets sessions_ended_at = now. NotFound.
  Status SetDisabled(std::string_view name, bool disabled);
  Status Remove(std::string_view name);        // NotFound
  Result<Account> Get(std::string_view name);  // NotFound
  Result<std::vector<Account>> List();         // by name

  // The account when the name exists, is not disabled and the password
  // matches. Otherwise PermissionDenied(kWrongLogin): the same status and
  // message for an unknown name, a wrong password and a disabled account,
  // and the same work (one hash verification; an unknown name is verified
  // against a dummy hash made once at the same cost), so neither the answer
  // nor its timing tells which names exist. Errors reading the database are
  // returned as they are. On success, a hash made with another cost is
  // replaced by one with `cost` (a failure to do so does not fail the
  // login).
  Result<Account> Authenticate(std::string_view name, std::string_view password);

  // The personal Backup's settings (accounts_personal.h), stored here and
  // not in the store: the administrator's policy for users, read on each
  // request so `mailvault settings set personal.*` applies at once.
  Result<PersonalSettings> GetPersonalSettings();
  Status PutPersonalSettings(const PersonalSettings& settings);

 private:
  Accounts(Env& env, std::unique_ptr<index::AccountsDb> db, crypto::PasswordCost cost)
      : env_(env), db_(std::move(db)), cost_(cost) {}
  // The dummy hash, made on first use.
  Result<std::string> DummyHash();

  Env& env_;
  const std::unique_ptr<index::AccountsDb> db_;  // thread-safe itself
  const crypto::PasswordCost cost_;
  std::mutex dummy_mu_;
  std::string dummy_hash_;  // guarded by dummy_mu_; empty until made
};

}  // namespace mailvault::directory
