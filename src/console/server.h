// The console's HTTP server: the REST API /api/v1/... (docs/openapi.yaml)
// and the web UI compiled into the daemon (web_assets.h), over cpp-httplib,
// HTTPS with a configured certificate or plain HTTP on loopback.
//
// Every /api/v1 request except health and login acts for a Principal
// (access.h): a browser session (cookie mv_session, or __Host-mv_session
// under HTTPS) or the API token (Authorization: Bearer). The server checks,
// in this order: the Host header (else 421), who it is (else 401, with
// WWW-Authenticate: Bearer), for a session's state-changing request the
// X-CSRF-Token header and the Origin (else 403), the role's permission for
// the route (else 403), then runs the route. A personal user (role
// personal) is also refused every route but the session's while the
// personal Backup is off (403), and every copy route is scoped to the
// copies addressed to the user's mailboxes (docs/personal.md): searches
// through SearchQuery::recipients, single copies by their recipients (a
// copy of someone else answers 404, as one that does not exist, and is
// recorded as a refusal). Every login, search, view,
// preview, save, delivery, delete, settings change and audit read, and every
// refusal (401, 403, 415, 421, and a route's own 403), is recorded in the
// audit log (journal/audit_log.h) with the copies asked for and why. Reads of message content are
// recorded before the content is sent: if the audit log cannot take the record, the answer is 503
// and nothing is shown. Reads without content (queue, usage, settings, session) are not recorded
// when allowed, so the UI's polling does not drown the log. Errors are JSON {"error": "..."},
// except the HTML preview's 503 (a document for its frame, ConsoleOptions::preview).
// Handlers never let an exception out.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "console/login_throttle.h"
#include "console/refusal_limiter.h"
#include "console/sessions.h"
#include "delivery/service.h"
#include "directory/accounts.h"
#include "directory/accounts_mailboxes.h"
#include "directory/ldap_mailboxes.h"
#include "env/env.h"
#include "journal/audit_log.h"
#include "mailvault/status.h"
#include "mailvault/store.h"
#include "policy/settings.h"
#include "preview/sandboxed.h"

namespace mailvault::console {

struct ConsoleOptions {
  std::string host = "127.0.0.1";
  int port = 0;       // 0: any free port, see ConsoleServer::port()
  std::string token;  // the API token; non-empty
  uint64_t max_message_size = 64'000'000;
  int64_t timeout_micros = 60'000'000;  // per read or write of a request or answer
  // How long a request's headers or body may stall (no byte arrives) before
  // the request is dropped, at most timeout_micros: a client announcing a
  // Content-Length larger than what it sends holds a worker this long.
  int64_t read_timeout_micros = 10'000'000;
  // The names the console answers to (the Host header), besides the listen
  // address, the address a connection came in on and, for a loopback listen
  // address, localhost, 127.0.0.1 and [::1]. Any other Host gets 421: a
  // DNS-rebinding page cannot reach the console from a browser beside it.
  std::vector<std::string> server_names;
  // HTTPS: both or neither. Without them the server refuses to listen on
  // anything but a loopback address (passwords and cookies would cross the
  // network in clear).
  std::string tls_cert, tls_key;
  SessionOptions sessions;
  ThrottleOptions throttle;
  RefusalLimitOptions refusals;
  // Password checks (argon2id, 64 MiB each) allowed at once; further logins
  // wait, so a flood of logins cannot exhaust memory.
  int login_concurrency = 2;
  // The sandboxed helper that parses a mail's HTML for the previews (path,
  // deadline, memory, CPU; preview/sandboxed.h). When it gives nothing the
  // HTML preview answers 503 with a short document saying why (shown in the
  // preview's frame), the text preview of an HTML-only mail 503 JSON.
  preview::HelperOptions preview;
};

// The rules for ConsoleOptions that do not need the network or the files:
// tls_cert and tls_key both or neither; without them a loopback listen
// address only; port 0-65535; positive max_message_size and timeouts;
// server_names host names or IP addresses without a port (IsServerName);
// session idle time positive and at most the lifetime. The token is not
// checked (start-up fills it in later). InvalidArgument naming the config
// key ("api.listen: ..."). ConsoleServer::Start applies it, and so does
// `mailvault config check`.
Status CheckConsoleOptions(const ConsoleOptions& options);

// A name for ConsoleOptions::server_names: a DNS name (labels of letters,
// digits, '-' and '_', at most 253 bytes), an IPv4 address, or an IPv6
// address with or without brackets. No port.
bool IsServerName(std::string_view name);

// Whether a scanning engine answered when last asked (the daemon asks at
// start: daemon/engine_check.h), for GET /api/v1/health and /metrics.
struct EngineReach {
  std::string engine;  // "clamd", "rspamd", ...
  std::string address;
  bool reachable = false;
  std::string error;  // why not, when not
};

// What the server works on, borrowed: all must outlive it. `deliveries`
// may be null (the delivery routes answer 503); `accounts` may be null (no
// one can log in; the token still works).
struct ConsoleServices {
  Env* env = nullptr;
  Store* store = nullptr;
  policy::Settings* settings = nullptr;  // required: the policy and the settings API
  delivery::DeliveryService* deliveries = nullptr;
  directory::Accounts* accounts = nullptr;
  journal::AuditLog* audit = nullptr;  // required
  // The mailboxes of personal users (directory/accounts_mailboxes.h). Null:
  // local personal accounts only (LocalMailboxes over `accounts`). A
  // directory cache plugs in here (ChainedMailboxes of the local accounts
  // and the cache).
  directory::MailboxProvider* mailboxes = nullptr;
  // Directory users (LDAP/AD, directory/ldap_mailboxes.h): sign-in for a
  // name no local account has, and the sync state in health. Null: local
  // accounts only. `mailboxes` must then know directory users too.
  directory::DirectoryUsers* directory = nullptr;
  // The engines' reachability; may be empty (no engines shown). Called
  // from request threads.
  std::function<std::vector<EngineReach>()> engines;
};

// One route: method and path as docs/openapi.yaml spells it
// ("/api/v1/copies/{id}").
struct RouteInfo {
  std::string method;
  std::string path;
};

class ConsoleServer {
 public:
  // Binds host:port and serves on background threads. InvalidArgument for
  // bad options (no token, half a TLS pair, plain HTTP off loopback);
  // Unavailable if the address cannot be bound or the certificate not read.
  static Result<std::unique_ptr<ConsoleServer>> Start(const ConsoleServices& services,
                                                      const ConsoleOptions& options);
  ~ConsoleServer();  // Stop()s
  ConsoleServer(const ConsoleServer&) = delete;
  ConsoleServer& operator=(const ConsoleServer&) = delete;

  int port() const;
  bool tls() const;
  // Stops accepting, finishes in-flight requests, joins the threads.
  // Idempotent.
  void Stop();

  // Every /api/v1 route the server answers.
  static std::vector<RouteInfo> Routes();

  struct Impl;

 private:
  explicit ConsoleServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// True for 127.0.0.0/8, ::1 and "localhost".
bool IsLoopbackHost(const std::string& host);

// Whether a request's Host header names this console (see
// ConsoleOptions::server_names): `host_header` ("name", "name:port",
// "[v6]:port") against `server_names`, `listen_host` (unless a wildcard)
// and `local_addr` (the address the connection came in on), compared
// without regard to case or port, a trailing dot ignored.
bool HostAllowed(std::string_view host_header, const std::vector<std::string>& server_names,
                 std::string_view listen_host, std::string_view local_addr);

// An Accept-Encoding value without the "br" coding, e.g. "gzip, deflate, br"
// -> "gzip, deflate". The console answers brotli-accepting clients with
// gzip: Debian's cpp-httplib compresses brotli at quality 11, which cost
// about 22 ms for one page of the list (almost half the search budget) to
// save a few hundred bytes over gzip (BENCHMARKS.md, notes).
std::string WithoutBrotli(std::string_view accept_encoding);

}  // namespace mailvault::console
