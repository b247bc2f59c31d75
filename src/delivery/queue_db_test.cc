// Tests of the delivery queue database: the contract of queue_db.h (ids and
// requests, claiming, recording, listing, housekeeping), persistence across
// reopen and across a process that dies without closing, read-only opens,
// wrong keys and foreign files, and concurrent claims never sharing an
// entry. No test depends on timing: every time is a value the test passes.
#include "delivery/queue_db.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "db/encrypted_db.h"
#include "db/encrypted_vfs.h"
#include "db/sqlite_db.h"
#include "store/index/index.h"
#include "testutil/temp_dir.h"

namespace mailvault::index {
namespace {

namespace fs = std::filesystem;

crypto::SymmetricKey Key(uint8_t seed) {
  crypto::SymmetricKey k;
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(seed * 13 + i);
  return k;
}

DeliveryEntry Entry(CopyId copy, const std::string& rcpt, int64_t due = 1000) {
  DeliveryEntry e;
  e.copy_id = copy;
  e.rcpt = rcpt;
  e.original = rcpt.starts_with("orig");
  e.mail_from = "bounce@gw.example";
  e.format = copy % 2 == 0 ? DeliveryFormat::kAsAttachment : DeliveryFormat::kAsIs;
  e.remove_message_id = copy % 3 == 0;
  e.created_at = 500;
  e.next_attempt_at = due;
  e.expires_at = 9'000'000;
  e.requested_by = "cli:root";
  return e;
}

DeliveryOutcome Outcome(uint64_t id, DeliveryState state, std::string reply = "",
                        int64_t next_attempt_at = 0) {
  DeliveryOutcome o;
  o.id = id;
  o.state = state;
  o.reply = std::move(reply);
  o.next_attempt_at = next_attempt_at;
  return o;
}

// A DeliveryQuery built field by field.
struct Q {
  Q& States(std::vector<DeliveryState> s) {
    q.states = std::move(s);
    return *this;
  }
  Q& Copy(CopyId c) {
    q.copy_id = c;
    return *this;
  }
  Q& Request(uint64_t r) {
    q.request = r;
    return *this;
  }
  Q& Before(uint64_t b) {
    q.before = b;
    return *this;
  }
  Q& Limit(size_t n) {
    q.limit = n;
    return *this;
  }
  operator const DeliveryQuery&() const { return q; }  // NOLINT: implicit by design
  DeliveryQuery q;
};

std::vector<uint64_t> Ids(const std::vector<DeliveryEntry>& entries) {
  std::vector<uint64_t> ids;
  for (const DeliveryEntry& e : entries) ids.push_back(e.id);
  return ids;
}

class QueueDbTest : public ::testing::Test {
 protected:
  void SetUp() override { db_ = Open(); }

  std::unique_ptr<QueueDb> Open(bool read_only = false, uint8_t key = 1) {
    auto db = QueueDb::Open({path_, read_only}, Key(key));
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    return db.ok() ? std::move(db).value() : nullptr;
  }

  std::vector<DeliveryEntry> Enqueue(std::vector<DeliveryEntry> entries) {
    auto stored = db_->Enqueue(std::move(entries));
    EXPECT_TRUE(stored.ok()) << stored.status().ToString();
    return stored.ok() ? std::move(stored).value() : std::vector<DeliveryEntry>();
  }

  std::vector<DeliveryEntry> Claim(int64_t now, size_t max = 100) {
    auto claimed = db_->ClaimDue(now, max);
    EXPECT_TRUE(claimed.ok()) << claimed.status().ToString();
    return claimed.ok() ? std::move(claimed).value() : std::vector<DeliveryEntry>();
  }

  DeliveryEntry Get(uint64_t id) {
    auto e = db_->Get(id);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    return e.ok() ? *e : DeliveryEntry();
  }

  std::vector<uint64_t> ListIds(DeliveryQuery q) {
    auto page = db_->List(q);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    return page.ok() ? Ids(page->items) : std::vector<uint64_t>();
  }

  TempDir dir_{"mv-queue"};
  std::string path_ = dir_.File("deliveries.db");
  std::unique_ptr<QueueDb> db_;
};

TEST_F(QueueDbTest, EnqueueAssignsIdsAndOneRequest) {
  std::vector<DeliveryEntry> given = {Entry(7, "orig@corp.example"), Entry(7, "x@corp.example"),
                                      Entry(9, "y@corp.example")};
  given[1].state = DeliveryState::kFailed;  // the queue decides these
  given[1].attempts = 5;
  auto first = Enqueue(given);
  ASSERT_EQ(first.size(), 3u);
  for (size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(first[i].id, i + 1);
    EXPECT_EQ(first[i].request, 1u);
    EXPECT_EQ(first[i].state, DeliveryState::kQueued);
    EXPECT_EQ(first[i].attempts, 0u);
    EXPECT_EQ(first[i].updated_at, given[i].created_at);
    DeliveryEntry expected = given[i];
    expected.id = i + 1;
    expected.request = 1;
    expected.state = DeliveryState::kQueued;
    expected.attempts = 0;
    expected.updated_at = expected.created_at;
    EXPECT_EQ(first[i], expected);
    EXPECT_EQ(Get(first[i].id), first[i]);
  }
  auto second = Enqueue({Entry(9, "z@corp.example")});
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].id, 4u);
  EXPECT_EQ(second[0].request, 2u);
}

TEST_F(QueueDbTest, EnqueueRejectsBadEntriesAndStoresNothing) {
  auto bad = db_->Enqueue({Entry(1, "a@corp.example"), Entry(0, "b@corp.example")});
  EXPECT_EQ(bad.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(db_->Enqueue({Entry(1, "")}).status().code(), Code::kInvalidArgument);
  auto empty = db_->Enqueue({});
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  EXPECT_TRUE(ListIds({}).empty());
  EXPECT_EQ(Enqueue({Entry(1, "a@corp.example")})[0].request, 1u);
}

TEST_F(QueueDbTest, EntriesSurviveReopen) {
  auto stored = Enqueue({Entry(3, "a@corp.example"), Entry(4, "b@corp.example")});
  ASSERT_TRUE(db_->Record({Outcome(stored[0].id, DeliveryState::kFailed, "550 no")}, 600).ok());
  db_.reset();
  db_ = Open();
  ASSERT_NE(db_, nullptr);
  stored[0] = Get(1);
  EXPECT_EQ(stored[0].state, DeliveryState::kFailed);
  EXPECT_EQ(stored[0].last_reply, "550 no");
  EXPECT_EQ(Get(2), stored[1]);
  auto more = Enqueue({Entry(5, "c@corp.example")});
  EXPECT_EQ(more[0].id, 3u);
  EXPECT_EQ(more[0].request, 2u);
}

// A process that dies right after Enqueue returns (no close, no
// checkpoint) leaves the entries for the next one.
TEST_F(QueueDbTest, EnqueueSurvivesAProcessThatDiesWithoutClosing) {
  db_.reset();
  fflush(nullptr);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto db = QueueDb::Open({path_, false}, Key(1));
    int code = 0;
    if (!db.ok()) {
      code = 10;
    } else if (!(*db)->Enqueue({Entry(8, "a@corp.example"), Entry(8, "b@corp.example")}).ok()) {
      code = 11;
    }
    _exit(code);  // no destructors: the WAL is neither checkpointed nor removed
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  db_ = Open();
  ASSERT_NE(db_, nullptr);
  EXPECT_EQ(ListIds({}), (std::vector<uint64_t>{2, 1}));
  EXPECT_EQ(Get(2).rcpt, "b@corp.example");
}

TEST_F(QueueDbTest, ClaimDueTakesOnlyDueEntriesOnce) {
  Enqueue({Entry(1, "a@x", 300), Entry(1, "b@x", 100), Entry(2, "c@x", 200), Entry(3, "d@x", 400)});
  auto first = Claim(200);
  EXPECT_EQ(Ids(first), (std::vector<uint64_t>{2, 3}));  // due at 100 and 200
  for (const DeliveryEntry& e : first) {
    EXPECT_EQ(e.state, DeliveryState::kSending);
    EXPECT_EQ(e.updated_at, 200);
    EXPECT_EQ(Get(e.id), e);
  }
  EXPECT_TRUE(Claim(200).empty());
  EXPECT_EQ(Ids(Claim(1000, 1)), (std::vector<uint64_t>{1}));  // the earliest due first
  EXPECT_EQ(Ids(Claim(1000, 0)), (std::vector<uint64_t>{}));
  EXPECT_EQ(Ids(Claim(1000)), (std::vector<uint64_t>{4}));
  EXPECT_TRUE(Claim(1000).empty());
}

TEST_F(QueueDbTest, ClaimDueGroupsByRequestAndCopy) {
  // Due times interleave requests and copies; the claim comes back grouped.
  Enqueue({Entry(5, "a@x", 40), Entry(3, "b@x", 10), Entry(5, "c@x", 20)});  // ids 1-3
  Enqueue({Entry(3, "d@x", 5), Entry(1, "e@x", 30)});                        // ids 4-5
  auto claimed = Claim(100);
  ASSERT_EQ(claimed.size(), 5u);
  EXPECT_EQ(Ids(claimed), (std::vector<uint64_t>{2, 1, 3, 5, 4}));
  EXPECT_EQ(claimed[0].request, 1u);
  EXPECT_EQ(claimed[3].request, 2u);
}

TEST_F(QueueDbTest, RecordUpdatesEachOutcome) {
  Enqueue({Entry(1, "a@x", 100), Entry(1, "b@x", 100), Entry(1, "c@x", 100)});
  ASSERT_EQ(Claim(100).size(), 3u);
  ASSERT_TRUE(db_->Record({Outcome(1, DeliveryState::kDelivered, "250 ok", 7777),
                           Outcome(2, DeliveryState::kDeferred, "451 later", 5000),
                           Outcome(3, DeliveryState::kFailed, "550 unknown user", 8888)},
                          150)
                  .ok());
  DeliveryEntry delivered = Get(1), deferred = Get(2), failed = Get(3);
  EXPECT_EQ(delivered.state, DeliveryState::kDelivered);
  EXPECT_EQ(delivered.last_reply, "250 ok");
  EXPECT_EQ(delivered.next_attempt_at, 100);  // only a deferral moves it
  EXPECT_EQ(deferred.state, DeliveryState::kDeferred);
  EXPECT_EQ(deferred.next_attempt_at, 5000);
  EXPECT_EQ(failed.state, DeliveryState::kFailed);
  EXPECT_EQ(failed.next_attempt_at, 100);
  for (const DeliveryEntry& e : {delivered, deferred, failed}) {
    EXPECT_EQ(e.attempts, 1u);
    EXPECT_EQ(e.updated_at, 150);
  }
  // The deferred entry is due again at its new time, and only then.
  EXPECT_TRUE(Claim(4999).empty());
  ASSERT_EQ(Ids(Claim(5000)), (std::vector<uint64_t>{2}));
  ASSERT_TRUE(db_->Record({Outcome(2, DeliveryState::kDelivered, "250 at last")}, 5001).ok());
  EXPECT_EQ(Get(2).attempts, 2u);
  EXPECT_EQ(Get(2).state, DeliveryState::kDelivered);
}

TEST_F(QueueDbTest, RecordIsAllOrNothing) {
  Enqueue({Entry(1, "a@x", 100)});
  ASSERT_EQ(Claim(100).size(), 1u);
  Status s = db_->Record(
      {Outcome(1, DeliveryState::kDelivered, "250 ok"), Outcome(99, DeliveryState::kFailed)}, 150);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_NE(s.message().find("no delivery entry 99"), std::string::npos) << s.message();
  EXPECT_EQ(Get(1).state, DeliveryState::kSending);
  EXPECT_EQ(Get(1).attempts, 0u);
  s = db_->Record({Outcome(1, DeliveryState::kQueued)}, 150);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
}

TEST_F(QueueDbTest, RequeueInterruptedPutsSendingBackToQueued) {
  Enqueue({Entry(1, "a@x", 100), Entry(1, "b@x", 100), Entry(1, "c@x", 900)});
  ASSERT_EQ(Claim(100).size(), 2u);
  auto n = db_->RequeueInterrupted(300);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2u);
  for (uint64_t id : {1, 2}) {
    EXPECT_EQ(Get(id).state, DeliveryState::kQueued);
    EXPECT_EQ(Get(id).next_attempt_at, 300);
  }
  EXPECT_EQ(Get(3).next_attempt_at, 900);
  EXPECT_EQ(*db_->RequeueInterrupted(400), 0u);
  EXPECT_EQ(Ids(Claim(300)), (std::vector<uint64_t>{1, 2}));
}

TEST_F(QueueDbTest, NextDueIsTheEarliestWaitingEntry) {
  auto none = db_->NextDue();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  Enqueue({Entry(1, "a@x", 300), Entry(1, "b@x", 200)});
  EXPECT_EQ(*db_->NextDue(), std::optional<int64_t>(200));
  ASSERT_EQ(Claim(1000).size(), 2u);
  EXPECT_FALSE(db_->NextDue()->has_value());  // sending entries are not waiting
  ASSERT_TRUE(db_->Record({Outcome(1, DeliveryState::kDeferred, "451", 7000),
                           Outcome(2, DeliveryState::kDelivered, "250")},
                          1000)
                  .ok());
  EXPECT_EQ(*db_->NextDue(), std::optional<int64_t>(7000));
}

TEST_F(QueueDbTest, ListFiltersAndPagesNewestFirst) {
  Enqueue({Entry(1, "a@x"), Entry(2, "b@x"), Entry(2, "c@x")});  // ids 1-3, request 1
  Enqueue({Entry(2, "d@x"), Entry(3, "e@x")});                   // ids 4-5, request 2
  Enqueue({Entry(1, "f@x"), Entry(3, "g@x")});                   // ids 6-7, request 3
  ASSERT_EQ(Claim(1000, 2).size(), 2u);                          // 1 and 2 sending
  ASSERT_TRUE(db_->Record({Outcome(2, DeliveryState::kFailed, "550")}, 1100).ok());

  EXPECT_EQ(ListIds({}), (std::vector<uint64_t>{7, 6, 5, 4, 3, 2, 1}));
  EXPECT_EQ(ListIds(Q().Copy(2)), (std::vector<uint64_t>{4, 3, 2}));
  EXPECT_EQ(ListIds(Q().Request(2)), (std::vector<uint64_t>{5, 4}));
  EXPECT_EQ(ListIds(Q().States({DeliveryState::kFailed})), (std::vector<uint64_t>{2}));
  EXPECT_EQ(ListIds(Q().States(
                {DeliveryState::kSending, DeliveryState::kFailed, DeliveryState::kSending})),
            (std::vector<uint64_t>{2, 1}));
  EXPECT_EQ(ListIds(Q().States({DeliveryState::kQueued}).Copy(3).Request(3)),
            (std::vector<uint64_t>{7}));
  EXPECT_EQ(ListIds(Q().Before(4)), (std::vector<uint64_t>{3, 2, 1}));
  EXPECT_TRUE(ListIds(Q().States({DeliveryState::kDeferred})).empty());
  EXPECT_EQ(db_->List(Q().Limit(0)).status().code(), Code::kInvalidArgument);

  // Keyset paging visits every entry once, newest first.
  std::vector<uint64_t> seen;
  DeliveryQuery q = Q().Limit(3);
  for (int pages = 1;; ++pages) {
    ASSERT_LE(pages, 3);
    auto page = db_->List(q);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    for (uint64_t id : Ids(page->items)) seen.push_back(id);
    if (!page->next) break;
    EXPECT_EQ(*page->next, page->items.back().id);
    q.before = page->next;
  }
  EXPECT_EQ(seen, (std::vector<uint64_t>{7, 6, 5, 4, 3, 2, 1}));
  // A page that ends exactly at the last entry says there is no more.
  auto exact = db_->List(Q().Copy(2).Limit(3));
  ASSERT_TRUE(exact.ok());
  EXPECT_EQ(exact->items.size(), 3u);
  EXPECT_FALSE(exact->next.has_value());
}

TEST_F(QueueDbTest, CountsPerState) {
  auto empty = db_->Counts();
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->queued + empty->sending + empty->delivered + empty->deferred + empty->failed,
            0u);
  Enqueue({Entry(1, "a@x"), Entry(1, "b@x"), Entry(1, "c@x"), Entry(1, "d@x"), Entry(1, "e@x"),
           Entry(1, "f@x", 5000)});
  ASSERT_EQ(Claim(1000, 4).size(), 4u);
  ASSERT_TRUE(db_->Record({Outcome(1, DeliveryState::kDelivered),
                           Outcome(2, DeliveryState::kDeferred, "", 9000),
                           Outcome(3, DeliveryState::kFailed)},
                          1000)
                  .ok());
  auto c = db_->Counts();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->queued, 2u);
  EXPECT_EQ(c->sending, 1u);
  EXPECT_EQ(c->delivered, 1u);
  EXPECT_EQ(c->deferred, 1u);
  EXPECT_EQ(c->failed, 1u);
}

TEST_F(QueueDbTest, ForCopyIsOldestFirst) {
  Enqueue({Entry(4, "a@x"), Entry(5, "b@x")});
  Enqueue({Entry(4, "c@x")});
  auto entries = db_->ForCopy(4);
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ(Ids(*entries), (std::vector<uint64_t>{1, 3}));
  EXPECT_EQ((*entries)[1].rcpt, "c@x");
  EXPECT_TRUE(db_->ForCopy(6)->empty());
}

TEST_F(QueueDbTest, FinishedCopiesAndForgetFinished) {
  Enqueue({Entry(1, "a@x"), Entry(2, "b@x"), Entry(2, "c@x"), Entry(3, "d@x")});
  ASSERT_EQ(Claim(1000, 3).size(), 3u);  // 1, 2, 3
  ASSERT_TRUE(
      db_->Record({Outcome(1, DeliveryState::kDelivered), Outcome(2, DeliveryState::kFailed),
                   Outcome(3, DeliveryState::kDeferred, "", 2000)},
                  1000)
          .ok());
  auto finished = db_->FinishedCopies();
  ASSERT_TRUE(finished.ok());
  EXPECT_EQ(*finished, (std::vector<CopyId>{1, 2}));

  auto removed = db_->ForgetFinished({2, 3, 77});
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 1u);  // only 2's failed entry; its deferred one and copy 3 stay
  EXPECT_EQ(ListIds({}), (std::vector<uint64_t>{4, 3, 1}));
  EXPECT_EQ(*db_->FinishedCopies(), (std::vector<CopyId>{1}));
  EXPECT_EQ(*db_->ForgetFinished({}), 0u);

  // Ids and requests are never handed out twice, even after the newest go.
  ASSERT_TRUE(
      db_->Record({Outcome(4, DeliveryState::kDelivered), Outcome(3, DeliveryState::kDelivered)}, 1)
          .ok());
  EXPECT_EQ(*db_->ForgetFinished({1, 2, 3}), 3u);
  EXPECT_TRUE(ListIds({}).empty());
  auto next = Enqueue({Entry(9, "e@x")});
  EXPECT_EQ(next[0].id, 5u);
  EXPECT_EQ(next[0].request, 2u);
}

TEST_F(QueueDbTest, GetOfAnUnknownIdIsNotFound) {
  auto e = db_->Get(42);
  EXPECT_TRUE(e.status().IsNotFound());
  EXPECT_EQ(e.status().message(), "no delivery entry 42");
}

TEST_F(QueueDbTest, WrongKeyIsCorruption) {
  Enqueue({Entry(1, "a@x")});
  db_.reset();
  auto other = QueueDb::Open({path_, false}, Key(2));
  EXPECT_TRUE(other.status().IsCorruption()) << other.status().ToString();
  auto ro = QueueDb::Open({path_, true}, Key(2));
  EXPECT_TRUE(ro.status().IsCorruption()) << ro.status().ToString();
  db_ = Open();  // the right key still opens it
  ASSERT_NE(db_, nullptr);
  EXPECT_EQ(Get(1).rcpt, "a@x");
}

TEST_F(QueueDbTest, NothingIsStoredInClear) {
  Enqueue({Entry(1, "secret-recipient@corp.example")});
  ASSERT_TRUE(db_->Record({Outcome(1, DeliveryState::kFailed, "550 secret-reply")}, 1).ok());
  for (const auto& f : fs::directory_iterator(dir_.path())) {
    std::string bytes = ReadAll(f.path().string());
    EXPECT_EQ(bytes.find("secret-recipient"), std::string::npos) << f.path();
    EXPECT_EQ(bytes.find("secret-reply"), std::string::npos) << f.path();
  }
}

TEST_F(QueueDbTest, ANewerSchemaVersionIsRefused) {
  db_.reset();
  {  // Another version's database: same layout and key, another version.
    auto vfs = db::EncryptedVfs::Register(Key(1));
    ASSERT_TRUE(vfs.ok());
    auto raw = db::SqliteDb::Open(path_, (*vfs)->name(), SQLITE_OPEN_READWRITE);
    ASSERT_TRUE(raw.ok());
    ASSERT_TRUE(db::ConfigureConnection(**raw, 1 << 20, true).ok());
    ASSERT_TRUE((*raw)->Exec("UPDATE meta SET value = 3 WHERE key = 'queue_schema'").ok());
  }
  // Written by a newer mailvault: refused by name, never downgraded.
  auto db = QueueDb::Open({path_, false}, Key(1));
  ASSERT_EQ(db.status().code(), Code::kInvalidArgument) << db.status().ToString();
  EXPECT_NE(db.status().message().find("schema version 3 is newer"), std::string::npos);
}

TEST_F(QueueDbTest, AReleaseIsConsumedOnceUntilItExpires) {
  auto first = db_->ConsumeRelease("00ff", /*expires_at=*/2000, /*now=*/1000);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(*first);
  EXPECT_FALSE(*db_->ConsumeRelease("00ff", 2000, 1500));
  EXPECT_TRUE(*db_->ConsumeRelease("00fe", 2000, 1500));  // another nonce
  // Durable across a reopen (and a process that dies: the commit was
  // fsynced before the answer).
  db_.reset();
  db_ = Open();
  ASSERT_NE(db_, nullptr);
  EXPECT_FALSE(*db_->ConsumeRelease("00ff", 2000, 1999));
  // Past its expiry the record goes (the header's age refuses it by then).
  EXPECT_TRUE(*db_->ConsumeRelease("00ff", 5000, 2001));
  EXPECT_EQ(db_->ConsumeRelease("", 5000, 2001).status().code(), Code::kInvalidArgument);
  auto ro = Open(/*read_only=*/true);
  ASSERT_NE(ro, nullptr);
  EXPECT_EQ(ro->ConsumeRelease("00aa", 5000, 1).status().code(), Code::kPermissionDenied);
}

TEST_F(QueueDbTest, AVersionOneQueueIsUpgradedByAWriter) {
  Enqueue({Entry(1, "a@x")});
  db_.reset();
  {  // What version 1 looked like: no consumed_releases.
    auto vfs = db::EncryptedVfs::Register(Key(1));
    ASSERT_TRUE(vfs.ok());
    auto raw = db::SqliteDb::Open(path_, (*vfs)->name(), SQLITE_OPEN_READWRITE);
    ASSERT_TRUE(raw.ok());
    ASSERT_TRUE(db::ConfigureConnection(**raw, 1 << 20, true).ok());
    ASSERT_TRUE((*raw)->Exec("DROP TABLE consumed_releases").ok());
    ASSERT_TRUE((*raw)->Exec("UPDATE meta SET value = 1 WHERE key = 'queue_schema'").ok());
  }
  auto ro = Open(/*read_only=*/true);  // a reader reads it as it is
  ASSERT_NE(ro, nullptr);
  EXPECT_EQ(ro->Get(1)->rcpt, "a@x");
  ro.reset();
  db_ = Open();
  ASSERT_NE(db_, nullptr);
  EXPECT_EQ(Get(1).rcpt, "a@x");
  auto consumed = db_->ConsumeRelease("00ff", 2000, 1000);
  ASSERT_TRUE(consumed.ok()) << consumed.status().ToString();
  EXPECT_TRUE(*consumed);
}

TEST_F(QueueDbTest, AnIndexIsNotAQueue) {
  db_.reset();
  std::string index_path = dir_.File("index.db");
  IndexOptions index_options;
  index_options.path = index_path;
  ASSERT_TRUE(Index::Open(index_options, Key(1)).ok());
  auto db = QueueDb::Open({index_path, false}, Key(1));
  ASSERT_TRUE(db.status().IsCorruption()) << db.status().ToString();
  EXPECT_NE(db.status().message().find("not a mailvault delivery queue"), std::string::npos)
      << db.status().message();
}

TEST_F(QueueDbTest, ReadOnlyOpenOfAMissingOrEmptyFileIsNotFound) {
  auto missing = QueueDb::Open({dir_.File("none.db"), true}, Key(1));
  EXPECT_TRUE(missing.status().IsNotFound()) << missing.status().ToString();
  EXPECT_FALSE(fs::exists(dir_.File("none.db")));
  WriteAll(dir_.File("empty.db"), "");
  auto empty = QueueDb::Open({dir_.File("empty.db"), true}, Key(1));
  EXPECT_TRUE(empty.status().IsNotFound()) << empty.status().ToString();
}

TEST_F(QueueDbTest, ReadOnlySeesTheWritersEntriesAndCannotWrite) {
  Enqueue({Entry(1, "a@x")});
  auto ro = Open(/*read_only=*/true);
  ASSERT_NE(ro, nullptr);
  EXPECT_EQ(Ids(ro->List({})->items), (std::vector<uint64_t>{1}));
  Enqueue({Entry(2, "b@x")});  // the writer goes on; the reader sees it
  EXPECT_EQ(Ids(ro->List({})->items), (std::vector<uint64_t>{2, 1}));
  EXPECT_EQ(ro->Counts()->queued, 2u);
  EXPECT_EQ(ro->Get(2)->rcpt, "b@x");

  EXPECT_EQ(ro->Enqueue({Entry(3, "c@x")}).status().code(), Code::kPermissionDenied);
  EXPECT_EQ(ro->ClaimDue(1000, 10).status().code(), Code::kPermissionDenied);
  EXPECT_EQ(ro->Record({Outcome(1, DeliveryState::kFailed)}, 1).code(), Code::kPermissionDenied);
  EXPECT_EQ(ro->RequeueInterrupted(1).status().code(), Code::kPermissionDenied);
  EXPECT_EQ(ro->ForgetFinished({1}).status().code(), Code::kPermissionDenied);
  EXPECT_EQ(Get(1).state, DeliveryState::kQueued);

  // With the writer gone (WAL checkpointed and removed) it still reads.
  ro.reset();
  db_.reset();
  ro = Open(/*read_only=*/true);
  ASSERT_NE(ro, nullptr);
  EXPECT_EQ(Ids(ro->List({})->items), (std::vector<uint64_t>{2, 1}));
}

// Two connections (two QueueDb objects, as two processes would have) with
// two threads each claim until nothing is left: every entry is handed out
// exactly once.
TEST_F(QueueDbTest, ConcurrentClaimsNeverShareAnEntry) {
  constexpr int kEntries = 400;
  std::vector<DeliveryEntry> entries;
  for (int i = 0; i < kEntries; ++i) {
    entries.push_back(Entry(1 + i % 17, "r" + std::to_string(i) + "@x", i));
  }
  Enqueue(entries);
  std::unique_ptr<QueueDb> second = Open();
  ASSERT_NE(second, nullptr);

  std::mutex mu;
  std::vector<uint64_t> claimed;  // guarded by mu
  std::vector<std::string> errors;
  auto claimer = [&](QueueDb* db) {
    while (true) {
      auto batch = db->ClaimDue(kEntries, 7);
      std::lock_guard<std::mutex> lock(mu);
      if (!batch.ok()) {
        errors.push_back(batch.status().ToString());
        return;
      }
      if (batch->empty()) return;
      for (const DeliveryEntry& e : *batch) claimed.push_back(e.id);
    }
  };
  std::vector<std::thread> threads;
  for (QueueDb* db : {db_.get(), db_.get(), second.get(), second.get()}) {
    threads.emplace_back(claimer, db);
  }
  for (std::thread& t : threads) t.join();
  EXPECT_TRUE(errors.empty()) << errors.front();
  ASSERT_EQ(claimed.size(), static_cast<size_t>(kEntries));
  std::set<uint64_t> unique(claimed.begin(), claimed.end());
  EXPECT_EQ(unique.size(), claimed.size());
  EXPECT_EQ(db_->Counts()->sending, static_cast<uint64_t>(kEntries));
}

}  // namespace
}  // namespace mailvault::index
