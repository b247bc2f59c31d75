// ldap test|sync|show|auth: the LDAP/AD cache of the directory
// (directory/ldap_directory.h) for the administrator who sets it up and
// must see what mailvault understood. The [ldap] section comes from the
// daemon's config file (-c); the cache is DATA/ldap.db of --data (default:
// the config's store dir). `sync` writes the cache the daemon reads, so it
// works while mailvaultd runs and the daemon uses the new cache at once.
//
// Everything the directory sent is shown through DisplayText: a value
// with control or bidi characters never reaches the terminal raw.
#include <string.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "base/display_text.h"
#include "base/json_text.h"
#include "base/units.h"
#include "cli/cli_common.h"
#include "cli/commands.h"
#include "config/config.h"
#include "directory/ldap_directory.h"
#include "env/data_dir.h"
#include "env/env.h"

namespace mailvault::cli {
namespace {

using directory::DelegatedMailbox;
using directory::DirectoryUser;
using directory::LdapDirectory;

struct LdapArgs {
  std::string config = "conf/mailvault.toml";
  std::string data;  // "": MAILVAULT_DATA, else the config's store dir
  std::string user;
  bool json = false;
  bool password_stdin = false;
  int samples = 3;
};

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ", ") + DisplayText(s);
  return out.empty() ? "(none)" : out;
}

std::string When(int64_t micros) { return micros == 0 ? "never" : FormatRfc3339(micros); }

Result<config::DaemonOptions> LoadLdapConfig(const LdapArgs& a) {
  MV_ASSIGN_OR_RETURN(config::DaemonOptions o, config::LoadConfig(a.config));
  if (!o.ldap.enabled) {
    return Status::InvalidArgument(a.config + ": [ldap] enabled is not true");
  }
  return o;
}

std::string DataDirOf(const LdapArgs& a, const config::DaemonOptions& o) {
  if (!a.data.empty()) return a.data;
  if (const char* env = std::getenv("MAILVAULT_DATA"); env != nullptr && *env != '\0') return env;
  return o.data_dir;
}

Result<std::unique_ptr<LdapDirectory>> OpenDirectory(const LdapArgs& a, bool read_only) {
  MV_ASSIGN_OR_RETURN(config::DaemonOptions o, LoadLdapConfig(a));
  const std::string dir = DataDirOf(a, o);
  MV_ASSIGN_OR_RETURN(crypto::KeyRing * keys, CommandKeys(dir));
  auto d = LdapDirectory::Open(o.ldap, *PosixEnv(), DataDir(dir), *keys, read_only);
  if (!d.ok() && d.status().code() == Code::kNotFound) {
    return Status::NotFound("no LDAP cache in " + dir + " yet: run `mailvault ldap sync`");
  }
  return d;
}

nlohmann::json UserJson(const DirectoryUser& u) {
  nlohmann::json groups = nlohmann::json::array();
  for (size_t i = 0; i < u.groups.size(); ++i) {
    groups.push_back({{"dn", u.groups[i]}, {"direct", i < u.direct_groups}});
  }
  nlohmann::json j = {{"dn", u.dn},
                      {"name", u.name},
                      {"is_user", u.is_user},
                      {"is_mailbox", u.is_mailbox},
                      {"logins", nlohmann::json::array()},
                      {"addresses", nlohmann::json::array()},
                      {"groups", groups}};
  for (const std::string& l : u.logins) j["logins"].push_back(l);
  for (const std::string& a : u.addresses) j["addresses"].push_back(a);
  return j;
}

void PrintEntry(const std::string& indent, const std::string& dn, const std::string& name,
                const std::vector<std::string>& logins, const std::vector<std::string>& addresses,
                const std::vector<std::string>& groups, size_t direct) {
  std::printf("%sdn:        %s\n", indent.c_str(), DisplayText(dn).c_str());
  std::printf("%sname:      %s\n", indent.c_str(), DisplayText(name).c_str());
  std::printf("%slogins:    %s\n", indent.c_str(), Join(logins).c_str());
  std::printf("%saddresses: %s\n", indent.c_str(), Join(addresses).c_str());
  std::vector<std::string> d(groups.begin(), groups.begin() + std::min(direct, groups.size()));
  std::vector<std::string> n(groups.begin() + std::min(direct, groups.size()), groups.end());
  std::printf("%sgroups:    %s\n", indent.c_str(), Join(d).c_str());
  if (!n.empty()) std::printf("%snested:    %s\n", indent.c_str(), Join(n).c_str());
}

int RunTest(const LdapArgs& a) {
  auto o = LoadLdapConfig(a);
  if (!o.ok()) return ReportError(o.status());
  auto r = directory::TestLdap(o->ldap, *PosixEnv(), a.samples, a.user);
  if (!r.ok()) return ReportError(r.status().Annotate("ldap test"));
  std::printf("server:    %s (TLS, certificate checked)\n", r->server.c_str());
  std::printf("bind:      %s\n",
              o->ldap.bind_dn.empty() ? "anonymous" : DisplayText(o->ldap.bind_dn).c_str());
  std::printf("users:     %lld (filter %s)\n", static_cast<long long>(r->users),
              DisplayText(o->ldap.user_filter).c_str());
  for (const auto& s : r->samples) {
    std::printf("sample:\n");
    PrintEntry("  ", s.dn, s.name, s.logins, s.addresses, s.groups, s.direct_groups);
  }
  if (!a.user.empty()) {
    std::printf("lookup:    %s\n", DisplayText(r->login_filter).c_str());
    if (r->matches.empty()) std::printf("  no user found\n");
    for (const auto& s : r->matches) {
      PrintEntry("  ", s.dn, s.name, s.logins, s.addresses, s.groups, s.direct_groups);
    }
  }
  return kExitOk;
}

int RunSync(const LdapArgs& a) {
  auto dir = OpenDirectory(a, /*read_only=*/false);
  if (!dir.ok()) return ReportError(dir.status());
  auto r = (*dir)->Sync();
  if (!r.ok()) {
    auto st = (*dir)->State();
    std::string kept = st.ok() ? When(st->last_success) : "unknown";
    return ReportError("LDAP sync failed; the cache in use is unchanged (last good sync: " + kept +
                       "): " + DisplayText(r.status().message()));
  }
  const auto& s = r->state;
  if (a.json) {
    nlohmann::json j = {{"server", s.server},
                        {"users", s.users},
                        {"mailboxes", s.mailboxes},
                        {"groups", s.groups},
                        {"delegations", s.delegations},
                        {"skipped", s.skipped},
                        {"seconds", s.duration_micros / 1e6},
                        {"skip_reasons", nlohmann::json::array()}};
    for (const std::string& l : r->skipped) j["skip_reasons"].push_back(l);
    std::printf("%s\n", JsonText(j, 2).c_str());
    return kExitOk;
  }
  std::printf(
      "synced from %s in %.2fs: %lld users, %lld shared mailboxes, %lld groups, "
      "%lld delegations, %lld skipped\n",
      s.server.c_str(), s.duration_micros / 1e6, static_cast<long long>(s.users),
      static_cast<long long>(s.mailboxes), static_cast<long long>(s.groups),
      static_cast<long long>(s.delegations), static_cast<long long>(s.skipped));
  for (const std::string& l : r->skipped) std::printf("skipped: %s\n", DisplayText(l).c_str());
  return kExitOk;
}

int RunShow(const LdapArgs& a) {
  auto dir = OpenDirectory(a, /*read_only=*/true);
  if (!dir.ok()) return ReportError(dir.status());
  auto st = (*dir)->State();
  if (!st.ok()) return ReportError(st.status());
  if (a.user.empty()) {
    // The cache's state alone.
    if (a.json) {
      nlohmann::json j = {{"last_attempt", st->last_attempt},
                          {"last_success", st->last_success},
                          {"last_error", st->last_error},
                          {"server", st->server},
                          {"users", st->users},
                          {"mailboxes", st->mailboxes},
                          {"groups", st->groups},
                          {"delegations", st->delegations},
                          {"skipped", st->skipped}};
      std::printf("%s\n", JsonText(j, 2).c_str());
      return kExitOk;
    }
    std::printf("last sync:    %s from %s\n", When(st->last_success).c_str(),
                st->server.empty() ? "-" : st->server.c_str());
    std::printf("last attempt: %s%s\n", When(st->last_attempt).c_str(),
                st->last_error.empty() ? "" : (" FAILED: " + DisplayText(st->last_error)).c_str());
    std::printf("cache:        %lld users, %lld shared mailboxes, %lld groups, %lld delegations\n",
                static_cast<long long>(st->users), static_cast<long long>(st->mailboxes),
                static_cast<long long>(st->groups), static_cast<long long>(st->delegations));
    return kExitOk;
  }
  auto u = (*dir)->FindUser(a.user);
  if (!u.ok()) {
    if (u.status().code() == Code::kNotFound) {
      return ReportError("no directory user \"" + DisplayText(a.user) + "\" in the LDAP cache");
    }
    return ReportError(u.status());
  }
  auto delegated = (*dir)->DelegatedTo(u->dn);
  if (!delegated.ok()) return ReportError(delegated.status());
  if (a.json) {
    nlohmann::json j = UserJson(*u);
    j["delegated"] = nlohmann::json::array();
    for (const DelegatedMailbox& m : *delegated) {
      nlohmann::json via = nlohmann::json::array();
      for (const std::string& v : m.via) via.push_back(v);
      nlohmann::json mj = UserJson(m.mailbox);
      mj["via"] = via;
      j["delegated"].push_back(mj);
    }
    j["synced_at"] = st->last_success;
    std::printf("%s\n", JsonText(j, 2).c_str());
    return kExitOk;
  }
  PrintEntry("", u->dn, u->name, u->logins, u->addresses, u->groups, u->direct_groups);
  std::printf("delegated mailboxes:%s\n", delegated->empty() ? " (none)" : "");
  for (const DelegatedMailbox& m : *delegated) {
    std::string how;
    for (const std::string& v : m.via) {
      how += (how.empty() ? "" : "; ") +
             (v.empty() ? std::string("direct") : "through " + DisplayText(v));
    }
    std::printf("  %s <%s> (%s)\n", DisplayText(m.mailbox.dn).c_str(),
                Join(m.mailbox.addresses).c_str(), how.c_str());
  }
  std::printf("(cache of %s)\n", When(st->last_success).c_str());
  return kExitOk;
}

int RunAuth(const LdapArgs& a) {
  if (!a.password_stdin) return ReportError("ldap auth reads the password with --password-stdin");
  auto dir = OpenDirectory(a, /*read_only=*/true);
  if (!dir.ok()) return ReportError(dir.status());
  std::string password;
  std::getline(std::cin, password);
  if (!password.empty() && password.back() == '\r') password.pop_back();
  auto u = (*dir)->Authenticate(a.user, password);
  ::explicit_bzero(password.data(), password.size());
  if (!u.ok()) return ReportError(u.status());
  std::printf("ok: %s\n", DisplayText(u->dn).c_str());
  return kExitOk;
}

}  // namespace

void AddLdapCommands(CLI::App& app, Action* action) {
  CLI::App* ldap = app.add_subcommand("ldap", "The LDAP / Active Directory cache");
  ldap->require_subcommand(1);
  auto args = std::make_shared<LdapArgs>();
  auto common = [&](CLI::App* sub) {
    sub->add_option("-c,--config", args->config, "mailvaultd's config file ([ldap])")
        ->capture_default_str();
    sub->add_option("--data", args->data,
                    "Data dir (default: MAILVAULT_DATA, else the config's [store] dir)");
  };
  CLI::App* test = ldap->add_subcommand(
      "test", "Connect, bind, count the users and show a sample mapping (live; no cache)");
  common(test);
  test->add_option("--samples", args->samples, "Users to map")->capture_default_str();
  test->add_option("--user", args->user, "Also look up this login name in the directory");
  test->callback([=] { *action = [=] { return RunTest(*args); }; });
  CLI::App* sync = ldap->add_subcommand(
      "sync", "Read the directory and swap in a new cache (the old one stays on failure)");
  common(sync);
  sync->add_flag("--json", args->json, "JSON output");
  sync->callback([=] { *action = [=] { return RunSync(*args); }; });
  CLI::App* show = ldap->add_subcommand(
      "show",
      "A user's addresses, groups and delegated mailboxes, from the cache (no USER: "
      "the cache's state)");
  common(show);
  show->add_option("user", args->user, "Login name (any login attribute)");
  show->add_flag("--json", args->json, "JSON output");
  show->callback([=] { *action = [=] { return RunShow(*args); }; });
  CLI::App* auth = ldap->add_subcommand(
      "auth", "Check a directory user's password (cache lookup, then a bind over TLS)");
  common(auth);
  auth->add_option("user", args->user, "Login name")->required();
  auth->add_flag("--password-stdin", args->password_stdin, "Read the password from stdin");
  auth->callback([=] { *action = [=] { return RunAuth(*args); }; });
}

}  // namespace mailvault::cli
