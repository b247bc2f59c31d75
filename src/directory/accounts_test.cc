// Tests of the local accounts: roles, name and password rules, every
// method of Accounts, Authenticate's single answer for every failure, the
// rehash after a cost change, wrong keys and read-only opens, and two
// Accounts on one file (the daemon and the CLI) seeing each other's changes.
// Hashes use crypto::kTestCost so the tests run fast; times come from a
// fake clock.
#include "directory/accounts.h"

#include <gtest/gtest.h>

#include <atomic>

#include "crypto/keyring.h"
#include "directory/accounts_db.h"
#include "testutil/temp_dir.h"

namespace mailvault::directory {
namespace {

using crypto::kTestCost;

// The real Env with a clock the test sets.
class ClockEnv final : public Env {
 public:
  std::atomic<int64_t> now{1'000'000};

  Result<std::unique_ptr<WritableFile>> OpenAppendable(const std::string& p) override {
    return b_->OpenAppendable(p);
  }
  Result<std::unique_ptr<RandomAccessFile>> OpenRandomAccess(const std::string& p) override {
    return b_->OpenRandomAccess(p);
  }
  Result<std::unique_ptr<TempFile>> NewTempFile(const std::string& d) override {
    return b_->NewTempFile(d);
  }
  Status WriteFileAtomic(const std::string& p, std::string_view c) override {
    return b_->WriteFileAtomic(p, c);
  }
  Result<std::string> ReadFile(const std::string& p) override { return b_->ReadFile(p); }
  Status CreateDir(const std::string& p) override { return b_->CreateDir(p); }
  Status SyncDir(const std::string& p) override { return b_->SyncDir(p); }
  Result<std::vector<std::string>> ListDir(const std::string& p) override { return b_->ListDir(p); }
  bool Exists(const std::string& p) override { return b_->Exists(p); }
  Result<uint64_t> FileSize(const std::string& p) override { return b_->FileSize(p); }
  Status Rename(const std::string& f, const std::string& t) override { return b_->Rename(f, t); }
  Status Remove(const std::string& p) override { return b_->Remove(p); }
  Status Truncate(const std::string& p, uint64_t n) override { return b_->Truncate(p, n); }
  Status PunchHole(const std::string& p, uint64_t o, uint64_t n) override {
    return b_->PunchHole(p, o, n);
  }
  Result<uint64_t> FreeSpace(const std::string& p) override { return b_->FreeSpace(p); }
  Result<uint64_t> AllocatedSize(const std::string& p) override { return b_->AllocatedSize(p); }
  Result<std::unique_ptr<FileLock>> TryLock(const std::string& p) override {
    return b_->TryLock(p);
  }
  int64_t NowMicros() override { return now.load(); }
  std::string HostName() override { return b_->HostName(); }

 private:
  Env* b_ = PosixEnv();
};

constexpr char kPassword[] = "s3cret-passw0rd";

class AccountsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto keys = crypto::KeyRing::Create(env_, JoinPath(dir_.path(), "keys"));
    ASSERT_TRUE(keys.ok()) << keys.status().ToString();
    keys_ = std::move(*keys);
  }
  std::unique_ptr<Accounts> OpenAccounts(bool read_only = false,
                                         crypto::PasswordCost cost = kTestCost) {
    auto a = Accounts::Open(env_, DataDir(dir_.path()), *keys_, read_only, cost);
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    return a.ok() ? std::move(*a) : nullptr;
  }
  // The stored hash of `name`, read beneath Accounts.
  std::string StoredHash(const std::string& name) {
    auto keys = crypto::KeyRing::Open(env_, JoinPath(dir_.path(), "keys"), false);
    EXPECT_TRUE(keys.ok());
    index::AccountsDbOptions o;
    o.path = AccountsPath(dir_.path());
    o.read_only = true;
    auto db = index::AccountsDb::Open(o, (*keys)->Derived(crypto::KeyPurpose::kAccounts));
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    auto row = (*db)->Get(name);
    EXPECT_TRUE(row.ok());
    return row.ok() ? row->password_hash : "";
  }
  void ExpectWrongLogin(Accounts& a, std::string_view name, std::string_view password) {
    auto r = a.Authenticate(name, password);
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_EQ(r.status().code(), Code::kPermissionDenied) << name;
    EXPECT_EQ(r.status().message(), "wrong user name or password") << name;
  }

  ClockEnv env_;
  TempDir dir_;
  std::unique_ptr<crypto::KeyRing> keys_;
};

TEST(Roles, NamesRoundTrip) {
  for (Role r : {Role::kAdministrator, Role::kHelpdesk, Role::kAuditor, Role::kPersonal}) {
    auto parsed = ParseRole(RoleName(r));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, r);
  }
  EXPECT_EQ(RoleName(Role::kAdministrator), "administrator");
  EXPECT_EQ(RoleName(Role::kHelpdesk), "helpdesk");
  EXPECT_EQ(RoleName(Role::kAuditor), "auditor");
}

TEST(Roles, UnknownRoleNamesTheValidOnes) {
  for (const char* bad : {"admin", "", "Administrator", "root"}) {
    auto r = ParseRole(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find("administrator, helpdesk, auditor or personal"),
              std::string::npos);
  }
}

TEST(AccountName, Table) {
  struct Case {
    std::string name;
    bool ok;
  };
  const Case cases[] = {
      {"a", true},
      {"alice", true},
      {"Alice", true},
      {"ALICE.SMITH", true},
      {"0day", true},
      {"bob@example.com", true},
      {"first_last-2.x", true},
      {std::string(64, 'a'), true},
      {"", false},
      {std::string(65, 'a'), false},
      {".alice", false},
      {"_alice", false},
      {"-alice", false},
      {"@example", false},
      {"al ice", false},
      {"alice\n", false},
      {"al/ice", false},
      {"al+ice", false},
      {"j\xc3\xb6rg", false},
      {std::string("a\0b", 3), false},
  };
  for (const Case& c : cases) {
    Status s = ValidateAccountName(c.name);
    EXPECT_EQ(s.ok(), c.ok) << "\"" << c.name << "\": " << s.ToString();
    if (!c.ok) {
      EXPECT_EQ(s.code(), Code::kInvalidArgument);
    }
  }
}

TEST(Password, Rules) {
  EXPECT_TRUE(ValidatePassword("0123456789").ok());
  EXPECT_TRUE(ValidatePassword(std::string(1024, 'x')).ok());
  EXPECT_TRUE(ValidatePassword("\xc3\xa4\xc3\xb6\xc3\xbc\xc3\x9f\xe2\x82\xac").ok());  // 11 bytes
  Status s = ValidatePassword("012345678");
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("too short"), std::string::npos) << s.message();
  s = ValidatePassword(std::string(1025, 'x'));
  EXPECT_NE(s.message().find("too long"), std::string::npos) << s.message();
  s = ValidatePassword(std::string("0123456789\0x", 12));
  EXPECT_NE(s.message().find("NUL"), std::string::npos) << s.message();
  EXPECT_FALSE(ValidatePassword("").ok());
}

TEST(AccountsPathTest, InTheDataDir) { EXPECT_EQ(AccountsPath("/var/mv"), "/var/mv/accounts.db"); }

TEST_F(AccountsTest, AddGetList) {
  auto a = OpenAccounts();
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->Add("Zoe", Role::kHelpdesk, kPassword).ok());
  env_.now = 2'000'000;
  ASSERT_TRUE(a->Add("admin", Role::kAdministrator, kPassword).ok());
  auto zoe = a->Get("ZOE");
  ASSERT_TRUE(zoe.ok()) << zoe.status().ToString();
  EXPECT_EQ(zoe->name, "zoe");
  EXPECT_EQ(zoe->role, Role::kHelpdesk);
  EXPECT_FALSE(zoe->disabled);
  EXPECT_EQ(zoe->created_at, 1'000'000);
  EXPECT_EQ(zoe->updated_at, 1'000'000);
  EXPECT_EQ(zoe->password_changed_at, 1'000'000);
  auto all = a->List();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "admin");
  EXPECT_EQ((*all)[0].role, Role::kAdministrator);
  EXPECT_EQ((*all)[0].created_at, 2'000'000);
  EXPECT_EQ((*all)[1].name, "zoe");
  EXPECT_EQ(a->Get("nobody").status().code(), Code::kNotFound);
}

TEST_F(AccountsTest, AddRefusesDuplicatesAndBadInput) {
  auto a = OpenAccounts();
  ASSERT_TRUE(a->Add("bob", Role::kAuditor, kPassword).ok());
  EXPECT_EQ(a->Add("BOB", Role::kAdministrator, kPassword).code(), Code::kAlreadyExists);
  EXPECT_EQ(a->Get("bob")->role, Role::kAuditor);
  EXPECT_EQ(a->Add("bad name", Role::kAuditor, kPassword).code(), Code::kInvalidArgument);
  EXPECT_EQ(a->Add("carol", Role::kAuditor, "short").code(), Code::kInvalidArgument);
  EXPECT_EQ(a->Get("carol").status().code(), Code::kNotFound);
}

TEST_F(AccountsTest, SetPassword) {
  auto a = OpenAccounts();
  ASSERT_TRUE(a->Add("bob", Role::kAuditor, kPassword).ok());
  env_.now = 5'000'000;
  ASSERT_TRUE(a->SetPassword("Bob", "a new password").ok());
  auto bob = a->Get("bob");
  EXPECT_EQ(bob->password_changed_at, 5'000'000);
  EXPECT_EQ(bob->sessions_ended_at, 5'000'000);
  EXPECT_EQ(bob->updated_at, 5'000'000);
  EXPECT_EQ(bob->created_at, 1'000'000);
  EXPECT_TRUE(a->Authenticate("bob", "a new password").ok());
  ExpectWrongLogin(*a, "bob", kPassword);
  EXPECT_EQ(a->SetPassword("bob", "short").code(), Code::kInvalidArgument);
  EXPECT_EQ(a->SetPassword("ghost", "a new password").code(), Code::kNotFound);
}

TEST_F(AccountsTest, SetRoleSetDisabledRemove) {
  auto a = OpenAccounts();
  ASSERT_TRUE(a->Add("bob", Role::kAuditor, kPassword).ok());
  env_.now = 3'000'000;
  ASSERT_TRUE(a->SetRole("bob", Role::kAdministrator).ok());
  EXPECT_EQ(a->Get("bob")->role, Role::kAdministrator);
  EXPECT_EQ(a->Get("bob")->updated_at, 3'000'000);
  EXPECT_EQ(a->Get("bob")->password_changed_at, 1'000'000);
  EXPECT_EQ(a->Get("bob")->sessions_ended_at, 0);  // a role change keeps the sessions
  env_.now = 4'000'000;
  ASSERT_TRUE(a->SetDisabled("bob", true).ok());
  EXPECT_TRUE(a->Get("bob")->disabled);
  EXPECT_EQ(a->Get("bob")->sessions_ended_at, 4'000'000);
  env_.now = 6'000'000;
  ASSERT_TRUE(a->SetDisabled("bob", false).ok());
  EXPECT_FALSE(a->Get("bob")->disabled);
  // Enabling again does not bring back what the disable ended.
  EXPECT_EQ(a->Get("bob")->sessions_ended_at, 4'000'000);
  EXPECT_EQ(a->SetRole("ghost", Role::kHelpdesk).code(), Code::kNotFound);
  EXPECT_EQ(a->SetDisabled("ghost", true).code(), Code::kNotFound);
  ASSERT_TRUE(a->Remove("BOB").ok());
  EXPECT_EQ(a->Get("bob").status().code(), Code::kNotFound);
  EXPECT_EQ(a->Remove("bob").code(), Code::kNotFound);
}

TEST_F(AccountsTest, Authenticate) {
  auto a = OpenAccounts();
  ASSERT_TRUE(a->Add("alice", Role::kHelpdesk, kPassword).ok());
  auto ok = a->Authenticate("Alice", kPassword);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->name, "alice");
  EXPECT_EQ(ok->role, Role::kHelpdesk);
}

TEST_F(AccountsTest, EveryFailedLoginLooksTheSame) {
  auto a = OpenAccounts();
  ASSERT_TRUE(a->Add("alice", Role::kAdministrator, kPassword).ok());
  ASSERT_TRUE(a->Add("dora", Role::kAdministrator, kPassword).ok());
  ASSERT_TRUE(a->SetDisabled("dora", true).ok());
  ExpectWrongLogin(*a, "nobody", kPassword);               // unknown name
  ExpectWrongLogin(*a, "alice", "wrong password");         // wrong password
  ExpectWrongLogin(*a, "alice", "");                       // empty password
  ExpectWrongLogin(*a, "dora", kPassword);                 // disabled, right password
  ExpectWrongLogin(*a, "not a valid name!", kPassword);    // not even a name
  ExpectWrongLogin(*a, std::string(200, 'a'), kPassword);  // too long a name
  ASSERT_TRUE(a->SetDisabled("dora", false).ok());
  EXPECT_TRUE(a->Authenticate("dora", kPassword).ok());
}

TEST_F(AccountsTest, RehashesAfterACostChange) {
  {
    auto a = OpenAccounts();
    ASSERT_TRUE(a->Add("alice", Role::kAdministrator, kPassword).ok());
  }
  const std::string old_hash = StoredHash("alice");
  const crypto::PasswordCost higher{kTestCost.ops + 1, kTestCost.mem};
  ASSERT_TRUE(crypto::PasswordNeedsRehash(old_hash, higher));
  auto a = OpenAccounts(false, higher);
  ExpectWrongLogin(*a, "alice", "wrong password");
  EXPECT_EQ(StoredHash("alice"), old_hash);  // only a successful login rehashes
  ASSERT_TRUE(a->Authenticate("alice", kPassword).ok());
  const std::string new_hash = StoredHash("alice");
  EXPECT_NE(new_hash, old_hash);
  EXPECT_FALSE(crypto::PasswordNeedsRehash(new_hash, higher));
  EXPECT_TRUE(a->Authenticate("alice", kPassword).ok());
  EXPECT_EQ(StoredHash("alice"), new_hash);  // no rehash at the same cost
}

TEST_F(AccountsTest, TwoObjectsOnOneFileSeeEachOther) {
  auto daemon = OpenAccounts();
  auto cli = OpenAccounts();
  ASSERT_TRUE(daemon && cli);
  ASSERT_TRUE(cli->Add("alice", Role::kAuditor, kPassword).ok());
  EXPECT_TRUE(daemon->Authenticate("alice", kPassword).ok());
  ASSERT_TRUE(cli->SetRole("alice", Role::kAdministrator).ok());
  EXPECT_EQ(daemon->Get("alice")->role, Role::kAdministrator);
  ASSERT_TRUE(cli->SetDisabled("alice", true).ok());
  ExpectWrongLogin(*daemon, "alice", kPassword);
  ASSERT_TRUE(daemon->SetDisabled("alice", false).ok());
  ASSERT_TRUE(daemon->SetPassword("alice", "changed by the daemon").ok());
  EXPECT_TRUE(cli->Authenticate("alice", "changed by the daemon").ok());
  ASSERT_TRUE(cli->Remove("alice").ok());
  ExpectWrongLogin(*daemon, "alice", "changed by the daemon");
  EXPECT_TRUE(daemon->List()->empty());
}

TEST_F(AccountsTest, ReadOnly) {
  EXPECT_EQ(Accounts::Open(env_, DataDir(dir_.path()), *keys_, true, kTestCost).status().code(),
            Code::kNotFound);
  auto writer = OpenAccounts();
  ASSERT_TRUE(writer->Add("alice", Role::kAuditor, kPassword).ok());
  auto reader = OpenAccounts(/*read_only=*/true);
  ASSERT_TRUE(reader);
  EXPECT_EQ(reader->List()->size(), 1u);
  EXPECT_TRUE(reader->Authenticate("alice", kPassword).ok());
  EXPECT_EQ(reader->Add("bob", Role::kAuditor, kPassword).code(), Code::kPermissionDenied);
  EXPECT_EQ(reader->SetRole("alice", Role::kHelpdesk).code(), Code::kPermissionDenied);
}

TEST_F(AccountsTest, WrongKeyIsCorruption) {
  {
    auto a = OpenAccounts();
    ASSERT_TRUE(a->Add("alice", Role::kAuditor, kPassword).ok());
  }
  TempDir other;
  auto other_keys = crypto::KeyRing::Create(env_, other.File("keys"));
  ASSERT_TRUE(other_keys.ok());
  auto a = Accounts::Open(env_, DataDir(dir_.path()), **other_keys, false, kTestCost);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), Code::kCorruption) << a.status().ToString();
}

// With the right ring but no data dir, nothing is made: the error is the
// open's, and no file appears.
TEST_F(AccountsTest, MissingDataDirIsAnError) {
  TempDir empty;
  const std::string gone = empty.File("gone");
  auto a = Accounts::Open(env_, DataDir(gone), *keys_, false, kTestCost);
  EXPECT_FALSE(a.ok());
  EXPECT_FALSE(env_.Exists(AccountsPath(gone)));
}

}  // namespace
}  // namespace mailvault::directory
