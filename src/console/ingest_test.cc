// The gateway's side of the API against a real Store in a temp dir, over
// real HTTP on a free port: health, token checks, a posted message that
// Store::Get then finds, and bad input answered with 400 rather than a crash.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "console/meta.h"
#include "console/server.h"
#include "crypto/keyring.h"
#include "env/data_dir.h"
#include "env/env.h"
#include "testutil/fault_env.h"

namespace mailvault::console {
namespace {

constexpr char kToken[] = "0123456789abcdef0123456789abcdef";
constexpr char kMessage[] =
    "From: Alice <alice@example.com>\r\nTo: bob@example.org\r\nSubject: API test\r\n"
    "Message-ID: <api-1@example.com>\r\n\r\nhello\r\n";

class IngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mv_api_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    StoreOptions so;
    so.dir = dir_ + "/data";
    ASSERT_TRUE(Store::Init(so).ok());
    so.env = &fault_;
    auto store = Store::Open(so);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    policy::SettingsOptions po;
    po.dir = dir_ + "/data";
    auto settings = policy::Settings::Open(po);
    ASSERT_TRUE(settings.ok()) << settings.status().ToString();
    settings_ = std::move(*settings);
    journal::AuditOptions jo;
    jo.data_dir = dir_ + "/data";
    auto keys = crypto::KeyRing::Open(fault_, DataDir(jo.data_dir).keys(), false);
    ASSERT_TRUE(keys.ok()) << keys.status().ToString();
    keys_ = std::move(*keys);
    auto audit = journal::AuditLog::Open(fault_, *keys_, jo);
    ASSERT_TRUE(audit.ok()) << audit.status().ToString();
    audit_ = std::move(*audit);
    StartServer({});
  }
  void StartServer(ConsoleOptions ao) {
    client_.reset();
    server_.reset();
    ConsoleServices services;
    services.env = &fault_;
    services.store = store_.get();
    services.settings = settings_.get();
    services.audit = audit_.get();
    ao.token = kToken;
    ao.max_message_size = 4096;
    auto server = ConsoleServer::Start(services, ao);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
    ASSERT_GT(server_->port(), 0);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
  }
  void TearDown() override {
    client_.reset();
    server_.reset();
    audit_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  httplib::Result Post(const std::string& message, const std::string& meta,
                       const std::string& token = kToken) {
    httplib::MultipartFormDataItems items = {{"message", message, "m.eml", "message/rfc822"}};
    if (!meta.empty()) items.push_back({"meta", meta, "", "application/json"});
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    return client_->Post("/api/v1/messages", headers, items);
  }

  // Sends `request` as it is on a new connection and returns the answer:
  // what comes back until a whole response (headers and Content-Length
  // bytes) is in, the server closes, or `wait_seconds` pass without a byte.
  std::string RawExchange(const std::string& request, int wait_seconds) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    EXPECT_GE(fd, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(server_->port()));
    ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(request.size()));
    timeval tv{wait_seconds, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof(buf), 0)) > 0;) {
      out.append(buf, n);
      const size_t end = out.find("\r\n\r\n");
      const size_t length = out.find("Content-Length: ");
      if (end != std::string::npos && length != std::string::npos && length < end &&
          out.size() >= end + 4 + std::stoul(out.substr(length + 16))) {
        break;
      }
    }
    ::close(fd);
    return out;
  }

  std::string MultipartRequest(const std::string& body, size_t content_length) {
    return "POST /api/v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
           std::string(kToken) +
           "\r\nContent-Type: multipart/form-data; boundary=XX\r\nContent-Length: " +
           std::to_string(content_length) + "\r\n\r\n" + body;
  }

  std::string ErrorOf(const httplib::Result& res) {
    auto j = nlohmann::json::parse(res->body, nullptr, false);
    return j.is_object() && j.contains("error") ? j["error"].get<std::string>() : res->body;
  }

  std::string dir_;
  FaultEnv fault_{PosixEnv()};  // outlives store_
  std::unique_ptr<crypto::KeyRing> keys_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<policy::Settings> settings_;
  std::unique_ptr<journal::AuditLog> audit_;
  std::unique_ptr<ConsoleServer> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(IngestTest, HealthNeedsNoToken) {
  auto res = client_->Get("/api/v1/health");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  auto j = nlohmann::json::parse(res->body);
  EXPECT_EQ(j["status"], "ok");
  EXPECT_EQ(j["copies"], 0);
  EXPECT_TRUE(j.contains("bytes"));
  EXPECT_GT(j["max_bytes"].get<uint64_t>(), 0u);
}

TEST_F(IngestTest, AFailedFsyncShowsIn503sAndHealth) {
  fault_.FailAt(FaultEnv::Op::kSync, 1, /*sticky=*/true);
  auto post = Post(kMessage, "");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 503) << post->body;
  auto health = client_->Get("/api/v1/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 503);
  auto j = nlohmann::json::parse(health->body);
  EXPECT_EQ(j["status"], "unavailable");  // copies are refused
  EXPECT_NE(j["error"].get<std::string>().find("restart"), std::string::npos) << health->body;
}

TEST_F(IngestTest, PostNeedsTheToken) {
  auto none = Post(kMessage, "", "");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(none->get_header_value("WWW-Authenticate"), "Bearer");
  auto wrong = Post(kMessage, "", "0123456789abcdef0123456789abcdeX");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  EXPECT_EQ(store_->Stats()->count, 0u);
}

TEST_F(IngestTest, PostStoresTheCopy) {
  auto res = Post(kMessage, R"({"mail_from": "alice@example.com", "rcpt": ["bob@example.org"],
      "rule_id": "R1", "statuses": {"anti-virus": "infected"}, "reason": "virus",
      "queue_id": "4XyZ", "received_at": "2026-01-02T03:04:05Z"})");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 201) << res->body;
  CopyId id = nlohmann::json::parse(res->body)["id"].get<CopyId>();
  auto meta = store_->Get(id);
  ASSERT_TRUE(meta.ok()) << meta.status().ToString();
  EXPECT_EQ(meta->subject, "API test");
  EXPECT_EQ(meta->mail_from, "alice@example.com");
  EXPECT_EQ(meta->rcpt, std::vector<std::string>{"bob@example.org"});
  EXPECT_EQ(meta->statuses.at("anti-virus"), "infected");
  EXPECT_EQ(meta->queue_id, "4XyZ");
  EXPECT_EQ(*store_->Read(id), kMessage);
}

TEST_F(IngestTest, BadInputIs400) {
  for (const char* meta :
       {"{not json", "[1]", R"({"rcpt": "bob"})", R"({"statuses": {"anti-virus": "spam"}})",
        R"({"received_at": "yesterday"})", R"({"rcpts": []})"}) {
    auto res = Post(kMessage, meta);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << meta;
    EXPECT_TRUE(nlohmann::json::parse(res->body).contains("error")) << res->body;
  }
  auto empty = Post("", "");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->status, 400);
  httplib::Headers headers = {{"Authorization", std::string("Bearer ") + kToken}};
  auto raw = client_->Post("/api/v1/messages", headers, kMessage, "message/rfc822");
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->status, 400);
  EXPECT_EQ(store_->Stats()->count, 0u);
}

TEST_F(IngestTest, EveryMetaFieldIsCheckedAndNamed) {
  const std::string big_reason(kMaxMetaReason + 1, 'r');
  std::string many_rcpt = "[";
  for (size_t i = 0; i <= kMaxMetaRcpt; ++i) {
    many_rcpt += std::string(i ? "," : "") + "\"r" + std::to_string(i) + "@example.org\"";
  }
  many_rcpt += "]";
  const std::pair<std::string, std::string> cases[] = {
      {R"({"rule_id": "R 1<script>"})", "meta.rule_id"},
      {R"({"rule_id": ""})", "meta.rule_id"},
      {R"({"rule_id": ")" + std::string(65, 'r') + "\"}", "meta.rule_id"},
      {R"({"rcpt": ["bob@example.org\r\nRCPT TO:<eve@evil.example>"]})", "meta.rcpt[0]"},
      {R"({"rcpt": ["ok@example.org", "<b>bob</b>@example.org"]})", "meta.rcpt[1]"},
      {R"({"rcpt": ["Bob <bob@example.org>"]})", "meta.rcpt[0]"},
      {R"({"rcpt": ["<script>alert(1)</script>"]})", "meta.rcpt[0]"},
      {R"({"rcpt": [""]})", "meta.rcpt[0]"},
      {R"({"rcpt": [1]})", "meta.rcpt[0]"},
      {R"({"rcpt": )" + many_rcpt + "}", "meta.rcpt: at most 1000"},
      {R"({"mail_from": "a@example.com\nX-Injected: 1"})", "meta.mail_from"},
      {R"({"mail_from": "a\u0000b@example.com"})", "meta.mail_from"},
      {R"({"received_at": "9999-01-01T00:00:00Z"})", "meta.received_at"},
      {R"({"received_at": "1970-01-01T00:00:01Z"})", "meta.received_at"},
      {R"({"reason": ")" + big_reason + "\"}", "meta.reason: at most 1000"},
      {R"({"reason": "line\r\nbreak"})", "meta.reason"},
      {R"({"queue_id": "4Xy Z\n"})", "meta.queue_id"},
      {R"({"statuses": {"external": "evil\u0085"}})", "meta.statuses.external"},
  };
  for (const auto& [meta, field] : cases) {
    SCOPED_TRACE(meta.substr(0, 120));
    auto res = Post(kMessage, meta);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << res->body;
    EXPECT_EQ(ErrorOf(res).rfind(field, 0), 0u) << ErrorOf(res);
  }
  EXPECT_EQ(store_->Stats()->count, 0u);
  // What intake itself would keep passes: the null sender, an address
  // literal, a day's clock skew.
  auto fine = Post(kMessage, R"({"mail_from": "", "rcpt": ["postmaster@[192.0.2.1]"],
      "rule_id": "R-1.a_b", "queue_id": "4XyZ.1", "reason": "anti-virus: infected (Eicar) – é"})");
  ASSERT_TRUE(fine);
  EXPECT_EQ(fine->status, 201) << fine->body;
}

TEST_F(IngestTest, EachPartIsBoundedAndOnlyOneMessageIsTaken) {
  // A second message part.
  httplib::MultipartFormDataItems two = {
      {"message", kMessage, "a.eml", "message/rfc822"},
      {"message", "Subject: other\r\n\r\nx\r\n", "b.eml", "message/rfc822"}};
  httplib::Headers token = {{"Authorization", std::string("Bearer ") + kToken}};
  auto res = client_->Post("/api/v1/messages", token, two);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(ErrorOf(res).find("second \"message\" part"), std::string::npos) << res->body;
  // An unknown part, and a second meta part.
  httplib::MultipartFormDataItems extra = {{"message", kMessage, "a.eml", "message/rfc822"},
                                           {"attachment", "x", "x.bin", ""}};
  res = client_->Post("/api/v1/messages", token, extra);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(ErrorOf(res).find("unknown part \"attachment\""), std::string::npos) << res->body;
  httplib::MultipartFormDataItems metas = {{"message", kMessage, "a.eml", "message/rfc822"},
                                           {"meta", "{}", "", ""},
                                           {"meta", "{}", "", ""}};
  res = client_->Post("/api/v1/messages", token, metas);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(ErrorOf(res).find("second \"meta\" part"), std::string::npos) << res->body;
  // A meta part over its bound (the message is small).
  res = Post(kMessage, R"({"reason": ")" + std::string(kMaxMetaBytes, 'x') + "\"}");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(ErrorOf(res).find("meta: at most"), std::string::npos) << res->body;
  EXPECT_EQ(store_->Stats()->count, 0u);
}

TEST_F(IngestTest, MalformedMultipartSaysWhatIsWrong) {
  ConsoleOptions o;
  o.read_timeout_micros = 300'000;  // the body without an end stalls
  StartServer(o);
  const std::string bodies[] = {
      "no boundary anywhere\r\n",
      "--XX\r\nContent-Disposition: form-data; name=\"message\"\r\n\r\nhello\r\n",  // no end
      "--XX\r\nContent-Type: text/plain\r\n\r\nno name\r\n--XX--\r\n",
  };
  for (const std::string& body : bodies) {
    SCOPED_TRACE(body);
    const std::string answer = RawExchange(MultipartRequest(body, body.size()), 20);
    EXPECT_EQ(answer.rfind("HTTP/1.1 400", 0), 0u) << answer;
    EXPECT_EQ(answer.find("request failed"), std::string::npos) << answer;
    const bool says =
        answer.find("multipart/form-data body could not be read") != std::string::npos ||
        answer.find("a part without a name") != std::string::npos;
    EXPECT_TRUE(says) << answer;
  }
  EXPECT_EQ(store_->Stats()->count, 0u);
}

TEST_F(IngestTest, ABodyShorterThanItsContentLengthDoesNotHoldAWorker) {
  // The default wait for a stalled body is short beside the request timeout.
  EXPECT_LE(ConsoleOptions{}.read_timeout_micros, 10'000'000);
  EXPECT_LT(ConsoleOptions{}.read_timeout_micros, ConsoleOptions{}.timeout_micros);
  ConsoleOptions o;
  o.read_timeout_micros = 300'000;  // keep the test fast; timeout_micros stays 60 s
  StartServer(o);
  const std::string body =
      "--XX\r\nContent-Disposition: form-data; name=\"message\"; filename=\"m.eml\"\r\n\r\n" +
      std::string(kMessage) + "\r\n--XX--\r\n";
  // Announce 1000 bytes more than are sent. The client waits 20 s for an
  // answer: with the 60 s request timeout as the stall limit, none comes.
  const std::string answer = RawExchange(MultipartRequest(body, body.size() + 1000), 20);
  EXPECT_EQ(answer.rfind("HTTP/1.1 400", 0), 0u) << answer;
  EXPECT_NE(answer.find("before its Content-Length"), std::string::npos) << answer;
  EXPECT_EQ(store_->Stats()->count, 0u);
  // The server still serves.
  auto health = client_->Get("/api/v1/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

TEST_F(IngestTest, TooLargeIs413) {
  auto res = Post(std::string(5000, 'x'), "");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
  auto huge = Post(std::string(2'000'000, 'x'), "");
  if (huge) {  // the server may also just close the connection
    EXPECT_EQ(huge->status, 413);
  }
}

}  // namespace
}  // namespace mailvault::console
