// Tests of the personal role: addresses (normalised, stored, replaced,
// removed with the account), the personal Backup's settings in the
// accounts database, the mailbox providers, and the threat rules that gate
// a personal user's HTML view and sending.
#include "directory/accounts_personal.h"

#include <gtest/gtest.h>

#include "crypto/keyring.h"
#include "directory/accounts.h"
#include "directory/accounts_mailboxes.h"
#include "testutil/temp_dir.h"

namespace mailvault::directory {
namespace {

using crypto::kTestCost;
constexpr char kPassword[] = "s3cret-passw0rd";

class PersonalAccountsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto keys = crypto::KeyRing::Create(*PosixEnv(), JoinPath(dir_.path(), "keys"));
    ASSERT_TRUE(keys.ok()) << keys.status().ToString();
    keys_ = std::move(*keys);
    accounts_ = Open(false);
    ASSERT_NE(accounts_, nullptr);
  }
  std::unique_ptr<Accounts> Open(bool read_only) {
    auto a = Accounts::Open(*PosixEnv(), DataDir(dir_.path()), *keys_, read_only, kTestCost);
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    return a.ok() ? std::move(*a) : nullptr;
  }
  TempDir dir_;
  std::unique_ptr<crypto::KeyRing> keys_;
  std::unique_ptr<Accounts> accounts_;
};

TEST(Address, NormalizeTable) {
  EXPECT_EQ(*NormalizeAddress("Alice@Example.COM"), "alice@example.com");
  EXPECT_EQ(*NormalizeAddress("j\xc3\xbcrgen@b\xc3\xbc"
                              "cher.example"),
            "j\xc3\xbcrgen@b\xc3\xbc"
            "cher.example");  // UTF-8 kept, not folded
  for (const char* bad : {"", "a@", "@b", "ab", "a b@c", "a@b@c", "<a@b>", "a@b,c@d", "a\n@b",
                          "\xff@example.com", "a\"x@b"}) {
    auto r = NormalizeAddress(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << bad;
    }
  }
  EXPECT_FALSE(NormalizeAddress(std::string(250, 'a') + "@b.cd").ok());
}

TEST_F(PersonalAccountsTest, PersonalAccountsKeepTheirAddresses) {
  ASSERT_TRUE(accounts_
                  ->Add("Pat", Role::kPersonal, kPassword,
                        {"Pat@Example.com", "pat@example.com", "sales@example.com"})
                  .ok());
  auto pat = accounts_->Get("pat");
  ASSERT_TRUE(pat.ok()) << pat.status().ToString();
  EXPECT_EQ(pat->role, Role::kPersonal);
  EXPECT_EQ(pat->addresses, (std::vector<std::string>{"pat@example.com", "sales@example.com"}));
  // A personal account needs an address; other roles have none.
  EXPECT_EQ(accounts_->Add("nobody", Role::kPersonal, kPassword).code(), Code::kInvalidArgument);
  EXPECT_EQ(accounts_->Add("adm", Role::kAdministrator, kPassword, {"a@example.com"}).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(accounts_->Add("bad", Role::kPersonal, kPassword, {"not an address"}).code(),
            Code::kInvalidArgument);
  EXPECT_FALSE(accounts_->Get("nobody").ok());
  // Replaced, and seen by another Accounts on the file (the daemon).
  ASSERT_TRUE(accounts_->SetAddresses("pat", {"p@example.org"}).ok());
  auto ro = Open(true);
  EXPECT_EQ(ro->Get("pat")->addresses, std::vector<std::string>{"p@example.org"});
  EXPECT_EQ((*ro->List())[0].addresses, std::vector<std::string>{"p@example.org"});
  ASSERT_TRUE(accounts_->Add("adm", Role::kAdministrator, kPassword).ok());
  EXPECT_EQ(accounts_->SetAddresses("adm", {"a@example.com"}).code(), Code::kInvalidArgument);
  EXPECT_EQ(accounts_->SetAddresses("ghost", {"a@example.com"}).code(), Code::kNotFound);
  // Removed with the account: a new account of the name starts without.
  ASSERT_TRUE(accounts_->Remove("pat").ok());
  ASSERT_TRUE(accounts_->Add("pat", Role::kPersonal, kPassword, {"new@example.org"}).ok());
  EXPECT_EQ(accounts_->Get("pat")->addresses, std::vector<std::string>{"new@example.org"});
}

TEST_F(PersonalAccountsTest, ADisabledPersonalAccountCannotSignIn) {
  ASSERT_TRUE(accounts_->Add("pat", Role::kPersonal, kPassword, {"pat@example.com"}).ok());
  ASSERT_TRUE(accounts_->Authenticate("pat", kPassword).ok());
  ASSERT_TRUE(accounts_->SetDisabled("pat", true).ok());
  auto r = accounts_->Authenticate("pat", kPassword);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kPermissionDenied);
  EXPECT_EQ(r.status().message(), kWrongLogin);
}

TEST_F(PersonalAccountsTest, SettingsLiveInTheAccountsDatabase) {
  auto s = accounts_->GetPersonalSettings();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(*s, PersonalSettings{});  // defaults: personal Backup off
  EXPECT_FALSE(s->enabled);
  PersonalSettings next;
  std::string warning;
  ASSERT_TRUE(SetPersonalSetting(&next, "personal.backup", "yes", &warning).ok());
  ASSERT_TRUE(SetPersonalSetting(&next, "personal.send", "on", &warning).ok());
  ASSERT_TRUE(SetPersonalSetting(&next, "personal.delivery_format", "as-is", &warning).ok());
  EXPECT_TRUE(warning.empty());
  ASSERT_TRUE(SetPersonalSetting(&next, "personal.remove_message_id", "yes", &warning).ok());
  EXPECT_NE(warning.find("DKIM"), std::string::npos);
  EXPECT_EQ(SetPersonalSetting(&next, "personal.backup", "maybe", &warning).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(SetPersonalSetting(&next, "personal.nope", "yes", &warning).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(SetPersonalSetting(&next, "personal.delivery_format", "zip", &warning).code(),
            Code::kInvalidArgument);
  ASSERT_TRUE(accounts_->PutPersonalSettings(next).ok());
  auto ro = Open(true);
  auto back = ro->GetPersonalSettings();
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, next);
  EXPECT_EQ(GetPersonalSetting(*back, "personal.delivery_format"), "as-is");
  EXPECT_EQ(GetPersonalSetting(*back, "personal.delete"), "no");
  EXPECT_EQ(ro->PutPersonalSettings(next).code(), Code::kPermissionDenied);
}

TEST_F(PersonalAccountsTest, LocalMailboxesAreTheOwnAddressesOfPersonalAccounts) {
  ASSERT_TRUE(accounts_->Add("pat", Role::kPersonal, kPassword, {"pat@example.com"}).ok());
  ASSERT_TRUE(accounts_->Add("adm", Role::kAdministrator, kPassword).ok());
  LocalMailboxes local(*accounts_);
  auto boxes = local.MailboxesOf("PAT");
  ASSERT_TRUE(boxes.ok()) << boxes.status().ToString();
  EXPECT_EQ(*boxes, (std::vector<Mailbox>{{"pat@example.com", false, ""}}));
  EXPECT_EQ(local.MailboxesOf("adm").status().code(), Code::kNotFound);
  EXPECT_EQ(local.MailboxesOf("ghost").status().code(), Code::kNotFound);

  // A directory provider behind it answers for its own users; an error of
  // the first that knows the account is the answer (never a fallback).
  struct Fake final : MailboxProvider {
    Result<std::vector<Mailbox>> MailboxesOf(std::string_view account) override {
      if (account == "dora") {
        return std::vector<Mailbox>{{"dora@example.com", false, ""},
                                    {"sales@example.com", true, "group sales"}};
      }
      if (account == "down") return Status::Unavailable("directory down");
      return Status::NotFound("unknown");
    }
  } ldap;
  ChainedMailboxes chain({&local, &ldap});
  EXPECT_EQ(chain.MailboxesOf("pat")->size(), 1u);
  EXPECT_EQ((*chain.MailboxesOf("dora"))[1].delegated, true);
  EXPECT_EQ(chain.MailboxesOf("down").status().code(), Code::kUnavailable);
  EXPECT_EQ(chain.MailboxesOf("ghost").status().code(), Code::kNotFound);
}

TEST(ThreatRules, HtmlAndSending) {
  CopyMeta m;
  EXPECT_TRUE(HtmlPreviewAllowed(m));
  EXPECT_TRUE(NoThreatFound(m));
  m.statuses = {{"anti-spam", "spam"}};
  EXPECT_TRUE(NoThreatFound(m));
  for (const char* ok : {"not-detected", "encrypted", "not-scanned", "bases-error"}) {
    m.statuses["anti-virus"] = ok;
    EXPECT_TRUE(HtmlPreviewAllowed(m)) << ok;
    EXPECT_EQ(NoThreatFound(m), std::string(ok) == "not-detected") << ok;
  }
  for (const char* bad : {"infected", "probably-infected", "corrupted"}) {
    m.statuses["anti-virus"] = bad;
    EXPECT_FALSE(HtmlPreviewAllowed(m)) << bad;
    EXPECT_FALSE(NoThreatFound(m)) << bad;
  }
  m.statuses = {{"anti-phishing", "malicious-link"}};
  EXPECT_FALSE(NoThreatFound(m));
  m.statuses = {{"anti-phishing", "phishing"}};
  EXPECT_FALSE(NoThreatFound(m));
}

}  // namespace
}  // namespace mailvault::directory
