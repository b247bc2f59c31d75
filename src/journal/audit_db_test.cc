// Tests of the audit database: the contract of audit_db.h (append with ids,
// every List filter, keyset paging, rotation to the stored cap), read-only
// opens, wrong keys and foreign files, and two handles (the daemon and the
// CLI) appending at once.
#include "journal/audit_db.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "db/encrypted_db.h"
#include "db/encrypted_vfs.h"
#include "testutil/temp_dir.h"

namespace mailvault::index {
namespace {

crypto::SymmetricKey Key(uint8_t seed) {
  crypto::SymmetricKey k;
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(seed * 11 + i);
  return k;
}

AuditEvent Row(int64_t at, const std::string& account, const std::string& action,
               std::vector<uint64_t> copies = {}, const std::string& result = "ok") {
  AuditEvent r;
  r.at = at;
  r.account = account;
  r.role = "administrator";
  r.client = "192.0.2.7";
  r.action = action;
  r.copy_ids = std::move(copies);
  r.result = result;
  r.detail = "detail of " + action;
  return r;
}

std::vector<int64_t> Ids(const AuditRowPage& page) {
  std::vector<int64_t> ids;
  for (const AuditEvent& r : page.rows) ids.push_back(r.id);
  return ids;
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

class AuditDbTest : public ::testing::Test {
 protected:
  std::unique_ptr<AuditDb> OpenDb(bool read_only = false, uint8_t key = 1) {
    AuditDbOptions o;
    o.path = path_;
    o.read_only = read_only;
    auto db = AuditDb::Open(o, Key(key));
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    return db.ok() ? std::move(*db) : nullptr;
  }
  Status OpenStatus(bool read_only, uint8_t key) {
    AuditDbOptions o;
    o.path = path_;
    o.read_only = read_only;
    return AuditDb::Open(o, Key(key)).status();
  }
  AuditRowPage ListOk(AuditDb& db, const AuditFilter& f) {
    auto page = db.List(f);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    return page.ok() ? std::move(*page) : AuditRowPage();
  }

  TempDir dir_;
  std::string path_ = dir_.File("audit.db");
};

TEST_F(AuditDbTest, AppendGivesAscendingIdsAndListRoundTrips) {
  auto db = OpenDb();
  ASSERT_TRUE(db);
  auto ids = db->Append({Row(10, "alice", "login"), Row(20, "bob", "view", {7, 1ull << 63})});
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  ASSERT_EQ(ids->size(), 2u);
  EXPECT_LT((*ids)[0], (*ids)[1]);
  auto page = ListOk(*db, {});
  ASSERT_EQ(page.rows.size(), 2u);
  EXPECT_FALSE(page.next);
  const AuditEvent& v = page.rows[0];  // newest first
  EXPECT_EQ(v.id, (*ids)[1]);
  EXPECT_EQ(v.at, 20);
  EXPECT_EQ(v.account, "bob");
  EXPECT_EQ(v.role, "administrator");
  EXPECT_EQ(v.client, "192.0.2.7");
  EXPECT_EQ(v.action, "view");
  EXPECT_EQ(v.copy_ids, (std::vector<uint64_t>{7, 1ull << 63}));
  EXPECT_EQ(v.result, "ok");
  EXPECT_EQ(v.detail, "detail of view");
  EXPECT_TRUE(page.rows[1].copy_ids.empty());
  EXPECT_EQ(*db->Count(), 2u);
  auto none = db->Append({});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(AuditDbTest, EveryFilter) {
  auto db = OpenDb();
  ASSERT_TRUE(db->Append({Row(100, "alice", "login"), Row(200, "alice", "view", {5}),
                          Row(300, "bob", "view", {5, 6}, "denied"),
                          Row(400, "bob", "delete", {6}, "failed"), Row(500, "carol", "search")})
                  .ok());
  auto accounts = [&](AuditFilter f) {
    std::vector<std::string> out;
    for (const AuditEvent& r : ListOk(*db, f).rows)
      out.push_back(r.account + "@" + std::to_string(r.at));
    return out;
  };
  AuditFilter f;
  f.account = "alice";
  EXPECT_EQ(accounts(f), (std::vector<std::string>{"alice@200", "alice@100"}));
  f = {};
  f.action = "view";
  EXPECT_EQ(accounts(f), (std::vector<std::string>{"bob@300", "alice@200"}));
  f = {};
  f.result = "failed";
  EXPECT_EQ(accounts(f), (std::vector<std::string>{"bob@400"}));
  f = {};
  f.copy_id = 6;
  EXPECT_EQ(accounts(f), (std::vector<std::string>{"bob@400", "bob@300"}));
  f.action = "view";
  EXPECT_EQ(accounts(f), (std::vector<std::string>{"bob@300"}));
  f = {};
  f.copy_id = 99;
  EXPECT_TRUE(accounts(f).empty());
  f = {};
  f.since = 200;
  f.until = 400;  // since inclusive, until exclusive
  EXPECT_EQ(accounts(f), (std::vector<std::string>{"bob@300", "alice@200"}));
  f = {};
  f.account = "alice";
  f.action = "view";
  f.result = "ok";
  f.copy_id = 5;
  f.since = 150;
  f.until = 250;
  EXPECT_EQ(accounts(f), (std::vector<std::string>{"alice@200"}));
  f.result = "denied";
  EXPECT_TRUE(accounts(f).empty());
  f = {};
  f.limit = 0;
  EXPECT_EQ(db->List(f).status().code(), Code::kInvalidArgument);
}

// Pages of 7 over 50 rows, with and without a filter: each row exactly once,
// newest first, and `next` only while more rows match.
TEST_F(AuditDbTest, KeysetPagingHasNoDuplicatesOrGaps) {
  auto db = OpenDb();
  std::vector<AuditEvent> rows;
  for (int i = 0; i < 50; ++i) {
    rows.push_back(Row(i, i % 2 ? "odd" : "even", "view", {static_cast<uint64_t>(i % 3)}));
  }
  auto ids = db->Append(rows);
  ASSERT_TRUE(ids.ok());
  for (int variant = 0; variant < 3; ++variant) {
    AuditFilter f;
    f.limit = 7;
    if (variant == 1) f.account = "odd";
    if (variant == 2) f.copy_id = 1;
    std::vector<int64_t> want;
    for (int i = 49; i >= 0; --i) {
      if (variant == 1 && i % 2 == 0) continue;
      if (variant == 2 && i % 3 != 1) continue;
      want.push_back((*ids)[static_cast<size_t>(i)]);
    }
    std::vector<int64_t> got;
    for (int pages = 0; pages < 20; ++pages) {
      AuditRowPage page = ListOk(*db, f);
      EXPECT_LE(page.rows.size(), 7u);
      for (int64_t id : Ids(page)) got.push_back(id);
      if (!page.next) break;
      EXPECT_EQ(*page.next, page.rows.back().id);
      f.before = *page.next;
    }
    EXPECT_EQ(got, want) << "variant " << variant;
  }
}

TEST_F(AuditDbTest, RotationKeepsTheNewestAtTheStoredCap) {
  auto db = OpenDb();
  EXPECT_EQ(*db->MaxRecords(), kDefaultAuditMaxRecords);
  ASSERT_TRUE(db->SetMaxRecords(5).ok());
  std::vector<int64_t> all;
  for (int i = 0; i < 4; ++i) {
    auto ids = db->Append({Row(i * 3, "a", "view", {static_cast<uint64_t>(i)}),
                           Row(i * 3 + 1, "a", "view", {100}), Row(i * 3 + 2, "a", "save")});
    ASSERT_TRUE(ids.ok()) << ids.status().ToString();
    all.insert(all.end(), ids->begin(), ids->end());
    EXPECT_LE(*db->Count(), 5u);
  }
  EXPECT_EQ(*db->Count(), 5u);
  AuditFilter f;
  std::vector<int64_t> want(all.rbegin(), all.rbegin() + 5);
  EXPECT_EQ(Ids(ListOk(*db, f)), want);
  // The copy links of rotated rows are gone with them.
  f.copy_id = 0;
  EXPECT_TRUE(ListOk(*db, f).rows.empty());
  f.copy_id = 100;
  EXPECT_EQ(ListOk(*db, f).rows.size(), 2u);  // rows 7 and 10 of 0..11
  // Lowering the cap rotates at once; the cap survives a reopen.
  auto removed = db->SetMaxRecords(2);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 3u);
  db.reset();
  db = OpenDb();
  EXPECT_EQ(*db->MaxRecords(), 2u);
  ASSERT_TRUE(db->Append({Row(50, "b", "view")}).ok());
  EXPECT_EQ(*db->Count(), 2u);
  auto deleted = db->DeleteOldest(1);
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 1u);
  EXPECT_EQ(ListOk(*db, {}).rows.at(0).account, "b");
  EXPECT_EQ(db->DeleteOldest(0).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(db->SetMaxRecords(0).status().code(), Code::kInvalidArgument);
  // Ids keep rising after rotation: never one handed out twice.
  auto next = db->Append({Row(60, "c", "view")});
  ASSERT_TRUE(next.ok());
  EXPECT_GT(next->at(0), all.back());
}

TEST_F(AuditDbTest, ReadOnly) {
  EXPECT_EQ(OpenStatus(/*read_only=*/true, 1).code(), Code::kNotFound);
  auto writer = OpenDb();
  ASSERT_TRUE(writer->Append({Row(1, "a", "login")}).ok());
  auto reader = OpenDb(/*read_only=*/true);
  ASSERT_TRUE(reader);
  EXPECT_EQ(*reader->Count(), 1u);
  EXPECT_EQ(reader->Append({Row(2, "a", "login")}).status().code(), Code::kPermissionDenied);
  EXPECT_EQ(reader->SetMaxRecords(3).status().code(), Code::kPermissionDenied);
  EXPECT_EQ(reader->DeleteOldest(3).status().code(), Code::kPermissionDenied);
  ASSERT_TRUE(writer->Append({Row(3, "b", "view")}).ok());
  EXPECT_EQ(ListOk(*reader, {}).rows.size(), 2u);  // sees the writer's commit at once
}

TEST_F(AuditDbTest, WrongKeyIsCorruption) {
  {
    auto db = OpenDb();
    ASSERT_TRUE(db->Append({Row(1, "a", "login")}).ok());
  }
  Status s = OpenStatus(false, 2);
  EXPECT_EQ(s.code(), Code::kCorruption) << s.ToString();
  EXPECT_EQ(OpenStatus(true, 2).code(), Code::kCorruption);
}

TEST_F(AuditDbTest, AQueueIsNotAnAuditDatabase) {
  MakeAnotherDatabase(path_, Key(1));
  Status s = OpenStatus(false, 1);
  EXPECT_EQ(s.code(), Code::kCorruption) << s.ToString();
  EXPECT_NE(s.message().find("not a mailvault audit database"), std::string::npos) << s.message();
}

TEST_F(AuditDbTest, AFileOfGarbageIsCorruption) {
  WriteAll(path_, std::string(8192, 'x'));
  EXPECT_EQ(OpenStatus(false, 1).code(), Code::kCorruption);
}

// Two handles on one file appending at once (the daemon and the CLI), with
// rotation in every transaction: no append is lost or given a taken id.
TEST_F(AuditDbTest, TwoHandlesAppendingAtOnce) {
  auto first = OpenDb();
  auto second = OpenDb();
  ASSERT_TRUE(first && second);
  ASSERT_TRUE(first->SetMaxRecords(1000).ok());
  constexpr int kEach = 40;
  std::vector<int64_t> ids_a, ids_b;
  auto run = [](AuditDb* db, const std::string& who, std::vector<int64_t>* ids) {
    for (int i = 0; i < kEach; ++i) {
      auto got = db->Append({Row(i, who, "view", {static_cast<uint64_t>(i)}), Row(i, who, "save")});
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      ids->insert(ids->end(), got->begin(), got->end());
    }
  };
  std::thread a(run, first.get(), "daemon", &ids_a);
  std::thread b(run, second.get(), "cli", &ids_b);
  a.join();
  b.join();
  std::set<int64_t> unique(ids_a.begin(), ids_a.end());
  unique.insert(ids_b.begin(), ids_b.end());
  EXPECT_EQ(unique.size(), 4u * kEach);
  EXPECT_EQ(*first->Count(), 4u * kEach);
  AuditFilter f;
  f.account = "cli";
  f.limit = 1000;
  EXPECT_EQ(ListOk(*first, f).rows.size(), 2u * kEach);
}

}  // namespace
}  // namespace mailvault::index
