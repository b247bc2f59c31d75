// A store in a temp dir with its delivery queue, and a scripted SmtpClient,
// for the delivery unit tests. Test-only.
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "delivery/open_queue.h"
#include "delivery/smtp_client.h"
#include "env/env.h"
#include "mailvault/store.h"
#include "policy/settings.h"
#include "testutil/temp_dir.h"

namespace mailvault::delivery {

inline constexpr char kMessage[] =
    "From: Alice <alice@example.org>\r\nTo: bob@example.com\r\nSubject: quarterly report\r\n"
    "Message-ID: <m1@example.org>\r\n\r\nHello Bob,\r\n.leading dot\r\n";

class StoreFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions o;
    o.dir = dir_.path();
    ASSERT_TRUE(Store::Init(o).ok());
    auto s = Store::Open(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    auto keys = crypto::KeyRing::Open(*PosixEnv(), DataDir(dir_.path()).keys(), false);
    ASSERT_TRUE(keys.ok()) << keys.status().ToString();
    keys_ = std::move(*keys);
    auto q = OpenQueue(*PosixEnv(), DataDir(dir_.path()), *keys_, false);
    ASSERT_TRUE(q.ok()) << q.status().ToString();
    queue_ = std::move(*q);
    policy::SettingsOptions po;
    po.dir = dir_.path();
    auto p = policy::Settings::Open(po);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    policy_ = std::move(*p);
  }

  CopyId Put(std::vector<std::string> rcpt, std::map<std::string, std::string> statuses = {},
             std::string raw = kMessage) {
    PutRequest r;
    r.raw = raw;
    r.mail_from = "alice@example.org";
    r.rcpt = std::move(rcpt);
    r.statuses = std::move(statuses);
    auto id = store_->Put(r);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : 0;
  }

  TempDir dir_;
  std::unique_ptr<crypto::KeyRing> keys_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<policy::Settings> policy_;
  std::unique_ptr<index::QueueDb> queue_;
};

// Answers each Send with the next scripted result (or a success for every
// recipient when the script is empty) and keeps what it was sent.
class FakeSmtp final : public SmtpClient {
 public:
  struct Shared {
    std::mutex mu;
    std::deque<SmtpResult> script;
    std::vector<std::pair<SmtpEnvelope, std::string>> sent;
  };
  explicit FakeSmtp(std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {}

  SmtpResult Send(const SmtpEnvelope& envelope, std::string_view message) override {
    std::lock_guard l(shared_->mu);
    shared_->sent.emplace_back(envelope, std::string(message));
    if (!shared_->script.empty()) {
      SmtpResult r = shared_->script.front();
      shared_->script.pop_front();
      return r;
    }
    SmtpResult ok;
    ok.mail_from = {250, "250 2.1.0 Ok"};
    for (size_t i = 0; i < envelope.rcpt.size(); ++i) ok.rcpt.push_back({250, "250 2.1.5 Ok"});
    ok.data = {250, "250 2.0.0 Ok: queued as ABC"};
    return ok;
  }

  void Cancel() override {}  // Send never waits

 private:
  std::shared_ptr<Shared> shared_;
};

}  // namespace mailvault::delivery
