// The personal Backup over the real console API (real Store, accounts,
// audit log and queue in a temp dir, real HTTP): the authorization matrix
// of every route for {owner, unrelated personal user, personal Backup off,
// each toggle off, delegated mailbox with group access off/on}, IDOR
// attempts by id (answered as a missing copy, recorded as a refusal), the
// preview rules, delivery only to the user's own mailbox, and the settings
// API's personal.* keys.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "console/server.h"
#include "delivery/open_queue.h"
#include "delivery/queue_db.h"
#include "env/env.h"

namespace mailvault::console {
namespace {

using nlohmann::json;

constexpr char kToken[] = "0123456789abcdef0123456789abcdef";
constexpr char kPassword[] = "correct horse 1";

constexpr char kPlain[] =
    "From: Alice <alice@example.com>\r\nTo: pat@example.com\r\nSubject: Invoice 42\r\n"
    "Message-ID: <inv-42@example.com>\r\n\r\nPlease pay.\r\n";
constexpr char kHtml[] =
    "From: Shop <shop@example.net>\r\nTo: pat@example.com\r\nSubject: Your order\r\n"
    "MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n"
    "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nShipped\r\n"
    "--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Shipped <b>today</b></p>\r\n--b--\r\n";

// A directory that delegates sales@ to pat (what the LDAP cache will do).
// Also a directory user, dana (password kDirPassword), who owns
// dana@example.com and has sales@ delegated; "down" finds the directory
// unreachable.
constexpr char kDirPassword[] = "directory pass 2";
class FakeDirectory final : public directory::MailboxProvider, public directory::DirectoryUsers {
 public:
  explicit FakeDirectory(directory::MailboxProvider& local) : local_(local) {}
  Result<directory::DirectorySignIn> Authenticate(std::string_view login,
                                                  std::string_view password) override {
    ++binds;
    if (login == "down") return Status::Unavailable("ldap://dc1: timed out");
    if ((login == "dana" || login == "alice") && password == kDirPassword) return Find(login);
    return Status::PermissionDenied("wrong login or password");
  }
  Result<directory::DirectorySignIn> Find(std::string_view login) override {
    if (login == "dana" || login == "alice") {
      return directory::DirectorySignIn{std::string(login), dana_dn, "Dana"};
    }
    return Status::NotFound("no such user");
  }
  Result<directory::LdapSyncState> State() override {
    directory::LdapSyncState s;
    s.last_attempt = s.last_success = 1'796'000'000'000'000;
    s.users = 2000;
    return s;
  }
  Result<std::vector<directory::Mailbox>> MailboxesOf(std::string_view account) override {
    if (account == "dana") {
      return std::vector<directory::Mailbox>{{"dana@example.com", false, ""},
                                             {"sales@example.com", true, "group sales"}};
    }
    auto own = local_.MailboxesOf(account);
    if (!own.ok() || account != "pat") return own;
    own->push_back({"sales@example.com", true, "group sales"});
    return own;
  }

 public:
  std::atomic<int> binds{0};
  std::string dana_dn = "uid=dana,ou=people,dc=example,dc=com";

 private:
  directory::MailboxProvider& local_;
};

struct Login {
  std::string cookie, csrf;
};

class PersonalApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mv_personal_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    const std::string data = dir_ + "/data";
    StoreOptions so;
    so.dir = data;
    ASSERT_TRUE(Store::Init(so).ok());
    auto store = Store::Open(so);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    policy::SettingsOptions po;
    po.dir = data;
    po.env = PosixEnv();
    auto settings = policy::Settings::Open(po);
    ASSERT_TRUE(settings.ok()) << settings.status().ToString();
    settings_ = std::move(*settings);
    auto keys = crypto::KeyRing::Open(*PosixEnv(), DataDir(data).keys(), false);
    ASSERT_TRUE(keys.ok());
    keys_ = std::move(*keys);
    auto accounts =
        directory::Accounts::Open(*PosixEnv(), DataDir(data), *keys_, false, crypto::kTestCost);
    ASSERT_TRUE(accounts.ok());
    accounts_ = std::move(*accounts);
    ASSERT_TRUE(accounts_->Add("alice", directory::Role::kAdministrator, kPassword).ok());
    ASSERT_TRUE(
        accounts_->Add("pat", directory::Role::kPersonal, kPassword, {"pat@example.com"}).ok());
    ASSERT_TRUE(
        accounts_->Add("quinn", directory::Role::kPersonal, kPassword, {"quinn@example.com"}).ok());
    journal::AuditOptions ao;
    ao.data_dir = data;
    auto audit = journal::AuditLog::Open(*PosixEnv(), *keys_, ao);
    ASSERT_TRUE(audit.ok());
    audit_ = std::move(*audit);
    auto queue = delivery::OpenQueue(*PosixEnv(), DataDir(data), *keys_, false);
    ASSERT_TRUE(queue.ok());
    queue_ = std::move(*queue);
    deliveries_ = std::make_unique<delivery::DeliveryService>(*PosixEnv(), *store_, *settings_,
                                                              *queue_, 86'400'000'000LL, [] {});
    plain_ = Put(kPlain, {"pat@example.com"}, {{"anti-spam", "spam"}});
    html_ = Put(kHtml, {"Pat@Example.COM"}, {{"anti-virus", "not-detected"}});
    infected_ = Put(kHtml, {"pat@example.com"}, {{"anti-virus", "infected"}});
    phish_ = Put(kPlain, {"pat@example.com"}, {{"anti-phishing", "malicious-link"}});
    shared_ = Put(kPlain, {"bob@example.org", "pat@example.com"}, {{"anti-spam", "spam"}});
    others_ = Put(kPlain, {"bob@example.org"}, {{"anti-spam", "spam"}});
    group_ = Put(kPlain, {"sales@example.com"}, {{"anti-spam", "spam"}});
    dana_ = Put(kPlain, {"dana@example.com", "bob@example.org"}, {{"anti-spam", "spam"}});
    directory::PersonalSettings on;
    on.enabled = on.preview = on.delete_allowed = on.allow_sending = true;
    ASSERT_TRUE(accounts_->PutPersonalSettings(on).ok());
    local_ = std::make_unique<directory::LocalMailboxes>(*accounts_);
    ldap_ = std::make_unique<FakeDirectory>(*local_);
    ConsoleOptions o;
    o.token = kToken;
    o.preview.path = MV_PREVIEW_HELPER;
    o.refusals.per_address = o.refusals.total = 1 << 30;
    ConsoleServices s;
    s.env = PosixEnv();
    s.store = store_.get();
    s.settings = settings_.get();
    s.deliveries = deliveries_.get();
    s.accounts = accounts_.get();
    s.audit = audit_.get();
    s.mailboxes = ldap_.get();
    s.directory = ldap_.get();
    auto server = ConsoleServer::Start(s, o);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
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
  CopyId Put(const std::string& raw, std::vector<std::string> rcpt,
             std::map<std::string, std::string> statuses) {
    PutRequest p;
    p.raw = raw;
    p.mail_from = "sender@example.com";
    p.rcpt = std::move(rcpt);
    p.statuses = std::move(statuses);
    auto id = store_->Put(p);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : 0;
  }
  void Set(const std::string& key, const std::string& value) {
    auto p = accounts_->GetPersonalSettings();
    ASSERT_TRUE(p.ok());
    ASSERT_TRUE(directory::SetPersonalSetting(&*p, key, value, nullptr).ok());
    ASSERT_TRUE(accounts_->PutPersonalSettings(*p).ok());
  }
  Login SignIn(const std::string& name, const std::string& password = kPassword) {
    json body = {{"name", name}, {"password", password}};
    auto res = client_->Post("/api/v1/session", body.dump(), "application/json");
    if (!res || res->status != 200) {
      ADD_FAILURE() << "login " << name << ": " << (res ? res->body : "no answer");
      return {};
    }
    std::string c = res->get_header_value("Set-Cookie");
    return {c.substr(0, c.find(';')), json::parse(res->body)["csrf_token"]};
  }
  // method, path, body as `who`; the status.
  int Call(const Login& who, const std::string& method, const std::string& path,
           const std::string& body = "", std::string* answer = nullptr) {
    httplib::Headers h = {{"Cookie", who.cookie}, {"X-CSRF-Token", who.csrf}};
    httplib::Result r = method == "GET"    ? client_->Get(path, h)
                        : method == "POST" ? client_->Post(path, h, body, "application/json")
                        : method == "PUT"  ? client_->Put(path, h, body, "application/json")
                                           : client_->Delete(path, h, body, "application/json");
    if (!r) return -1;
    if (answer != nullptr) *answer = r->body;
    return r->status;
  }
  std::vector<CopyId> List(const Login& who, const std::string& query = "") {
    std::string body;
    EXPECT_EQ(Call(who, "GET", "/api/v1/copies?" + query, "", &body), 200) << body;
    std::vector<CopyId> ids;
    json j = json::parse(body, nullptr, false);
    if (j.is_object()) {
      for (const json& item : j["items"]) ids.push_back(item["id"].get<CopyId>());
    }
    return ids;
  }
  // The newest audit record of `account`.
  journal::AuditEvent LastAudit(const std::string& account) {
    journal::AuditQuery q;
    q.account = account;
    q.limit = 1;
    auto page = audit_->List(q);
    EXPECT_TRUE(page.ok() && !page->items.empty());
    return page.ok() && !page->items.empty() ? page->items[0] : journal::AuditEvent{};
  }
  std::vector<DeliveryEntry> Queued() {
    auto page = deliveries_->List(DeliveryQuery{});
    EXPECT_TRUE(page.ok());
    return page.ok() ? page->items : std::vector<DeliveryEntry>{};
  }

  std::string dir_;
  std::unique_ptr<crypto::KeyRing> keys_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<policy::Settings> settings_;
  std::unique_ptr<directory::Accounts> accounts_;
  std::unique_ptr<journal::AuditLog> audit_;
  std::unique_ptr<index::QueueDb> queue_;
  std::unique_ptr<delivery::DeliveryService> deliveries_;
  std::unique_ptr<directory::LocalMailboxes> local_;
  std::unique_ptr<FakeDirectory> ldap_;
  std::unique_ptr<ConsoleServer> server_;
  std::unique_ptr<httplib::Client> client_;
  CopyId plain_ = 0, html_ = 0, infected_ = 0, phish_ = 0, shared_ = 0, others_ = 0, group_ = 0,
         dana_ = 0;
};

std::string Ids(CopyId id) { return json{{"ids", {id}}}.dump(); }

// The copy routes a personal user may use; every other /api/v1 route is an
// administrator's.
const std::set<std::string> kPersonalRoutes = {
    "GET /api/v1/copies",          "GET /api/v1/copies/archive",   "POST /api/v1/copies/delete",
    "GET /api/v1/copies/{id}",     "GET /api/v1/copies/{id}/text", "GET /api/v1/copies/{id}/html",
    "GET /api/v1/copies/{id}/eml", "POST /api/v1/deliveries",      "POST /api/v1/session",
    "GET /api/v1/session",         "DELETE /api/v1/session",       "GET /api/v1/health"};

TEST_F(PersonalApiTest, EveryAdministratorRouteRefusesAPersonalUserAndRecordsIt) {
  Login pat = SignIn("pat");
  int checked = 0;
  for (const RouteInfo& r : ConsoleServer::Routes()) {
    if (kPersonalRoutes.count(r.method + " " + r.path)) continue;
    std::string path = r.path;
    if (auto at = path.find("{id}"); at != std::string::npos) path.replace(at, 4, "1");
    const std::string body = r.method == "GET" ? "" : "{\"ids\": [1]}";
    std::string answer;
    EXPECT_EQ(Call(pat, r.method, path, body, &answer), 403) << r.method << " " << path << answer;
    const journal::AuditEvent e = LastAudit("pat");
    EXPECT_EQ(e.result, "denied") << r.method << " " << path;
    EXPECT_EQ(e.role, "personal");
    ++checked;
  }
  EXPECT_GE(checked, 7);  // ingest, deliveries list, settings x2, usage, audit x2
  // Delivery to other addresses is an administrator's too.
  EXPECT_EQ(Call(pat, "POST", "/api/v1/deliveries",
                 json{{"ids", {plain_}}, {"to", {"mallory@evil.example"}}}.dump()),
            403);
  EXPECT_TRUE(Queued().empty());
}

TEST_F(PersonalApiTest, TheListIsExactlyTheCopiesAddressedToTheUser) {
  Login pat = SignIn("pat");
  // Newest first; header To of `others_` does not count, the envelope does;
  // sales@ is delegated but group access is off.
  EXPECT_EQ(List(pat), (std::vector<CopyId>{shared_, phish_, infected_, html_, plain_}));
  EXPECT_EQ(List(pat, "&subject=order"), (std::vector<CopyId>{infected_, html_}));
  EXPECT_EQ(List(pat, "&engine=anti-virus"), (std::vector<CopyId>{infected_, html_}));
  EXPECT_EQ(List(pat, "&limit=2"), (std::vector<CopyId>{shared_, phish_}));
  EXPECT_EQ(Call(pat, "GET", "/api/v1/copies?mailbox=bob@example.org"), 403);
  EXPECT_EQ(Call(pat, "GET", "/api/v1/copies?mailbox=sales@example.com"), 403);
  Login quinn = SignIn("quinn");
  EXPECT_TRUE(List(quinn).empty());
  EXPECT_TRUE(List(quinn, "&to=pat").empty());
  // Group mailboxes: on, the delegated mailbox is in the list and the switch.
  Set("personal.group_mailboxes", "yes");
  EXPECT_EQ(List(pat, "&mailbox=sales@example.com"), (std::vector<CopyId>{group_}));
  EXPECT_EQ(List(pat).front(), group_);
  std::string session;
  ASSERT_EQ(Call(pat, "GET", "/api/v1/session", "", &session), 200);
  json s = json::parse(session);
  EXPECT_EQ(s["role"], "personal");
  ASSERT_EQ(s["personal"]["mailboxes"].size(), 2u);
  EXPECT_EQ(s["personal"]["mailboxes"][1]["address"], "sales@example.com");
  EXPECT_EQ(s["personal"]["mailboxes"][1]["delegated"], true);
}

TEST_F(PersonalApiTest, AnotherUsersCopyIsAnsweredAsMissingAndRecordedAsARefusal) {
  Login quinn = SignIn("quinn");
  const std::vector<std::pair<std::string, std::string>> probes = {
      {"GET", "/api/v1/copies/" + std::to_string(plain_)},
      {"GET", "/api/v1/copies/" + std::to_string(plain_) + "/text"},
      {"GET", "/api/v1/copies/" + std::to_string(html_) + "/html"},
      {"GET", "/api/v1/copies/" + std::to_string(plain_) + "/eml"},
      {"GET", "/api/v1/copies/archive?ids=" + std::to_string(plain_)},
      {"POST", "/api/v1/copies/delete"},
      {"POST", "/api/v1/deliveries"},
  };
  for (const auto& [method, path] : probes) {
    const CopyId target = path.find("/html") != std::string::npos ? html_ : plain_;
    std::string answer;
    EXPECT_EQ(Call(quinn, method, path, method == "POST" ? Ids(target) : "", &answer), 404)
        << method << " " << path << ": " << answer;
    EXPECT_EQ(answer.find("Invoice"), std::string::npos);
    const journal::AuditEvent e = LastAudit("quinn");
    EXPECT_EQ(e.result, "denied") << path;
    EXPECT_EQ(e.copy_ids, std::vector<uint64_t>{target}) << path;
    EXPECT_NE(e.detail.find("not addressed to a mailbox of this user"), std::string::npos)
        << e.detail;
  }
  // An id that does not exist answers the same.
  std::string missing, foreign;
  EXPECT_EQ(Call(quinn, "GET", "/api/v1/copies/999", "", &missing), 404);
  EXPECT_EQ(Call(quinn, "GET", "/api/v1/copies/" + std::to_string(others_), "", &foreign), 404);
  EXPECT_EQ(json::parse(missing)["error"].get<std::string>().substr(0, 8),
            json::parse(foreign)["error"].get<std::string>().substr(0, 8));
  // Nothing was deleted or queued; a mixed delete (own + foreign) deletes none.
  Login pat = SignIn("pat");
  EXPECT_EQ(Call(pat, "POST", "/api/v1/copies/delete", json{{"ids", {plain_, others_}}}.dump()),
            404);
  EXPECT_TRUE(store_->Get(plain_).ok());
  EXPECT_TRUE(store_->Get(others_).ok());
  EXPECT_TRUE(Queued().empty());
  // The group mailbox's copy is not pat's while group access is off.
  EXPECT_EQ(Call(pat, "GET", "/api/v1/copies/" + std::to_string(group_)), 404);
  Set("personal.group_mailboxes", "yes");
  EXPECT_EQ(Call(pat, "GET", "/api/v1/copies/" + std::to_string(group_)), 200);
}

TEST_F(PersonalApiTest, OwnerMatrixUnderEachToggle) {
  Login pat = SignIn("pat");
  const std::string id = std::to_string(plain_);
  const std::string copy = "/api/v1/copies/" + id;
  struct Route {
    std::string method, path, body;
    std::string toggle;  // the setting that, off, refuses it ("" = none)
  };
  const std::vector<Route> routes = {
      {"GET", "/api/v1/copies", "", ""},
      {"GET", copy, "", ""},
      {"GET", copy + "/text", "", "personal.preview"},
      {"GET", "/api/v1/copies/" + std::to_string(html_) + "/html", "", "personal.preview"},
      {"GET", copy + "/eml", "", "personal.preview"},
      {"GET", "/api/v1/copies/archive?ids=" + id, "", "personal.preview"},
      {"POST", "/api/v1/deliveries", json{{"ids", {plain_}}, {"again", true}}.dump(),
       "personal.send"},
      // Last: it deletes the copy.
      {"POST", "/api/v1/copies/delete", Ids(plain_), "personal.delete"},
  };
  for (const char* toggle :
       {"personal.backup", "personal.preview", "personal.send", "personal.delete"}) {
    Set(toggle, "no");
    for (const Route& r : routes) {
      const bool refused = std::string(toggle) == "personal.backup" || r.toggle == toggle;
      // The delete is tried only where it is refused: it would take the copy.
      if (!refused && r.toggle == "personal.delete") continue;
      std::string answer;
      const int status = Call(pat, r.method, r.path, r.body, &answer);
      if (refused) {
        EXPECT_EQ(status, 403) << toggle << " off: " << r.method << " " << r.path << answer;
        const journal::AuditEvent e = LastAudit("pat");
        EXPECT_EQ(e.result, "denied") << toggle << " " << r.path;
      } else {
        EXPECT_LT(status, 300) << toggle << " off: " << r.method << " " << r.path << answer;
      }
    }
    // The session still answers, and says the personal Backup is off.
    std::string session;
    EXPECT_EQ(Call(pat, "GET", "/api/v1/session", "", &session), 200);
    EXPECT_EQ(json::parse(session)["personal"]["settings"]["backup"],
              std::string(toggle) != "personal.backup");
    Set(toggle, "yes");
  }
  // Everything on: the owner may do each.
  for (const Route& r : routes) {
    std::string answer;
    EXPECT_LT(Call(pat, r.method, r.path, r.body, &answer), 300) << r.path << answer;
  }
  EXPECT_FALSE(store_->Get(plain_).ok());  // deleted by its owner
}

TEST_F(PersonalApiTest, PreviewRules) {
  Login pat = SignIn("pat");
  std::string body;
  ASSERT_EQ(Call(pat, "GET", "/api/v1/copies/" + std::to_string(html_) + "/text", "", &body), 200);
  EXPECT_EQ(json::parse(body)["html_allowed"], true);
  EXPECT_EQ(Call(pat, "GET", "/api/v1/copies/" + std::to_string(html_) + "/html", "", &body), 200);
  EXPECT_NE(body.find("today"), std::string::npos);
  // Infected: text yes, HTML no.
  ASSERT_EQ(Call(pat, "GET", "/api/v1/copies/" + std::to_string(infected_) + "/text", "", &body),
            200);
  EXPECT_EQ(json::parse(body)["html_allowed"], false);
  EXPECT_EQ(Call(pat, "GET", "/api/v1/copies/" + std::to_string(infected_) + "/html"), 403);
  EXPECT_EQ(LastAudit("pat").result, "denied");
  // No HTML part: not allowed, whatever the label.
  ASSERT_EQ(Call(pat, "GET", "/api/v1/copies/" + std::to_string(plain_) + "/text", "", &body), 200);
  EXPECT_EQ(json::parse(body)["html_allowed"], false);
  // Another recipient of a copy (here in Bcc) is not the user's to see.
  ASSERT_EQ(Call(pat, "GET", "/api/v1/copies/" + std::to_string(shared_), "", &body), 200);
  EXPECT_EQ(json::parse(body)["rcpt"], json::array({"pat@example.com"}));
  EXPECT_EQ(body.find("bob@example.org"), std::string::npos) << body;
  ASSERT_EQ(Call(pat, "GET", "/api/v1/copies?subject=invoice", "", &body), 200);
  EXPECT_EQ(body.find("bob@example.org"), std::string::npos) << body;
  // The view says what the console may offer.
  ASSERT_EQ(Call(pat, "GET", "/api/v1/copies/" + std::to_string(infected_), "", &body), 200);
  EXPECT_EQ(json::parse(body)["personal"]["no_threat"], false);
}

TEST_F(PersonalApiTest, DeliveryGoesOnlyToTheUsersOwnMailboxAndOnlyWithoutThreats) {
  Login pat = SignIn("pat");
  std::string answer;
  ASSERT_EQ(Call(pat, "POST", "/api/v1/deliveries", Ids(shared_), &answer), 202) << answer;
  std::vector<DeliveryEntry> q = Queued();
  ASSERT_EQ(q.size(), 1u);  // not bob@, who was a recipient too
  EXPECT_EQ(q[0].rcpt, "pat@example.com");
  EXPECT_EQ(q[0].copy_id, shared_);
  EXPECT_EQ(q[0].format, DeliveryFormat::kAsAttachment);  // the default
  EXPECT_EQ(LastAudit("pat").action, "deliver");
  EXPECT_EQ(LastAudit("pat").result, "ok");
  // Threats: infected, malicious link.
  EXPECT_EQ(Call(pat, "POST", "/api/v1/deliveries", Ids(infected_)), 403);
  EXPECT_EQ(Call(pat, "POST", "/api/v1/deliveries", Ids(phish_)), 403);
  EXPECT_EQ(LastAudit("pat").result, "denied");
  // Not to another mailbox, not in another format.
  EXPECT_EQ(Call(pat, "POST", "/api/v1/deliveries",
                 json{{"ids", {plain_}}, {"mailbox", "bob@example.org"}}.dump()),
            403);
  EXPECT_EQ(
      Call(pat, "POST", "/api/v1/deliveries", json{{"ids", {plain_}}, {"format", "as-is"}}.dump()),
      403);
  EXPECT_EQ(Queued().size(), 1u);
  // The administrator's format and Message-ID removal apply.
  Set("personal.delivery_format", "as-is");
  Set("personal.remove_message_id", "yes");
  ASSERT_EQ(Call(pat, "POST", "/api/v1/deliveries", Ids(plain_), &answer), 202) << answer;
  q = Queued();
  ASSERT_EQ(q.size(), 2u);
  EXPECT_EQ(q[0].format, DeliveryFormat::kAsIs);  // newest first
  EXPECT_TRUE(q[0].remove_message_id);
  // Through the delegated mailbox it came to, with group access on.
  Set("personal.group_mailboxes", "yes");
  ASSERT_EQ(Call(pat, "POST", "/api/v1/deliveries", Ids(group_), &answer), 202) << answer;
  EXPECT_EQ(Queued()[0].rcpt, "sales@example.com");
}

TEST_F(PersonalApiTest, SettingsApiKeepsPersonalKeysInTheAccountsDatabase) {
  Login alice = SignIn("alice");
  std::string body;
  ASSERT_EQ(Call(alice, "GET", "/api/v1/settings", "", &body), 200);
  EXPECT_EQ(json::parse(body)["personal.backup"], true);
  ASSERT_EQ(
      Call(alice, "PUT", "/api/v1/settings",
           json{{"personal.delete", false}, {"personal.delivery_format", "as-is"}}.dump(), &body),
      200)
      << body;
  EXPECT_EQ(json::parse(body)["personal.delete"], false);
  auto p = accounts_->GetPersonalSettings();
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->delete_allowed);
  EXPECT_EQ(p->delivery_format, DeliveryFormat::kAsIs);
  EXPECT_NE(LastAudit("alice").detail.find("personal.delete: yes -> no"), std::string::npos);
  EXPECT_EQ(Call(alice, "PUT", "/api/v1/settings", json{{"personal.backup", "maybe"}}.dump()), 400);
  // A disabled personal account cannot sign in.
  ASSERT_TRUE(accounts_->SetDisabled("pat", true).ok());
  json login = {{"name", "pat"}, {"password", kPassword}};
  auto res = client_->Post("/api/v1/session", login.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
}

TEST_F(PersonalApiTest, DirectoryUserSignsInAndSeesOnlyTheirMailboxes) {
  auto login = [&](const std::string& name, const std::string& password) {
    json body = {{"name", name}, {"password", password}};
    return client_->Post("/api/v1/session", body.dump(), "application/json");
  };
  auto wrong = login("dana", "not it");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  EXPECT_EQ(LastAudit("dana").result, "denied");
  // An outage is a clear 503 and never a session.
  auto down = login("down", kDirPassword);
  ASSERT_TRUE(down);
  EXPECT_EQ(down->status, 503) << down->body;
  EXPECT_NE(down->body.find("directory"), std::string::npos);
  EXPECT_TRUE(down->get_header_value("Set-Cookie").empty());
  // A local account of the same name wins: the directory is not asked.
  const int binds = ldap_->binds;
  auto local = login("alice", kDirPassword);
  ASSERT_TRUE(local);
  EXPECT_EQ(local->status, 401);
  EXPECT_EQ(ldap_->binds, binds);

  Login dana = SignIn("dana", kDirPassword);
  std::string session;
  ASSERT_EQ(Call(dana, "GET", "/api/v1/session", "", &session), 200);
  json j = json::parse(session);
  EXPECT_EQ(j["account"], "dana");
  EXPECT_EQ(j["role"], "personal");
  EXPECT_EQ(LastAudit("dana").result, "ok");
  EXPECT_EQ(List(dana), std::vector<CopyId>{dana_});
  EXPECT_EQ(Call(dana, "GET", "/api/v1/copies/" + std::to_string(group_)), 404);
  EXPECT_EQ(Call(dana, "GET", "/api/v1/copies/" + std::to_string(plain_)), 404);
  EXPECT_EQ(Call(dana, "GET", "/api/v1/audit"), 403);
  Set("personal.group_mailboxes", "on");
  EXPECT_EQ(List(dana), (std::vector<CopyId>{dana_, group_}));
  EXPECT_EQ(Call(dana, "GET", "/api/v1/copies/" + std::to_string(group_)), 200);
  // The login now names another entry (a sync): the session ends.
  ldap_->dana_dn = "uid=dana2,ou=people,dc=example,dc=com";
  EXPECT_EQ(Call(dana, "GET", "/api/v1/copies"), 401);
}

TEST_F(PersonalApiTest, HealthShowsTheDirectorySyncState) {
  auto res = client_->Get("/api/v1/health");
  ASSERT_TRUE(res);
  json j = json::parse(res->body);
  ASSERT_TRUE(j.contains("ldap")) << res->body;
  EXPECT_EQ(j["ldap"]["users"], 2000);
  EXPECT_TRUE(j["ldap"]["last_error"].is_null());
  EXPECT_TRUE(j["ldap"]["last_success"].is_string());
}

}  // namespace
}  // namespace mailvault::console
