#include "directory/ldap_directory.h"

#include <algorithm>

#include "directory/ldap_client.h"
#include "directory/ldap_filter.h"
#include "directory/ldap_mapping.h"

namespace mailvault::directory {
namespace {

constexpr char kWrong[] = "wrong login or password";
constexpr size_t kMaxLogin = 256;

void AddUnique(std::vector<std::string>* v, const std::string& a) {
  if (std::find(v->begin(), v->end(), a) == v->end()) v->push_back(a);
}

}  // namespace

std::vector<std::string> UserAttributes(const LdapOptions& o) {
  std::vector<std::string> a = {"cn", "displayName"};
  for (const std::string& x : o.login_attributes) AddUnique(&a, x);
  for (const std::string& x : o.address_attributes) AddUnique(&a, x);
  AddUnique(&a, o.group_attribute);
  AddUnique(&a, o.delegation_attribute);
  return a;
}

std::vector<std::string> GroupAttributes(const LdapOptions& o) { return {"cn", o.group_attribute}; }

LdapDirectory::LdapDirectory(const LdapOptions& options, Env& env,
                             std::unique_ptr<LdapCacheDb> cache)
    : options_(options), env_(env), cache_(std::move(cache)) {}

LdapDirectory::~LdapDirectory() = default;

Result<std::unique_ptr<LdapDirectory>> LdapDirectory::Open(const LdapOptions& options, Env& env,
                                                           const DataDir& data,
                                                           const crypto::KeyRing& keys,
                                                           bool read_only) {
  MV_RETURN_IF_ERROR(CheckLdapOptions(options));
  auto cache =
      LdapCacheDb::Open(data.ldap_cache(), keys.Derived(crypto::KeyPurpose::kLdapCache), read_only);
  if (!cache.ok()) return cache.status().Annotate("LDAP cache " + data.ldap_cache());
  return std::unique_ptr<LdapDirectory>(new LdapDirectory(options, env, std::move(*cache)));
}

Result<std::string> ReadBindPassword(const LdapOptions& options_, Env& env_) {
  if (options_.bind_password_file.empty()) return std::string();
  auto text = env_.ReadFile(options_.bind_password_file);
  if (!text.ok()) {
    return Status::IOError("ldap.bind_password_file " + options_.bind_password_file + ": " +
                           text.status().message());
  }
  std::string pw = *text;
  while (!pw.empty() && (pw.back() == '\n' || pw.back() == '\r')) pw.pop_back();
  if (pw.empty()) {
    return Status::IOError("ldap.bind_password_file " + options_.bind_password_file + " is empty");
  }
  return pw;
}

Result<LdapSyncReport> LdapDirectory::Sync() {
  std::lock_guard<std::mutex> lock(sync_mu_);
  const int64_t started = env_.NowMicros();
  auto report = SyncLocked();
  if (!report.ok()) {
    Status recorded = cache_->RecordFailure(started, report.status().message());
    if (!recorded.ok())
      return report.status().Annotate("(not recorded: " + recorded.message() + ")");
  }
  return report;
}

Result<LdapSyncReport> LdapDirectory::SyncLocked() {
  const int64_t started = env_.NowMicros();
  if (!options_.enabled) return Status::InvalidArgument("LDAP is not enabled ([ldap] enabled)");
  MV_ASSIGN_OR_RETURN(std::string password, ReadBindPassword(options_, env_));
  MV_ASSIGN_OR_RETURN(std::unique_ptr<LdapConnection> conn,
                      LdapConnection::Connect(options_, options_.bind_dn, password));
  SyncInput input;
  auto into = [](std::vector<LdapEntry>* v) {
    return [v](LdapEntry&& e) {
      v->push_back(std::move(e));
      return Status::Ok();
    };
  };
  const std::vector<std::string> user_attrs = UserAttributes(options_);
  MV_RETURN_IF_ERROR(
      conn->Search(options_.base_dn, options_.user_filter, user_attrs, into(&input.users))
          .Annotate("users"));
  MV_RETURN_IF_ERROR(conn->Search(options_.base_dn, options_.group_filter,
                                  GroupAttributes(options_), into(&input.groups))
                         .Annotate("groups"));
  // Shared mailboxes outside the user filter (AD's are disabled users, so
  // usually inside it too; BuildSnapshot merges them by DN).
  const std::string mailbox_filter = "(" + options_.delegation_attribute + "=*)";
  MV_RETURN_IF_ERROR(
      conn->Search(options_.base_dn, mailbox_filter, user_attrs, into(&input.mailboxes))
          .Annotate("mailboxes"));
  MV_ASSIGN_OR_RETURN(Snapshot snap, BuildSnapshot(options_, input));
  LdapSyncReport report;
  LdapSyncState& st = report.state;
  st.last_attempt = started;
  st.last_success = started;
  st.server = conn->server();
  for (const CachedEntry& e : snap.entries) {
    st.users += e.is_user;
    st.mailboxes += e.is_mailbox;
  }
  st.groups = static_cast<int64_t>(snap.groups);
  st.delegations = static_cast<int64_t>(snap.delegations.size());
  st.skipped = static_cast<int64_t>(snap.skipped_count);
  st.duration_micros = env_.NowMicros() - started;
  MV_RETURN_IF_ERROR(cache_->Replace(snap, st).Annotate("write the LDAP cache"));
  report.skipped = std::move(snap.skipped);
  return report;
}

Result<LdapTestReport> TestLdap(const LdapOptions& options_, Env& env, int samples,
                                std::string_view login) {
  MV_RETURN_IF_ERROR(CheckLdapOptions(options_));
  if (options_.servers.empty()) return Status::InvalidArgument("ldap.servers: no server");
  MV_ASSIGN_OR_RETURN(std::string password, ReadBindPassword(options_, env));
  MV_ASSIGN_OR_RETURN(std::unique_ptr<LdapConnection> conn,
                      LdapConnection::Connect(options_, options_.bind_dn, password));
  LdapTestReport report;
  report.server = conn->server();
  SyncInput input;
  MV_RETURN_IF_ERROR(conn->Search(options_.base_dn, options_.user_filter, UserAttributes(options_),
                                  [&](LdapEntry&& e) {
                                    if (report.users++ < samples) {
                                      input.users.push_back(std::move(e));
                                    }
                                    return Status::Ok();
                                  }));
  LdapOptions o = options_;
  o.enabled = false;  // BuildSnapshot checks the values, not the switch
  MV_ASSIGN_OR_RETURN(Snapshot snap, BuildSnapshot(o, input));
  report.samples = std::move(snap.entries);
  if (!login.empty()) {
    MV_ASSIGN_OR_RETURN(report.login_filter,
                        LoginFilter(options_.user_filter, options_.login_attributes, login));
    SyncInput found;
    MV_RETURN_IF_ERROR(conn->Search(options_.base_dn, report.login_filter, UserAttributes(options_),
                                    [&](LdapEntry&& e) {
                                      found.users.push_back(std::move(e));
                                      return Status::Ok();
                                    }));
    MV_ASSIGN_OR_RETURN(Snapshot m, BuildSnapshot(o, found));
    report.matches = std::move(m.entries);
  }
  return report;
}

Result<DirectoryUser> LdapDirectory::FindUser(std::string_view login) {
  return cache_->FindByLogin(login);
}

Result<std::vector<DelegatedMailbox>> LdapDirectory::DelegatedTo(std::string_view dn) {
  return cache_->DelegatedTo(dn);
}

Result<DirectoryUser> LdapDirectory::Authenticate(std::string_view login,
                                                  std::string_view password) {
  if (login.empty() || login.size() > kMaxLogin || password.empty() ||
      std::any_of(login.begin(), login.end(), [](char c) {
        auto u = static_cast<unsigned char>(c);
        return u < 0x20 || u == 0x7f;
      })) {
    return Status::PermissionDenied(kWrong);
  }
  auto user = cache_->FindByLogin(login);
  if (!user.ok()) {
    if (user.status().code() == Code::kNotFound || user.status().code() == Code::kInvalidArgument) {
      return Status::PermissionDenied(kWrong);
    }
    return user.status();
  }
  LdapOptions o = options_;
  for (const std::string& url : o.servers) {
    auto server = ParseLdapServer(url);
    if (server.ok() && !server->ldaps && !o.starttls) {
      return Status::PermissionDenied("directory sign-in needs TLS: ldap.starttls is off for " +
                                      server->url);
    }
  }
  // A fresh connection, no lookup-account bind: the user's own bind is
  // the only one on it.
  MV_ASSIGN_OR_RETURN(std::unique_ptr<LdapConnection> conn, LdapConnection::Connect(o, "", ""));
  Status bound = conn->Bind(user->dn, password);
  if (bound.code() == Code::kPermissionDenied) return Status::PermissionDenied(kWrong);
  MV_RETURN_IF_ERROR(bound);
  return user;
}

Result<LdapSyncState> LdapDirectory::State() { return cache_->State(); }

}  // namespace mailvault::directory
