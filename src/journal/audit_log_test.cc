// Tests of the audit log: the contract of audit_log.h (round trip and JSON,
// cleaning and caps, every filter, keyset paging, rotation at a small cap
// and the CLI's "keep the file's cap", export as JSON lines, read-only
// opens, a wrong key), that no field reaches the disk in clear, and the
// group commit under 8 threads.
#include "journal/audit_log.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <thread>

#include "crypto/keyring.h"
#include "testutil/fault_env.h"
#include "testutil/temp_dir.h"

namespace mailvault::journal {
namespace {

using nlohmann::json;

// 2026-11-22T08:17:00Z
constexpr int64_t kT0 = 1'795'335'420'000'000;

AuditEvent Event(const std::string& account, std::string_view action,
                 std::vector<uint64_t> copies = {}, std::string_view result = kResultOk,
                 int64_t at = kT0) {
  AuditEvent e;
  e.at = at;
  e.account = account;
  e.role = "administrator";
  e.client = "192.0.2.7";
  e.action = std::string(action);
  e.copy_ids = std::move(copies);
  e.result = std::string(result);
  e.detail = "by test";
  return e;
}

// Whether `s` is valid UTF-8: nlohmann's strict dump throws otherwise.
bool ValidUtf8(const std::string& s) {
  try {
    (void)json(s).dump();
    return true;
  } catch (const json::type_error&) {
    return false;
  }
}

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto keys = crypto::KeyRing::Create(env_, JoinPath(dir_.path(), "keys"));
    ASSERT_TRUE(keys.ok()) << keys.status().ToString();
    keys_ = std::move(*keys);
  }
  std::unique_ptr<AuditLog> OpenLog(bool read_only = false,
                                    uint64_t max_records = index::kDefaultAuditMaxRecords) {
    auto log = AuditLog::Open(env_, *keys_, Options(read_only, max_records));
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    return log.ok() ? std::move(*log) : nullptr;
  }
  AuditOptions Options(bool read_only, uint64_t max_records = index::kDefaultAuditMaxRecords) {
    AuditOptions o;
    o.data_dir = dir_.path();
    o.read_only = read_only;
    o.max_records = max_records;
    return o;
  }
  // The database beneath the log, for bulk set-up.
  std::unique_ptr<index::AuditDb> OpenDb() {
    auto keys = crypto::KeyRing::Open(env_, JoinPath(dir_.path(), "keys"), false);
    EXPECT_TRUE(keys.ok());
    index::AuditDbOptions o;
    o.path = AuditPath(dir_.path());
    auto db = index::AuditDb::Open(o, (*keys)->Derived(crypto::KeyPurpose::kAudit));
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    return db.ok() ? std::move(*db) : nullptr;
  }
  static AuditPage ListOk(AuditLog& log, const AuditQuery& q) {
    auto page = log.List(q);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    return page.ok() ? std::move(*page) : AuditPage();
  }
  static void RecordOk(AuditLog& log, AuditEvent e) {
    Status s = log.Record(std::move(e));
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  FaultEnv env_{PosixEnv()};
  TempDir dir_;
  std::unique_ptr<crypto::KeyRing> keys_;
};

TEST_F(AuditLogTest, RoundTripAndJson) {
  auto log = OpenLog();
  ASSERT_TRUE(log);
  AuditEvent e = Event("alice", kActionView, {42, 7});
  e.at = kT0 + 5;
  e.detail = "viewed twice";
  RecordOk(*log, e);
  auto page = ListOk(*log, {});
  ASSERT_EQ(page.items.size(), 1u);
  const AuditEvent& got = page.items[0];
  EXPECT_GT(got.id, 0);
  EXPECT_EQ(got.at, kT0 + 5);
  EXPECT_EQ(got.account, "alice");
  EXPECT_EQ(got.role, "administrator");
  EXPECT_EQ(got.client, "192.0.2.7");
  EXPECT_EQ(got.action, "view");
  EXPECT_EQ(got.copy_ids, (std::vector<uint64_t>{42, 7}));
  EXPECT_EQ(got.result, "ok");
  EXPECT_EQ(got.detail, "viewed twice");
  EXPECT_EQ(*log->Count(), 1u);

  json j = AuditEventToJson(got);
  EXPECT_EQ(j["id"], got.id);
  EXPECT_EQ(j["at"], "2026-11-22T08:17:00.000005Z");
  EXPECT_EQ(j["account"], "alice");
  EXPECT_EQ(j["role"], "administrator");
  EXPECT_EQ(j["client"], "192.0.2.7");
  EXPECT_EQ(j["action"], "view");
  EXPECT_EQ(j["copy_ids"], json::array({42, 7}));
  EXPECT_EQ(j["result"], "ok");
  EXPECT_EQ(j["detail"], "viewed twice");
  EXPECT_EQ(j.size(), 9u);
  AuditEvent whole = got;
  whole.at = kT0;  // a whole second still has six fraction digits
  EXPECT_EQ(AuditEventToJson(whole)["at"], "2026-11-22T08:17:00.000000Z");
  json p = AuditPageToJson(page);
  EXPECT_EQ(p["items"].size(), 1u);
  EXPECT_TRUE(p["next"].is_null());
}

// The file and its WAL and shared-memory files are the service account's
// alone, whatever the umask.
TEST_F(AuditLogTest, FilesAreMode0600) {
  auto log = OpenLog();
  RecordOk(*log, Event("a", kActionLogin));
  for (const std::string suffix : {"", "-wal", "-shm"}) {
    const std::string path = AuditPath(dir_.path()) + suffix;
    ASSERT_TRUE(std::filesystem::exists(path)) << path;
    EXPECT_EQ(std::filesystem::status(path).permissions(),
              std::filesystem::perms::owner_read | std::filesystem::perms::owner_write)
        << path;
  }
}

TEST_F(AuditLogTest, TimeZeroIsNow) {
  env_.SetClock(kT0 + 123);
  auto log = OpenLog();
  RecordOk(*log, Event("a", kActionLogin, {}, kResultOk, 0));
  EXPECT_EQ(ListOk(*log, {}).items.at(0).at, kT0 + 123);
}

TEST_F(AuditLogTest, MalformedEventsAreRefused) {
  auto log = OpenLog();
  auto refused = [&](AuditEvent e) {
    Status s = log->Record(std::move(e));
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.ToString();
  };
  refused(Event("a", ""));
  refused(Event("a", "View"));
  refused(Event("a", "view all"));
  refused(Event("a", std::string(65, 'v')));
  refused(Event("a", kActionView, {}, "success"));
  refused(Event("a", kActionView, {}, ""));
  refused(Event("a", kActionView, {}, kResultOk, -1));
  AuditEvent bad_role = Event("a", kActionView);
  bad_role.role = "Admin\n";
  refused(bad_role);
  EXPECT_EQ(*log->Count(), 0u);
  AuditEvent no_role = Event("a", kActionLogin, {}, kResultDenied);
  no_role.role.clear();  // a failed login has none
  EXPECT_TRUE(log->Record(no_role).ok());
}

TEST_F(AuditLogTest, FieldsAreCleanedAndCapped) {
  auto log = OpenLog();
  AuditEvent e = Event("bad\xff\xfe name\x1b[31m", kActionLogin, {}, kResultDenied);
  e.client = std::string(1000, 'c');
  std::string detail;
  for (int i = 0; i < 3000; ++i) detail += "\xc3\xa9";  // é, 6000 bytes
  e.detail = detail;
  RecordOk(*log, e);
  AuditEvent many = Event("bulk", kActionDeliver);
  for (uint64_t i = 1; i <= 1500; ++i) many.copy_ids.push_back(i);
  many.detail = detail;
  RecordOk(*log, many);

  auto page = ListOk(*log, {});
  ASSERT_EQ(page.items.size(), 2u);
  const AuditEvent& bulk = page.items[0];
  ASSERT_EQ(bulk.copy_ids.size(), kMaxCopyIds);
  EXPECT_EQ(bulk.copy_ids.back(), kMaxCopyIds);
  EXPECT_LE(bulk.detail.size(), kMaxDetailBytes);
  EXPECT_NE(bulk.detail.find("[500 more copy ids not recorded]"), std::string::npos)
      << bulk.detail.substr(bulk.detail.size() - 60);
  EXPECT_TRUE(ValidUtf8(bulk.detail));

  const AuditEvent& login = page.items[1];
  EXPECT_EQ(login.account, "bad\xef\xbf\xbd\xef\xbf\xbd name [31m");  // U+FFFD, ESC a space
  EXPECT_EQ(login.client.size(), kMaxFieldBytes);
  EXPECT_EQ(login.client.substr(login.client.size() - 3), "\xe2\x80\xa6");  // …
  EXPECT_LE(login.detail.size(), kMaxDetailBytes);
  EXPECT_GT(login.detail.size(), kMaxDetailBytes - 8);
  EXPECT_EQ(login.detail.substr(login.detail.size() - 3), "\xe2\x80\xa6");
  EXPECT_TRUE(ValidUtf8(login.detail));  // never cut inside an é
  EXPECT_NO_THROW(AuditEventToJson(login).dump());
}

TEST_F(AuditLogTest, Filters) {
  auto log = OpenLog();
  RecordOk(*log, Event("alice", kActionLogin, {}, kResultOk, kT0 + 1));
  RecordOk(*log, Event("alice", kActionView, {5}, kResultOk, kT0 + 2));
  RecordOk(*log, Event("bob", kActionView, {5, 6}, kResultDenied, kT0 + 3));
  RecordOk(*log, Event("bob", kActionDelete, {6}, kResultFailed, kT0 + 4));
  RecordOk(*log, Event("carol", kActionSearch, {}, kResultOk, kT0 + 5));
  auto times = [&](const AuditQuery& q) {
    std::vector<int64_t> out;
    for (const AuditEvent& e : ListOk(*log, q).items) out.push_back(e.at - kT0);
    return out;
  };
  AuditQuery q;
  EXPECT_EQ(times(q), (std::vector<int64_t>{5, 4, 3, 2, 1}));
  q.account = "bob";
  EXPECT_EQ(times(q), (std::vector<int64_t>{4, 3}));
  q = {};
  q.action = "view";
  EXPECT_EQ(times(q), (std::vector<int64_t>{3, 2}));
  q = {};
  q.result = "denied";
  EXPECT_EQ(times(q), (std::vector<int64_t>{3}));
  q = {};
  q.copy_id = 5;
  EXPECT_EQ(times(q), (std::vector<int64_t>{3, 2}));
  q = {};
  q.since = kT0 + 2;
  EXPECT_EQ(times(q), (std::vector<int64_t>{5, 4, 3, 2}));
  q.until = kT0 + 4;
  EXPECT_EQ(times(q), (std::vector<int64_t>{3, 2}));
  q.account = "alice";
  q.copy_id = 5;
  EXPECT_EQ(times(q), (std::vector<int64_t>{2}));
  q = {};
  q.account = "nobody";
  EXPECT_TRUE(times(q).empty());
  q = {};
  q.result = "success";
  EXPECT_EQ(log->List(q).status().code(), Code::kInvalidArgument);
  q = {};
  q.limit = 0;
  EXPECT_EQ(log->List(q).status().code(), Code::kInvalidArgument);
  q = {};
  q.before = -1;
  EXPECT_EQ(log->List(q).status().code(), Code::kInvalidArgument);
}

TEST_F(AuditLogTest, KeysetPagingHasNoDuplicatesOrGaps) {
  auto log = OpenLog();
  for (int i = 0; i < 23; ++i) {
    RecordOk(*log, Event(i % 2 ? "odd" : "even", kActionView, {}, kResultOk, kT0 + i));
  }
  for (const std::string account : {"", "odd"}) {
    AuditQuery q;
    q.account = account;
    q.limit = 4;
    std::vector<int64_t> seen;
    for (int pages = 0; pages < 20; ++pages) {
      AuditPage page = ListOk(*log, q);
      for (const AuditEvent& e : page.items) seen.push_back(e.at - kT0);
      if (!page.next) break;
      q.before = *page.next;
    }
    std::vector<int64_t> want;
    for (int i = 22; i >= 0; --i) {
      if (account.empty() || i % 2 == 1) want.push_back(i);
    }
    EXPECT_EQ(seen, want) << account;
  }
}

TEST_F(AuditLogTest, RotationAtASmallCap) {
  {
    auto log = OpenLog(false, /*max_records=*/10);
    for (int i = 0; i < 25; ++i) RecordOk(*log, Event("a", kActionView, {}, kResultOk, kT0 + i));
    EXPECT_EQ(*log->Count(), 10u);
    auto page = ListOk(*log, {});
    ASSERT_EQ(page.items.size(), 10u);
    EXPECT_EQ(page.items.front().at, kT0 + 24);
    EXPECT_EQ(page.items.back().at, kT0 + 15);
  }
  {
    // The CLI opens with 0: the file's cap stays 10.
    auto log = OpenLog(false, /*max_records=*/0);
    RecordOk(*log, Event("cli:root", kActionView));
    EXPECT_EQ(*log->Count(), 10u);
  }
  {
    // A larger cap keeps more from now on.
    auto log = OpenLog(false, /*max_records=*/12);
    RecordOk(*log, Event("b", kActionView));
    RecordOk(*log, Event("b", kActionView));
    RecordOk(*log, Event("b", kActionView));
    EXPECT_EQ(*log->Count(), 12u);
  }
  // A lower cap rotates at open.
  auto log = OpenLog(false, /*max_records=*/3);
  EXPECT_EQ(*log->Count(), 3u);
}

// More events than one export page (1000), put in beneath the log in one
// transaction: every one exported once, newest first, each line JSON.
TEST_F(AuditLogTest, ExportWritesEveryMatchAsJsonLines) {
  {
    auto db = OpenDb();
    std::vector<AuditEvent> rows;
    for (int i = 0; i < 2500; ++i) {
      AuditEvent r;
      r.at = kT0 + i;
      r.account = i % 5 == 0 ? "five" : "other";
      r.action = "view";
      r.copy_ids = {static_cast<uint64_t>(i)};
      r.result = "ok";
      r.detail = "line \"" + std::to_string(i) + "\"\n";
      rows.push_back(r);
    }
    ASSERT_TRUE(db->Append(rows).ok());
  }
  auto log = OpenLog();
  std::vector<int64_t> seen;
  Status s = log->Export({}, [&](std::string_view line) {
    EXPECT_EQ(line.find('\n'), std::string_view::npos);
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded()) return Status::Corruption("not JSON: " + std::string(line));
    seen.push_back(j["copy_ids"][0].get<int64_t>());
    EXPECT_EQ(j["action"], "view");
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(seen.size(), 2500u);
  for (size_t i = 0; i < seen.size(); ++i) ASSERT_EQ(seen[i], 2499 - static_cast<int64_t>(i));

  AuditQuery q;
  q.account = "five";
  q.limit = 1;  // ignored by Export
  size_t n = 0;
  ASSERT_TRUE(log->Export(q,
                          [&](std::string_view) {
                            ++n;
                            return Status::Ok();
                          })
                  .ok());
  EXPECT_EQ(n, 500u);
  n = 0;
  s = log->Export({}, [&](std::string_view) {
    return ++n == 3 ? Status::IOError("pipe closed") : Status::Ok();
  });
  EXPECT_EQ(s.code(), Code::kIOError);
  EXPECT_EQ(n, 3u);
}

TEST_F(AuditLogTest, ReadOnlyRefusesRecord) {
  EXPECT_EQ(AuditLog::Open(env_, *keys_, Options(true)).status().code(), Code::kNotFound);
  auto writer = OpenLog();
  RecordOk(*writer, Event("a", kActionLogin));
  auto reader = OpenLog(/*read_only=*/true);
  ASSERT_TRUE(reader);
  EXPECT_EQ(reader->Record(Event("b", kActionLogin)).code(), Code::kPermissionDenied);
  EXPECT_EQ(*reader->Count(), 1u);
  RecordOk(*writer, Event("c", kActionLogin));
  EXPECT_EQ(ListOk(*reader, {}).items.size(), 2u);
}

TEST_F(AuditLogTest, WrongKeyIsCorruption) {
  RecordOk(*OpenLog(), Event("a", kActionLogin));
  TempDir other;
  auto other_keys = crypto::KeyRing::Create(env_, other.File("keys"));
  ASSERT_TRUE(other_keys.ok());
  for (bool read_only : {false, true}) {
    auto log = AuditLog::Open(env_, **other_keys, Options(read_only));
    EXPECT_EQ(log.status().code(), Code::kCorruption) << log.status().ToString();
  }
}

// Neither the database nor its WAL holds a recorded string in clear, while
// open (the events sit in the WAL) and after close (checkpointed).
TEST_F(AuditLogTest, NoClearTextOnDisk) {
  const std::string path = AuditPath(dir_.path());
  auto raw = [&] { return ReadAll(path) + ReadAll(path + "-wal") + ReadAll(path + "-shm"); };
  auto log = OpenLog();
  AuditEvent e = Event("zebra-auditor-7781", kActionSave, {9});
  e.client = "198.51.100.77";
  e.detail = "secret-detail-4242";
  for (int i = 0; i < 20; ++i) RecordOk(*log, e);
  std::string bytes = raw();
  ASSERT_GT(bytes.size(), 8192u);
  for (const char* needle : {"zebra-auditor-7781", "secret-detail-4242", "198.51.100.77",
                             "administrator", "CREATE TABLE"}) {
    EXPECT_EQ(bytes.find(needle), std::string::npos) << needle << " in the open files";
  }
  log.reset();
  bytes = raw();
  for (const char* needle : {"zebra-auditor-7781", "secret-detail-4242", "198.51.100.77"}) {
    EXPECT_EQ(bytes.find(needle), std::string::npos) << needle << " after close";
  }
  EXPECT_EQ(ListOk(*OpenLog(true), {}).items.size(), 20u);
}

// 8 threads x 200 records at once: every one stored once with its own id,
// and the commits shared (fewer commits than records).
TEST_F(AuditLogTest, GroupCommitUnderConcurrency) {
  auto log = OpenLog();
  constexpr int kThreads = 8;
  constexpr int kEach = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        Status s = log->Record(
            Event("t" + std::to_string(t), kActionView, {static_cast<uint64_t>(t * 1000 + i)}));
        ASSERT_TRUE(s.ok()) << s.ToString();
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(*log->Count(), static_cast<uint64_t>(kThreads * kEach));
  AuditQuery q;
  q.limit = 10'000;
  AuditPage page = ListOk(*log, q);
  ASSERT_EQ(page.items.size(), static_cast<size_t>(kThreads * kEach));
  std::set<int64_t> ids;
  std::set<uint64_t> copies;
  for (const AuditEvent& e : page.items) {
    ids.insert(e.id);
    copies.insert(e.copy_ids.at(0));
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(kThreads * kEach));
  EXPECT_EQ(copies.size(), static_cast<size_t>(kThreads * kEach));
  for (int t = 0; t < kThreads; ++t) {
    AuditQuery mine;
    mine.account = "t" + std::to_string(t);
    mine.limit = 1000;
    EXPECT_EQ(ListOk(*log, mine).items.size(), static_cast<size_t>(kEach));
  }
  EXPECT_LT(log->Commits(), static_cast<uint64_t>(kThreads * kEach));
  std::printf("%d records in %llu commits\n", kThreads * kEach,
              static_cast<unsigned long long>(log->Commits()));
}

}  // namespace
}  // namespace mailvault::journal
