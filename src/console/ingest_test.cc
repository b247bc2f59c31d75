// The gateway's side of the API against a real Store in a temp dir, over
// real HTTP on a free port: health, token checks, a posted message that
// Store::Get then finds, and bad input answered with 400 rather than a crash.
#include <gtest/gtest.h>
#include <httplib.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "console/server.h"
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
    journal::AuditOptions jo;
    jo.data_dir = dir_ + "/data";
    auto audit = journal::AuditLog::Open(fault_, jo);
    ASSERT_TRUE(audit.ok()) << audit.status().ToString();
    audit_ = std::move(*audit);
    ConsoleServices services;
    services.env = &fault_;
    services.store = store_.get();
    services.audit = audit_.get();
    ConsoleOptions ao;
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

  std::string dir_;
  FaultEnv fault_{PosixEnv()};  // outlives store_
  std::unique_ptr<Store> store_;
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
