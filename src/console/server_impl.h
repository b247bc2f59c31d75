// Internals of the console server shared by its route files
// (server.cc: the request pipeline, start and stop, the UI;
// session_routes.cc, copy_routes.cc, admin_routes.cc: the routes).
#pragma once

#include <httplib.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <optional>
#include <semaphore>
#include <string>
#include <thread>
#include <vector>

#include "console/access.h"
#include "console/login_throttle.h"
#include "console/refusal_limiter.h"
#include "console/server.h"
#include "console/sessions.h"

namespace mailvault::console {

// One request on its way through the pipeline.
struct Call {
  const httplib::Request& req;
  httplib::Response& res;
  Principal who;
  std::optional<Session> session;  // set for a browser session
  // The body, for routes registered to read it themselves (ingest); else
  // null and the body is in req.body.
  const httplib::ContentReader* reader = nullptr;
  // What the route tells the audit log.
  std::vector<uint64_t> copy_ids;
  std::string detail;
  bool audited = false;     // the route recorded its event itself
  const char* action = "";  // the route's audit name (RouteDef::action)
  // For a personal principal: the administrator's settings as read for
  // this request.
  directory::PersonalSettings personal;
};

using RouteHandler = void (ConsoleServer::Impl::*)(Call&);

struct RouteDef {
  const char* method;  // GET, POST, PUT, DELETE
  const char* path;    // as in docs/openapi.yaml
  bool auth;           // needs a principal
  std::optional<Permission> permission;
  const char* action;  // the audit log's name for it
  bool audit_allowed;  // record allowed calls too (refusals always are)
  bool audit_first;    // content read: no record, no content (503)
  RouteHandler handler;
  bool reads_body = false;  // the handler reads the body (Call::reader) after the checks
};

const std::vector<RouteDef>& RouteTable();

// JSON answers.
void SendJson(httplib::Response& res, int status, const nlohmann::json& body);
void SendError(httplib::Response& res, int status, const std::string& message);
int HttpStatusFor(const Status& s);
void SendStatus(httplib::Response& res, const Status& s);

struct ConsoleServer::Impl {
  Impl(const ConsoleServices& s, ConsoleOptions o);

  const ConsoleServices services;
  const ConsoleOptions options;
  Env& env;
  Store& store;
  policy::Settings& settings;
  std::unique_ptr<httplib::Server> server;
  bool tls = false;
  std::thread thread;
  std::atomic<bool> listen_returned{false};
  int port = 0;
  SessionTable sessions;
  LoginThrottle throttle;
  RefusalLimiter refusals;  // bounds the records of unauthenticated refusals
  std::counting_semaphore<64> login_slots;
  std::unique_ptr<directory::LocalMailboxes> local_mailboxes;  // when services.mailboxes is null
  directory::MailboxProvider* mailboxes = nullptr;             // never null with accounts

  // Pipeline (server.cc).
  void Register();
  void Dispatch(const RouteDef& def, const httplib::Request& req, httplib::Response& res,
                const httplib::ContentReader* reader = nullptr);
  // Who the request acts for; false after answering 401 (c.detail says why)
  // or an error.
  bool Resolve(Call& c);
  // For a personal account: its settings, permissions and mailboxes into
  // `c`; false after answering 503 (a lookup failed: never more access
  // because of it).
  bool ResolvePersonal(Call& c);
  // For a personal principal: true if `meta` is addressed to one of its
  // mailboxes. Otherwise answers 404 (as for a missing copy), records the
  // refusal and returns false. Always true for other principals.
  bool CheckVisible(Call& c, const CopyMeta& meta);
  // Records a refused request: `why`, the method and target, and the copies
  // it asked for.
  void AuditRefusal(Call& c, const char* action, const std::string& why);
  // Pre-routing: false after answering 421 for a Host this console does not
  // answer to (recorded).
  bool CheckHost(const httplib::Request& req, httplib::Response& res);
  bool OriginAllowed(const httplib::Request& req) const;
  std::string CookieName() const { return tls ? "__Host-mv_session" : "mv_session"; }
  std::string SessionCookie(const httplib::Request& req) const;
  // Records an event for `c`; `result` "" = from the response status. A
  // refusal of an unauthenticated request beyond RefusalLimiter's allowance
  // is counted instead, and summarised when its window ends.
  Status Audit(Call& c, const char* action, const std::string& result = "");
  // Records the summaries of refusal windows that have ended by `now`.
  void RecordRefusalSummaries(int64_t now);
  // For routes that stream: records now; on failure answers 503 and
  // returns false.
  bool AuditBeforeSending(Call& c, const char* action);
  void ServeUi(const httplib::Request& req, httplib::Response& res);
  // GET /metrics (metrics_route.cc): loopback or the API token.
  void ServeMetrics(const httplib::Request& req, httplib::Response& res);

  // session_routes.cc
  void Login(Call& c);
  // The directory (LDAP/AD) half of Login, for a name no local account has.
  void DirectoryLogin(Call& c, const std::string& name, const std::string& password);
  // A signed-in account's new session: cookie, answer, audit.
  void StartSession(Call& c, const std::string& account, directory::Role role,
                    const std::string& directory_dn);
  void GetSession(Call& c);
  void Logout(Call& c);
  nlohmann::json SessionJson(const Call& c) const;

  // copy_routes.cc
  void SearchCopies(Call& c);
  void GetCopy(Call& c);
  void GetText(Call& c);
  void GetHtml(Call& c);
  void GetEml(Call& c);
  void GetArchive(Call& c);
  void DeleteCopies(Call& c);
  // personal_routes.cc: what copy_routes and admin_routes do differently
  // for a personal user.
  void PersonalDeliveries(Call& c);
  nlohmann::json PersonalSessionJson(const Call& c) const;

  // admin_routes.cc
  void Health(Call& c);
  void PostMessage(Call& c);
  void PostDeliveries(Call& c);
  void GetDeliveries(Call& c);
  void GetSettings(Call& c);
  void PutSettings(Call& c);
  void GetUsage(Call& c);
  void GetAudit(Call& c);
  void ExportAudit(Call& c);
};

// The copy id of /api/v1/copies/{id}/..., from the route's regex match.
Result<CopyId> PathId(const httplib::Request& req);

// The copies a request asks for, best effort, for the audit record of a
// refusal: the path's id, the `ids` query parameter, or the "ids" array of
// a JSON body (at most journal::kMaxCopyIds).
std::vector<uint64_t> RequestedCopyIds(const httplib::Request& req);

// "GET /api/v1/copies?subject=x": what a request asked for, for the audit
// log.
std::string DescribeRequest(const httplib::Request& req);

}  // namespace mailvault::console
