// Tests of the accounts database: the contract of accounts_db.h (add,
// update, remove, get, list, case-insensitive names), persistence, read-only
// opens, wrong keys and foreign files, and two handles on one file (what the
// daemon and the CLI are) seeing each other's changes and never losing one.
#include "directory/accounts_db.h"

#include <gtest/gtest.h>

#include <thread>

#include "db/encrypted_db.h"
#include "db/encrypted_vfs.h"
#include "db/sqlite_db.h"
#include "testutil/temp_dir.h"

namespace mailvault::index {
namespace {

crypto::SymmetricKey Key(uint8_t seed) {
  crypto::SymmetricKey k;
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(seed * 7 + i);
  return k;
}

AccountRow Row(const std::string& name, const std::string& role = "auditor") {
  AccountRow r;
  r.name = name;
  r.role = role;
  r.password_hash = "$argon2id$hash-of-" + name;
  r.created_at = 100;
  r.updated_at = 100;
  r.password_changed_at = 100;
  return r;
}

// Another mailvault database in the file: the queue's version key over
// a table of its own, made through the db layer as the queue makes its.
void MakeAnotherDatabase(const std::string& path, const crypto::SymmetricKey& key) {
  auto vfs = db::EncryptedVfs::Register(key);
  ASSERT_TRUE(vfs.ok()) << vfs.status().ToString();
  db::Schema other;
  other.kind = "delivery queue";
  other.version_key = "queue_schema";
  other.migrations = {{1, "CREATE TABLE deliveries(id INTEGER PRIMARY KEY);"}};
  db::EncryptedDbOptions o;
  o.path = path;
  o.what_kind = other.kind;
  auto made = db::OpenDatabase(**vfs, o, other);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
}

class AccountsDbTest : public ::testing::Test {
 protected:
  std::unique_ptr<AccountsDb> OpenDb(bool read_only = false, uint8_t key = 1) {
    AccountsDbOptions o;
    o.path = path_;
    o.read_only = read_only;
    auto db = AccountsDb::Open(o, Key(key));
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    return db.ok() ? std::move(*db) : nullptr;
  }
  Status OpenStatus(bool read_only, uint8_t key) {
    AccountsDbOptions o;
    o.path = path_;
    o.read_only = read_only;
    return AccountsDb::Open(o, Key(key)).status();
  }

  TempDir dir_;
  std::string path_ = dir_.File("accounts.db");
};

TEST_F(AccountsDbTest, AddGetList) {
  auto db = OpenDb();
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->Add(Row("zed", "helpdesk")).ok());
  ASSERT_TRUE(db->Add(Row("Alice", "administrator")).ok());
  auto alice = db->Get("ALICE");
  ASSERT_TRUE(alice.ok()) << alice.status().ToString();
  EXPECT_EQ(alice->name, "alice");
  EXPECT_EQ(alice->role, "administrator");
  EXPECT_EQ(alice->password_hash, "$argon2id$hash-of-Alice");
  EXPECT_FALSE(alice->disabled);
  EXPECT_EQ(alice->created_at, 100);
  auto all = db->List();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "alice");
  EXPECT_EQ((*all)[1].name, "zed");
  EXPECT_EQ(db->Get("nobody").status().code(), Code::kNotFound);
}

TEST_F(AccountsDbTest, AddRefusesADuplicateInAnyCase) {
  auto db = OpenDb();
  ASSERT_TRUE(db->Add(Row("bob")).ok());
  Status s = db->Add(Row("BoB", "administrator"));
  EXPECT_EQ(s.code(), Code::kAlreadyExists) << s.ToString();
  EXPECT_EQ(s.message(), "account 'bob' already exists");
  EXPECT_EQ(db->Get("bob")->role, "auditor");
  EXPECT_EQ(db->Add(Row("")).code(), Code::kInvalidArgument);
}

TEST_F(AccountsDbTest, UpdateChangesOneRow) {
  auto db = OpenDb();
  ASSERT_TRUE(db->Add(Row("a")).ok());
  ASSERT_TRUE(db->Add(Row("b")).ok());
  Status s = db->Update("A", [](AccountRow* r) {
    r->role = "helpdesk";
    r->disabled = true;
    r->updated_at = 200;
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  auto a = db->Get("a");
  EXPECT_EQ(a->role, "helpdesk");
  EXPECT_TRUE(a->disabled);
  EXPECT_EQ(a->updated_at, 200);
  EXPECT_EQ(a->created_at, 100);
  EXPECT_EQ(db->Get("b")->role, "auditor");
}

TEST_F(AccountsDbTest, UpdateOfAnUnknownNameIsNotFound) {
  auto db = OpenDb();
  bool called = false;
  Status s = db->Update("ghost", [&](AccountRow*) {
    called = true;
    return Status::Ok();
  });
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(s.message(), "no account 'ghost'");
  EXPECT_FALSE(called);
}

TEST_F(AccountsDbTest, UpdateWritesNothingWhenTheChangeFailsOrRenames) {
  auto db = OpenDb();
  ASSERT_TRUE(db->Add(Row("a")).ok());
  Status s = db->Update("a", [](AccountRow* r) {
    r->role = "administrator";
    return Status::Unavailable("changed my mind");
  });
  EXPECT_EQ(s.code(), Code::kUnavailable);
  s = db->Update("a", [](AccountRow* r) {
    r->name = "b";
    r->role = "administrator";
    return Status::Ok();
  });
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(db->Get("a")->role, "auditor");
  EXPECT_EQ(db->Get("b").status().code(), Code::kNotFound);
}

TEST_F(AccountsDbTest, Remove) {
  auto db = OpenDb();
  ASSERT_TRUE(db->Add(Row("a")).ok());
  EXPECT_TRUE(db->Remove("A").ok());
  EXPECT_EQ(db->Get("a").status().code(), Code::kNotFound);
  EXPECT_EQ(db->Remove("a").code(), Code::kNotFound);
  EXPECT_TRUE(db->List()->empty());
}

TEST_F(AccountsDbTest, SurvivesReopen) {
  {
    auto db = OpenDb();
    ASSERT_TRUE(db->Add(Row("kept", "administrator")).ok());
  }
  auto db = OpenDb();
  ASSERT_TRUE(db);
  EXPECT_EQ(db->Get("kept")->role, "administrator");
}

TEST_F(AccountsDbTest, ReadOnly) {
  EXPECT_EQ(OpenStatus(/*read_only=*/true, 1).code(), Code::kNotFound);
  auto writer = OpenDb();
  ASSERT_TRUE(writer->Add(Row("a")).ok());
  auto reader = OpenDb(/*read_only=*/true);
  ASSERT_TRUE(reader);
  EXPECT_EQ(reader->Get("a")->role, "auditor");
  EXPECT_EQ(reader->Add(Row("b")).code(), Code::kPermissionDenied);
  EXPECT_EQ(reader->Remove("a").code(), Code::kPermissionDenied);
  EXPECT_EQ(reader->Update("a", [](AccountRow*) { return Status::Ok(); }).code(),
            Code::kPermissionDenied);
  ASSERT_TRUE(writer->Add(Row("c")).ok());
  EXPECT_EQ(reader->List()->size(), 2u);  // sees the writer's commit at once
}

TEST_F(AccountsDbTest, SessionsEndedAtIsKept) {
  auto db = OpenDb();
  AccountRow r = Row("kim");
  r.sessions_ended_at = 150;
  ASSERT_TRUE(db->Add(r).ok());
  EXPECT_EQ(db->Get("kim")->sessions_ended_at, 150);
  ASSERT_TRUE(db->Update("kim", [](AccountRow* row) {
                  row->sessions_ended_at = 300;
                  return Status::Ok();
                }).ok());
  EXPECT_EQ(db->Get("kim")->sessions_ended_at, 300);
  EXPECT_EQ(db->List()->at(0).sessions_ended_at, 300);
}

TEST_F(AccountsDbTest, AVersion1FileIsReadAndMigrated) {
  {
    auto db = OpenDb();
    AccountRow r = Row("old");
    r.password_changed_at = 120;
    ASSERT_TRUE(db->Add(r).ok());
  }
  {
    // Make it what version 1 wrote: no sessions_ended_at column, none of
    // version 3's tables.
    auto vfs = db::EncryptedVfs::Register(Key(1));
    ASSERT_TRUE(vfs.ok());
    db::EncryptedDbOptions o;
    o.path = path_;
    o.what_kind = "accounts database";
    auto raw = db::OpenEncryptedDb(**vfs, o);
    ASSERT_TRUE(raw.ok()) << raw.status().ToString();
    ASSERT_TRUE((*raw)->Exec("DROP TABLE account_addresses; DROP TABLE settings").ok());
    ASSERT_TRUE((*raw)->Exec("ALTER TABLE accounts DROP COLUMN sessions_ended_at").ok());
    ASSERT_TRUE((*raw)->Exec("UPDATE meta SET value = 1 WHERE key = 'accounts_schema'").ok());
  }
  {
    // A reader leaves it as it is and reads the password change as the
    // sessions' end.
    auto reader = OpenDb(/*read_only=*/true);
    ASSERT_TRUE(reader);
    EXPECT_EQ(reader->Get("old")->sessions_ended_at, 120);
    EXPECT_EQ(reader->List()->at(0).sessions_ended_at, 120);
  }
  auto writer = OpenDb();
  ASSERT_TRUE(writer);
  EXPECT_EQ(writer->Get("old")->sessions_ended_at, 120);
  ASSERT_TRUE(writer
                  ->Update("old",
                           [](AccountRow* row) {
                             row->sessions_ended_at = 500;
                             return Status::Ok();
                           })
                  .ok());
  EXPECT_EQ(OpenDb(/*read_only=*/true)->Get("old")->sessions_ended_at, 500);
}

TEST_F(AccountsDbTest, WrongKeyIsCorruption) {
  {
    auto db = OpenDb();
    ASSERT_TRUE(db->Add(Row("a")).ok());
  }
  Status s = OpenStatus(false, 2);
  EXPECT_EQ(s.code(), Code::kCorruption) << s.ToString();
  EXPECT_EQ(OpenStatus(true, 2).code(), Code::kCorruption);
}

TEST_F(AccountsDbTest, AQueueIsNotAnAccountsDatabase) {
  MakeAnotherDatabase(path_, Key(1));
  Status s = OpenStatus(false, 1);
  EXPECT_EQ(s.code(), Code::kCorruption) << s.ToString();
  EXPECT_NE(s.message().find("not a mailvault accounts database"), std::string::npos)
      << s.message();
}

TEST_F(AccountsDbTest, AFileOfGarbageIsCorruption) {
  WriteAll(path_, std::string(8192, 'x'));
  EXPECT_EQ(OpenStatus(false, 1).code(), Code::kCorruption);
}

TEST_F(AccountsDbTest, TwoHandlesSeeEachOthersChanges) {
  auto daemon = OpenDb();
  auto cli = OpenDb();
  ASSERT_TRUE(daemon && cli);
  ASSERT_TRUE(cli->Add(Row("new")).ok());
  EXPECT_TRUE(daemon->Get("new").ok());
  ASSERT_TRUE(daemon
                  ->Update("new",
                           [](AccountRow* r) {
                             r->disabled = true;
                             return Status::Ok();
                           })
                  .ok());
  EXPECT_TRUE(cli->Get("new")->disabled);
  ASSERT_TRUE(cli->Remove("new").ok());
  EXPECT_EQ(daemon->Get("new").status().code(), Code::kNotFound);
}

// Two handles bumping one counter at once: each Update is read-modify-write
// in one IMMEDIATE transaction, so no increment is lost.
TEST_F(AccountsDbTest, ConcurrentUpdatesFromTwoHandlesLoseNothing) {
  auto first = OpenDb();
  auto second = OpenDb();
  ASSERT_TRUE(first->Add(Row("counter")).ok());
  constexpr int kEach = 25;
  auto bump = [](AccountsDb* db) {
    for (int i = 0; i < kEach; ++i) {
      Status s = db->Update("counter", [](AccountRow* r) {
        ++r->updated_at;
        return Status::Ok();
      });
      EXPECT_TRUE(s.ok()) << s.ToString();
    }
  };
  std::thread a(bump, first.get());
  std::thread b(bump, second.get());
  a.join();
  b.join();
  EXPECT_EQ(first->Get("counter")->updated_at, 100 + 2 * kEach);
}

TEST(LowerAscii, OnlyAsciiLetters) {
  EXPECT_EQ(LowerAscii("AbC.Z@x-1"), "abc.z@x-1");
  EXPECT_EQ(LowerAscii("\xc3\x84"), "\xc3\x84");
}

}  // namespace
}  // namespace mailvault::index
