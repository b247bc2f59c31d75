// The console server: request pipeline (who, CSRF, permission, route,
// audit), the UI, start and stop (see server.h).
#include "console/server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <limits>

#include "base/display_text.h"
#include "base/json_text.h"
#include "base/units.h"
#include "console/meta.h"
#include "console/query_params.h"
#include "console/server_impl.h"
#include "console/web_assets.h"

namespace mailvault::console {
namespace {

using nlohmann::json;

// The UI page's policy: its own scripts, styles and API only; the preview
// frame comes from its own origin (and carries its own, stricter policy).
constexpr char kUiPolicy[] =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";

constexpr char kNoUiPage[] =
    "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>mailvault</title></head>"
    "<body><p>The mailvault console UI was not built into this mailvaultd. The REST API is at "
    "/api/v1/ (docs/openapi.yaml).</p></body></html>\n";

std::string ResultFor(int status) {
  if (status < 400) return "ok";
  if (status == 401 || status == 403) return "denied";
  if (status < 500) return "failed";
  return "error";
}

// "period=day&subject=invoice": what a search asked for, for the audit log.
std::string DescribeParams(const httplib::Params& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    if (v.empty()) continue;
    if (!out.empty()) out += '&';
    out += k + "=" + v;
  }
  return out;
}

std::string PatternFor(const char* path) {
  std::string p = path;
  const std::string id = "{id}";
  for (size_t at = p.find(id); at != std::string::npos; at = p.find(id, at)) {
    p.replace(at, id.size(), R"((\d+))");
  }
  return p;
}

}  // namespace

void SendJson(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(JsonText(body) + "\n", "application/json");
}

void SendError(httplib::Response& res, int status, const std::string& message) {
  SendJson(res, status, {{"error", message}});
}

int HttpStatusFor(const Status& s) {
  switch (s.code()) {
    case Code::kInvalidArgument:
      return 400;
    case Code::kNotFound:
      return 404;
    case Code::kPermissionDenied:
      return 403;
    case Code::kAlreadyExists:
      return 409;
    case Code::kUnavailable:
    case Code::kNoSpace:
      return 503;
    default:
      return 500;
  }
}

void SendStatus(httplib::Response& res, const Status& s) {
  const int code = HttpStatusFor(s);
  // Internal details (paths, SQLite messages) stay in the daemon's log.
  SendError(res, code, code == 500 ? "internal error (see the mailvaultd log)" : s.message());
}

Result<CopyId> PathId(const httplib::Request& req) {
  if (req.matches.size() < 2) return Status::InvalidArgument("no copy id in the path");
  const std::string text = req.matches[1].str();
  uint64_t id = 0;
  if (text.empty() || text.size() > 19) return Status::InvalidArgument("bad copy id");
  for (char c : text) id = id * 10 + static_cast<uint64_t>(c - '0');
  if (id == 0) return Status::InvalidArgument("bad copy id");
  return id;
}

bool IsLoopbackHost(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

namespace {

std::string LowerCase(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// A host name or address as compared: lower case, no brackets, no trailing
// dot.
std::string HostKey(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  return LowerCase(host);
}

}  // namespace

bool HostAllowed(std::string_view host_header, const std::vector<std::string>& server_names,
                 std::string_view listen_host, std::string_view local_addr) {
  // Split off the port: "[v6]:port", "name:port"; a bare IPv6 address
  // (more than one colon, no brackets) is not a valid Host.
  std::string_view name = host_header;
  if (!name.empty() && name.front() == '[') {
    const size_t close = name.find(']');
    if (close == std::string_view::npos) return false;
    std::string_view rest = name.substr(close + 1);
    name = name.substr(0, close + 1);
    if (!rest.empty() && (rest.front() != ':' || rest.size() == 1)) return false;
    rest.remove_prefix(rest.empty() ? 0 : 1);
    if (!std::all_of(rest.begin(), rest.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return false;
    }
  } else if (const size_t colon = name.find(':'); colon != std::string_view::npos) {
    std::string_view port = name.substr(colon + 1);
    if (port.empty() ||
        !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return false;
    }
    name = name.substr(0, colon);
  }
  const std::string key = HostKey(name);
  if (key.empty()) return false;
  for (const std::string& allowed : server_names) {
    if (HostKey(allowed) == key) return true;
  }
  const std::string listen = HostKey(listen_host);
  // A wildcard listen address is no name anyone should use (browsers send
  // 0.0.0.0 to loopback); the address the connection came in on stands for it.
  if (!listen.empty() && listen != "0.0.0.0" && listen != "::" && listen == key) return true;
  if (!local_addr.empty() && HostKey(local_addr) == key) return true;
  if (IsLoopbackHost(listen)) {
    return key == "localhost" || key == "127.0.0.1" || key == "::1";
  }
  return false;
}

std::vector<uint64_t> RequestedCopyIds(const httplib::Request& req) {
  std::vector<uint64_t> ids;
  auto add = [&ids](uint64_t id) {
    if (id != 0 && ids.size() < journal::kMaxCopyIds &&
        std::find(ids.begin(), ids.end(), id) == ids.end()) {
      ids.push_back(id);
    }
  };
  if (auto id = PathId(req); id.ok()) add(*id);
  if (req.has_param("ids")) {
    const std::string text = req.get_param_value("ids");
    size_t start = 0;
    while (start < text.size()) {
      size_t comma = std::min(text.find(',', start), text.size());
      auto id = ParsePositive("ids", std::string_view(text).substr(start, comma - start));
      if (id.ok()) add(*id);
      start = comma + 1;
    }
  }
  // Bulk routes send {"ids": [...]}; small bodies only (this is for the
  // record of a refusal, not worth parsing megabytes for).
  constexpr size_t kMaxParsedBody = 1 << 20;
  if (!req.body.empty() && req.body.size() <= kMaxParsedBody &&
      req.get_header_value("Content-Type").rfind("application/json", 0) == 0) {
    json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (body.is_object() && body.contains("ids") && body["ids"].is_array()) {
      for (const json& v : body["ids"]) {
        if (v.is_number_unsigned()) add(v.get<uint64_t>());
      }
    }
  }
  return ids;
}

std::string DescribeRequest(const httplib::Request& req) {
  std::string out = req.method + " " + req.path;
  if (std::string params = DescribeParams(req.params); !params.empty()) out += "?" + params;
  return out;
}

std::string WithoutBrotli(std::string_view accept_encoding) {
  std::string out;
  size_t pos = 0;
  while (pos <= accept_encoding.size()) {
    size_t comma = accept_encoding.find(',', pos);
    if (comma == std::string_view::npos) comma = accept_encoding.size();
    std::string_view item = accept_encoding.substr(pos, comma - pos);
    pos = comma + 1;
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item.empty()) continue;
    std::string coding(item.substr(0, item.find(';')));
    std::transform(coding.begin(), coding.end(), coding.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    // httplib picks brotli when the header merely contains "br" anywhere.
    if (coding.find("br") != std::string::npos) continue;
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

ConsoleServer::Impl::Impl(const ConsoleServices& s, ConsoleOptions o)
    : services(s),
      options(std::move(o)),
      env(*s.env),
      store(*s.store),
      settings(*s.settings),
      sessions(*s.env, options.sessions),
      throttle(*s.env, options.throttle),
      refusals(options.refusals),
      login_slots(std::clamp(options.login_concurrency, 1, 64)) {
  mailboxes = s.mailboxes;
  if (mailboxes == nullptr && s.accounts != nullptr) {
    local_mailboxes = std::make_unique<directory::LocalMailboxes>(*s.accounts);
    mailboxes = local_mailboxes.get();
  }
}

std::string ConsoleServer::Impl::SessionCookie(const httplib::Request& req) const {
  const std::string name = CookieName() + "=";
  auto [lo, hi] = req.headers.equal_range("Cookie");
  for (auto it = lo; it != hi; ++it) {
    std::string_view v = it->second;
    while (!v.empty()) {
      size_t semi = v.find(';');
      std::string_view piece = v.substr(0, semi);
      while (!piece.empty() && piece.front() == ' ') piece.remove_prefix(1);
      if (piece.substr(0, name.size()) == name) return std::string(piece.substr(name.size()));
      if (semi == std::string_view::npos) break;
      v.remove_prefix(semi + 1);
    }
  }
  return "";
}

bool ConsoleServer::Impl::Resolve(Call& c) {
  // Every 401 names the scheme that works without a browser (RFC 9110
  // requires a challenge; docs/api.md promises this one).
  auto refuse = [&c](const std::string& message, const std::string& why) {
    c.res.set_header("WWW-Authenticate", "Bearer");
    SendError(c.res, 401, message);
    c.detail = why;
    return false;
  };
  constexpr char kSignIn[] = "not signed in, or the session has ended: sign in again";
  const std::string authorization = c.req.get_header_value("Authorization");
  if (!authorization.empty()) {
    if (BearerMatches(authorization, options.token)) {
      c.who = TokenPrincipal();
      return true;
    }
    return refuse("missing or wrong token (Authorization: Bearer TOKEN)", "wrong API token");
  }
  const std::string cookie = SessionCookie(c.req);
  if (cookie.empty()) return refuse(kSignIn, "no session and no token");
  std::optional<Session> session = sessions.Touch(cookie);
  if (!session) return refuse(kSignIn, "unknown or expired session");
  if (services.accounts == nullptr) return refuse(kSignIn, "no accounts database");
  c.who.account = session->account;
  if (!session->directory_dn.empty()) {
    // A directory user: still the same entry in the cache, and no local
    // account of that name since (a local account wins).
    std::string ended;
    auto local = services.accounts->Get(session->account);
    if (local.ok()) {
      ended = "a local account of this name was made since the directory sign-in";
    } else if (local.status().code() != Code::kNotFound) {
      spdlog::error("console: reading account {}: {}", session->account, local.status().ToString());
      SendStatus(c.res, local.status());
      c.detail = "cannot read the account";
      return false;
    } else if (services.directory == nullptr) {
      ended = "directory sign-in is no longer configured";
    } else {
      auto user = services.directory->Find(session->account);
      if (!user.ok() && user.status().code() != Code::kNotFound) {
        spdlog::error("console: directory user {}: {}", session->account, user.status().ToString());
        SendError(c.res, 503, "the directory cache cannot be read now: try again later");
        c.detail = "cannot read the directory cache";
        return false;
      }
      if (!user.ok()) {
        ended = "directory user no longer in the directory";
      } else if (user->dn != session->directory_dn) {
        ended = "the login names another directory entry since sign-in";
      }
    }
    c.who.role = std::string(directory::RoleName(directory::Role::kPersonal));
    if (!ended.empty()) {
      sessions.Remove(session->token);
      return refuse(kSignIn, ended);
    }
    c.who.permissions = RolePermissions(directory::Role::kPersonal);
    c.who.via_session = true;
    c.session = std::move(session);
    return ResolvePersonal(c);
  }
  // The account as it is now: a role change applies at once; a disabled or
  // removed account ends the session, and so does a disable or password
  // change since the login (sessions_ended_at), even if the account has
  // been enabled again since.
  auto account = services.accounts->Get(session->account);
  if (!account.ok() && account.status().code() != Code::kNotFound) {
    spdlog::error("console: reading account {}: {}", session->account, account.status().ToString());
    SendStatus(c.res, account.status());
    c.detail = "cannot read the account";
    return false;
  }
  std::string ended;
  if (!account.ok()) {
    ended = "session of a removed account";
  } else if (account->disabled) {
    ended = "session of a disabled account";
  } else if (account->sessions_ended_at >= session->created_at) {
    ended = "session ended by a disable or password change since sign-in";
  } else if (account->created_at > session->created_at) {
    ended = "session of an account removed and made again since sign-in";
  }
  if (account.ok()) c.who.role = std::string(directory::RoleName(account->role));
  if (!ended.empty()) {
    sessions.Remove(session->token);
    return refuse(kSignIn, ended);
  }
  c.who.permissions = RolePermissions(account->role);
  c.who.via_session = true;
  c.session = std::move(session);
  if (account->role == directory::Role::kPersonal) return ResolvePersonal(c);
  return true;
}

bool ConsoleServer::Impl::ResolvePersonal(Call& c) {
  c.who.personal = true;
  auto settings = services.accounts->GetPersonalSettings();
  if (!settings.ok()) {
    spdlog::error("console: reading the personal settings: {}", settings.status().ToString());
    SendError(c.res, 503, "the personal Backup's settings cannot be read now");
    c.detail = "cannot read the personal settings";
    return false;
  }
  c.personal = *settings;
  c.who.permissions = PersonalPermissions(c.personal);
  auto boxes = mailboxes->MailboxesOf(c.who.account);
  if (!boxes.ok() && boxes.status().code() != Code::kNotFound) {
    spdlog::error("console: mailboxes of {}: {}", c.who.account, boxes.status().ToString());
    SendError(c.res, 503, "your mailboxes cannot be looked up now: try again later");
    c.detail = "cannot look up the mailboxes";
    return false;
  }
  if (boxes.ok()) {
    for (directory::Mailbox& m : *boxes) {
      if (!m.delegated || c.personal.group_mailboxes) c.who.mailboxes.push_back(std::move(m));
    }
  }
  return true;
}

bool ConsoleServer::Impl::CheckVisible(Call& c, const CopyMeta& meta) {
  if (!c.who.personal || !VisibleThrough(c.who, meta.rcpt).empty()) return true;
  SendError(c.res, 404, "no copy " + std::to_string(meta.id));
  if (std::find(c.copy_ids.begin(), c.copy_ids.end(), meta.id) == c.copy_ids.end()) {
    c.copy_ids.push_back(meta.id);
  }
  AuditRefusal(c, c.action,
               "copy " + std::to_string(meta.id) + " is not addressed to a mailbox of this user");
  return false;
}

bool ConsoleServer::Impl::OriginAllowed(const httplib::Request& req) const {
  // Browsers send Origin on every cross-origin request and on same-origin
  // POST/PUT/DELETE; it must name this server. No Origin (a script, or an
  // old browser) passes: the CSRF token is the real check.
  const std::string origin = req.get_header_value("Origin");
  if (origin.empty()) return true;
  const std::string host = req.get_header_value("Host");
  return !host.empty() && origin == std::string(tls ? "https://" : "http://") + host;
}

void ConsoleServer::Impl::RecordRefusalSummaries(int64_t now) {
  for (const RefusalLimiter::Summary& s : refusals.TakeEnded(now)) {
    journal::AuditEvent e;
    e.at = s.last_micros;
    e.client = s.address.empty() ? "many" : s.address;
    e.action = "refusals";
    e.result = "denied";
    e.detail = s.Describe() + " between " + FormatRfc3339(s.first_micros) + " and " +
               FormatRfc3339(s.last_micros);
    if (Status st = services.audit->Record(e); !st.ok()) {
      spdlog::error("audit log: cannot record {}: {}", e.detail, st.ToString());
    }
  }
}

Status ConsoleServer::Impl::Audit(Call& c, const char* action, const std::string& result) {
  const int64_t now = env.NowMicros();
  RecordRefusalSummaries(now);
  const std::string outcome = result.empty() ? ResultFor(c.res.status) : result;
  if (outcome != "ok" && c.who.permissions == 0) {
    // No valid credentials: a flood of these must not flood the log.
    bool first_cut = false;
    if (!refusals.Admit(c.req.remote_addr, action, now, &first_cut)) {
      if (first_cut) {
        spdlog::warn(
            "console: many refused unauthenticated requests from {}: further ones this minute "
            "are counted and recorded as one summary",
            DisplayText(c.req.remote_addr));
      }
      c.audited = true;
      return Status::Ok();
    }
  }
  journal::AuditEvent e;
  e.account = c.who.account;
  e.role = c.who.role;
  e.client = c.req.remote_addr;
  e.action = action;
  e.copy_ids = c.copy_ids;
  e.result = outcome;
  e.detail = c.detail;
  Status s = services.audit->Record(e);
  if (!s.ok()) {
    // The daemon's log keeps what the audit log could not.
    spdlog::error("audit log: cannot record {} {} by {} from {} ({}): {}", e.action, e.result,
                  e.account, e.client, e.detail, s.ToString());
  }
  c.audited = true;
  return s;
}

bool ConsoleServer::Impl::AuditBeforeSending(Call& c, const char* action) {
  c.res.status = 200;
  if (Audit(c, action, "ok").ok()) return true;
  SendError(c.res, 503, "the audit log is unavailable: content is not shown unrecorded");
  return false;
}

void ConsoleServer::Impl::AuditRefusal(Call& c, const char* action, const std::string& why) {
  if (c.copy_ids.empty()) c.copy_ids = RequestedCopyIds(c.req);
  c.detail = why + ": " + DescribeRequest(c.req);
  Audit(c, action, c.res.status >= 500 ? "error" : "denied").IgnoreError();
}

bool ConsoleServer::Impl::CheckHost(const httplib::Request& req, httplib::Response& res) {
  const std::string host = req.get_header_value("Host");
  if (HostAllowed(host, options.server_names, options.host, req.local_addr)) return true;
  res.headers.clear();
  res.set_header("Cache-Control", "no-store");
  res.set_header("X-Content-Type-Options", "nosniff");
  if (host.empty()) {
    SendError(res, 400, "no Host header");
  } else {
    SendError(res, 421,
              "this console does not answer to the name in the Host header (add it to [api] "
              "server_names)");
  }
  Call c{req, res, {}, std::nullopt, nullptr, {}, {}, false, "request", {}};
  AuditRefusal(c, "request", "Host \"" + host + "\" is not a name of this console");
  return false;
}

void ConsoleServer::Impl::Dispatch(const RouteDef& def, const httplib::Request& req,
                                   httplib::Response& res, const httplib::ContentReader* reader) {
  res.set_header("Cache-Control", "no-store");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("X-Frame-Options", "DENY");
  if (tls) res.set_header("Strict-Transport-Security", "max-age=31536000");
  Call c{req, res, {}, std::nullopt, reader, {}, {}, false, def.action, {}};
  const std::string method = req.method;
  // A route that reads its own body has not read it yet: a refusal closes
  // the connection rather than leave the body to be read as the next
  // request.
  auto refused_unread = [&] {
    if (def.reads_body) res.set_header("Connection", "close");
  };
  if (def.auth) {
    if (!Resolve(c)) {
      refused_unread();
      AuditRefusal(c, def.action, c.detail);
      return;
    }
    if (c.who.via_session && method != "GET") {
      const std::string given = req.get_header_value("X-CSRF-Token");
      if (!OriginAllowed(req) || given.empty() ||
          !ConstantTimeEquals(given, c.session->csrf_token)) {
        SendError(res, 403, "missing or wrong CSRF token (X-CSRF-Token), or a foreign Origin");
        refused_unread();
        AuditRefusal(c, def.action,
                     !OriginAllowed(req) ? "foreign Origin " + req.get_header_value("Origin")
                                         : "CSRF check failed");
        return;
      }
    }
    if (c.who.personal && !c.personal.enabled && std::string_view(def.path) != "/api/v1/session") {
      SendError(res, 403, "the personal Backup is turned off by the administrator");
      refused_unread();
      AuditRefusal(c, def.action, "personal Backup is off");
      return;
    }
    if (def.permission && !Has(c.who.permissions, *def.permission)) {
      SendError(res, 403,
                "the role " + c.who.role + " may not do this (" +
                    std::string(PermissionName(*def.permission)) + ")");
      refused_unread();
      AuditRefusal(c, def.action, "no permission " + std::string(PermissionName(*def.permission)));
      return;
    }
  }
  if (std::string_view(def.action) == "search") c.detail = DescribeParams(req.params);
  (this->*def.handler)(c);
  if (c.audited) return;
  const bool refused = res.status == 401 || res.status == 403;
  if (!def.audit_allowed && !refused) return;
  if (!def.auth && c.who.account.empty()) return;
  if (res.status >= 400) {
    // Why it was refused or failed: the answer's own words.
    json answer = json::parse(res.body, nullptr, /*allow_exceptions=*/false);
    if (answer.is_object() && answer.contains("error") && answer["error"].is_string()) {
      const std::string why = answer["error"].get<std::string>();
      if (c.detail.find(why) == std::string::npos) {
        c.detail += (c.detail.empty() ? "" : "; ") + std::string(refused ? "refused: " : "") + why;
      }
    }
    if (c.copy_ids.empty()) c.copy_ids = RequestedCopyIds(req);
  }
  Status s = Audit(c, def.action);
  if (!s.ok() && def.audit_first) {
    res.body.clear();
    res.headers.erase("Content-Disposition");
    res.headers.erase("Content-Security-Policy");
    SendError(res, 503, "the audit log is unavailable: content is not shown unrecorded");
  }
}

void ConsoleServer::Impl::ServeUi(const httplib::Request& req, httplib::Response& res) {
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("X-Frame-Options", "DENY");
  if (tls) res.set_header("Strict-Transport-Security", "max-age=31536000");
  const WebAsset* asset = req.path == "/" ? nullptr : FindWebAsset(req.path);
  if (asset == nullptr) {
    // Client-side routes (/copies/12, /audit ...) get the app; a missing
    // hashed asset is a real 404.
    if (req.path.rfind("/assets/", 0) == 0) {
      res.status = 404;
      res.set_content("not found\n", "text/plain");
      return;
    }
    asset = FindWebAsset("/index.html");
  }
  res.set_header("Content-Security-Policy", kUiPolicy);
  if (asset == nullptr) {
    res.set_header("Cache-Control", "no-cache");
    res.set_content(kNoUiPage, "text/html; charset=utf-8");
    return;
  }
  res.set_header("Cache-Control",
                 asset->immutable ? "public, max-age=31536000, immutable" : "no-cache");
  res.set_content(std::string(asset->body), std::string(asset->content_type));
}

const std::vector<RouteDef>& RouteTable() {
  using P = Permission;
  using I = ConsoleServer::Impl;
  static const std::vector<RouteDef> table = {
      {"GET", "/api/v1/health", false, std::nullopt, "health", false, false, &I::Health},
      {"POST", "/api/v1/messages", true, P::kIngest, "ingest", false, false, &I::PostMessage,
       /*reads_body=*/true},
      {"POST", "/api/v1/session", false, std::nullopt, "login", false, false, &I::Login},
      {"GET", "/api/v1/session", true, std::nullopt, "session", false, false, &I::GetSession},
      {"DELETE", "/api/v1/session", true, std::nullopt, "logout", true, false, &I::Logout},
      {"GET", "/api/v1/copies", true, P::kSearch, "search", true, true, &I::SearchCopies},
      {"GET", "/api/v1/copies/archive", true, P::kSave, "save", true, true, &I::GetArchive},
      {"POST", "/api/v1/copies/delete", true, P::kDelete, "delete", true, false, &I::DeleteCopies},
      {"GET", "/api/v1/copies/{id}", true, P::kView, "view", true, true, &I::GetCopy},
      {"GET", "/api/v1/copies/{id}/text", true, P::kPreview, "preview", true, true, &I::GetText},
      {"GET", "/api/v1/copies/{id}/html", true, P::kPreview, "preview", true, true, &I::GetHtml},
      {"GET", "/api/v1/copies/{id}/eml", true, P::kSave, "save", true, true, &I::GetEml},
      {"POST", "/api/v1/deliveries", true, P::kDeliver, "deliver", true, false, &I::PostDeliveries},
      {"GET", "/api/v1/deliveries", true, P::kQueue, "queue", false, false, &I::GetDeliveries},
      {"GET", "/api/v1/settings", true, P::kSettingsRead, "settings", false, false,
       &I::GetSettings},
      {"PUT", "/api/v1/settings", true, P::kSettingsWrite, "settings", true, false,
       &I::PutSettings},
      {"GET", "/api/v1/usage", true, P::kUsage, "usage", false, false, &I::GetUsage},
      {"GET", "/api/v1/audit", true, P::kAudit, "audit", true, true, &I::GetAudit},
      {"GET", "/api/v1/audit/export", true, P::kAudit, "audit", true, true, &I::ExportAudit},
  };
  return table;
}

void ConsoleServer::Impl::Register() {
  for (const RouteDef& def : RouteTable()) {
    const std::string pattern = PatternFor(def.path);
    if (def.reads_body) {
      // The body is read by the route after the checks, so an unknown
      // client is refused before it can upload anything.
      server->Post(pattern, [this, &def](const httplib::Request& req, httplib::Response& res,
                                         const httplib::ContentReader& reader) {
        Dispatch(def, req, res, &reader);
      });
      continue;
    }
    auto handler = [this, &def](const httplib::Request& req, httplib::Response& res) {
      Dispatch(def, req, res);
    };
    const std::string_view m = def.method;
    if (m == "GET") server->Get(pattern, handler);
    if (m == "POST") server->Post(pattern, handler);
    if (m == "PUT") server->Put(pattern, handler);
    if (m == "DELETE") server->Delete(pattern, handler);
  }
  // Prometheus's scrape, before the UI's catch-all.
  server->Get("/metrics", [this](const httplib::Request& req, httplib::Response& res) {
    ServeMetrics(req, res);
  });
  // Everything else under GET that is not the API is the UI (history
  // routing: /copies/12 is the app's page for copy 12).
  server->Get(R"(/(?!api/).*)",
              [this](const httplib::Request& req, httplib::Response& res) { ServeUi(req, res); });
  server->set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 413) return SendError(res, 413, "request too large");
    if (res.status == 404) return SendError(res, 404, "no such endpoint: " + req.path);
    SendError(res, res.status, "request failed");
  });
  server->set_exception_handler(
      [](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unknown";
        try {
          if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        spdlog::error("{} {}: internal error: {}", req.method, req.path, what);
        SendError(res, 500, "internal error");
      });
  server->set_logger([](const httplib::Request& req, const httplib::Response& res) {
    spdlog::debug("{} {} {} -> {}", req.remote_addr, req.method, req.path, res.status);
  });
}

std::vector<RouteInfo> ConsoleServer::Routes() {
  std::vector<RouteInfo> out;
  for (const RouteDef& def : RouteTable()) out.push_back({def.method, def.path});
  return out;
}

ConsoleServer::ConsoleServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ConsoleServer::~ConsoleServer() { Stop(); }

int ConsoleServer::port() const { return impl_->port; }

bool ConsoleServer::tls() const { return impl_->tls; }

void ConsoleServer::Stop() {
  if (impl_->thread.joinable()) {
    impl_->server->stop();
    impl_->thread.join();
    // What was counted and not yet summarised is recorded now.
    impl_->RecordRefusalSummaries(std::numeric_limits<int64_t>::max());
  }
}

Result<std::unique_ptr<ConsoleServer>> ConsoleServer::Start(const ConsoleServices& services,
                                                            const ConsoleOptions& options) {
  if (options.token.empty()) return Status::InvalidArgument("the API needs a token");
  if (services.env == nullptr || services.store == nullptr || services.settings == nullptr ||
      services.audit == nullptr) {
    return Status::InvalidArgument("the console needs an env, a store, settings and an audit log");
  }
  MV_RETURN_IF_ERROR(CheckConsoleOptions(options));
  const bool tls = !options.tls_cert.empty();
  auto impl = std::make_unique<Impl>(services, options);
  if (tls) {
    auto ssl =
        std::make_unique<httplib::SSLServer>(options.tls_cert.c_str(), options.tls_key.c_str());
    if (!ssl->is_valid()) {
      return Status::Unavailable("cannot load the TLS certificate " + options.tls_cert +
                                 " or key " + options.tls_key);
    }
    impl->server = std::move(ssl);
  } else {
    impl->server = std::make_unique<httplib::Server>();
  }
  impl->tls = tls;
  httplib::Server& server = *impl->server;
  // Room for the meta part and the multipart framing around a message.
  server.set_payload_max_length(options.max_message_size + kMaxMetaBytes + 64 * 1024);
  const int64_t read_micros = std::clamp<int64_t>(options.read_timeout_micros, 1,
                                                  std::max<int64_t>(options.timeout_micros, 1));
  server.set_read_timeout(read_micros / 1'000'000, read_micros % 1'000'000);
  server.set_write_timeout(options.timeout_micros / 1'000'000, options.timeout_micros % 1'000'000);
  // httplib sends a response's headers and body in separate writes; with
  // Nagle's algorithm on, a kept-alive connection's body then waits for the
  // client's delayed ACK, about 40 ms per request (BENCHMARKS.md).
  server.set_tcp_nodelay(true);
  // See WithoutBrotli. The handler gets the request as const, but httplib's
  // Request object is its own non-const local, so rewriting a header here is
  // defined; it runs before routing, and the response's coding is chosen
  // after the handler, from these headers.
  Impl* checker = impl.get();
  server.set_pre_routing_handler([checker](const httplib::Request& req, httplib::Response& res) {
    if (!checker->CheckHost(req, res)) return httplib::Server::HandlerResponse::Handled;
    auto& headers = const_cast<httplib::Request&>(req).headers;
    auto [first, last] = headers.equal_range("Accept-Encoding");
    for (auto it = first; it != last; ++it) it->second = WithoutBrotli(it->second);
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // Exclusive use of the address: SO_REUSEADDR (a restart may bind while
  // the last run's connections are in TIME_WAIT) but not httplib's default
  // SO_REUSEPORT, which let a second mailvaultd bind the same address and
  // take half of the requests into another store (issue 14, item 2).
  server.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  impl->Register();
  if (options.port == 0) {
    impl->port = server.bind_to_any_port(options.host);
    if (impl->port < 0) impl->port = 0;
  } else if (server.bind_to_port(options.host, options.port)) {
    impl->port = options.port;
  }
  if (impl->port == 0) {
    const bool v6 = options.host.find(':') != std::string::npos;
    const std::string address =
        (v6 ? "[" + options.host + "]" : options.host) + ":" + std::to_string(options.port);
    return Status::Unavailable("cannot listen on " + address +
                               " (api.listen): the address is in use (another mailvaultd?) or "
                               "not available on this host");
  }
  Impl* raw = impl.get();
  raw->thread = std::thread([raw] {
    if (!raw->server->listen_after_bind())
      spdlog::error("the console server stopped with an error");
    raw->listen_returned = true;
  });
  // Stop() before the accept loop runs would be lost; wait until it runs.
  while (!raw->server->is_running() && !raw->listen_returned) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return std::unique_ptr<ConsoleServer>(new ConsoleServer(std::move(impl)));
}

}  // namespace mailvault::console
