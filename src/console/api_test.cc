// The console API against a real Store, accounts, audit log and delivery
// queue in a temp dir, over real HTTP on a free port. Every route is tried
// by every role: allowed, forbidden (403, and recorded in the audit log),
// unauthenticated (401) and, for state-changing routes, without the CSRF
// token (403). Then each route's behaviour: search filters, the copy's
// fields, previews and their headers, downloads byte for byte, delete,
// delivery, settings, usage, the audit log and its export, login throttling
// and the session's life.
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "base/units.h"
#include "console/server.h"
#include "console/server_impl.h"
#include "delivery/open_queue.h"
#include "delivery/queue_db.h"
#include "env/env.h"
#include "testutil/fault_env.h"

namespace mailvault::console {
namespace {

using nlohmann::json;

constexpr char kToken[] = "0123456789abcdef0123456789abcdef";
constexpr char kPassword[] = "correct horse 1";

constexpr char kPlain[] =
    "From: Alice <alice@example.com>\r\nTo: bob@example.org\r\nSubject: Invoice 42\r\n"
    "Message-ID: <inv-42@example.com>\r\nDate: Mon, 07 Dec 2026 08:00:00 +0000\r\n\r\n"
    "Please pay.\r\nFrom the accounts team\r\n";
constexpr char kHtml[] =
    "From: Mallory <m@evil.example>\r\nTo: carol@example.org\r\nSubject: Win a prize\r\n"
    "Message-ID: <prize@evil.example>\r\nMIME-Version: 1.0\r\n"
    "Content-Type: multipart/alternative; boundary=b\r\n\r\n"
    "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nYou won!\r\n"
    "--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
    "<p onclick=\"steal()\">You <b>won</b>!</p><script>alert(1)</script>"
    "<img src=\"http://tracker.example/p.gif\">\r\n--b--\r\n";

struct Login {
  std::string cookie;  // "mv_session=..."
  std::string csrf;
};

class ConsoleApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mv_console_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    data_ = dir_ + "/data";
    StoreOptions so;
    so.dir = data_;
    ASSERT_TRUE(Store::Init(so).ok());
    so.env = &env_;
    auto store = Store::Open(so);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    policy::SettingsOptions po;
    po.dir = data_;
    po.env = &env_;
    auto settings = policy::Settings::Open(po);
    ASSERT_TRUE(settings.ok()) << settings.status().ToString();
    settings_ = std::move(*settings);
    auto keys = crypto::KeyRing::Open(env_, DataDir(data_).keys(), false);
    ASSERT_TRUE(keys.ok()) << keys.status().ToString();
    keys_ = std::move(*keys);
    auto accounts =
        directory::Accounts::Open(env_, DataDir(data_), *keys_, false, crypto::kTestCost);
    ASSERT_TRUE(accounts.ok()) << accounts.status().ToString();
    accounts_ = std::move(*accounts);
    ASSERT_TRUE(accounts_->Add("alice", directory::Role::kAdministrator, kPassword).ok());
    ASSERT_TRUE(accounts_->Add("hank", directory::Role::kHelpdesk, kPassword).ok());
    ASSERT_TRUE(accounts_->Add("audrey", directory::Role::kAuditor, kPassword).ok());
    journal::AuditOptions ao;
    ao.data_dir = data_;
    auto audit = journal::AuditLog::Open(env_, *keys_, ao);
    ASSERT_TRUE(audit.ok()) << audit.status().ToString();
    audit_ = std::move(*audit);
    auto queue = delivery::OpenQueue(env_, DataDir(data_), *keys_, false);
    ASSERT_TRUE(queue.ok()) << queue.status().ToString();
    queue_ = std::move(*queue);
    deliveries_ = std::make_unique<delivery::DeliveryService>(env_, *store_, *settings_, *queue_,
                                                              86'400'000'000LL, [] {});
    plain_id_ = Put(kPlain, "bob@example.org", {{"anti-spam", "spam"}}, "R-spam");
    html_id_ = Put(kHtml, "carol@example.org", {{"anti-phishing", "phishing"}}, "R-phish");
    StartServer({});
  }

  // Tests that check one audit record per refusal lift the flood limit;
  // RefusalsOfUnauthenticatedRequestsAreBoundedAndSummarised tests it.
  void StartServer(ConsoleOptions o, bool real_refusal_limits = false) {
    server_.reset();
    if (!real_refusal_limits) o.refusals.per_address = o.refusals.total = 1 << 30;
    o.token = kToken;
    if (o.preview.path.empty()) o.preview.path = MV_PREVIEW_HELPER;
    o.max_message_size = 1 << 20;
    ConsoleServices s;
    s.env = &env_;
    s.store = store_.get();
    s.settings = settings_.get();
    s.deliveries = deliveries_.get();
    s.accounts = accounts_.get();
    s.audit = audit_.get();
    s.engines = engines_;
    auto server = ConsoleServer::Start(s, o);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_keep_alive(false);
  }

  void TearDown() override {
    client_.reset();
    server_.reset();
    deliveries_.reset();
    queue_.reset();
    audit_.reset();
    accounts_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  CopyId Put(const std::string& raw, const std::string& rcpt,
             std::map<std::string, std::string> statuses, const std::string& rule) {
    PutRequest p;
    p.raw = raw;
    p.mail_from = "sender@example.com";
    p.rcpt = {rcpt};
    p.statuses = std::move(statuses);
    p.rule_id = rule;
    auto id = store_->Put(p);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : 0;
  }

  Login SignIn(const std::string& name, const std::string& password = kPassword) {
    json body = {{"name", name}, {"password", password}};
    auto res = client_->Post("/api/v1/session", body.dump(), "application/json");
    EXPECT_TRUE(res);
    if (!res || res->status != 200) {
      ADD_FAILURE() << "login " << name << ": " << (res ? res->body : "no answer");
      return {};
    }
    Login l;
    std::string set_cookie = res->get_header_value("Set-Cookie");
    l.cookie = set_cookie.substr(0, set_cookie.find(';'));
    l.csrf = json::parse(res->body)["csrf_token"];
    return l;
  }

  httplib::Headers Headers(const Login* who, bool csrf = true) {
    httplib::Headers h;
    if (who == nullptr) return h;
    h.emplace("Cookie", who->cookie);
    if (csrf) h.emplace("X-CSRF-Token", who->csrf);
    return h;
  }

  httplib::Result Send(const std::string& method, const std::string& path, const std::string& body,
                       const httplib::Headers& h) {
    if (method == "GET") return client_->Get(path, h);
    if (method == "POST") return client_->Post(path, h, body, "application/json");
    if (method == "PUT") return client_->Put(path, h, body, "application/json");
    return client_->Delete(path, h, body, "application/json");
  }

  // The audit records of `account`, newest first.
  std::vector<journal::AuditEvent> AuditOf(const std::string& account) {
    journal::AuditQuery q;
    q.account = account;
    q.limit = 1000;
    auto page = audit_->List(q);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    return page.ok() ? page->items : std::vector<journal::AuditEvent>{};
  }

  // Every audit record, newest first.
  std::vector<journal::AuditEvent> AllAudit() { return AuditOf(""); }

  std::string dir_, data_;
  FaultEnv env_{PosixEnv()};
  std::unique_ptr<crypto::KeyRing> keys_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<policy::Settings> settings_;
  std::unique_ptr<directory::Accounts> accounts_;
  std::unique_ptr<journal::AuditLog> audit_;
  std::unique_ptr<index::QueueDb> queue_;
  std::unique_ptr<delivery::DeliveryService> deliveries_;
  std::unique_ptr<ConsoleServer> server_;
  std::unique_ptr<httplib::Client> client_;
  CopyId plain_id_ = 0, html_id_ = 0;
  std::function<std::vector<EngineReach>()> engines_;
};

// One request per route, and the roles that may make it.
struct Probe {
  std::string method, route;       // route as in RouteInfo
  std::string path, body;          // what is sent
  std::set<std::string> allowed;   // roles; "token" always may
  std::vector<uint64_t> ids = {};  // the copies it asks for: in the record of a refusal
};

std::vector<Probe> Probes(CopyId plain, CopyId html) {
  const std::string p = std::to_string(plain), h = std::to_string(html);
  const std::set<std::string> all = {"administrator", "helpdesk", "auditor"};
  const std::set<std::string> content = {"administrator", "helpdesk"};
  const std::set<std::string> admin = {"administrator"};
  const std::set<std::string> admin_auditor = {"administrator", "auditor"};
  return {
      {"GET", "/api/v1/health", "/api/v1/health", "", all},
      {"POST", "/api/v1/messages", "/api/v1/messages", "", {}},
      {"POST", "/api/v1/session", "/api/v1/session", "", all},
      {"GET", "/api/v1/session", "/api/v1/session", "", all},
      {"DELETE", "/api/v1/session", "/api/v1/session", "", all},
      {"GET", "/api/v1/copies", "/api/v1/copies?period=day", "", all},
      {"GET",
       "/api/v1/copies/archive",
       "/api/v1/copies/archive?ids=" + p + "," + h,
       "",
       content,
       {plain, html}},
      {"POST",
       "/api/v1/copies/delete",
       "/api/v1/copies/delete",
       R"({"ids": [999, 998]})",
       admin,
       {999, 998}},
      {"GET", "/api/v1/copies/{id}", "/api/v1/copies/" + p, "", all, {plain}},
      {"GET", "/api/v1/copies/{id}/text", "/api/v1/copies/" + p + "/text", "", content, {plain}},
      {"GET", "/api/v1/copies/{id}/html", "/api/v1/copies/" + h + "/html", "", content, {html}},
      {"GET", "/api/v1/copies/{id}/eml", "/api/v1/copies/" + p + "/eml", "", content, {plain}},
      {"POST",
       "/api/v1/deliveries",
       "/api/v1/deliveries",
       R"({"ids": [)" + p + R"(], "original": true, "again": true})",
       content,
       {plain}},
      {"GET", "/api/v1/deliveries", "/api/v1/deliveries", "", all},
      {"GET", "/api/v1/settings", "/api/v1/settings", "", admin_auditor},
      {"PUT", "/api/v1/settings", "/api/v1/settings", R"({"html_preview": true})", admin},
      {"GET", "/api/v1/usage", "/api/v1/usage", "", all},
      {"GET", "/api/v1/audit", "/api/v1/audit", "", admin_auditor},
      {"GET", "/api/v1/audit/export", "/api/v1/audit/export", "", admin_auditor},
  };
}

TEST_F(ConsoleApiTest, EveryRouteHasAProbe) {
  std::set<std::pair<std::string, std::string>> probed;
  for (const Probe& p : Probes(1, 2)) probed.insert({p.method, p.route});
  for (const RouteInfo& r : ConsoleServer::Routes()) {
    EXPECT_TRUE(probed.count({r.method, r.path})) << "no probe for " << r.method << " " << r.path;
  }
  EXPECT_EQ(probed.size(), ConsoleServer::Routes().size());
}

TEST_F(ConsoleApiTest, EveryRouteAndRole) {
  std::map<std::string, Login> logins;
  for (const char* name : {"alice", "hank", "audrey"}) logins[name] = SignIn(name);
  const std::map<std::string, std::string> role_of = {
      {"alice", "administrator"}, {"hank", "helpdesk"}, {"audrey", "auditor"}};
  for (const Probe& p : Probes(plain_id_, html_id_)) {
    SCOPED_TRACE(p.method + " " + p.path);
    if (p.route == "/api/v1/session" && p.method != "GET") continue;  // own tests
    const bool open = p.route == "/api/v1/health";
    // No credentials.
    auto anon = Send(p.method, p.path, p.body, {});
    ASSERT_TRUE(anon);
    EXPECT_EQ(anon->status, open ? 200 : 401) << anon->body;
    if (!open) {
      // Challenged as docs/api.md says, and recorded: what was asked, on
      // which copies, and why it was refused.
      EXPECT_EQ(anon->get_header_value("WWW-Authenticate"), "Bearer");
      const journal::AuditEvent e = AllAudit()[0];
      EXPECT_EQ(e.result, "denied");
      EXPECT_EQ(e.account, "");
      EXPECT_EQ(e.client, "127.0.0.1");
      EXPECT_EQ(e.detail.rfind("no session and no token: " + p.method + " ", 0), 0u) << e.detail;
      EXPECT_EQ(e.copy_ids, p.ids);
    }
    for (const auto& [name, role] : role_of) {
      SCOPED_TRACE(name);
      const Login& who = logins[name];
      const size_t before = AuditOf(name).size();
      auto res = Send(p.method, p.path, p.body, Headers(&who));
      ASSERT_TRUE(res);
      if (p.allowed.count(role)) {
        EXPECT_NE(res->status, 401) << res->body;
        EXPECT_NE(res->status, 403) << res->body;
        EXPECT_LT(res->status, 500) << res->body;
      } else {
        EXPECT_EQ(res->status, 403) << res->body;
        auto events = AuditOf(name);
        ASSERT_EQ(events.size(), before + 1);
        EXPECT_EQ(events[0].result, "denied");
        EXPECT_EQ(events[0].role, role);
        EXPECT_EQ(events[0].client, "127.0.0.1");
        EXPECT_EQ(events[0].copy_ids, p.ids);  // the copies asked for, bulk requests too
        EXPECT_EQ(events[0].detail.rfind("no permission ", 0), 0u) << events[0].detail;
      }
      if (p.method != "GET" && p.allowed.count(role)) {
        // The same without the CSRF token, and with a wrong one.
        auto no_csrf = Send(p.method, p.path, p.body, Headers(&who, /*csrf=*/false));
        ASSERT_TRUE(no_csrf);
        EXPECT_EQ(no_csrf->status, 403) << no_csrf->body;
        httplib::Headers wrong = Headers(&who, false);
        wrong.emplace("X-CSRF-Token", std::string(32, '0'));
        auto bad = Send(p.method, p.path, p.body, wrong);
        ASSERT_TRUE(bad);
        EXPECT_EQ(bad->status, 403) << bad->body;
        EXPECT_EQ(AuditOf(name)[0].result, "denied");
        EXPECT_NE(AuditOf(name)[0].detail.find("CSRF"), std::string::npos);
        EXPECT_EQ(AuditOf(name)[0].copy_ids, p.ids);
      }
    }
    // A wrong token: challenged and recorded.
    auto wrong_token = Send(p.method, p.path, p.body,
                            {{"Authorization", "Bearer 0123456789abcdef0123456789abcdeX"}});
    ASSERT_TRUE(wrong_token);
    if (!open) {
      EXPECT_EQ(wrong_token->status, 401);
      EXPECT_EQ(wrong_token->get_header_value("WWW-Authenticate"), "Bearer");
      EXPECT_EQ(AllAudit()[0].detail.rfind("wrong API token: ", 0), 0u) << AllAudit()[0].detail;
    }
    // The token may do everything but is never a session (no CSRF).
    httplib::Headers token = {{"Authorization", std::string("Bearer ") + kToken}};
    if (p.route != "/api/v1/messages") {
      auto res = Send(p.method, p.path, p.body, token);
      ASSERT_TRUE(res);
      EXPECT_NE(res->status, 401) << res->body;
      EXPECT_NE(res->status, 403) << res->body;
    }
  }
}

TEST_F(ConsoleApiTest, LoginSetsAStrictCookieAndRotatesIt) {
  json body = {{"name", "Alice"}, {"password", kPassword}};
  auto res = client_->Post("/api/v1/session", body.dump(), "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const std::string cookie = res->get_header_value("Set-Cookie");
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("Path=/"), std::string::npos) << cookie;
  EXPECT_EQ(cookie.find("Secure"), std::string::npos) << "plain HTTP: " << cookie;
  const std::string first = cookie.substr(0, cookie.find(';'));
  EXPECT_EQ(first.size(), std::string("mv_session=").size() + 32);
  auto j = json::parse(res->body);
  EXPECT_EQ(j["account"], "alice");
  EXPECT_EQ(j["role"], "administrator");
  EXPECT_EQ(j["csrf_token"].get<std::string>().size(), 32u);
  // Signing in again with the old cookie ends the old session.
  auto again =
      client_->Post("/api/v1/session", {{"Cookie", first}}, body.dump(), "application/json");
  ASSERT_TRUE(again);
  ASSERT_EQ(again->status, 200);
  const std::string second = again->get_header_value("Set-Cookie");
  EXPECT_NE(second.substr(0, second.find(';')), first);
  auto old = client_->Get("/api/v1/session", {{"Cookie", first}});
  ASSERT_TRUE(old);
  EXPECT_EQ(old->status, 401);
  auto events = AuditOf("alice");
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events[0].action, "login");
  EXPECT_EQ(events[0].result, "ok");
}

TEST_F(ConsoleApiTest, WrongPasswordAndUnknownNameLookAlike) {
  json wrong = {{"name", "alice"}, {"password", "not the password"}};
  json unknown = {{"name", "nobody"}, {"password", "not the password"}};
  auto a = client_->Post("/api/v1/session", wrong.dump(), "application/json");
  auto b = client_->Post("/api/v1/session", unknown.dump(), "application/json");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->status, 401);
  EXPECT_EQ(b->status, 401);
  EXPECT_EQ(a->body, b->body);
  EXPECT_TRUE(a->get_header_value("Set-Cookie").empty());
  // A wrong password is a refusal (docs/audit.md), like every 401.
  EXPECT_EQ(AuditOf("alice")[0].result, "denied");
  EXPECT_EQ(AuditOf("nobody")[0].result, "denied");
  EXPECT_EQ(a->get_header_value("WWW-Authenticate"), "Bearer");
  EXPECT_EQ(AuditOf("nobody")[0].action, "login");
}

TEST_F(ConsoleApiTest, LoginRefusesFormsAndForeignOrigins) {
  auto form = client_->Post("/api/v1/session", "name=alice&password=x",
                            "application/x-www-form-urlencoded");
  ASSERT_TRUE(form);
  EXPECT_EQ(form->status, 415);
  auto refused = AllAudit()[0];
  EXPECT_EQ(refused.action, "login");
  EXPECT_EQ(refused.result, "denied");
  EXPECT_NE(refused.detail.find("application/x-www-form-urlencoded"), std::string::npos)
      << refused.detail;
  json body = {{"name", "alice"}, {"password", kPassword}};
  auto foreign = client_->Post("/api/v1/session", {{"Origin", "https://evil.example"}}, body.dump(),
                               "application/json");
  ASSERT_TRUE(foreign);
  EXPECT_EQ(foreign->status, 403);
  refused = AuditOf("alice")[0];
  EXPECT_EQ(refused.action, "login");
  EXPECT_EQ(refused.result, "denied");
  EXPECT_NE(refused.detail.find("foreign Origin https://evil.example"), std::string::npos)
      << refused.detail;
  auto garbage = client_->Post("/api/v1/session", "{\"name\": 1}", "application/json");
  ASSERT_TRUE(garbage);
  EXPECT_EQ(garbage->status, 400);
}

// HTML the helper cannot finish in time (100,000 nested <div>, quadratic in
// gumbo): the frame gets a 503 document saying so, under the preview's
// policy; the text preview of this HTML-only mail a 503 JSON error.
TEST_F(ConsoleApiTest, HostileHtmlPreviewIsUnavailableAndSaysWhy) {
  std::string raw =
      "From: m@evil.example\r\nTo: carol@example.org\r\nSubject: deep\r\n"
      "MIME-Version: 1.0\r\nContent-Type: text/html\r\n\r\n";
  for (int i = 0; i < 100000; ++i) raw += "<div>";
  raw += "\r\n";
  const CopyId deep = Put(raw, "carol@example.org", {{"anti-spam", "spam"}}, "R-spam");
  ConsoleOptions o;
  o.preview.timeout_micros = 300'000;
  o.preview.cpu_seconds = 1;
  StartServer(o);
  Login h = SignIn("hank");
  auto html = client_->Get("/api/v1/copies/" + std::to_string(deep) + "/html", Headers(&h));
  ASSERT_TRUE(html);
  EXPECT_EQ(html->status, 503);
  EXPECT_EQ(html->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(
      html->get_header_value("Content-Security-Policy").rfind("sandbox; default-src 'none'", 0),
      0u);
  EXPECT_NE(html->body.find("Preview unavailable: the HTML took longer than 0.3 s."),
            std::string::npos)
      << html->body;
  EXPECT_EQ(html->body.find("<div"), std::string::npos);
  auto text = client_->Get("/api/v1/copies/" + std::to_string(deep) + "/text", Headers(&h));
  ASSERT_TRUE(text);
  EXPECT_EQ(text->status, 503);
  EXPECT_EQ(json::parse(text->body)["error"],
            "preview unavailable: the HTML took longer than 0.3 s");
  // The ordinary HTML mail still previews.
  auto ok = client_->Get("/api/v1/copies/" + std::to_string(html_id_) + "/html", Headers(&h));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

TEST_F(ConsoleApiTest, ThrottleSlowsAGuesserButNotTheUserElsewhere) {
  ConsoleOptions o;
  o.throttle.free_failures = 3;
  StartServer(o);
  json wrong = {{"name", "alice"}, {"password", "guess guess"}};
  for (int i = 0; i < 3; ++i) {
    auto r = client_->Post("/api/v1/session", wrong.dump(), "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401);
  }
  auto limited = client_->Post("/api/v1/session", wrong.dump(), "application/json");
  ASSERT_TRUE(limited);
  EXPECT_EQ(limited->status, 429);
  EXPECT_FALSE(limited->get_header_value("Retry-After").empty());
  EXPECT_GE(json::parse(limited->body)["retry_after"].get<int>(), 1);
  // Even the right password waits: the guesser learns nothing from it.
  json right = {{"name", "alice"}, {"password", kPassword}};
  auto r = client_->Post("/api/v1/session", right.dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 429);
  // Once the delay has passed, the real password works and clears it.
  env_.SetClock(env_.NowMicros() + 3'000'000);
  auto later = client_->Post("/api/v1/session", right.dump(), "application/json");
  ASSERT_TRUE(later);
  EXPECT_EQ(later->status, 200) << later->body;
  env_.SetClock(0);
}

TEST_F(ConsoleApiTest, LogoutAndAccountChangesEndSessions) {
  Login a = SignIn("alice");
  auto out = client_->Delete("/api/v1/session", Headers(&a));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->status, 204);
  auto after = client_->Get("/api/v1/session", Headers(&a));
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 401);

  Login h = SignIn("hank");
  ASSERT_TRUE(accounts_->SetRole("hank", directory::Role::kAuditor).ok());
  auto s = client_->Get("/api/v1/session", Headers(&h));
  ASSERT_TRUE(s);
  EXPECT_EQ(json::parse(s->body)["role"], "auditor");  // applies at once
  auto text = client_->Get("/api/v1/copies/" + std::to_string(plain_id_) + "/text", Headers(&h));
  ASSERT_TRUE(text);
  EXPECT_EQ(text->status, 403);
  ASSERT_TRUE(accounts_->SetDisabled("hank", true).ok());
  auto disabled = client_->Get("/api/v1/session", Headers(&h));
  ASSERT_TRUE(disabled);
  EXPECT_EQ(disabled->status, 401);

  Login d = SignIn("audrey");
  env_.SetClock(env_.NowMicros() + 1'000'000);
  ASSERT_TRUE(accounts_->SetPassword("audrey", "another password 2").ok());
  auto changed = client_->Get("/api/v1/session", Headers(&d));
  ASSERT_TRUE(changed);
  EXPECT_EQ(changed->status, 401);
  env_.SetClock(0);
}

TEST_F(ConsoleApiTest, ADisableEndsTheSessionEvenIfEnabledAgainBeforeItsNextRequest) {
  Login h = SignIn("hank");
  // `mailvault user disable hank; mailvault user enable hank`: another
  // process, no request in between.
  ASSERT_TRUE(accounts_->SetDisabled("hank", true).ok());
  ASSERT_TRUE(accounts_->SetDisabled("hank", false).ok());
  auto old = client_->Get("/api/v1/copies?subject=Invoice", Headers(&h));
  ASSERT_TRUE(old);
  EXPECT_EQ(old->status, 401) << old->body;
  EXPECT_EQ(old->get_header_value("WWW-Authenticate"), "Bearer");
  auto e = AuditOf("hank")[0];
  EXPECT_EQ(e.action, "search");
  EXPECT_EQ(e.result, "denied");
  EXPECT_EQ(e.role, "helpdesk");
  EXPECT_EQ(e.detail,
            "session ended by a disable or password change since sign-in: GET "
            "/api/v1/copies?subject=Invoice");
  // Ended for good (not only refused once), and a new sign-in works.
  auto again = client_->Get("/api/v1/session", Headers(&h));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 401);
  EXPECT_EQ(AllAudit()[0].detail.rfind("unknown or expired session", 0), 0u)
      << AllAudit()[0].detail;
  Login fresh = SignIn("hank");
  auto ok = client_->Get("/api/v1/session", Headers(&fresh));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  // Removed and made again under the same name: the old session is not the
  // new account's.
  ASSERT_TRUE(accounts_->Remove("hank").ok());
  ASSERT_TRUE(accounts_->Add("hank", directory::Role::kAdministrator, kPassword).ok());
  auto other = client_->Get("/api/v1/session", Headers(&fresh));
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 401);
}

TEST_F(ConsoleApiTest, ControlCharactersInAFilterAre400NamingTheField) {
  Login a = SignIn("alice");
  for (const auto& [query, field] :
       std::vector<std::pair<std::string, std::string>>{{"subject=%00zzz", "subject"},
                                                        {"from=a%0Db", "from"},
                                                        {"to=%1B%5B31m", "to"},
                                                        {"message_id=x%C2%85", "message_id"},
                                                        {"rule=R%7F", "rule"}}) {
    auto res = client_->Get("/api/v1/copies?" + query, Headers(&a));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << query << ": " << res->body;
    const std::string error = json::parse(res->body)["error"];
    EXPECT_EQ(error.rfind(field + ": the control character U+00", 0), 0u) << error;
  }
}

TEST(HostAllowedTest, NamesTheListenAddressAndLoopbackForms) {
  const std::vector<std::string> none, names = {"console.example.org", "[2001:db8::1]"};
  for (const char* ok : {"127.0.0.1", "127.0.0.1:8025", "localhost", "LOCALHOST:8025", "localhost.",
                         "[::1]:8025", "[::1]"}) {
    EXPECT_TRUE(HostAllowed(ok, none, "127.0.0.1", "127.0.0.1")) << ok;
  }
  for (const char* bad : {"evil.example", "evil.example:8025", "127.0.0.1.evil.example", "",
                          "localhost:80x", "::1", "[::1", "0.0.0.0:8025", "127.0.0.1:"}) {
    EXPECT_FALSE(HostAllowed(bad, none, "127.0.0.1", "127.0.0.1")) << bad;
  }
  EXPECT_TRUE(HostAllowed("Console.Example.Org:8443", names, "0.0.0.0", "192.0.2.5"));
  EXPECT_TRUE(HostAllowed("[2001:DB8::1]:8443", names, "0.0.0.0", "192.0.2.5"));
  EXPECT_TRUE(HostAllowed("192.0.2.5:8443", names, "0.0.0.0", "192.0.2.5"));  // where it came in
  EXPECT_FALSE(HostAllowed("0.0.0.0:8443", names, "0.0.0.0", "192.0.2.5"));
  EXPECT_FALSE(HostAllowed("localhost:8443", names, "0.0.0.0", "192.0.2.5"));
  EXPECT_TRUE(HostAllowed("192.0.2.7", none, "192.0.2.7", "192.0.2.7"));
}

TEST_F(ConsoleApiTest, AForeignHostIs421AndRecorded) {
  const std::string port = std::to_string(server_->port());
  // A DNS-rebinding page: its own name, this server's address.
  for (const char* path : {"/api/v1/health", "/api/v1/copies", "/", "/assets/app.js"}) {
    auto res = client_->Get(path, {{"Host", "rebind.evil.example:" + port}});
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 421) << path;
    EXPECT_TRUE(json::parse(res->body).contains("error")) << res->body;
    auto e = AllAudit()[0];
    EXPECT_EQ(e.action, "request");
    EXPECT_EQ(e.result, "denied");
    EXPECT_NE(e.detail.find("rebind.evil.example"), std::string::npos) << e.detail;
  }
  // Sign-in through the foreign name fails the same way.
  json body = {{"name", "alice"}, {"password", kPassword}};
  auto login = client_->Post("/api/v1/session", {{"Host", "rebind.evil.example:" + port}},
                             body.dump(), "application/json");
  ASSERT_TRUE(login);
  EXPECT_EQ(login->status, 421);
  EXPECT_TRUE(login->get_header_value("Set-Cookie").empty());
  for (std::string host : {"127.0.0.1:" + port, "localhost:" + port, std::string("localhost")}) {
    auto res = client_->Get("/api/v1/health", {{"Host", host}});
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200) << host;
  }
  ConsoleOptions o;
  o.server_names = {"console.example.org"};
  StartServer(o);
  auto named = client_->Get("/api/v1/health", {{"Host", "console.example.org:8443"}});
  ASSERT_TRUE(named);
  EXPECT_EQ(named->status, 200);
}

TEST_F(ConsoleApiTest, RefusalsOfUnauthenticatedRequestsAreBoundedAndSummarised) {
  ConsoleOptions o;
  o.refusals.per_address = 3;
  o.refusals.total = 100;
  StartServer(o, true);
  env_.SetClock(1'800'000'000'000'000LL);
  auto count = [this](std::string_view action) {
    int n = 0;
    for (const auto& e : AllAudit()) n += e.action == action;
    return n;
  };
  const int before = static_cast<int>(AllAudit().size());
  for (int i = 0; i < 10; ++i) {
    auto r = client_->Get("/api/v1/copies");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401);  // every one is refused; only the records are bounded
  }
  EXPECT_EQ(static_cast<int>(AllAudit().size()) - before, 3);
  // Refusals of an account's request name someone: always recorded.
  Login audrey = SignIn("audrey");
  for (int i = 0; i < 5; ++i) {
    auto r = client_->Post("/api/v1/copies/delete",
                           {{"Cookie", audrey.cookie}, {"X-CSRF-Token", audrey.csrf}},
                           json{{"ids", {plain_id_}}}.dump(), "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 403);
  }
  EXPECT_EQ(count("delete"), 5);
  EXPECT_EQ(count("refusals"), 0);
  // The minute ends; the next audited request records the summary.
  env_.SetClock(1'800'000'000'000'000LL + 61'000'000);
  auto r = client_->Get("/api/v1/copies", {{"Cookie", audrey.cookie}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  std::vector<journal::AuditEvent> summaries;
  for (const auto& e : AllAudit()) {
    if (e.action == "refusals") summaries.push_back(e);
  }
  ASSERT_EQ(summaries.size(), 1u);
  EXPECT_EQ(summaries[0].result, "denied");
  EXPECT_EQ(summaries[0].client, "127.0.0.1");
  EXPECT_NE(summaries[0].detail.find("7 further refusals of unauthenticated requests from "
                                     "127.0.0.1 not recorded one by one (search: 7)"),
            std::string::npos)
      << summaries[0].detail;
  // A new minute records again; what is counted at shutdown is recorded then.
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(client_->Get("/api/v1/copies"));
  EXPECT_EQ(count("refusals"), 1);
  server_.reset();
  EXPECT_EQ(count("refusals"), 2);
  env_.SetClock(0);
}

TEST_F(ConsoleApiTest, RefusedDeliveriesRecordTheCopiesAndWhy) {
  const CopyId infected = Put(kPlain, "bob@example.org", {{"anti-virus", "infected"}}, "R-av");
  Login a = SignIn("alice"), h = SignIn("hank");
  auto res = client_->Post("/api/v1/deliveries", Headers(&a),
                           R"({"ids": [)" + std::to_string(infected) + R"(], "original": true})",
                           "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403) << res->body;
  auto e = AuditOf("alice")[0];
  EXPECT_EQ(e.action, "deliver");
  EXPECT_EQ(e.result, "denied");
  EXPECT_EQ(e.copy_ids, std::vector<uint64_t>{infected});
  EXPECT_NE(e.detail.find("allow_infected_delivery"), std::string::npos) << e.detail;
  res =
      client_->Post("/api/v1/deliveries", Headers(&h),
                    R"({"ids": [)" + std::to_string(plain_id_) + R"(], "to": ["eve@example.net"]})",
                    "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403);
  e = AuditOf("hank")[0];
  EXPECT_EQ(e.copy_ids, std::vector<uint64_t>{plain_id_});
  EXPECT_NE(e.detail.find("eve@example.net"), std::string::npos) << e.detail;
  EXPECT_NE(e.detail.find("refused: the role helpdesk may deliver only to the original"),
            std::string::npos)
      << e.detail;
}

TEST_F(ConsoleApiTest, IdleSessionsExpire) {
  ConsoleOptions o;
  o.sessions.idle_micros = 60'000'000;
  StartServer(o);
  env_.SetClock(env_.NowMicros());
  Login a = SignIn("alice");
  env_.AdvanceClock(59'000'000);
  auto ok = client_->Get("/api/v1/session", Headers(&a));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  env_.AdvanceClock(61'000'000);
  auto gone = client_->Get("/api/v1/session", Headers(&a));
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->status, 401);
  env_.SetClock(0);
}

TEST_F(ConsoleApiTest, SearchFiltersAndPaging) {
  Login a = SignIn("alice");
  auto find = [&](const std::string& query) {
    auto res = client_->Get("/api/v1/copies?" + query, Headers(&a));
    EXPECT_TRUE(res);
    EXPECT_EQ(res->status, 200) << query << ": " << res->body;
    std::vector<CopyId> ids;
    const json body = json::parse(res->body);
    for (const json& c : body["items"]) ids.push_back(c["id"].get<CopyId>());
    return ids;
  };
  const std::vector<CopyId> plain = {plain_id_}, html = {html_id_}, both = {html_id_, plain_id_};
  EXPECT_EQ(find(""), both);
  EXPECT_EQ(find("from=alice"), plain);
  EXPECT_EQ(find("to=carol"), html);
  EXPECT_EQ(find("subject=PRIZE"), html);
  EXPECT_EQ(find("message_id=inv-42"), plain);
  EXPECT_EQ(find("rule=R-spam"), plain);
  EXPECT_EQ(find("engine=anti-phishing"), html);
  EXPECT_EQ(find("engine=anti-phishing,anti-spam"), both);
  EXPECT_EQ(find("period=hour"), both);
  EXPECT_EQ(find("period=custom&since=2000-01-01&until=2001-01-01"), std::vector<CopyId>{});
  // Both are under 1 KB (187 and 400 bytes).
  EXPECT_EQ(find("size_ge_kb=0&size_le_kb=1"), both);
  EXPECT_EQ(find("size_ge_kb=1"), std::vector<CopyId>{});
  // Empty fields are absent; keyset paging.
  EXPECT_EQ(find("from=&to=&subject="), both);
  auto page = client_->Get("/api/v1/copies?limit=1", Headers(&a));
  ASSERT_TRUE(page);
  auto j = json::parse(page->body);
  ASSERT_EQ(j["items"].size(), 1u);
  ASSERT_FALSE(j["next"].is_null());
  EXPECT_EQ(find("limit=1&before=" + std::to_string(j["next"].get<uint64_t>())), plain);
  for (const char* bad :
       {"period=fortnight", "limit=0", "limit=201", "size_le_kb=x", "engine=antivirus",
        "colour=red", "since=yesterday", "period=day&since=2026-01-01"}) {
    auto res = client_->Get(std::string("/api/v1/copies?") + bad, Headers(&a));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << bad << ": " << res->body;
    EXPECT_TRUE(json::parse(res->body).contains("error"));
  }
  auto events = AuditOf("alice");
  bool found = false;
  for (const auto& e : events) {
    if (e.action == "search" && e.detail.find("subject=PRIZE") != std::string::npos) found = true;
  }
  EXPECT_TRUE(found) << "the search's filter is in the audit log";
}

TEST_F(ConsoleApiTest, ViewTextAndHtmlPreview) {
  Login h = SignIn("hank");
  auto view = client_->Get("/api/v1/copies/" + std::to_string(plain_id_), Headers(&h));
  ASSERT_TRUE(view);
  ASSERT_EQ(view->status, 200);
  auto c = json::parse(view->body);
  EXPECT_EQ(c["subject"], "Invoice 42");
  EXPECT_EQ(c["rule_id"], "R-spam");
  EXPECT_EQ(c["statuses"]["anti-spam"], "spam");
  EXPECT_EQ(c["rcpt"], json::array({"bob@example.org"}));
  EXPECT_EQ(view->get_header_value("Cache-Control"), "no-store");

  auto text = client_->Get("/api/v1/copies/" + std::to_string(html_id_) + "/text", Headers(&h));
  ASSERT_TRUE(text);
  ASSERT_EQ(text->status, 200);
  auto t = json::parse(text->body);
  EXPECT_NE(t["text"].get<std::string>().find("You won!"), std::string::npos);
  EXPECT_TRUE(t["has_html"]);
  EXPECT_TRUE(t["html_allowed"]);

  auto html = client_->Get("/api/v1/copies/" + std::to_string(html_id_) + "/html", Headers(&h));
  ASSERT_TRUE(html);
  ASSERT_EQ(html->status, 200);
  const std::string csp = html->get_header_value("Content-Security-Policy");
  EXPECT_EQ(csp.rfind("sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:", 0),
            0u)
      << csp;
  EXPECT_EQ(html->get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(html->get_header_value("X-Remote-Images-Blocked"), "1");
  EXPECT_EQ(html->body.find("<script"), std::string::npos) << html->body;
  EXPECT_EQ(html->body.find("onclick"), std::string::npos) << html->body;
  EXPECT_EQ(html->body.find("tracker.example"), std::string::npos) << html->body;
  EXPECT_NE(html->body.find("<b>won</b>"), std::string::npos) << html->body;

  auto none = client_->Get("/api/v1/copies/" + std::to_string(plain_id_) + "/html", Headers(&h));
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 404);
  auto missing = client_->Get("/api/v1/copies/9999", Headers(&h));
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);

  // Turned off in the settings: 403, and the text says so.
  policy::Policy p = settings_->policy();
  p.html_preview = false;
  ASSERT_TRUE(settings_->Update(p).ok());
  auto off = client_->Get("/api/v1/copies/" + std::to_string(html_id_) + "/html", Headers(&h));
  ASSERT_TRUE(off);
  EXPECT_EQ(off->status, 403);
  auto t2 = client_->Get("/api/v1/copies/" + std::to_string(html_id_) + "/text", Headers(&h));
  ASSERT_TRUE(t2);
  EXPECT_FALSE(json::parse(t2->body)["html_allowed"]);

  auto events = AuditOf("hank");
  std::set<std::string> actions;
  for (const auto& e : events) {
    actions.insert(e.action);
    if (e.action == "view" && e.result == "ok") {
      EXPECT_EQ(e.copy_ids, std::vector<uint64_t>{plain_id_});
    }
  }
  EXPECT_TRUE(actions.count("view"));
  EXPECT_TRUE(actions.count("preview"));
}

TEST_F(ConsoleApiTest, DownloadsAreTheStoredBytes) {
  Login a = SignIn("alice");
  auto eml = client_->Get("/api/v1/copies/" + std::to_string(plain_id_) + "/eml", Headers(&a));
  ASSERT_TRUE(eml);
  ASSERT_EQ(eml->status, 200);
  EXPECT_EQ(eml->body, kPlain);
  EXPECT_EQ(eml->get_header_value("Content-Disposition"),
            "attachment; filename=\"copy-" + std::to_string(plain_id_) + ".eml\"");
  auto mbox = client_->Get(
      "/api/v1/copies/archive?ids=" + std::to_string(plain_id_) + "," + std::to_string(html_id_),
      Headers(&a));
  ASSERT_TRUE(mbox);
  ASSERT_EQ(mbox->status, 200);
  EXPECT_EQ(mbox->get_header_value("Content-Disposition"),
            "attachment; filename=\"mailvault-2-copies.mbox\"");
  EXPECT_EQ(mbox->body.rfind("From sender@example.com ", 0), 0u);
  EXPECT_NE(mbox->body.find(">From the accounts team"), std::string::npos);  // mboxrd
  EXPECT_NE(mbox->body.find("Subject: Win a prize"), std::string::npos);
  auto missing =
      client_->Get("/api/v1/copies/archive?ids=" + std::to_string(plain_id_) + ",999", Headers(&a));
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  auto none = client_->Get("/api/v1/copies/archive?ids=", Headers(&a));
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 400);
  int saves = 0;
  for (const auto& e : AuditOf("alice")) saves += e.action == "save" && e.result == "ok";
  EXPECT_EQ(saves, 2);
}

TEST_F(ConsoleApiTest, AnUnavailableAuditLogShowsNoContent) {
  Login a = SignIn("alice");
  audit_.reset();  // closed underneath the server: every Record fails
  journal::AuditOptions ro;
  ro.data_dir = data_;
  ro.read_only = true;
  auto read_only = journal::AuditLog::Open(env_, *keys_, ro);
  ASSERT_TRUE(read_only.ok());
  audit_ = std::move(*read_only);
  ConsoleOptions o;
  StartServer(o);
  // The session table is per server: sign in again fails closed too.
  json body = {{"name", "alice"}, {"password", kPassword}};
  auto login = client_->Post("/api/v1/session", body.dump(), "application/json");
  ASSERT_TRUE(login);
  EXPECT_EQ(login->status, 503) << login->body;
  EXPECT_TRUE(login->get_header_value("Set-Cookie").empty());
  httplib::Headers token = {{"Authorization", std::string("Bearer ") + kToken}};
  for (std::string path :
       {"/api/v1/copies/" + std::to_string(plain_id_),
        "/api/v1/copies/" + std::to_string(plain_id_) + "/eml",
        "/api/v1/copies/" + std::to_string(plain_id_) + "/text", std::string("/api/v1/copies")}) {
    auto res = client_->Get(path, token);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 503) << path << ": " << res->body;
    EXPECT_EQ(res->body.find("Invoice"), std::string::npos) << path;
    EXPECT_EQ(res->body.find("Please pay"), std::string::npos) << path;
  }
}

TEST_F(ConsoleApiTest, DeleteAndDeliver) {
  Login a = SignIn("alice"), h = SignIn("hank");
  // Helpdesk: original recipients only.
  auto other =
      client_->Post("/api/v1/deliveries", Headers(&h),
                    R"({"ids": [)" + std::to_string(plain_id_) + R"(], "to": ["eve@example.net"]})",
                    "application/json");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 403) << other->body;
  EXPECT_EQ(AuditOf("hank")[0].result, "denied");
  auto orig = client_->Post("/api/v1/deliveries", Headers(&h),
                            R"({"ids": [)" + std::to_string(plain_id_) + R"(], "original": true})",
                            "application/json");
  ASSERT_TRUE(orig);
  ASSERT_EQ(orig->status, 202) << orig->body;
  EXPECT_EQ(json::parse(orig->body)["message"],
            "The message has been placed in the queue for delivery");
  auto queue = client_->Get("/api/v1/deliveries", Headers(&h));
  ASSERT_TRUE(queue);
  auto q = json::parse(queue->body);
  ASSERT_EQ(q["items"].size(), 1u);
  EXPECT_EQ(q["items"][0]["rcpt"], "bob@example.org");
  EXPECT_EQ(q["items"][0]["requested_by"], "console:hank");
  EXPECT_EQ(q["counts"]["queued"], 1);
  EXPECT_EQ(AuditOf("hank")[0].action, "deliver");
  EXPECT_EQ(AuditOf("hank")[0].result, "ok");

  auto del = client_->Post("/api/v1/copies/delete", Headers(&a),
                           R"({"ids": [)" + std::to_string(html_id_) + "]}", "application/json");
  ASSERT_TRUE(del);
  ASSERT_EQ(del->status, 200) << del->body;
  EXPECT_EQ(json::parse(del->body)["message"], "Marked messages have been deleted");
  EXPECT_EQ(store_->Get(html_id_).status().code(), Code::kNotFound);
  auto e = AuditOf("alice")[0];
  EXPECT_EQ(e.action, "delete");
  EXPECT_EQ(e.copy_ids, std::vector<uint64_t>{html_id_});
  auto bad =
      client_->Post("/api/v1/copies/delete", Headers(&a), R"({"ids": "all"})", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
}

TEST_F(ConsoleApiTest, SettingsAndUsage) {
  Login a = SignIn("alice");
  auto get = client_->Get("/api/v1/settings", Headers(&a));
  ASSERT_TRUE(get);
  auto s = json::parse(get->body);
  EXPECT_TRUE(s["max_size"].is_number());
  EXPECT_EQ(s["unavailable_action"], "tempfail");
  auto put = client_->Put("/api/v1/settings", Headers(&a),
                          R"({"max_size": "50MB", "unavailable_action": "reject",
                              "allow_infected_delivery": true})",
                          "application/json");
  ASSERT_TRUE(put);
  ASSERT_EQ(put->status, 200) << put->body;
  auto p = json::parse(put->body);
  EXPECT_EQ(p["max_size"], 50'000'000u);
  EXPECT_EQ(p["unavailable_action"], "reject");
  EXPECT_EQ(p["warnings"].size(), 1u);  // below 100 MB
  EXPECT_EQ(settings_->policy().unavailable_action, policy::UnavailableAction::kReject);
  auto e = AuditOf("alice")[0];
  EXPECT_EQ(e.action, "settings");
  EXPECT_NE(e.detail.find("unavailable_action: tempfail -> reject"), std::string::npos) << e.detail;
  for (const char* bad : {R"({"max_size": "lots"})", R"({"colour": "red"})", R"([1])",
                          R"({"html_preview": [true]})", "{}"}) {
    auto r = client_->Put("/api/v1/settings", Headers(&a), bad, "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << bad;
  }
  EXPECT_EQ(store_->max_size(), 50'000'000u);
  auto usage = client_->Get("/api/v1/usage", Headers(&a));
  ASSERT_TRUE(usage);
  auto u = json::parse(usage->body);
  EXPECT_EQ(u["copies"], 2);
  EXPECT_EQ(u["max_bytes"], 50'000'000u);
  EXPECT_FALSE(u["oldest"].is_null());
}

TEST_F(ConsoleApiTest, AuditListAndExport) {
  Login a = SignIn("alice"), d = SignIn("audrey");
  client_->Get("/api/v1/copies/" + std::to_string(plain_id_), Headers(&a));
  auto list = client_->Get("/api/v1/audit?account=alice&action=view", Headers(&d));
  ASSERT_TRUE(list);
  ASSERT_EQ(list->status, 200) << list->body;
  auto items = json::parse(list->body)["items"];
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["copy_ids"], json::array({plain_id_}));
  EXPECT_EQ(items[0]["role"], "administrator");
  EXPECT_EQ(items[0]["client"], "127.0.0.1");
  EXPECT_EQ(items[0]["result"], "ok");
  EXPECT_TRUE(items[0]["at"].get<std::string>().ends_with("Z"));
  auto exp = client_->Get("/api/v1/audit/export", Headers(&d));
  ASSERT_TRUE(exp);
  ASSERT_EQ(exp->status, 200);
  EXPECT_NE(exp->get_header_value("Content-Disposition").find("attachment"), std::string::npos);
  size_t lines = 0;
  for (size_t at = 0; at < exp->body.size();) {
    size_t nl = exp->body.find('\n', at);
    ASSERT_NE(nl, std::string::npos);
    auto j = json::parse(exp->body.substr(at, nl - at));
    EXPECT_TRUE(j.contains("action"));
    ++lines;
    at = nl + 1;
  }
  EXPECT_GE(lines, 4u);  // two logins, the view, the list, the export itself
  auto bad = client_->Get("/api/v1/audit?since=soon", Headers(&d));
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
}

TEST_F(ConsoleApiTest, UiIsServedWithItsPolicyAndUnknownApiIsJson404) {
  auto page = client_->Get("/copies/12");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->get_header_value("Content-Type").find("text/html"), std::string::npos);
  const std::string csp = page->get_header_value("Content-Security-Policy");
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
  auto api = client_->Get("/api/v1/nothing");
  ASSERT_TRUE(api);
  EXPECT_EQ(api->status, 404);
  EXPECT_TRUE(json::parse(api->body).contains("error"));
  auto asset = client_->Get("/assets/missing-123.js");
  ASSERT_TRUE(asset);
  EXPECT_EQ(asset->status, 404);
}

TEST(WithoutBrotliTest, DropsOnlyTheBrCoding) {
  EXPECT_EQ(WithoutBrotli("gzip, deflate, br"), "gzip, deflate");
  EXPECT_EQ(WithoutBrotli("br;q=1.0,gzip;q=0.8"), "gzip;q=0.8");
  EXPECT_EQ(WithoutBrotli(" BR , identity "), "identity");
  EXPECT_EQ(WithoutBrotli("br"), "");
  EXPECT_EQ(WithoutBrotli(""), "");
  EXPECT_EQ(WithoutBrotli("gzip,,zstd"), "gzip, zstd");
}

TEST_F(ConsoleApiTest, BrowsersGetGzipNotBrotli) {
  httplib::Client raw("127.0.0.1", server_->port());
  raw.set_decompress(false);
  auto page = raw.Get("/", {{"Accept-Encoding", "gzip, deflate, br"}});
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->get_header_value("Content-Encoding"), "gzip");
  // Two requests on one kept-alive connection both answer (TCP_NODELAY is
  // set; its effect is timed in make bench, not here).
  auto again = raw.Get("/", {{"Accept-Encoding", "br"}});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
  EXPECT_EQ(again->get_header_value("Content-Encoding"), "");
}

TEST_F(ConsoleApiTest, PlainHttpOnlyOnLoopback) {
  ConsoleServices s;
  s.env = &env_;
  s.store = store_.get();
  s.settings = settings_.get();
  s.audit = audit_.get();
  ConsoleOptions o;
  o.token = kToken;
  o.host = "0.0.0.0";
  EXPECT_EQ(ConsoleServer::Start(s, o).status().code(), Code::kInvalidArgument);
  o.tls_cert = "/nonexistent/cert.pem";
  EXPECT_EQ(ConsoleServer::Start(s, o).status().code(), Code::kInvalidArgument);  // half a pair
  o.tls_key = "/nonexistent/key.pem";
  EXPECT_EQ(ConsoleServer::Start(s, o).status().code(), Code::kUnavailable);
}

TEST_F(ConsoleApiTest, ASecondServerCannotShareTheAddress) {
  // A second daemon on the same [api] listen must fail at start, not share
  // the port and split the requests between two stores.
  ConsoleServices s;
  s.env = &env_;
  s.store = store_.get();
  s.settings = settings_.get();
  s.audit = audit_.get();
  ConsoleOptions o;
  o.token = kToken;
  o.port = server_->port();
  auto second = ConsoleServer::Start(s, o);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Code::kUnavailable);
  EXPECT_NE(second.status().message().find("127.0.0.1:" + std::to_string(server_->port())),
            std::string::npos)
      << second.status().message();
  // The first still answers.
  auto health = client_->Get("/api/v1/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  // Once it is gone, the address can be taken again at once (SO_REUSEADDR).
  const int port = server_->port();
  server_.reset();
  o.port = port;
  auto again = ConsoleServer::Start(s, o);
  EXPECT_TRUE(again.ok()) << again.status().ToString();
}

// A full disk: every copy is refused, so health must say the Backup is
// unavailable and since when (not "ok" because it can still be read), and
// the next copy taken clears it.
TEST_F(ConsoleApiTest, HealthSaysUnavailableAndSinceWhenWhileCopiesAreRefused) {
  auto healthy = client_->Get("/api/v1/health");
  ASSERT_TRUE(healthy);
  EXPECT_EQ(healthy->status, 200);
  EXPECT_EQ(json::parse(healthy->body)["status"], "ok");
  env_.SetClock(1'800'000'000'000'000);
  env_.SetWriteBudget(0);
  PutRequest p;
  p.raw = kPlain;
  EXPECT_EQ(store_->Put(p).status().code(), Code::kNoSpace);
  env_.AdvanceClock(60'000'000);
  EXPECT_EQ(store_->Put(p).status().code(), Code::kNoSpace);
  auto res = client_->Get("/api/v1/health");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503) << res->body;
  json body = json::parse(res->body);
  EXPECT_EQ(body["status"], "unavailable");
  EXPECT_EQ(body["unavailable_since"], FormatRfc3339(1'800'000'000'000'000));
  EXPECT_EQ(body["refused"], 2);
  EXPECT_NE(body["error"].get<std::string>().find("no space"), std::string::npos) << body;
  env_.SetWriteBudget(UINT64_MAX);
  EXPECT_TRUE(store_->Put(p).ok());
  res = client_->Get("/api/v1/health");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(json::parse(res->body)["status"], "ok");
}

// The view links the same message kept twice (a retry after a lost
// end-of-message reply): same Message-ID and body, a new Received line.
TEST_F(ConsoleApiTest, TheViewNamesPossibleDuplicates) {
  const std::string retry = std::string("Received: from a by mx id RETRY\r\n") + kPlain;
  CopyId dup = Put(retry, "bob@example.org", {{"anti-spam", "spam"}}, "R-spam");
  Login a = SignIn("alice");
  auto res = client_->Get("/api/v1/copies/" + std::to_string(plain_id_), Headers(&a));
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(json::parse(res->body)["possible_duplicates"], json::array({dup})) << res->body;
  res = client_->Get("/api/v1/copies/" + std::to_string(html_id_), Headers(&a));
  ASSERT_TRUE(res);
  EXPECT_EQ(json::parse(res->body)["possible_duplicates"], json::array()) << res->body;
}

// GET /metrics: the figures in Prometheus's text format, from loopback
// without credentials; never to a browser without the token.
TEST_F(ConsoleApiTest, MetricsAnswerALoopbackScraper) {
  auto value = [](const std::string& text, const std::string& series) -> std::string {
    size_t at = text.find("\n" + series + " ");
    if (at == std::string::npos) return "missing";
    at += series.size() + 2;
    return text.substr(at, text.find('\n', at) - at);
  };
  auto before = client_->Get("/metrics");
  ASSERT_TRUE(before);
  ASSERT_EQ(before->status, 200) << before->body;
  EXPECT_EQ(before->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(value(before->body, "mailvault_store_copies"), "2");
  EXPECT_NE(value(before->body, "mailvault_store_max_bytes"), "missing");
  EXPECT_NE(value(before->body, "mailvault_store_free_bytes"), "missing");
  EXPECT_EQ(value(before->body, "mailvault_store_unavailable"), "0");
  EXPECT_EQ(value(before->body, "mailvault_delivery_queue{state=\"queued\"}"), "0");
  EXPECT_NE(before->body.find("# TYPE mailvault_audit_records gauge\n"), std::string::npos);
  // Counted where it happens: a wrong password.
  const std::string wrong = "mailvault_console_signin_failures_total{reason=\"wrong_password\"}";
  const std::string was = value(before->body, wrong);
  auto res = client_->Post("/api/v1/session", json({{"name", "alice"}, {"password", "no"}}).dump(),
                           "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  auto after = client_->Get("/metrics");
  ASSERT_TRUE(after);
  EXPECT_EQ(value(after->body, wrong), std::to_string(was == "missing" ? 1 : std::stoi(was) + 1));
  // Not audited when allowed (a scraper polls).
  for (const auto& e : AllAudit()) EXPECT_NE(e.action, "metrics");
}

TEST_F(ConsoleApiTest, MetricsNeedTheTokenFromABrowser) {
  Login admin = SignIn("alice");
  const std::vector<httplib::Headers> browsers = {
      {{"Cookie", admin.cookie}},
      {{"Sec-Fetch-Mode", "cors"}, {"Sec-Fetch-Site", "same-origin"}},
      {{"Origin", "http://127.0.0.1:" + std::to_string(server_->port())}},
  };
  for (const auto& h : browsers) {
    auto res = client_->Get("/metrics", h);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 401) << h.begin()->first;
    EXPECT_EQ(res->body.find("mailvault_store_copies"), std::string::npos);
    EXPECT_EQ(res->get_header_value("WWW-Authenticate"), "Bearer");
  }
  auto wrong = client_->Get("/metrics", {{"Authorization", "Bearer wrong-token-wrong-token"}});
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  // The token works, with or without a session beside it.
  auto ok = client_->Get(
      "/metrics", {{"Authorization", std::string("Bearer ") + kToken}, {"Cookie", admin.cookie}});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  int refusals = 0;
  for (const auto& e : AllAudit()) refusals += e.action == "metrics" && e.result == "denied";
  EXPECT_EQ(refusals, 4);
}

TEST_F(ConsoleApiTest, HealthAndMetricsSayWhichEnginesAnswer) {
  auto health = client_->Get("/api/v1/health");
  ASSERT_TRUE(health);
  EXPECT_FALSE(json::parse(health->body).contains("engines"));  // none given
  engines_ = [] {
    return std::vector<EngineReach>{
        {"clamd", "unix:/run/clamav/clamd.ctl", false, "connect: No such file or directory"},
        {"rspamd", "http://127.0.0.1:11333", true, ""}};
  };
  StartServer({});
  health = client_->Get("/api/v1/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);  // an engine down does not make the Backup unhealthy
  json body = json::parse(health->body);
  ASSERT_EQ(body["engines"].size(), 2u);
  EXPECT_EQ(body["engines"][0]["engine"], "clamd");
  EXPECT_EQ(body["engines"][0]["reachable"], false);
  EXPECT_EQ(body["engines"][0]["error"], "connect: No such file or directory");
  EXPECT_EQ(body["engines"][1]["reachable"], true);
  EXPECT_FALSE(body["engines"][1].contains("error"));
  auto metrics = client_->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("\nmailvault_engine_up{engine=\"clamd\"} 0\n"), std::string::npos);
  EXPECT_NE(metrics->body.find("\nmailvault_engine_up{engine=\"rspamd\"} 1\n"), std::string::npos);
}

}  // namespace
}  // namespace mailvault::console
