// user add|list|show|addresses|passwd|role|disable|enable|remove: the
// console's local accounts in DATA/accounts.db (directory/accounts.h),
// personal accounts with their mail addresses; and `settings get|set
// personal.*`, the personal Backup's settings kept in the same file. The accounts file
// has its own locking, so these work while mailvaultd runs, and the daemon
// sees a change at its next login.
//
// A password comes from the terminal, asked twice with echo off, or with
// --password-stdin as the first line of stdin (for scripts). It is never
// printed, logged or put in an error message, and the strings that held it
// are wiped when done with. Accounts are opened, and the name checked, before
// the prompt, so nobody types a password for a command that cannot work.
#include <string.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "base/display_text.h"
#include "base/json_text.h"
#include "base/units.h"
#include "cli/cli_common.h"
#include "cli/commands.h"
#include "crypto/password.h"
#include "directory/accounts.h"
#include "env/data_dir.h"
#include "env/env.h"
#include "env/terminal.h"

namespace mailvault::cli {
namespace {

using directory::Account;
using directory::Accounts;

// Longest line read as a password; longer than any valid one, so
// ValidatePassword, not the reader, names the limit.
constexpr size_t kMaxPasswordLine = crypto::kMaxPasswordBytes + 1;

struct UserArgs {
  std::string data = kDefaultDataDir;
  std::string name;
  std::string role;
  std::vector<std::string> addresses;
  bool password_stdin = false;
  bool json = false;
};

// A password buffer wiped when it goes out of scope.
struct Secret {
  std::string value;
  Secret() = default;
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  ~Secret() { ::explicit_bzero(value.data(), value.size()); }
};

std::string Lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

// CLI11 check of a ROLE argument, worded by ParseRole.
CLI::Validator RoleCheck() {
  return CLI::Validator(
      [](std::string& v) -> std::string {
        auto role = directory::ParseRole(v);
        return role.ok() ? std::string() : role.status().message();
      },
      "administrator|helpdesk|auditor|personal", "ROLE");
}

// The accounts of the store in `dir`, with the store's own keys. The
// messages say what to check: a dir that is no store, keys of another store.
Result<std::unique_ptr<Accounts>> OpenAccounts(const std::string& dir, bool read_only) {
  const DataDir data(dir);
  if (!data.IsStore(*PosixEnv())) {
    return Status::NotFound(dir +
                            " is not a mailvault store (no store.json; run `mailvault init`)");
  }
  MV_ASSIGN_OR_RETURN(crypto::KeyRing * keys, CommandKeys(dir));
  auto accounts = Accounts::Open(*PosixEnv(), data, *keys, read_only);
  if (!accounts.ok() && accounts.status().IsCorruption()) {
    return Status::Corruption(accounts.status().message() + " (do " + data.keys() +
                              " and the accounts file belong to the same store?)");
  }
  return accounts;
}

// The first line of stdin without its line end ("\n" or "\r\n").
Status ReadStdinLine(std::string* out) {
  out->reserve(kMaxPasswordLine + 2);
  bool any = false;
  for (int c; (c = std::fgetc(stdin)) != EOF;) {
    any = true;
    if (c == '\n') break;
    if (out->size() > kMaxPasswordLine) continue;  // ValidatePassword refuses it
    out->push_back(static_cast<char>(c));
  }
  if (std::ferror(stdin)) return Status::IOError("read stdin: " + std::string(strerror(errno)));
  if (!any) return Status::InvalidArgument("--password-stdin: stdin is empty");
  if (!out->empty() && out->back() == '\r') out->pop_back();
  return Status::Ok();
}

// kExitUsage when the password would be asked for and there is no terminal
// to ask on; checked first, before anything is opened.
int CheckPasswordSource(bool from_stdin) {
  if (from_stdin || IsTerminal(kStdinFd)) return kExitOk;
  ReportError(
      "stdin is not a terminal, so the password cannot be asked for: give it on stdin "
      "with --password-stdin");
  return kExitUsage;
}

// The new password of `name`, checked by ValidatePassword.
int ReadNewPassword(const std::string& name, bool from_stdin, Secret* password) {
  if (from_stdin) {
    Status s = ReadStdinLine(&password->value);
    if (s.ok()) s = directory::ValidatePassword(password->value);
    return s.ok() ? kExitOk : ReportError(s);
  }
  auto first = ReadPasswordFromTerminal(kStdinFd, kStderrFd,
                                        "New password for " + Lower(name) + ": ", kMaxPasswordLine);
  if (!first.ok()) return ReportError(first.status());
  password->value = std::move(*first);
  Status s = directory::ValidatePassword(password->value);
  if (!s.ok()) return ReportError(s);
  auto second =
      ReadPasswordFromTerminal(kStdinFd, kStderrFd, "Repeat the password: ", kMaxPasswordLine);
  if (!second.ok()) return ReportError(second.status());
  Secret again;
  again.value = std::move(*second);
  if (again.value != password->value)
    return ReportError("the two passwords differ; nothing changed");
  return kExitOk;
}

// Whole seconds, short enough for the table.
std::string TimeText(int64_t micros) {
  return micros == 0 ? "-" : FormatRfc3339(micros - micros % 1'000'000);
}

nlohmann::json TimeJson(int64_t micros) {
  return micros == 0 ? nlohmann::json(nullptr) : nlohmann::json(FormatRfc3339(micros));
}

std::string FormatAccounts(const std::vector<Account>& accounts) {
  if (accounts.empty()) return "no accounts\n";
  size_t width = 4;
  for (const Account& a : accounts) width = std::max(width, a.name.size());
  auto pad = [](std::string s, size_t w) {
    s.resize(std::max(s.size(), w), ' ');
    return s;
  };
  std::string out = pad("NAME", width) + "  " + pad("ROLE", 13) + "  DISABLED  " +
                    pad("CREATED (UTC)", 20) + "  " + pad("PASSWORD CHANGED (UTC)", 22) +
                    "  ADDRESSES\n";
  for (const Account& a : accounts) {
    std::string addresses;
    for (const std::string& x : a.addresses) addresses += (addresses.empty() ? "" : ", ") + x;
    out += pad(a.name, width) + "  " + pad(std::string(directory::RoleName(a.role)), 13) + "  " +
           pad(a.disabled ? "yes" : "no", 8) + "  " + pad(TimeText(a.created_at), 20) + "  " +
           pad(TimeText(a.password_changed_at), 22) + "  " +
           (addresses.empty() ? "-" : DisplayText(addresses)) + "\n";
  }
  return out;
}

nlohmann::json AccountsToJson(const std::vector<Account>& accounts) {
  nlohmann::json out = nlohmann::json::array();
  for (const Account& a : accounts) {
    out.push_back({{"name", a.name},
                   {"role", directory::RoleName(a.role)},
                   {"disabled", a.disabled},
                   {"created_at", TimeJson(a.created_at)},
                   {"updated_at", TimeJson(a.updated_at)},
                   {"password_changed_at", TimeJson(a.password_changed_at)},
                   {"addresses", a.addresses}});
  }
  return out;
}

int Confirm(const std::string& line) {
  Status s = WriteStdout(line + "\n");
  return s.ok() ? kExitOk : ReportError(s);
}

int RunAdd(const UserArgs& a) {
  if (int rc = CheckPasswordSource(a.password_stdin); rc != kExitOk) return rc;
  Status s = directory::ValidateAccountName(a.name);
  if (!s.ok()) return ReportError(s);
  auto role = directory::ParseRole(a.role);
  if (!role.ok()) return ReportError(role.status());
  auto accounts = OpenAccounts(a.data, /*read_only=*/false);
  if (!accounts.ok()) return ReportError(accounts.status());
  auto existing = (*accounts)->Get(a.name);
  if (existing.ok()) return ReportError("account '" + existing->name + "' already exists");
  if (!existing.status().IsNotFound()) return ReportError(existing.status());
  Secret password;
  if (int rc = ReadNewPassword(a.name, a.password_stdin, &password); rc != kExitOk) return rc;
  s = (*accounts)->Add(a.name, *role, password.value, a.addresses);
  if (!s.ok()) return ReportError(s);
  return Confirm("added account " + Lower(a.name) + " (" + a.role + ")");
}

int RunShow(const UserArgs& a) {
  if (Status s = directory::ValidateAccountName(a.name); !s.ok()) return ReportError(s);
  auto accounts = OpenAccounts(a.data, /*read_only=*/true);
  if (!accounts.ok()) return ReportError(accounts.status());
  auto account = (*accounts)->Get(a.name);
  if (!account.ok()) return ReportError(account.status());
  const std::vector<Account> one = {*account};
  if (a.json) {
    Status s = WriteStdout(JsonText(AccountsToJson(one)[0], 2) + "\n");
    return s.ok() ? kExitOk : ReportError(s);
  }
  std::string out = "name:             " + account->name + "\n" +
                    "role:             " + std::string(directory::RoleName(account->role)) + "\n" +
                    "disabled:         " + (account->disabled ? "yes" : "no") + "\n" +
                    "created:          " + TimeText(account->created_at) + "\n" +
                    "password changed: " + TimeText(account->password_changed_at) + "\n";
  for (const std::string& x : account->addresses)
    out += "address:          " + DisplayText(x) + "\n";
  Status s = WriteStdout(out);
  return s.ok() ? kExitOk : ReportError(s);
}

int RunAddresses(const UserArgs& a) {
  if (Status s = directory::ValidateAccountName(a.name); !s.ok()) return ReportError(s);
  auto accounts = OpenAccounts(a.data, /*read_only=*/false);
  if (!accounts.ok()) return ReportError(accounts.status());
  Status s = (*accounts)->SetAddresses(a.name, a.addresses);
  if (!s.ok()) return ReportError(s);
  auto account = (*accounts)->Get(a.name);
  std::string list;
  if (account.ok()) {
    for (const std::string& x : account->addresses) list += (list.empty() ? "" : ", ") + x;
  }
  return Confirm(Lower(a.name) + " now sees the copies addressed to " + DisplayText(list));
}

int RunList(const UserArgs& a) {
  std::vector<Account> list;
  auto accounts = OpenAccounts(a.data, /*read_only=*/true);
  if (accounts.ok()) {
    auto got = (*accounts)->List();
    if (!got.ok()) return ReportError(got.status());
    list = std::move(*got);
  } else {
    // Read-only opening does not create the file: no file, no accounts yet
    // (when the keys are there, so the data dir is a store).
    Env& env = *PosixEnv();
    const bool never_made = accounts.status().IsNotFound() &&
                            !env.Exists(DataDir(a.data).accounts()) &&
                            env.Exists(DataDir(a.data).keys());
    if (!never_made) return ReportError(accounts.status());
  }
  Status s = WriteStdout(a.json ? JsonText(AccountsToJson(list), 2) + "\n" : FormatAccounts(list));
  return s.ok() ? kExitOk : ReportError(s);
}

int RunPasswd(const UserArgs& a) {
  if (int rc = CheckPasswordSource(a.password_stdin); rc != kExitOk) return rc;
  if (Status s = directory::ValidateAccountName(a.name); !s.ok()) return ReportError(s);
  auto accounts = OpenAccounts(a.data, /*read_only=*/false);
  if (!accounts.ok()) return ReportError(accounts.status());
  auto existing = (*accounts)->Get(a.name);
  if (!existing.ok()) return ReportError(existing.status());
  Secret password;
  if (int rc = ReadNewPassword(a.name, a.password_stdin, &password); rc != kExitOk) return rc;
  Status s = (*accounts)->SetPassword(a.name, password.value);
  if (!s.ok()) return ReportError(s);
  return Confirm("changed the password of " + existing->name);
}

int RunRole(const UserArgs& a) {
  if (Status s = directory::ValidateAccountName(a.name); !s.ok()) return ReportError(s);
  auto role = directory::ParseRole(a.role);
  if (!role.ok()) return ReportError(role.status());
  auto accounts = OpenAccounts(a.data, /*read_only=*/false);
  if (!accounts.ok()) return ReportError(accounts.status());
  Status s = (*accounts)->SetRole(a.name, *role);
  if (!s.ok()) return ReportError(s);
  return Confirm(Lower(a.name) + " is now " + a.role);
}

int RunSetDisabled(const UserArgs& a, bool disabled) {
  if (Status s = directory::ValidateAccountName(a.name); !s.ok()) return ReportError(s);
  auto accounts = OpenAccounts(a.data, /*read_only=*/false);
  if (!accounts.ok()) return ReportError(accounts.status());
  Status s = (*accounts)->SetDisabled(a.name, disabled);
  if (!s.ok()) return ReportError(s);
  return Confirm(disabled ? "disabled " + Lower(a.name) + "; it can no longer log in"
                          : "enabled " + Lower(a.name));
}

int RunRemove(const UserArgs& a) {
  if (Status s = directory::ValidateAccountName(a.name); !s.ok()) return ReportError(s);
  auto accounts = OpenAccounts(a.data, /*read_only=*/false);
  if (!accounts.ok()) return ReportError(accounts.status());
  Status s = (*accounts)->Remove(a.name);
  if (!s.ok()) return ReportError(s);
  return Confirm("removed account " + Lower(a.name));
}

// A `user` subcommand with --data and, unless `name` is false, NAME.
CLI::App* AddSub(CLI::App* user, const char* sub_name, const char* help, UserArgs* a,
                 bool name = true) {
  CLI::App* sub = user->add_subcommand(sub_name, help);
  AddDataOption(sub, &a->data);
  if (name) sub->add_option("name", a->name, "Account name")->required();
  return sub;
}

}  // namespace

int RunPersonalSettingsGet(const std::string& dir, const std::string& key) {
  directory::PersonalSettings settings;
  auto accounts = OpenAccounts(dir, /*read_only=*/true);
  if (accounts.ok()) {
    auto got = (*accounts)->GetPersonalSettings();
    if (!got.ok()) return ReportError(got.status());
    settings = *got;
  } else if (!accounts.status().IsNotFound()) {
    return ReportError(accounts.status());
  }  // no accounts file yet: the defaults
  const std::vector<std::string> names = directory::PersonalSettingNames();
  if (!key.empty()) {
    if (std::find(names.begin(), names.end(), key) == names.end()) {
      std::string valid;
      for (const std::string& n : names) valid += (valid.empty() ? "" : ", ") + n;
      return ReportError("unknown setting \"" + key + "\": use one of " + valid);
    }
    return Confirm(directory::GetPersonalSetting(settings, key));
  }
  std::string out;
  for (const std::string& n : names) {
    out += n + " = " + directory::GetPersonalSetting(settings, n) + "\n";
  }
  Status s = WriteStdout(out);
  return s.ok() ? kExitOk : ReportError(s);
}

int RunPersonalSettingsSet(const std::string& dir, const std::string& key,
                           const std::string& value) {
  auto accounts = OpenAccounts(dir, /*read_only=*/false);
  if (!accounts.ok()) return ReportError(accounts.status());
  auto settings = (*accounts)->GetPersonalSettings();
  if (!settings.ok()) return ReportError(settings.status());
  std::string warning;
  Status s = directory::SetPersonalSetting(&*settings, key, value, &warning);
  if (!s.ok()) return ReportError(s);
  s = (*accounts)->PutPersonalSettings(*settings);
  if (!s.ok()) return ReportError(s);
  if (!warning.empty()) std::fprintf(stderr, "mailvault: warning: %s\n", warning.c_str());
  return Confirm(key + " = " + directory::GetPersonalSetting(*settings, key));
}

void AddUserCommands(CLI::App& app, Action* action) {
  CLI::App* user = app.add_subcommand(
      "user", "The console's local accounts (roles: administrator, helpdesk, auditor, personal)");
  user->require_subcommand(1);
  {
    auto a = std::make_shared<UserArgs>();
    CLI::App* sub = AddSub(user, "add", "Add an account; asks for its password", a.get());
    sub->add_option("--role", a->role, "administrator, helpdesk, auditor or personal")
        ->required()
        ->check(RoleCheck());
    sub->add_option("--address", a->addresses,
                    "A mail address of a personal account (repeat for more): it sees the "
                    "copies whose envelope recipients include one");
    sub->add_flag("--password-stdin", a->password_stdin,
                  "Read the password from stdin's first line");
    sub->callback([=] { *action = [=] { return RunAdd(*a); }; });
  }
  {
    auto a = std::make_shared<UserArgs>();
    CLI::App* sub = AddSub(user, "show", "Show one account and its addresses", a.get());
    sub->add_flag("--json", a->json, "Print JSON");
    sub->callback([=] { *action = [=] { return RunShow(*a); }; });
  }
  {
    auto a = std::make_shared<UserArgs>();
    CLI::App* sub =
        AddSub(user, "addresses", "Replace a personal account's mail addresses", a.get());
    sub->add_option("--address", a->addresses, "A mail address (repeat for more)")->required();
    sub->callback([=] { *action = [=] { return RunAddresses(*a); }; });
  }
  {
    auto a = std::make_shared<UserArgs>();
    CLI::App* sub = AddSub(user, "list", "List the accounts", a.get(), /*name=*/false);
    sub->add_flag("--json", a->json, "Print JSON");
    sub->callback([=] { *action = [=] { return RunList(*a); }; });
  }
  {
    auto a = std::make_shared<UserArgs>();
    CLI::App* sub = AddSub(user, "passwd", "Set an account's password; asks for it", a.get());
    sub->add_flag("--password-stdin", a->password_stdin,
                  "Read the password from stdin's first line");
    sub->callback([=] { *action = [=] { return RunPasswd(*a); }; });
  }
  {
    auto a = std::make_shared<UserArgs>();
    CLI::App* sub = AddSub(user, "role", "Change an account's role", a.get());
    sub->add_option("role", a->role, "administrator, helpdesk, auditor or personal")
        ->required()
        ->check(RoleCheck());
    sub->callback([=] { *action = [=] { return RunRole(*a); }; });
  }
  {
    auto a = std::make_shared<UserArgs>();
    CLI::App* sub = AddSub(user, "disable", "Stop an account from logging in", a.get());
    sub->callback([=] { *action = [=] { return RunSetDisabled(*a, true); }; });
  }
  {
    auto a = std::make_shared<UserArgs>();
    CLI::App* sub = AddSub(user, "enable", "Let a disabled account log in again", a.get());
    sub->callback([=] { *action = [=] { return RunSetDisabled(*a, false); }; });
  }
  {
    auto a = std::make_shared<UserArgs>();
    CLI::App* sub = AddSub(user, "remove", "Delete an account", a.get());
    sub->callback([=] { *action = [=] { return RunRemove(*a); }; });
  }
}

}  // namespace mailvault::cli
