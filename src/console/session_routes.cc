// Login, the session and logout (POST/GET/DELETE /api/v1/session).
#include <spdlog/spdlog.h>

#include "base/metrics.h"
#include "base/units.h"
#include "console/server_impl.h"

namespace mailvault::console {
namespace {

using metrics::Counter;
using metrics::CounterFamily;
using nlohmann::json;

constexpr size_t kMaxNameBytes = 256;

// mailvault_console_signin_failures_total{reason} (docs/metrics.md).
Counter& SigninFailures(std::string_view reason) {
  static CounterFamily& f = metrics::Global().Counters(
      "mailvault_console_signin_failures_total",
      "Console sign-ins refused: wrong_password (unknown name or wrong password) or throttled "
      "(too many failures).",
      {"reason"});
  return f.With({reason});
}

// A name as typed, made safe for the audit log (a failed login records what
// was tried, which may be anything).
std::string PrintableName(std::string_view name) {
  std::string out;
  for (char c : name.substr(0, 64)) {
    unsigned char u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? '?' : c;
  }
  if (name.size() > 64) out += "...";
  return out;
}

}  // namespace

json ConsoleServer::Impl::SessionJson(const Call& c) const {
  json j = {{"account", c.who.account},
            {"role", c.who.role},
            {"permissions", PermissionNames(c.who.permissions)}};
  if (c.session) {
    j["csrf_token"] = c.session->csrf_token;
    j["idle_timeout"] = options.sessions.idle_micros / 1'000'000;
    j["expires_at"] = FormatRfc3339(c.session->expires_at);
  } else {
    j["csrf_token"] = nullptr;
    j["idle_timeout"] = nullptr;
    j["expires_at"] = nullptr;
  }
  if (c.who.personal) j["personal"] = PersonalSessionJson(c);
  return j;
}

void ConsoleServer::Impl::Login(Call& c) {
  const httplib::Request& req = c.req;
  c.res.set_header("Cache-Control", "no-store");
  // JSON only: a cross-site HTML form can post urlencoded or multipart
  // bodies without a preflight, never application/json.
  const std::string type = req.get_header_value("Content-Type");
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  // Refusals name the account tried, when the body says it.
  if (body.is_object() && body.contains("name") && body["name"].is_string()) {
    c.who.account = PrintableName(body["name"].get<std::string>());
  }
  if (type.rfind("application/json", 0) != 0) {
    SendError(c.res, 415, "send the login as application/json {\"name\", \"password\"}");
    c.detail = "content type \"" + type.substr(0, 100) + "\" refused";
    Audit(c, "login", "denied").IgnoreError();
    return;
  }
  if (!OriginAllowed(req)) {
    SendError(c.res, 403, "a foreign Origin may not sign in here");
    c.detail = "foreign Origin " + req.get_header_value("Origin").substr(0, 200) + " refused";
    Audit(c, "login", "denied").IgnoreError();
    return;
  }
  if (!body.is_object() || !body.contains("name") || !body["name"].is_string() ||
      !body.contains("password") || !body["password"].is_string()) {
    return SendError(c.res, 400, "send {\"name\": \"...\", \"password\": \"...\"}");
  }
  const std::string name = body["name"].get<std::string>();
  const std::string password = body["password"].get<std::string>();
  if (name.empty() || name.size() > kMaxNameBytes) {
    return SendError(c.res, 400, "the name must be 1 to 256 bytes");
  }
  c.who.account = PrintableName(name);
  c.who.role = "";
  const std::string& address = req.remote_addr;
  if (int64_t wait = throttle.WaitMicros(name, address); wait > 0) {
    const int64_t seconds = (wait + 999'999) / 1'000'000;
    c.res.set_header("Retry-After", std::to_string(seconds));
    SendJson(c.res, 429,
             {{"error", "too many failed sign-ins: try again in " + std::to_string(seconds) + " s"},
              {"retry_after", seconds}});
    c.detail = "throttled";
    SigninFailures("throttled").Add();
    Audit(c, "login", "denied").IgnoreError();
    return;
  }
  if (services.accounts == nullptr) {
    return SendError(c.res, 503, "no accounts database: sign-in is not available");
  }
  Result<directory::Account> account = Status::Unavailable("not checked");
  {
    // Bound the memory and CPU that password checks take at once.
    login_slots.acquire();
    account = services.accounts->Authenticate(name, password);
    login_slots.release();
  }
  // A name no local account has may be a directory user's (a local
  // account of the same name wins, even a disabled one).
  if (!account.ok() && account.status().code() == Code::kPermissionDenied &&
      services.directory != nullptr &&
      services.accounts->Get(name).status().code() == Code::kNotFound) {
    return DirectoryLogin(c, name, password);
  }
  if (!account.ok()) {
    if (account.status().code() != Code::kPermissionDenied) {
      spdlog::error("console: login of {}: {}", c.who.account, account.status().ToString());
      SendStatus(c.res, account.status());
      Audit(c, "login", "error").IgnoreError();
      return;
    }
    throttle.Failed(name, address);
    SigninFailures("wrong_password").Add();
    c.res.set_header("WWW-Authenticate", "Bearer");  // every 401 names a scheme (RFC 9110)
    SendError(c.res, 401, std::string(directory::kWrongLogin));
    c.detail = "wrong user name or password";
    Audit(c, "login", "denied").IgnoreError();
    return;
  }
  throttle.Succeeded(name, address);
  StartSession(c, account->name, account->role, "");
}

void ConsoleServer::Impl::DirectoryLogin(Call& c, const std::string& name,
                                         const std::string& password) {
  const std::string& address = c.req.remote_addr;
  Result<directory::DirectorySignIn> user = Status::Unavailable("not checked");
  {
    // A bind waits for the network (bounded by the LDAP timeout): it
    // takes a slot like a password hash.
    login_slots.acquire();
    user = services.directory->Authenticate(name, password);
    login_slots.release();
  }
  if (!user.ok()) {
    if (user.status().code() != Code::kPermissionDenied) {
      // Never a sign-in, never a hang: the directory's timeout has passed.
      spdlog::error("console: directory sign-in of {}: {}", c.who.account,
                    user.status().ToString());
      SendError(c.res, 503,
                user.status().code() == Code::kUnavailable
                    ? "the directory (LDAP) cannot be reached now: try again later"
                    : "directory sign-in failed: " + user.status().message());
      c.detail = "directory: " + user.status().message().substr(0, 200);
      Audit(c, "login", "error").IgnoreError();
      return;
    }
    throttle.Failed(name, address);
    SigninFailures("wrong_password").Add();
    c.res.set_header("WWW-Authenticate", "Bearer");
    SendError(c.res, 401, std::string(directory::kWrongLogin));
    c.detail = "wrong user name or password (directory)";
    Audit(c, "login", "denied").IgnoreError();
    return;
  }
  throttle.Succeeded(name, address);
  c.detail = "directory user " + PrintableName(user->dn);
  StartSession(c, user->login, directory::Role::kPersonal, user->dn);
}

void ConsoleServer::Impl::StartSession(Call& c, const std::string& account, directory::Role role,
                                       const std::string& directory_dn) {
  const httplib::Request& req = c.req;
  // A new session on every login; one the browser already held is ended, so
  // a token planted before the login is worth nothing after it.
  if (std::string old = SessionCookie(req); !old.empty()) sessions.Remove(old);
  Session session = sessions.Create(account, directory_dn);
  c.who.account = account;
  c.who.role = std::string(directory::RoleName(role));
  c.who.permissions = RolePermissions(role);
  c.who.via_session = true;
  c.session = session;
  if (role == directory::Role::kPersonal && !ResolvePersonal(c)) {
    sessions.Remove(session.token);
    Audit(c, "login", "error").IgnoreError();
    return;
  }
  std::string cookie = CookieName() + "=" + session.token + "; Path=/; HttpOnly; SameSite=Strict";
  if (tls) cookie += "; Secure";
  c.res.set_header("Set-Cookie", cookie);
  SendJson(c.res, 200, SessionJson(c));
  if (!Audit(c, "login", "ok").ok()) {
    // No unrecorded sign-in.
    sessions.Remove(session.token);
    c.res.headers.erase("Set-Cookie");
    SendError(c.res, 503, "the audit log is unavailable: sign-in refused");
  }
}

void ConsoleServer::Impl::GetSession(Call& c) { SendJson(c.res, 200, SessionJson(c)); }

void ConsoleServer::Impl::Logout(Call& c) {
  if (!c.session) return SendError(c.res, 400, "no session to end (this is the API token)");
  sessions.Remove(c.session->token);
  c.res.set_header("Set-Cookie", CookieName() + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0" +
                                     (tls ? "; Secure" : ""));
  c.res.status = 204;
}

}  // namespace mailvault::console
