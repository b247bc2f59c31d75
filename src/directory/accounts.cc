// Accounts (see accounts.h). Roles are stored as their names, so the file
// reads the same whatever this enum's order; an unknown role in a row is
// Corruption.
//
// Authenticate's design note: the work for every outcome is one Get and one
// VerifyPassword at cost_. For an unknown name the verification runs
// against a dummy hash of a random password, made once (on the first
// Authenticate, before the lookup, so the first call's extra cost does not
// depend on the name either). A disabled account's password is verified
// too, and only then refused.
#include "directory/accounts.h"

#include <string.h>

#include <algorithm>

#include "base/utf8.h"
#include "crypto/keyring.h"
#include "crypto/page_cipher.h"

namespace mailvault::directory {
namespace {

constexpr Role kRoles[] = {Role::kAdministrator, Role::kHelpdesk, Role::kAuditor, Role::kPersonal};
constexpr size_t kMaxNameLength = 64;
constexpr size_t kMinPasswordBytes = 10;

bool IsAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

Result<Account> FromRow(const index::AccountRow& row) {
  auto role = ParseRole(row.role);
  if (!role.ok()) {
    return Status::Corruption("account '" + row.name + "' has an unknown role '" + row.role + "'");
  }
  Account a;
  a.name = row.name;
  a.role = *role;
  a.disabled = row.disabled;
  a.created_at = row.created_at;
  a.updated_at = row.updated_at;
  a.password_changed_at = row.password_changed_at;
  a.sessions_ended_at = row.sessions_ended_at;
  a.addresses = row.addresses;
  return a;
}

// Normalised, de-duplicated, within bounds; a personal account needs one,
// another role none.
Result<std::vector<std::string>> CheckAddresses(Role role, const std::vector<std::string>& given) {
  std::vector<std::string> out;
  for (const std::string& a : given) {
    MV_ASSIGN_OR_RETURN(std::string n, NormalizeAddress(a));
    if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(std::move(n));
  }
  if (out.size() > kMaxAddresses) {
    return Status::InvalidArgument("at most " + std::to_string(kMaxAddresses) +
                                   " addresses per account");
  }
  if (role == Role::kPersonal && out.empty()) {
    return Status::InvalidArgument("a personal account needs at least one address (--address)");
  }
  if (role != Role::kPersonal && !out.empty()) {
    return Status::InvalidArgument("only personal accounts have addresses");
  }
  return out;
}

Status WrongLogin() { return Status::PermissionDenied(std::string(kWrongLogin)); }

}  // namespace

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kAdministrator:
      return "administrator";
    case Role::kHelpdesk:
      return "helpdesk";
    case Role::kAuditor:
      return "auditor";
    case Role::kPersonal:
      return "personal";
  }
  return "auditor";  // not reached: every enumerator is handled above
}

Result<Role> ParseRole(std::string_view name) {
  for (Role r : kRoles) {
    if (RoleName(r) == name) return r;
  }
  return Status::InvalidArgument("unknown role \"" + std::string(name) +
                                 "\": use administrator, helpdesk, auditor or personal");
}

Status ValidateAccountName(std::string_view name) {
  if (name.empty()) return Status::InvalidArgument("the account name is empty");
  if (name.size() > kMaxNameLength) {
    return Status::InvalidArgument("the account name is longer than " +
                                   std::to_string(kMaxNameLength) + " characters");
  }
  const std::string lower = index::LowerAscii(name);
  if (!IsAlnum(lower[0])) {
    return Status::InvalidArgument("the account name \"" + std::string(name) +
                                   "\" must start with a letter or digit");
  }
  for (char c : lower) {
    if (!IsAlnum(c) && c != '.' && c != '_' && c != '@' && c != '-') {
      return Status::InvalidArgument("the account name \"" + std::string(name) +
                                     "\" may hold only letters, digits and . _ @ -");
    }
  }
  return Status::Ok();
}

Status ValidatePassword(std::string_view password) {
  if (password.size() < kMinPasswordBytes) {
    return Status::InvalidArgument("the password is too short: at least " +
                                   std::to_string(kMinPasswordBytes) + " characters");
  }
  if (password.size() > crypto::kMaxPasswordBytes) {
    return Status::InvalidArgument("the password is too long: at most " +
                                   std::to_string(crypto::kMaxPasswordBytes) + " bytes");
  }
  if (password.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("the password contains a NUL character");
  }
  return Status::Ok();
}

std::string AccountsPath(const std::string& data_dir) { return DataDir(data_dir).accounts(); }

Result<std::unique_ptr<Accounts>> Accounts::Open(Env& env, const DataDir& data,
                                                 const crypto::KeyRing& keys, bool read_only,
                                                 crypto::PasswordCost cost) {
  crypto::SymmetricKey key = keys.Derived(crypto::KeyPurpose::kAccounts);
  index::AccountsDbOptions options;
  options.path = data.accounts();
  options.read_only = read_only;
  if (!read_only) MV_RETURN_IF_ERROR(CreatePrivateFileIfMissing(env, options.path));
  auto db = index::AccountsDb::Open(options, key);
  ::explicit_bzero(key.data(), key.size());
  if (!db.ok()) return db.status().Annotate("open the accounts " + options.path);
  // A new database file's name must survive a crash like its contents.
  if (!read_only) MV_RETURN_IF_ERROR(env.SyncDir(data.root()));
  return std::unique_ptr<Accounts>(new Accounts(env, std::move(*db), cost));
}

Result<std::string> NormalizeAddress(std::string_view address) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("the address \"" + std::string(address.substr(0, 300)) + "\" " +
                                   why);
  };
  if (address.size() < 3 || address.size() > 254) return bad("must be 3 to 254 bytes");
  if (!IsValidUtf8(address)) return bad("is not valid UTF-8");
  const size_t at = address.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == address.size()) {
    return bad("must be local-part@domain");
  }
  if (address.find('@') != at) return bad("has more than one @");
  for (char ch : address) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7f ||
        std::string_view("<>()[],;:\\\"").find(ch) != std::string_view::npos) {
      return bad("may not hold spaces, control characters or <>()[],;:\\\"");
    }
  }
  return index::LowerAscii(address);
}

Status Accounts::Add(std::string_view name, Role role, std::string_view password,
                     const std::vector<std::string>& addresses) {
  MV_RETURN_IF_ERROR(ValidateAccountName(name));
  MV_RETURN_IF_ERROR(ValidatePassword(password));
  MV_ASSIGN_OR_RETURN(std::vector<std::string> normal, CheckAddresses(role, addresses));
  MV_ASSIGN_OR_RETURN(std::string hash, crypto::HashPassword(password, cost_));
  index::AccountRow row;
  row.name = index::LowerAscii(name);
  row.role = RoleName(role);
  row.password_hash = std::move(hash);
  row.created_at = row.updated_at = row.password_changed_at = env_.NowMicros();
  row.addresses = std::move(normal);
  return db_->Add(row);
}

Status Accounts::SetAddresses(std::string_view name, const std::vector<std::string>& addresses) {
  MV_ASSIGN_OR_RETURN(std::vector<std::string> normal, CheckAddresses(Role::kPersonal, addresses));
  const int64_t now = env_.NowMicros();
  return db_->Update(name, [&](index::AccountRow* r) {
    if (r->role != RoleName(Role::kPersonal)) {
      return Status::InvalidArgument("only personal accounts have addresses: '" + r->name +
                                     "' is " + r->role);
    }
    r->addresses = normal;
    r->updated_at = now;
    return Status::Ok();
  });
}

Result<PersonalSettings> Accounts::GetPersonalSettings() {
  MV_ASSIGN_OR_RETURN(auto values, db_->Settings());
  return PersonalSettingsFromMap(values);
}

Status Accounts::PutPersonalSettings(const PersonalSettings& settings) {
  return db_->PutSettings(PersonalSettingsToMap(settings));
}

Status Accounts::SetPassword(std::string_view name, std::string_view password) {
  MV_RETURN_IF_ERROR(ValidatePassword(password));
  // Fail fast for an unknown name before the (slow) hash; Update checks
  // again under the write lock.
  MV_RETURN_IF_ERROR(db_->Get(name).status());
  MV_ASSIGN_OR_RETURN(std::string hash, crypto::HashPassword(password, cost_));
  const int64_t now = env_.NowMicros();
  return db_->Update(name, [&](index::AccountRow* r) {
    r->password_hash = hash;
    r->password_changed_at = r->updated_at = r->sessions_ended_at = now;
    return Status::Ok();
  });
}

Status Accounts::SetRole(std::string_view name, Role role) {
  const int64_t now = env_.NowMicros();
  return db_->Update(name, [&](index::AccountRow* r) {
    r->role = RoleName(role);
    r->updated_at = now;
    return Status::Ok();
  });
}

Status Accounts::SetDisabled(std::string_view name, bool disabled) {
  const int64_t now = env_.NowMicros();
  return db_->Update(name, [&](index::AccountRow* r) {
    r->disabled = disabled;
    r->updated_at = now;
    // Ended here, in the file, rather than in the daemon's session table:
    // the CLI that disables is another process, and an enable that follows
    // before the daemon sees a request must not bring the sessions back.
    if (disabled) r->sessions_ended_at = now;
    return Status::Ok();
  });
}

Status Accounts::Remove(std::string_view name) { return db_->Remove(name); }

Result<Account> Accounts::Get(std::string_view name) {
  MV_ASSIGN_OR_RETURN(index::AccountRow row, db_->Get(name));
  return FromRow(row);
}

Result<std::vector<Account>> Accounts::List() {
  MV_ASSIGN_OR_RETURN(std::vector<index::AccountRow> rows, db_->List());
  std::vector<Account> out;
  out.reserve(rows.size());
  for (const index::AccountRow& row : rows) {
    MV_ASSIGN_OR_RETURN(Account a, FromRow(row));
    out.push_back(std::move(a));
  }
  return out;
}

Result<std::string> Accounts::DummyHash() {
  std::lock_guard<std::mutex> lock(dummy_mu_);
  if (dummy_hash_.empty()) {
    uint8_t random[32];
    crypto::RandomBytes(random, sizeof(random));
    auto hash = crypto::HashPassword(
        std::string_view(reinterpret_cast<const char*>(random), sizeof(random)), cost_);
    ::explicit_bzero(random, sizeof(random));
    if (!hash.ok()) return hash.status();
    dummy_hash_ = std::move(*hash);
  }
  return dummy_hash_;
}

Result<Account> Accounts::Authenticate(std::string_view name, std::string_view password) {
  MV_ASSIGN_OR_RETURN(std::string dummy, DummyHash());
  auto row = ValidateAccountName(name).ok() ? db_->Get(name)
                                            : Result<index::AccountRow>(Status::NotFound(""));
  if (!row.ok() && !row.status().IsNotFound()) return row.status();
  const bool known = row.ok();
  const bool match = crypto::VerifyPassword(known ? row->password_hash : dummy, password);
  if (!known || !match || row->disabled) return WrongLogin();
  MV_ASSIGN_OR_RETURN(Account account, FromRow(*row));
  if (crypto::PasswordNeedsRehash(row->password_hash, cost_)) {
    auto fresh = crypto::HashPassword(password, cost_);
    if (fresh.ok()) {
      const std::string old_hash = row->password_hash;
      // Only if nobody changed the password meanwhile; a failure here leaves
      // the old hash, which still works.
      db_->Update(name,
                  [&](index::AccountRow* r) {
                    if (r->password_hash == old_hash) r->password_hash = *fresh;
                    return Status::Ok();
                  })
          .IgnoreError();
    }
  }
  return account;
}

}  // namespace mailvault::directory
