#include "delivery/sender.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "crypto/keyring.h"
#include "delivery/service.h"
#include "delivery/test_fixture.h"
#include "mime/compose.h"
#include "testutil/scripted_relay.h"

namespace mailvault::delivery {
namespace {

class SenderTest : public StoreFixture {
 protected:
  void SetUp() override {
    StoreFixture::SetUp();
    auto keys = crypto::KeyRing::Open(*PosixEnv(), dir_.File("keys"), false);
    ASSERT_TRUE(keys.ok());
    signer_ = std::make_unique<crypto::ReleaseSigner>(**keys);
    options_.workers = 2;
    options_.retry_min_micros = 20'000;  // 20 ms: tests wait for retries
    options_.retry_max_micros = 40'000;
  }
  void TearDown() override {
    if (sender_) sender_->Stop();
  }

  void Start() {
    auto shared = smtp_;
    auto s = Sender::Start(*PosixEnv(), *store_, *policy_, *queue_, *signer_, options_, [shared] {
      return Result<std::unique_ptr<SmtpClient>>(std::make_unique<FakeSmtp>(shared));
    });
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    sender_ = std::move(*s);
  }

  EnqueueResult Enqueue(DeliveryRequest r, int64_t lifetime = 86'400'000'000) {
    DeliveryService service(*PosixEnv(), *store_, *policy_, *queue_, lifetime, [this] {
      if (sender_) sender_->Wake();
    });
    auto q = service.Enqueue(r);
    EXPECT_TRUE(q.ok()) << q.status().ToString();
    return q.ok() ? *q : EnqueueResult{};
  }

  // Waits (up to 20 s) until no entry is queued, sending or deferred.
  void WaitSettled() {
    for (int i = 0; i < 2000; ++i) {
      auto c = queue_->Counts();
      ASSERT_TRUE(c.ok());
      if (c->queued + c->sending + c->deferred == 0) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    FAIL() << "the queue did not settle";
  }

  DeliveryEntry Entry(uint64_t id) {
    auto e = queue_->Get(id);
    EXPECT_TRUE(e.ok());
    return e.ok() ? *e : DeliveryEntry{};
  }

  // The release header a sent message starts with (its value, folded as
  // sent) and the rest of the message.
  static std::pair<std::string, std::string> SplitRelease(const std::string& message) {
    const std::string prefix = "X-Mailvault-Release: ";
    EXPECT_TRUE(message.starts_with(prefix));
    size_t eol = message.find("\r\n");
    while (eol != std::string::npos && eol + 2 < message.size() &&
           (message[eol + 2] == ' ' || message[eol + 2] == '\t'))
      eol = message.find("\r\n", eol + 2);
    if (eol == std::string::npos) return {};
    return {message.substr(prefix.size(), eol - prefix.size()), message.substr(eol + 2)};
  }

  // Verifies a sent message's release header against the envelope it was
  // sent with.
  Result<crypto::VerifiedRelease> VerifySent(const SmtpEnvelope& envelope,
                                             const std::string& message) {
    auto [value, rest] = SplitRelease(message);
    std::string body = rest.substr(mime::BodyOffset(rest));
    return signer_->Verify(value, crypto::DigestBody(body), {envelope.mail_from, envelope.rcpt},
                           PosixEnv()->NowMicros() / 1'000'000, 300);
  }

  std::shared_ptr<FakeSmtp::Shared> smtp_ = std::make_shared<FakeSmtp::Shared>();
  DeliveryOptions options_;
  std::unique_ptr<crypto::ReleaseSigner> signer_;
  std::unique_ptr<Sender> sender_;
};

TEST_F(SenderTest, DeliversTheCopyAsIsWithAValidReleaseHeader) {
  CopyId id = Put({"bob@example.com", "carol@example.com"});
  Start();
  DeliveryRequest r;
  r.ids = {id};
  r.original = true;
  EnqueueResult q = Enqueue(r);
  WaitSettled();
  for (const DeliveryEntry& e : q.entries) {
    DeliveryEntry now = Entry(e.id);
    EXPECT_EQ(now.state, DeliveryState::kDelivered);
    EXPECT_EQ(now.attempts, 1u);
    EXPECT_EQ(now.last_reply, "250 2.0.0 Ok: queued as ABC");
  }
  std::lock_guard l(smtp_->mu);
  ASSERT_EQ(smtp_->sent.size(), 1u);  // one transaction, two recipients
  const auto& [envelope, message] = smtp_->sent[0];
  EXPECT_EQ(envelope.mail_from, "alice@example.org");
  EXPECT_EQ(envelope.rcpt, (std::vector<std::string>{"bob@example.com", "carol@example.com"}));
  EXPECT_EQ(SplitRelease(message).second, kMessage);  // the rest byte for byte
  auto release = VerifySent(envelope, message);
  ASSERT_TRUE(release.ok()) << release.status().ToString();
  EXPECT_EQ(release->copy_id, id);
  // Bound to this envelope: not to another recipient or sender.
  EXPECT_FALSE(VerifySent({"alice@example.org", {"mallory@example.com"}}, message).ok());
  EXPECT_FALSE(VerifySent({"mallory@example.org", {"bob@example.com"}}, message).ok());
}

TEST_F(SenderTest, RemovesMessageIdAndWrapsAsAttachment) {
  CopyId id = Put({"bob@example.com"});
  options_.sender = "backup@gw.example";
  options_.from = "Gateway <gw@gw.example>";
  Start();
  DeliveryRequest r;
  r.ids = {id};
  r.original = true;
  r.remove_message_id = true;
  Enqueue(r);
  WaitSettled();
  r.remove_message_id = false;
  r.format = DeliveryFormat::kAsAttachment;
  r.again = true;
  Enqueue(r);
  WaitSettled();
  std::lock_guard l(smtp_->mu);
  ASSERT_EQ(smtp_->sent.size(), 2u);
  EXPECT_EQ(smtp_->sent[0].first.mail_from, "backup@gw.example");
  // The release is bound to the configured sender it went out with.
  EXPECT_TRUE(VerifySent(smtp_->sent[0].first, smtp_->sent[0].second).ok());
  EXPECT_FALSE(VerifySent({"alice@example.org", {"bob@example.com"}}, smtp_->sent[0].second).ok());
  const std::string& plain = smtp_->sent[0].second;
  EXPECT_EQ(plain.find("Message-ID"), std::string::npos);
  EXPECT_NE(plain.find("Subject: quarterly report\r\n\r\nHello Bob,"), std::string::npos);
  const std::string& wrapped = smtp_->sent[1].second;
  EXPECT_NE(wrapped.find("message/rfc822"), std::string::npos);
  EXPECT_NE(wrapped.find("Gateway <gw@gw.example>"), std::string::npos);
  EXPECT_NE(wrapped.find(kMessage), std::string::npos);
}

TEST_F(SenderTest, ReportsEachRecipient) {
  CopyId id = Put({"bob@example.com", "nobody@example.com", "later@example.com"});
  SmtpResult partial;
  partial.mail_from = {250, "250 2.1.0 Ok"};
  partial.rcpt = {{250, "250 2.1.5 Ok"},
                  {550, "550 5.1.1 <nobody@example.com>: Recipient address rejected"},
                  {450, "450 4.2.0 <later@example.com>: try again"}};
  partial.data = {250, "250 2.0.0 Ok: queued as XYZ"};
  smtp_->script.push_back(partial);
  Start();
  DeliveryRequest r;
  r.ids = {id};
  r.original = true;
  EnqueueResult q = Enqueue(r);
  WaitSettled();
  EXPECT_EQ(Entry(q.entries[0].id).state, DeliveryState::kDelivered);
  DeliveryEntry refused = Entry(q.entries[1].id);
  EXPECT_EQ(refused.state, DeliveryState::kFailed);
  EXPECT_EQ(refused.last_reply, "550 5.1.1 <nobody@example.com>: Recipient address rejected");
  // The temporary refusal was retried on its own, and went through.
  DeliveryEntry retried = Entry(q.entries[2].id);
  EXPECT_EQ(retried.state, DeliveryState::kDelivered);
  EXPECT_EQ(retried.attempts, 2u);
  std::lock_guard l(smtp_->mu);
  ASSERT_EQ(smtp_->sent.size(), 2u);
  EXPECT_EQ(smtp_->sent[1].first.rcpt, std::vector<std::string>{"later@example.com"});
}

TEST_F(SenderTest, RetriesWhileTheRelayIsDownThenGivesUp) {
  CopyId id = Put({"bob@example.com"});
  SmtpResult down;
  down.transport = Status::Unavailable("connect to relay 127.0.0.1:1: Connection refused");
  smtp_->script.assign(3, down);
  Start();
  DeliveryRequest r;
  r.ids = {id};
  r.original = true;
  EnqueueResult q = Enqueue(r);
  WaitSettled();
  DeliveryEntry e = Entry(q.entries[0].id);
  EXPECT_EQ(e.state, DeliveryState::kDelivered);
  EXPECT_EQ(e.attempts, 4u);
  {  // Every attempt signed a header of its own (a release is used once).
    std::lock_guard l(smtp_->mu);
    ASSERT_EQ(smtp_->sent.size(), 4u);
    std::set<std::string> nonces;
    for (const auto& [envelope, message] : smtp_->sent) {
      auto release = VerifySent(envelope, message);
      ASSERT_TRUE(release.ok()) << release.status().ToString();
      nonces.insert(release->nonce);
    }
    EXPECT_EQ(nonces.size(), 4u);
  }

  // A lifetime that has run out turns the next temporary failure into failed.
  smtp_->script.assign(1, down);
  r.again = true;
  q = Enqueue(r, /*lifetime=*/1);
  WaitSettled();
  e = Entry(q.entries[0].id);
  EXPECT_EQ(e.state, DeliveryState::kFailed);
  EXPECT_EQ(e.last_reply,
            "gave up after 1 attempts: connect to relay 127.0.0.1:1: Connection refused");
}

TEST_F(SenderTest, ACopyDeletedMeanwhileFails) {
  CopyId id = Put({"bob@example.com"});
  DeliveryRequest r;
  r.ids = {id};
  r.original = true;
  EnqueueResult q = Enqueue(r);
  ASSERT_TRUE(store_->Delete({id}).ok());
  Start();
  WaitSettled();
  DeliveryEntry e = Entry(q.entries[0].id);
  EXPECT_EQ(e.state, DeliveryState::kFailed);
  EXPECT_NE(e.last_reply.find("no longer in the Backup"), std::string::npos);
  std::lock_guard l(smtp_->mu);
  EXPECT_TRUE(smtp_->sent.empty());
}

TEST_F(SenderTest, EntriesInterruptedByACrashAreSentAtStart) {
  CopyId id = Put({"bob@example.com"});
  DeliveryRequest r;
  r.ids = {id};
  r.original = true;
  EnqueueResult q = Enqueue(r);
  // A crashed sender left it claimed.
  ASSERT_EQ(queue_->ClaimDue(PosixEnv()->NowMicros(), 10)->size(), 1u);
  EXPECT_EQ(Entry(q.entries[0].id).state, DeliveryState::kSending);
  Start();
  WaitSettled();
  EXPECT_EQ(Entry(q.entries[0].id).state, DeliveryState::kDelivered);
}

// A relay that accepts connections and then never says anything (not even
// the greeting), as a hung relay does.

TEST_F(SenderTest, StopDoesNotWaitForAHungRelayAndRequeuesTheEntry) {
  testutil::Script silent;
  silent.silent = true;  // accepts, reads, never answers
  testutil::ScriptedRelay relay(silent);
  ASSERT_NE(relay.port(), 0);
  CopyId id = Put({"bob@example.com"});
  options_.workers = 1;
  options_.relay.host = "127.0.0.1";
  options_.relay.port = relay.port();
  // Without cancelling, Stop would wait this long for the greeting.
  options_.relay.connect_timeout_micros = 120'000'000;
  options_.relay.timeout_micros = 120'000'000;
  auto s =
      Sender::Start(*PosixEnv(), *store_, *policy_, *queue_, *signer_, options_,
                    [relay_options = options_.relay] { return MakeCurlSmtpClient(relay_options); });
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  sender_ = std::move(*s);
  DeliveryRequest r;
  r.ids = {id};
  r.original = true;
  EnqueueResult q = Enqueue(r);
  ASSERT_EQ(q.entries.size(), 1u);
  const uint64_t entry = q.entries[0].id;
  // Wait (up to 20 s) until the worker is in the transaction.
  for (int i = 0; i < 2000; ++i) {
    if (relay.connections() > 0 && Entry(entry).state == DeliveryState::kSending) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_GT(relay.connections(), 0);
  ASSERT_EQ(Entry(entry).state, DeliveryState::kSending);

  auto stopped = std::async(std::launch::async, [this] { sender_->Stop(); });
  // Generous: the point is that Stop returns at all before the relay's
  // 120 s timeout (it takes about a second).
  ASSERT_EQ(stopped.wait_for(std::chrono::seconds(60)), std::future_status::ready)
      << "Stop waited for the hung relay";
  DeliveryEntry e = Entry(entry);
  EXPECT_EQ(e.state, DeliveryState::kQueued);
  EXPECT_EQ(e.attempts, 0u);  // the cut-short transaction is not an attempt
}

TEST(SenderClassify, BacksOffExponentiallyUpToTheMaximum) {
  DeliveryOptions o;
  o.retry_min_micros = 60'000'000;
  o.retry_max_micros = 600'000'000;
  DeliveryEntry e;
  e.id = 7;
  e.expires_at = 1'000'000'000'000;
  const int64_t now = 1'000'000;
  const SmtpReply temp{451, "451 4.3.0 try later"};
  int64_t expected[] = {60'000'000,  120'000'000, 240'000'000,
                        480'000'000, 600'000'000, 600'000'000};
  for (uint32_t attempts = 0; attempts < 6; ++attempts) {
    e.attempts = attempts;
    auto o1 = Sender::Classify(e, temp, Status::Ok(), now, o);
    EXPECT_EQ(o1.state, DeliveryState::kDeferred);
    EXPECT_EQ(o1.next_attempt_at - now, expected[attempts]) << attempts;
    EXPECT_EQ(o1.reply, "451 4.3.0 try later");
  }
  EXPECT_EQ(Sender::Classify(e, {250, "250 ok"}, Status::Ok(), now, o).state,
            DeliveryState::kDelivered);
  EXPECT_EQ(Sender::Classify(e, {554, "554 no"}, Status::Ok(), now, o).state,
            DeliveryState::kFailed);
  // No reply at all: the transport error is the reason.
  auto lost = Sender::Classify(e, {}, Status::Unavailable("connection lost"), now, o);
  EXPECT_EQ(lost.state, DeliveryState::kDeferred);
  EXPECT_EQ(lost.reply, "connection lost");
  // The last retry is at the expiry, not past it.
  e.attempts = 0;
  e.expires_at = now + 1'000'000;
  EXPECT_EQ(Sender::Classify(e, temp, Status::Ok(), now, o).next_attempt_at, e.expires_at);
}

}  // namespace
}  // namespace mailvault::delivery
