// Processor tests: fake engines (this is the unit test of the code around
// them), real rules, a real store in a temp dir.
#include "intake/processor.h"

#include <gtest/gtest.h>

#include <mutex>
#include <set>

#include "mime/parsed_message.h"
#include "scan/content_filter.h"
#include "testutil/temp_dir.h"

namespace mailvault::intake {
namespace {

using rules::ActionKind;

// Answers with fixed verdicts; counts calls.
class FakeEngine final : public scan::Engine {
 public:
  FakeEngine(std::string type, std::vector<scan::Verdict> verdicts)
      : type_(std::move(type)), verdicts_(std::move(verdicts)) {}
  std::string_view name() const override { return "fake"; }
  std::vector<std::string> covers() const override { return {type_}; }
  std::vector<scan::Verdict> Scan(const scan::Message&) override {
    ++calls;
    return verdicts_;
  }
  std::atomic<int> calls{0};

 private:
  std::string type_;
  std::vector<scan::Verdict> verdicts_;
};

scan::Verdict V(std::string engine, std::string label, std::string detail = "") {
  scan::Verdict v;
  v.engine = std::move(engine);
  v.label = std::move(label);
  v.detail = std::move(detail);
  return v;
}

const char kMessage[] =
    "From: Alice <alice@example.org>\r\n"
    "To: bob@example.com\r\n"
    "Subject: hello\r\n"
    "Message-ID: <m1@example.org>\r\n"
    "\r\n"
    "body\r\n";

const char kWithAttachment[] =
    "From: alice@example.org\r\n"
    "To: bob@example.com\r\n"
    "Subject: invoice\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
    "\r\n"
    "--b1\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "see attached\r\n"
    "--b1\r\n"
    "Content-Type: application/octet-stream\r\n"
    "Content-Disposition: attachment; filename=\"invoice.exe\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAA=\r\n"
    "--b1--\r\n";

class ProcessorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions o;
    o.dir = dir_.path() + "/store";
    ASSERT_TRUE(Store::Init(o).ok());
    auto s = Store::Open(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    policy::SettingsOptions po;
    po.dir = o.dir;
    auto p = policy::Settings::Open(po);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    policy_ = std::move(*p);
  }

  rules::Rule Rule(std::string id, std::vector<std::string> rcpt,
                   std::map<std::string, rules::LabelAction> actions) {
    rules::Rule r;
    r.id = std::move(id);
    r.recipients = std::move(rcpt);
    r.engines = {"anti-virus", "anti-spam", "content-filtering"};
    r.actions = std::move(actions);
    r.default_action = {ActionKind::kSkip, false};
    return r;
  }

  // Builds a processor over fake engines giving `verdicts`.
  std::unique_ptr<Processor> Make(std::vector<rules::Rule> rules,
                                  std::vector<scan::Verdict> verdicts) {
    std::map<std::string, std::vector<scan::Verdict>> by_type;
    for (auto& v : verdicts) by_type[v.engine].push_back(v);
    std::vector<std::unique_ptr<scan::Engine>> engines;
    for (const char* t : {"anti-virus", "anti-spam", "content-filtering"}) {
      auto e = std::make_unique<FakeEngine>(t, by_type[t]);
      fakes_.push_back(e.get());
      engines.push_back(std::move(e));
    }
    auto set = rules::RuleSet::Make(std::move(rules));
    EXPECT_TRUE(set.ok()) << set.status().ToString();
    crypto::SymmetricKey key;
    key.fill(3);
    return std::make_unique<Processor>(
        *PosixEnv(), *store_, *policy_, std::move(engines), std::move(*set),
        std::make_unique<crypto::ReleaseSigner>(key),
        [this](std::string_view nonce, int64_t expires_at, int64_t now) -> Result<bool> {
          std::lock_guard l(ledger_mu_);
          if (!ledger_error_.ok()) return ledger_error_;
          EXPECT_GT(expires_at, now);
          return consumed_.insert(std::string(nonce)).second;
        },
        ProcessorOptions{},
        [this](std::string_view kind, std::string_view msg) {
          events_.push_back(std::string(kind) + ": " + std::string(msg));
        });
  }

  Received Message(const std::string& raw, std::vector<std::string> rcpt) {
    raw_ = raw;
    source_ = std::make_unique<StringSource>(raw_);
    Received r;
    r.envelope.mail_from = "alice@example.org";
    r.envelope.rcpt = std::move(rcpt);
    r.envelope.queue_id = "4ABC123";
    r.envelope.client_ip = "192.0.2.1";
    r.subject = " hello";
    r.raw = source_.get();
    return r;
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<policy::Settings> policy_;
  std::vector<FakeEngine*> fakes_;
  std::vector<std::string> events_;
  std::mutex ledger_mu_;
  std::set<std::string> consumed_;  // release nonces consumed; guarded by ledger_mu_
  Status ledger_error_;             // what the ledger answers instead, if not OK
  std::string raw_;
  std::unique_ptr<StringSource> source_;
};

TEST_F(ProcessorTest, CleanMailPassesUnchangedWithoutCopy) {
  auto p = Make({Rule("default", {}, {{"spam", {ActionKind::kReject, true}}})},
                {V("anti-virus", "not-detected")});
  Outcome o = p->Process(Message(kMessage, {"bob@example.com"}));
  EXPECT_EQ(o.kind, Outcome::Kind::kAccept);
  EXPECT_TRUE(o.copies.empty());
  EXPECT_TRUE(o.add_headers.empty());
  EXPECT_FALSE(o.new_subject);
  EXPECT_FALSE(o.new_body);
  EXPECT_EQ(store_->Stats()->count, 0u);
}

TEST_F(ProcessorTest, RejectKeepsTheOriginalFirst) {
  auto p = Make({Rule("av", {}, {{"anti-virus:infected", {ActionKind::kReject, true}}})},
                {V("anti-virus", "infected", "Eicar-Signature")});
  Outcome o = p->Process(Message(kMessage, {"bob@example.com"}));
  EXPECT_EQ(o.kind, Outcome::Kind::kReject);
  EXPECT_EQ(o.rcode, "550");
  EXPECT_EQ(o.xcode[0], '5');
  ASSERT_EQ(o.copies.size(), 1u);
  auto meta = store_->Get(o.copies[0]);
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(meta->rule_id, "av");
  EXPECT_EQ(meta->statuses.at("anti-virus"), "infected");
  EXPECT_EQ(meta->queue_id, "4ABC123");
  EXPECT_EQ(meta->mail_from, "alice@example.org");
  EXPECT_EQ(meta->rcpt, std::vector<std::string>{"bob@example.com"});
  EXPECT_NE(meta->reason.find("Eicar-Signature"), std::string::npos) << meta->reason;
  EXPECT_EQ(*store_->Read(o.copies[0]), kMessage);
}

TEST_F(ProcessorTest, TagAndHeaderActions) {
  auto p = Make({Rule("spam", {},
                      {{"spam", {ActionKind::kTagSubject, true}},
                       {"anti-virus:encrypted", {ActionKind::kAddHeader, false}}})},
                {V("anti-spam", "spam"), V("anti-virus", "encrypted")});
  Outcome o = p->Process(Message(kMessage, {"bob@example.com"}));
  EXPECT_EQ(o.kind, Outcome::Kind::kAccept);
  ASSERT_TRUE(o.new_subject);
  EXPECT_NE(o.new_subject->find("hello"), std::string::npos);
  EXPECT_NE(o.new_subject->find("["), std::string::npos);
  ASSERT_EQ(o.add_headers.size(), 1u);
  EXPECT_NE(o.add_headers[0].second.find("anti-virus=encrypted"), std::string::npos);
  EXPECT_EQ(o.copies.size(), 1u);  // the spam label keeps one
}

TEST_F(ProcessorTest, DeleteAttachmentRemovesTheAttachmentOnly) {
  auto p = Make({Rule("av", {}, {{"anti-virus:infected", {ActionKind::kDeleteAttachment, true}}})},
                {V("anti-virus", "infected", "Win.Test")});
  Outcome o = p->Process(Message(kWithAttachment, {"bob@example.com"}));
  EXPECT_EQ(o.kind, Outcome::Kind::kAccept);
  ASSERT_TRUE(o.new_body);
  EXPECT_EQ(o.new_body->find("TVqQ"), std::string::npos);
  EXPECT_NE(o.new_body->find("see attached"), std::string::npos);
  EXPECT_NE(o.new_body->find("invoice.exe"), std::string::npos);  // the note names it
  ASSERT_EQ(o.copies.size(), 1u);
  EXPECT_EQ(*store_->Read(o.copies[0]), kWithAttachment);  // the copy is the original
}

TEST_F(ProcessorTest, OneMessageIsParsedOnce) {
  // Everything that looks inside the message at once: the real content
  // filter (walks it), an anti-virus finding attributed to the attachments,
  // two recipient groups each keeping a copy (metadata), and a
  // delete-attachment action (the rewrite). One parse serves them all.
  auto content = scan::ContentFilterEngine::Make(scan::ContentOptions{});
  ASSERT_TRUE(content.ok()) << content.status().ToString();
  std::vector<std::unique_ptr<scan::Engine>> engines;
  engines.push_back(std::make_unique<FakeEngine>(
      "anti-virus", std::vector<scan::Verdict>{V("anti-virus", "infected", "Win.Test")}));
  engines.push_back(std::move(*content));
  auto set = rules::RuleSet::Make(
      {Rule("strip", {"@strip.example"},
            {{"anti-virus:infected", {ActionKind::kDeleteAttachment, true}}}),
       Rule("tag", {"*"}, {{"anti-virus:infected", {ActionKind::kAddHeader, true}}})});
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  Processor p(*PosixEnv(), *store_, *policy_, std::move(engines), std::move(*set), nullptr, nullptr,
              ProcessorOptions{}, nullptr);

  const uint64_t before = mime::ParseCount();
  Outcome o = p.Process(Message(kWithAttachment, {"a@strip.example", "b@tag.example"}));
  EXPECT_EQ(mime::ParseCount() - before, 1u);

  ASSERT_EQ(o.copies.size(), 2u);
  for (CopyId id : o.copies) {
    auto meta = store_->Get(id);
    ASSERT_TRUE(meta.ok());
    EXPECT_EQ(meta->subject, "invoice");
    ASSERT_EQ(meta->attachments.size(), 1u);
    EXPECT_EQ(meta->attachments[0].name, "invoice.exe");
  }
  ASSERT_TRUE(o.new_body);
  EXPECT_EQ(o.new_body->find("TVqQ"), std::string::npos);
  EXPECT_NE(o.new_body->find("invoice.exe"), std::string::npos);
}

TEST_F(ProcessorTest, RecipientGroupsUnderDifferentRules) {
  auto p = Make({Rule("strict", {"@strict.example"}, {{"spam", {ActionKind::kReject, true}}}),
                 Rule("lax", {"*"}, {{"spam", {ActionKind::kAddHeader, true}}})},
                {V("anti-spam", "spam")});
  Outcome o =
      p->Process(Message(kMessage, {"a@strict.example", "b@lax.example", "c@strict.example"}));
  EXPECT_EQ(o.kind, Outcome::Kind::kAccept);
  EXPECT_EQ(o.delete_rcpt, (std::vector<std::string>{"a@strict.example", "c@strict.example"}));
  EXPECT_EQ(o.add_headers.size(), 1u);
  ASSERT_EQ(o.copies.size(), 2u);  // one per rule, each with its recipients
  auto strict = store_->Get(o.copies[0]);
  auto lax = store_->Get(o.copies[1]);
  EXPECT_EQ(strict->rule_id, "strict");
  EXPECT_EQ(strict->rcpt.size(), 2u);
  EXPECT_EQ(lax->rule_id, "lax");
  EXPECT_EQ(lax->rcpt, std::vector<std::string>{"b@lax.example"});
}

TEST_F(ProcessorTest, EveryGroupDeletingDiscards) {
  auto p = Make({Rule("d", {}, {{"spam", {ActionKind::kDeleteMessage, true}}})},
                {V("anti-spam", "spam")});
  Outcome o = p->Process(Message(kMessage, {"bob@example.com"}));
  EXPECT_EQ(o.kind, Outcome::Kind::kDiscard);
  EXPECT_EQ(o.copies.size(), 1u);
}

TEST_F(ProcessorTest, UnmatchedRecipientsAreNotScanned) {
  auto p = Make({Rule("only", {"@scanned.example"}, {{"spam", {ActionKind::kReject, true}}})},
                {V("anti-spam", "spam")});
  Outcome o = p->Process(Message(kMessage, {"bob@other.example"}));
  EXPECT_EQ(o.kind, Outcome::Kind::kAccept);
  for (FakeEngine* f : fakes_) EXPECT_EQ(f->calls.load(), 0);
}

TEST_F(ProcessorTest, EngineFailureIsAnEventAndTheRulesOutcome) {
  scan::Verdict down = V("anti-virus", "not-scanned");
  down.error = "clamd at unix:/x: connection refused";
  auto p =
      Make({Rule("r", {}, {{"anti-virus:not-scanned", {ActionKind::kAddHeader, false}}})}, {down});
  Outcome o = p->Process(Message(kMessage, {"bob@example.com"}));
  EXPECT_EQ(o.kind, Outcome::Kind::kAccept);
  EXPECT_EQ(o.add_headers.size(), 1u);
  EXPECT_TRUE(o.copies.empty());
  ASSERT_FALSE(events_.empty());
  EXPECT_NE(events_[0].find("connection refused"), std::string::npos);
}

class UnavailableTest : public ProcessorTest,
                        public ::testing::WithParamInterface<policy::UnavailableAction> {};

TEST_P(UnavailableTest, StoreThatCannotTakeTheCopy) {
  policy::Policy p = policy_->policy();
  p.unavailable_action = GetParam();
  ASSERT_TRUE(policy_->Update(p).ok());
  // A read-only store refuses every put, as a failed disk would.
  store_.reset();
  StoreOptions ro;
  ro.dir = dir_.path() + "/store";
  ro.read_only = true;
  auto opened = Store::Open(ro);
  ASSERT_TRUE(opened.ok());
  store_ = std::move(*opened);
  auto processor = Make({Rule("av", {}, {{"anti-virus:infected", {ActionKind::kAddHeader, true}}})},
                        {V("anti-virus", "infected")});
  Outcome o = processor->Process(Message(kMessage, {"bob@example.com"}));
  switch (GetParam()) {
    case policy::UnavailableAction::kProcess:
      EXPECT_EQ(o.kind, Outcome::Kind::kAccept);
      EXPECT_EQ(o.add_headers.size(), 1u);  // the rule's action still applies
      break;
    case policy::UnavailableAction::kTempfail:
      EXPECT_EQ(o.kind, Outcome::Kind::kTempfail);
      EXPECT_EQ(o.rcode, "451");
      EXPECT_EQ(o.xcode, "4.3.0");
      break;
    case policy::UnavailableAction::kReject:
      EXPECT_EQ(o.kind, Outcome::Kind::kReject);
      EXPECT_EQ(o.rcode, "550");
      break;
  }
  EXPECT_TRUE(o.copies.empty());
  bool logged = false;
  for (const auto& e : events_) logged = logged || e.starts_with("backup-unavailable");
  EXPECT_TRUE(logged);
}

INSTANTIATE_TEST_SUITE_P(Actions, UnavailableTest,
                         ::testing::Values(policy::UnavailableAction::kProcess,
                                           policy::UnavailableAction::kTempfail,
                                           policy::UnavailableAction::kReject));

// A release for `envelope_rcpt` from alice, signed now with the
// processor's key, on message `r`.
void SignRelease(Received* r, std::vector<std::string> envelope_rcpt, int64_t at = time(nullptr)) {
  crypto::SymmetricKey key;
  key.fill(3);
  crypto::ReleaseSigner signer(key);
  r->body_digest = crypto::DigestBody("body\r\n");
  r->release_header =
      " " + signer.Sign(17, at, r->body_digest, {"alice@example.org", std::move(envelope_rcpt)});
}

class ReleaseTest : public ProcessorTest {
 protected:
  void SetUp() override {
    ProcessorTest::SetUp();
    p_ = Make({Rule("av", {}, {{"anti-virus:infected", {ActionKind::kReject, true}}})},
              {V("anti-virus", "infected")});
  }
  int Scans() {
    int n = 0;
    for (FakeEngine* f : fakes_) n += f->calls.load();
    return n;
  }
  // The last event, which says why a release was not honoured.
  std::string LastEvent() { return events_.empty() ? "" : events_.back(); }

  std::unique_ptr<Processor> p_;
};

TEST_F(ReleaseTest, GenuineReleaseIsAcceptedUnscannedOnce) {
  Received r = Message(kMessage, {"bob@example.com"});
  SignRelease(&r, {"bob@example.com"});
  Outcome o = p_->Process(r);
  EXPECT_EQ(o.kind, Outcome::Kind::kAccept);
  EXPECT_TRUE(o.copies.empty());
  EXPECT_EQ(Scans(), 0);
  EXPECT_EQ(consumed_.size(), 1u);

  // The same header again, to the same recipient: a replay, scanned.
  Outcome again = p_->Process(r);
  EXPECT_EQ(again.kind, Outcome::Kind::kReject);
  EXPECT_EQ(again.copies.size(), 1u);
  EXPECT_GT(Scans(), 0);
  EXPECT_NE(LastEvent().find("used before"), std::string::npos) << LastEvent();
}

TEST_F(ReleaseTest, ReplayToAnotherRecipientIsScanned) {
  Received r = Message(kMessage, {"mallory@example.com"});
  SignRelease(&r, {"bob@example.com"});
  Outcome o = p_->Process(r);
  EXPECT_EQ(o.kind, Outcome::Kind::kReject);
  EXPECT_EQ(o.copies.size(), 1u);
  EXPECT_GT(Scans(), 0);
  EXPECT_NE(LastEvent().find("release-header-invalid"), std::string::npos);
  EXPECT_NE(LastEvent().find("not made for recipient <mallory@example.com>"), std::string::npos)
      << LastEvent();
  EXPECT_TRUE(consumed_.empty());  // refused before the ledger: bob's release is still good

  // Beside the signed recipient, too.
  r = Message(kMessage, {"bob@example.com", "mallory@example.com"});
  SignRelease(&r, {"bob@example.com"});
  EXPECT_EQ(p_->Process(r).kind, Outcome::Kind::kReject);
}

TEST_F(ReleaseTest, ASubsetOfTheSignedRecipientsPasses) {
  Received r = Message(kMessage, {"carol@example.com"});
  SignRelease(&r, {"bob@example.com", "carol@example.com"});
  EXPECT_EQ(p_->Process(r).kind, Outcome::Kind::kAccept);
  EXPECT_EQ(Scans(), 0);
}

TEST_F(ReleaseTest, AnotherSenderIsScanned) {
  Received r = Message(kMessage, {"bob@example.com"});
  SignRelease(&r, {"bob@example.com"});
  r.envelope.mail_from = "mallory@example.org";
  EXPECT_EQ(p_->Process(r).kind, Outcome::Kind::kReject);
  EXPECT_NE(LastEvent().find("another envelope sender"), std::string::npos) << LastEvent();
}

TEST_F(ReleaseTest, OtherContentAndOldHeadersAreScanned) {
  Received r = Message(kMessage, {"bob@example.com"});
  SignRelease(&r, {"bob@example.com"});
  r.body_digest = crypto::DigestBody("other body\r\n");
  EXPECT_EQ(p_->Process(r).kind, Outcome::Kind::kReject);
  // Older than the default release_max_age (5 min).
  SignRelease(&r, {"bob@example.com"}, time(nullptr) - 301);
  EXPECT_EQ(p_->Process(r).kind, Outcome::Kind::kReject);
  EXPECT_NE(LastEvent().find("expired"), std::string::npos) << LastEvent();
}

TEST_F(ReleaseTest, AReleaseThatCannotBeRecordedIsScanned) {
  ledger_error_ = Status::IOError("disk full");
  Received r = Message(kMessage, {"bob@example.com"});
  SignRelease(&r, {"bob@example.com"});
  EXPECT_EQ(p_->Process(r).kind, Outcome::Kind::kReject);
  EXPECT_NE(LastEvent().find("disk full"), std::string::npos) << LastEvent();
}

}  // namespace
}  // namespace mailvault::intake
