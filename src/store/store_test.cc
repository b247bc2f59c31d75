#include "mailvault/store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "crypto/keyring.h"
#include "env/data_dir.h"
#include "env/env.h"
#include "store/record.h"
#include "store/reopening_store.h"
#include "testutil/fault_env.h"
#include "testutil/temp_dir.h"

namespace mailvault {
namespace {

namespace fs = std::filesystem;

std::string Message(int i, const std::string& body = "") {
  return "From: Sender " + std::to_string(i) + " <sender" + std::to_string(i) +
         "@example.com>\r\nTo: rcpt@example.org\r\nSubject: Quarterly report " + std::to_string(i) +
         "\r\nMessage-ID: <m" + std::to_string(i) +
         "@example.com>\r\nDate: Sun, 22 Nov 2026 08:00:00 +0000\r\n\r\n" +
         (body.empty() ? "Body of message number " + std::to_string(i) + "\r\n" : body);
}

PutRequest Request(const std::string& raw) {
  PutRequest r;
  r.raw = raw;
  r.mail_from = "sender@example.com";
  r.rcpt = {"rcpt@example.org", "hidden@example.org"};
  r.rule_id = "R1";
  r.statuses = {{"anti-spam", "spam"}};
  r.reason = "spam";
  r.queue_id = "4ABCD";
  return r;
}

// A message read piecewise, as the intake spool serves it. Thread-safe (the
// commit leader may read it). Records the largest single read; a read that
// reaches `fail_from` fails with IOError, or with `short_reads` returns
// fewer bytes than asked.
class TestSource final : public ByteSource {
 public:
  explicit TestSource(std::string_view bytes, uint64_t fail_from = UINT64_MAX,
                      bool short_reads = false)
      : bytes_(bytes), fail_from_(fail_from), short_reads_(short_reads) {}
  uint64_t size() const override { return bytes_.size(); }
  Status ReadAt(uint64_t offset, size_t n, std::string* out) const override {
    size_t seen = largest_read_.load();
    while (n > seen && !largest_read_.compare_exchange_weak(seen, n)) {
    }
    if (offset > bytes_.size()) return Status::InvalidArgument("read past the end");
    size_t len = std::min<uint64_t>(n, bytes_.size() - offset);
    if (offset + len > fail_from_) {
      if (!short_reads_) return Status::IOError("spool page fails authentication");
      len = offset < fail_from_ ? fail_from_ - offset : 0;
    }
    out->append(bytes_.substr(offset, len));
    return Status::Ok();
  }
  size_t largest_read() const { return largest_read_.load(); }

 private:
  std::string_view bytes_;
  const uint64_t fail_from_;
  const bool short_reads_;
  mutable std::atomic<size_t> largest_read_{0};
};

// About `bytes` of multipart message with a text attachment.
std::string BigMessage(size_t bytes) {
  std::string raw =
      "From: Big Sender <big@example.com>\r\nTo: rcpt@example.org\r\nSubject: Big report\r\n"
      "Message-ID: <big@example.com>\r\nDate: Sun, 22 Nov 2026 08:00:00 +0000\r\n"
      "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
      "--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
      "--b\r\nContent-Type: text/csv\r\n"
      "Content-Disposition: attachment; filename=\"data.csv\"\r\n\r\n";
  for (int i = 0; raw.size() < bytes; ++i) raw += std::to_string(i) + ",value,value,value\r\n";
  return raw + "--b--\r\n";
}

// A copy's metadata without what differs between two puts of the same message.
CopyMeta Comparable(CopyMeta m) {
  m.id = 0;
  m.placed_at = m.received_at = 0;
  return m;
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    opts_.dir = dir_;
    ASSERT_TRUE(Store::Init(opts_).ok());
  }

  std::unique_ptr<Store> OpenStore(StoreOptions o) {
    auto s = Store::Open(o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  std::unique_ptr<Store> OpenStore() { return OpenStore(opts_); }

  TempDir tmp_{"mv-store"};
  std::string dir_ = tmp_.File("data");
  StoreOptions opts_;
};

TEST_F(StoreTest, PutThenReadGivesTheExactBytesAndMetadata) {
  auto store = OpenStore();
  std::string raw = Message(1);
  auto id = store->Put(Request(raw));
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  auto got = store->Read(*id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, raw);
  auto meta = store->Get(*id);
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(meta->subject, "Quarterly report 1");
  EXPECT_EQ(meta->message_id, "m1@example.com");
  EXPECT_EQ(meta->bcc, "hidden@example.org");
  EXPECT_EQ(meta->size, raw.size());
  EXPECT_EQ(meta->statuses.at("anti-spam"), "spam");
  EXPECT_EQ(meta->rule_id, "R1");
  EXPECT_GT(meta->placed_at, 0);
}

// A store given the process's key ring uses it and does not read the key
// directory again (the daemon and a CLI command open the keys once): it
// opens, seals and reads with the key files gone from disk. A ring without
// the current secret key is refused to a store that reads.
TEST_F(StoreTest, UsesTheKeyRingItIsGiven) {
  auto keys = crypto::KeyRing::Open(*PosixEnv(), DataDir(dir_).keys(), /*need_secrets=*/true);
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  std::filesystem::rename(DataDir(dir_).keys(), tmp_.File("keys-elsewhere"));
  StoreOptions o = opts_;
  o.keys = keys->get();
  {
    auto store = OpenStore(o);
    ASSERT_TRUE(store);
    const std::string raw = Message(1);
    auto id = store->Put(Request(raw));
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    EXPECT_EQ(store->Read(*id).value(), raw);
  }
  EXPECT_EQ(Store::Open(opts_).status().code(), Code::kNotFound);  // it would have read them

  std::filesystem::remove(tmp_.File("keys-elsewhere") + "/1.sec");
  auto no_secret = crypto::KeyRing::Open(*PosixEnv(), tmp_.File("keys-elsewhere"), false);
  ASSERT_TRUE(no_secret.ok()) << no_secret.status().ToString();
  o.keys = no_secret->get();
  o.read_only = true;
  EXPECT_EQ(Store::Open(o).status().code(), Code::kPermissionDenied);
  o.need_secret_key = false;
  EXPECT_TRUE(Store::Open(o).ok());
}

TEST_F(StoreTest, LargeMessagesStreamInAndOut) {
  auto store = OpenStore();
  std::string raw = Message(1, std::string(5 << 20, 'z') + "tail");
  CopyId small = store->Put(Request(Message(2))).value();
  CopyId big = store->Put(Request(raw)).value();
  std::string got;
  size_t largest = 0;
  ASSERT_TRUE(store
                  ->ReadTo(big,
                           [&](std::string_view p) {
                             largest = std::max(largest, p.size());
                             got.append(p);
                             return Status::Ok();
                           })
                  .ok());
  EXPECT_EQ(got, raw);
  EXPECT_LE(largest, 64u << 10);
  EXPECT_EQ(store->Read(small).value(), Message(2));
  EXPECT_TRUE(store->Verify()->problems.empty());
  // A sink error stops the read and comes back.
  Status stop = store->ReadTo(big, [](std::string_view) { return Status::IOError("disk full"); });
  EXPECT_EQ(stop.code(), Code::kIOError);
}

TEST_F(StoreTest, PutFromASourceEqualsPutFromRaw) {
  auto store = OpenStore();
  const std::string raw = BigMessage(5 << 20);
  PutRequest by_raw = Request(raw);
  CopyId raw_id = store->Put(by_raw).value();
  TestSource source(raw);
  PutRequest by_source = by_raw;
  by_source.raw = {};
  by_source.source = &source;
  auto id = store->Put(by_source);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_LE(source.largest_read(), 64u << 10);  // never whole in memory
  EXPECT_EQ(store->Read(*id).value(), raw);
  CopyMeta meta = store->Get(*id).value();
  EXPECT_EQ(meta.subject, "Big report");
  ASSERT_EQ(meta.attachments.size(), 1u);
  EXPECT_EQ(meta.attachments[0].name, "data.csv");
  EXPECT_EQ(meta.size, raw.size());
  EXPECT_EQ(Comparable(meta), Comparable(store->Get(raw_id).value()));

  // A small message from a source (encrypted by its own thread).
  const std::string small = Message(7);
  TestSource small_source(small);
  by_source.source = &small_source;
  CopyId small_id = store->Put(by_source).value();
  EXPECT_EQ(store->Read(small_id).value(), small);
  EXPECT_EQ(store->Get(small_id)->subject, "Quarterly report 7");

  // Exactly one of raw and source.
  PutRequest both = Request(small);
  both.source = &small_source;
  EXPECT_EQ(store->Put(both).status().code(), Code::kInvalidArgument);
  TestSource empty("");
  by_source.source = &empty;
  EXPECT_EQ(store->Put(by_source).status().code(), Code::kInvalidArgument);

  store.reset();
  store = OpenStore();
  EXPECT_EQ(store->Read(*id).value(), raw);
  EXPECT_TRUE(store->Verify()->problems.empty());
}

TEST_F(StoreTest, AnUnreadableSourceFailsOnlyItsPut) {
  auto store = OpenStore();
  CopyId before = store->Put(Request(Message(1))).value();
  const std::string big = BigMessage(3 << 20);
  const std::string small = Message(2, std::string(20000, 's'));
  struct Case {
    const std::string* raw;
    uint64_t fail_from;
    bool short_reads;
  };
  for (const Case& c : {Case{&big, 2 << 20, false}, Case{&big, (1 << 20) + 100, true},
                        Case{&small, 10000, false}, Case{&small, 10000, true}}) {
    SCOPED_TRACE(std::to_string(c.raw->size()) + (c.short_reads ? " short" : " error"));
    TestSource bad(*c.raw, c.fail_from, c.short_reads);
    PutRequest r = Request(*c.raw);
    r.raw = {};
    r.source = &bad;
    auto failed = store->Put(r);
    ASSERT_FALSE(failed.ok());
    EXPECT_EQ(failed.status().code(), Code::kIOError) << failed.status().ToString();
    EXPECT_TRUE(store->Writable().ok());
  }
  CopyId after = store->Put(Request(big)).value();
  EXPECT_EQ(store->Read(before).value(), Message(1));
  EXPECT_EQ(store->Read(after).value(), big);
  EXPECT_EQ(store->Stats()->count, 2u);
  auto v = store->Verify();
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->problems.empty()) << v->problems.front();
  // Nothing of the failed puts is left for recovery to find.
  store.reset();
  store = OpenStore();
  EXPECT_EQ(store->Stats()->count, 2u);
  EXPECT_TRUE(store->Verify()->problems.empty());
  EXPECT_EQ(store->Read(after).value(), big);
}

TEST_F(StoreTest, AnUnreadableSourceDoesNotFailTheRestOfItsBatch) {
  auto store = OpenStore();
  const std::string big = BigMessage(2 << 20);
  std::mutex mu;
  std::map<CopyId, std::string> acked;
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 30; ++i) {
        std::string raw = Message(t * 1000 + i);
        auto id = store->Put(Request(raw));
        ASSERT_TRUE(id.ok()) << id.status().ToString();
        std::lock_guard<std::mutex> l(mu);
        acked.emplace(*id, raw);
      }
    });
  }
  threads.emplace_back([&] {
    for (int i = 0; i < 6; ++i) {
      TestSource bad(big, (3 << 19) + 1000 * i);
      PutRequest r = Request(big);
      r.raw = {};
      r.source = &bad;
      if (store->Put(r).status().code() == Code::kIOError) ++failed;
    }
  });
  for (auto& th : threads) th.join();
  EXPECT_EQ(failed.load(), 6);
  ASSERT_EQ(acked.size(), 120u);
  store.reset();
  store = OpenStore();
  for (const auto& [id, raw] : acked) EXPECT_EQ(store->Read(id).value(), raw);
  EXPECT_EQ(store->Stats()->count, acked.size());
  auto v = store->Verify();
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->problems.empty()) << v->problems.front();
}

TEST_F(StoreTest, RefusesBadRequests) {
  auto store = OpenStore();
  EXPECT_EQ(store->Put(Request("")).status().code(), Code::kInvalidArgument);
  PutRequest r = Request(Message(1));
  r.statuses = {{"anti-virus", "spam"}};
  EXPECT_EQ(store->Put(r).status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(store->Read(424242).status().IsNotFound());
}

TEST_F(StoreTest, NotAStoreAndSecondWriterAreClearErrors) {
  StoreOptions other;
  other.dir = dir_ + "-nope";
  EXPECT_EQ(Store::Open(other).status().code(), Code::kInvalidArgument);
  auto store = OpenStore();
  auto second = Store::Open(opts_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Code::kUnavailable);
  StoreOptions ro = opts_;
  ro.read_only = true;
  EXPECT_TRUE(Store::Open(ro).ok());  // readers are welcome
}

TEST_F(StoreTest, ConcurrentPutsAreAllDurableAndDistinct) {
  auto store = OpenStore();
  std::mutex mu;
  std::map<CopyId, std::string> acked;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        std::string raw = Message(t * 1000 + i);
        auto id = store->Put(Request(raw));
        ASSERT_TRUE(id.ok()) << id.status().ToString();
        std::lock_guard<std::mutex> l(mu);
        EXPECT_TRUE(acked.emplace(*id, raw).second);
      }
    });
  }
  for (auto& th : threads) th.join();
  store.reset();
  store = OpenStore();
  for (const auto& [id, raw] : acked) EXPECT_EQ(store->Read(id).value(), raw);
  EXPECT_EQ(store->Stats()->count, acked.size());
  auto v = store->Verify();
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->problems.empty()) << v->problems.front();
  EXPECT_EQ(v->checked, acked.size());
}

TEST_F(StoreTest, DeleteFreesTheCopyAndRebuildDoesNotBringItBack) {
  auto store = OpenStore();
  CopyId a = store->Put(Request(Message(1))).value();
  CopyId b = store->Put(Request(Message(2))).value();
  ASSERT_TRUE(store->Delete({a}).ok());
  EXPECT_TRUE(store->Read(a).status().IsNotFound());
  EXPECT_TRUE(store->Delete({a}).IsNotFound());
  ASSERT_TRUE(store->RebuildIndex().ok());
  EXPECT_TRUE(store->Get(a).status().IsNotFound());
  EXPECT_EQ(store->Read(b).value(), Message(2));
  CopyId c = store->Put(Request(Message(3))).value();
  EXPECT_GT(c, b);  // ids are never reused
  ASSERT_TRUE(store->Delete({c}).ok());
  store.reset();
  store = OpenStore();  // the newest id now lives only in a deleted record's header
  EXPECT_GT(store->Put(Request(Message(4))).value(), c);
}

TEST_F(StoreTest, RecoveryIndexesRecordsTheIndexMissed) {
  std::vector<std::pair<CopyId, std::string>> acked;
  {
    auto store = OpenStore();
    for (int i = 0; i < 20; ++i) {
      std::string raw = Message(i);
      acked.emplace_back(store->Put(Request(raw)).value(), raw);
    }
  }
  for (const char* f : {"index.db", "index.db-wal", "index.db-shm"}) fs::remove(dir_ + "/" + f);
  auto store = OpenStore();
  for (const auto& [id, raw] : acked) EXPECT_EQ(store->Read(id).value(), raw);
  SearchQuery q;
  q.subject = "report 1";
  EXPECT_EQ(store->Search(q)->items.size(), 11u);  // 1, 10..19
}

TEST_F(StoreTest, TornTailIsCutAndWritingGoesOn) {
  CopyId first;
  {
    auto store = OpenStore();
    first = store->Put(Request(Message(1))).value();
  }
  std::string seg = dir_ + "/segments/0000000000000001.seg";
  {
    std::ofstream out(seg, std::ios::app | std::ios::binary);
    out << "MVR1 half a record that never finished";
  }
  auto store = OpenStore();
  EXPECT_EQ(store->Read(first).value(), Message(1));
  CopyId next = store->Put(Request(Message(2))).value();
  EXPECT_EQ(store->Read(next).value(), Message(2));
  EXPECT_TRUE(store->Verify()->problems.empty());
}

TEST_F(StoreTest, AFlippedByteSpoilsOnlyThatCopy) {
  std::vector<CopyId> ids;
  {
    auto store = OpenStore();
    for (int i = 0; i < 3; ++i) ids.push_back(store->Put(Request(Message(i))).value());
  }
  std::string seg = dir_ + "/segments/0000000000000001.seg";
  std::string bytes = ReadAll(seg);
  // Flip a byte in the middle of the second record.
  size_t second = bytes.find("MVR1", bytes.find("MVR1") + 1);
  ASSERT_NE(second, std::string::npos);
  bytes[second + 200] ^= 0x40;
  WriteAll(seg, bytes);
  auto store = OpenStore();
  EXPECT_TRUE(store->Read(ids[1]).status().IsCorruption());
  EXPECT_EQ(store->Read(ids[0]).value(), Message(0));
  EXPECT_EQ(store->Read(ids[2]).value(), Message(2));
  auto v = store->Verify();
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->problems.empty());
  for (const std::string& p : v->problems) {
    EXPECT_NE(p.find(std::to_string(ids[1])), std::string::npos) << p;
  }
}

// Overwrites one page in the middle of the closed store's index.db.
// Overwrites one page of the closed index that a full walk of the copies
// (Verify) or a text search over them meets. Not any page: one on SQLite's
// freelist, or an FTS page no query reads, is damage nothing ever sees (and
// a fixed page is sometimes one of those, depending on how the index grew).
void DamageOneIndexPage(const StoreOptions& opts) {
  const std::string path = opts.dir + "/index.db";
  ASSERT_FALSE(fs::exists(path + "-wal"));  // closed: everything is in the file
  const std::string good = ReadAll(path);
  const size_t pages = good.size() / 4096;
  ASSERT_GT(pages, 8u);
  StoreOptions ro = opts;
  ro.read_only = true;
  ro.on_event = nullptr;
  for (size_t k = 0; k + 2 < pages; ++k) {
    const size_t page = 2 + (pages / 2 + k) % (pages - 2);  // middle first; never the header
    std::string bytes = good;
    for (size_t i = 0; i < 4096; ++i) bytes[page * 4096 + i] = static_cast<char>(i * 13);
    WriteAll(path, bytes);
    auto store = Store::Open(ro);
    if (!store.ok()) return;  // damage met at open
    SearchQuery q;
    q.subject = "Quarterly report";
    q.limit = 1000;
    auto v = (*store)->Verify();
    auto found = (*store)->Search(q);
    if (!v.ok() || !found.ok()) return;
  }
  WriteAll(path, good);
  FAIL() << "no page of the index is met by a walk or a search";
}

size_t CountMatching(const std::string& dir, const std::string& prefix) {
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    const bool side = name.ends_with("-wal") || name.ends_with("-shm");
    n += name.rfind(prefix, 0) == 0 && !side;
  }
  return n;
}

std::vector<std::pair<CopyId, std::string>> PutMany(Store& store, int n) {
  std::vector<std::pair<CopyId, std::string>> acked;
  for (int i = 0; i < n; ++i) {
    std::string raw = Message(i);
    acked.emplace_back(store.Put(Request(raw)).value(), raw);
  }
  return acked;
}

TEST_F(StoreTest, RebuildIndexReplacesAnIndexWithAnOverwrittenPage) {
  std::vector<std::pair<CopyId, std::string>> acked;
  {
    auto store = OpenStore();
    acked = PutMany(*store, 400);
  }
  DamageOneIndexPage(opts_);
  {
    StoreOptions ro = opts_;
    ro.read_only = true;
    auto damaged = OpenStore(ro);
    ASSERT_NE(damaged, nullptr);
    // The damage is real: a walk of the copies or a text search meets it.
    auto v = damaged->Verify();
    SearchQuery q;
    q.subject = "report";
    q.limit = 1000;
    auto found = damaged->Search(q);
    Status met = !v.ok() ? v.status() : found.status();
    EXPECT_TRUE(met.IsCorruption()) << met.ToString();
    EXPECT_NE(met.message().find("rebuild-index"), std::string::npos) << met.ToString();
  }
  StoreOptions o = opts_;
  o.rebuild_index = true;
  std::vector<std::string> events;
  o.on_event = [&](std::string_view kind, std::string_view msg) {
    events.push_back(std::string(kind) + ": " + std::string(msg));
  };
  auto store = OpenStore(o);
  ASSERT_NE(store, nullptr);
  ASSERT_FALSE(events.empty());
  EXPECT_NE(events.back().find("index_rebuilt"), std::string::npos) << events.back();
  EXPECT_NE(events.back().find("set aside"), std::string::npos) << events.back();
  EXPECT_EQ(CountMatching(dir_, "index.db.damaged-"), 1u);
  EXPECT_FALSE(fs::exists(dir_ + "/index.db.new"));
  auto v = store->Verify();
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->checked, acked.size());
  EXPECT_TRUE(v->problems.empty()) << v->problems.front();
  SearchQuery q;
  q.subject = "Quarterly report";
  q.limit = 1000;
  EXPECT_EQ(store->Search(q)->items.size(), acked.size());
  for (const auto& [id, raw] : acked) EXPECT_EQ(store->Read(id).value(), raw);
  EXPECT_GT(store->Put(Request(Message(1000))).value(), acked.back().first);
  // A rebuild of a sound index removes the old one instead of keeping it.
  store.reset();
  o.on_event = nullptr;
  store = OpenStore(o);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(CountMatching(dir_, "index.db.damaged-"), 1u);
  EXPECT_EQ(store->Stats()->count, acked.size() + 1);
}

// The daemon's case: a store (behind ReopeningStore) meets the damage at a
// read, says so, stops writes and rebuilds the index when it reopens.
TEST_F(StoreTest, AStoreThatMeetsADamagedIndexRebuildsItWhenItReopens) {
  std::vector<std::pair<CopyId, std::string>> acked;
  {
    auto store = OpenStore();
    acked = PutMany(*store, 400);
  }
  DamageOneIndexPage(opts_);
  StoreOptions o = opts_;
  std::mutex mu;
  std::vector<std::string> kinds;
  o.on_event = [&](std::string_view kind, std::string_view) {
    std::lock_guard<std::mutex> l(mu);
    kinds.emplace_back(kind);
  };
  auto store = store::ReopeningStore::Open(o, /*retry_micros=*/3'600'000'000);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  SearchQuery q;
  q.subject = "Quarterly report";
  q.limit = 1000;
  auto first = (*store)->Search(q);
  ASSERT_FALSE(first.ok());
  EXPECT_TRUE(first.status().IsCorruption()) << first.status().ToString();
  EXPECT_FALSE((*store)->Writable().ok());
  EXPECT_TRUE(fs::exists(dir_ + "/index.rebuild"));
  ASSERT_TRUE((*store)->RecoverIfStopped().ok());
  {
    std::lock_guard<std::mutex> l(mu);
    EXPECT_NE(std::find(kinds.begin(), kinds.end(), "index_damaged"), kinds.end());
    EXPECT_NE(std::find(kinds.begin(), kinds.end(), "index_rebuilt"), kinds.end());
  }
  EXPECT_FALSE(fs::exists(dir_ + "/index.rebuild"));
  EXPECT_EQ((*store)->Search(q)->items.size(), acked.size());
  auto v = (*store)->Verify();
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_TRUE(v->problems.empty());
  EXPECT_TRUE((*store)->Put(Request(Message(1000))).ok());
}

// With check_index (the daemon), damage no read has met yet is found by the
// background check after open.
TEST_F(StoreTest, TheBackgroundCheckFindsDamageNoReadMet) {
  {
    auto store = OpenStore();
    PutMany(*store, 400);
  }
  DamageOneIndexPage(opts_);
  StoreOptions o = opts_;
  o.check_index = true;
  std::mutex mu;
  std::condition_variable cv;
  bool damaged = false;
  o.on_event = [&](std::string_view kind, std::string_view) {
    std::lock_guard<std::mutex> l(mu);
    if (kind == "index_damaged") damaged = true;
    cv.notify_all();
  };
  auto store = OpenStore(o);
  ASSERT_NE(store, nullptr);
  std::unique_lock<std::mutex> l(mu);
  ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds(60), [&] { return damaged; }));
  l.unlock();
  EXPECT_FALSE(store->Writable().ok());
  store.reset();
  o.check_index = false;
  o.on_event = nullptr;
  store = OpenStore(o);  // the marker makes this open rebuild
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->Verify()->problems.empty());
  EXPECT_EQ(store->Stats()->count, 400u);
}

// The administrator must be able to lower the cap exactly when the disk is
// full: the reserve is released for it, and a write that still fails leaves
// no temp file behind and the cap as it was.
TEST_F(StoreTest, MaxSizeCanBeChangedOnAFullDiskAndLeavesNoTempFile) {
  FaultEnv fault(PosixEnv());
  StoreOptions o = opts_;
  o.env = &fault;
  std::vector<std::string> kinds;
  o.on_event = [&](std::string_view kind, std::string_view) { kinds.emplace_back(kind); };
  auto store = OpenStore(o);
  ASSERT_TRUE(fs::exists(dir_ + "/reserve"));
  ASSERT_TRUE(store->Put(Request(Message(1))).ok());
  fault.SetWriteBudget(0);
  EXPECT_EQ(store->Put(Request(Message(2))).status().code(), Code::kNoSpace);
  Status changed = store->SetMaxSize(5'000'000'000);
  ASSERT_TRUE(changed.ok()) << changed.ToString();
  EXPECT_NE(std::find(kinds.begin(), kinds.end(), "reserve_released"), kinds.end());
  EXPECT_FALSE(fs::exists(dir_ + "/store.json.tmp"));
  // No reserve left and still full: refused, and nothing left behind.
  fault.SetWriteBudget(0);
  EXPECT_EQ(store->SetMaxSize(4'000'000'000).code(), Code::kNoSpace);
  EXPECT_FALSE(fs::exists(dir_ + "/store.json.tmp"));
  EXPECT_EQ(store->max_size(), 5'000'000'000u);
  fault.SetWriteBudget(UINT64_MAX);
  store.reset();
  store = OpenStore();
  EXPECT_EQ(store->max_size(), 5'000'000'000u);
  EXPECT_EQ(store->Stats()->max_bytes, 5'000'000'000u);
  EXPECT_TRUE(fs::exists(dir_ + "/reserve"));  // made again once there is room
}

// Since when copies are refused: set by the first refusal, kept by later
// ones, cleared by the next copy taken.
TEST_F(StoreTest, AvailabilityTracksSinceWhenCopiesAreRefused) {
  FaultEnv fault(PosixEnv());
  StoreOptions o = opts_;
  o.env = &fault;
  auto store = OpenStore(o);
  EXPECT_EQ(store->availability().unavailable_since, 0);
  fault.SetClock(1'800'000'000'000'000);
  fault.FailAt(FaultEnv::Op::kWrite, 1, /*sticky=*/true);
  EXPECT_FALSE(store->Put(Request(Message(1))).ok());
  fault.AdvanceClock(5'000'000);
  EXPECT_FALSE(store->Put(Request(Message(2))).ok());
  EXPECT_EQ(store->Put(PutRequest{}).status().code(), Code::kInvalidArgument);  // not the store's
  Availability a = store->availability();
  EXPECT_EQ(a.unavailable_since, 1'800'000'000'000'000);
  EXPECT_EQ(a.refused, 2u);
  EXPECT_FALSE(a.reason.empty());
  fault.FailAt(FaultEnv::Op::kWrite, 0);
  ASSERT_TRUE(store->Put(Request(Message(3))).ok());
  EXPECT_EQ(store->availability().unavailable_since, 0);
}

// A segment cut inside its last indexed record (a lost write-back below the
// watermark): reported and cut at open, so the next copy is not appended
// after damaged bytes; the lost id stays in verify until the administrator
// accepts the loss.
TEST_F(StoreTest, ASegmentCutInsideIndexedRecordsIsReportedCutAndAcceptable) {
  std::vector<CopyId> ids;
  {
    auto store = OpenStore();
    for (int i = 0; i < 3; ++i) ids.push_back(store->Put(Request(Message(i))).value());
  }
  const std::string seg = dir_ + "/segments/0000000000000001.seg";
  fs::resize_file(seg, fs::file_size(seg) - 100);  // inside the third record
  StoreOptions o = opts_;
  std::vector<std::string> events;
  o.on_event = [&](std::string_view kind, std::string_view msg) {
    events.push_back(std::string(kind) + ": " + std::string(msg));
  };
  auto store = OpenStore(o);
  ASSERT_NE(store, nullptr);
  auto lost_event = std::find_if(events.begin(), events.end(), [](const std::string& e) {
    return e.rfind("copies_lost", 0) == 0;
  });
  ASSERT_NE(lost_event, events.end());
  EXPECT_NE(lost_event->find("copies " + std::to_string(ids[2]) + " lost"), std::string::npos)
      << *lost_event;
  EXPECT_TRUE(store->Get(ids[2]).status().IsNotFound());
  CopyId next = store->Put(Request(Message(3))).value();
  EXPECT_EQ(store->Read(next).value(), Message(3));
  EXPECT_EQ(store->Read(ids[1]).value(), Message(1));
  auto v = store->Verify();
  ASSERT_TRUE(v.ok());
  ASSERT_EQ(v->problems.size(), 1u);  // only the recorded loss: no damaged bytes are left
  EXPECT_NE(v->problems[0].find("copy " + std::to_string(ids[2]) + " was lost"), std::string::npos)
      << v->problems[0];
  store.reset();
  store = OpenStore(o);  // still listed after a restart
  EXPECT_EQ(store->Verify()->problems.size(), 1u);
  auto accepted = store->AcceptLoss();
  ASSERT_TRUE(accepted.ok()) << accepted.status().ToString();
  EXPECT_EQ(accepted->lost, std::vector<CopyId>{ids[2]});
  EXPECT_TRUE(store->Verify()->problems.empty());
  EXPECT_EQ(events.back().rfind("loss_accepted", 0), 0u) << events.back();
}

// Damage inside a sealed segment (a record's bytes altered, another's header
// destroyed): verify fails until the loss is accepted; then it is clean,
// the other copies are intact and the lost ids are named.
TEST_F(StoreTest, AcceptLossMakesVerifyCleanAfterDamageInTheMiddle) {
  std::vector<CopyId> ids;
  {
    auto store = OpenStore();
    for (int i = 0; i < 5; ++i) ids.push_back(store->Put(Request(Message(i))).value());
  }
  const std::string seg = dir_ + "/segments/0000000000000001.seg";
  std::string bytes = ReadAll(seg);
  size_t second = bytes.find("MVR1", bytes.find("MVR1") + 1);
  size_t fourth = bytes.find("MVR1", bytes.find("MVR1", second + 1) + 1);
  ASSERT_NE(fourth, std::string::npos);
  bytes[second + 300] ^= 0x40;  // payload of copy 2
  bytes[fourth + 9] ^= 0x40;    // header of copy 4
  WriteAll(seg, bytes);
  auto store = OpenStore();
  EXPECT_FALSE(store->Verify()->problems.empty());
  auto accepted = store->AcceptLoss();
  ASSERT_TRUE(accepted.ok()) << accepted.status().ToString();
  EXPECT_EQ(accepted->lost, (std::vector<CopyId>{ids[1], ids[3]}));
  auto v = store->Verify();
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->problems.empty()) << v->problems.front();
  for (size_t i : {0, 2, 4}) EXPECT_EQ(store->Read(ids[i]).value(), Message(static_cast<int>(i)));
  store.reset();
  store = OpenStore();  // and it stays clean
  EXPECT_TRUE(store->Verify()->problems.empty());
  EXPECT_GT(store->Put(Request(Message(9))).value(), ids.back());
}

// A sender's retry after a lost end-of-message reply is a second copy of the
// same message (Postfix adds a new Received line): the two are linked by
// Message-ID and body digest within an hour, nothing else is.
TEST_F(StoreTest, PossibleDuplicatesLinkTheSameMessageKeptTwice) {
  FaultEnv fault(PosixEnv());
  fault.SetClock(1'800'000'000'000'000);
  StoreOptions o = opts_;
  o.env = &fault;
  auto store = OpenStore(o);
  const std::string body = "\r\nThe same body, sent twice.\r\n";
  auto msg = [&](const std::string& received, const std::string& mid, const std::string& b) {
    return "Received: " + received + "\r\nMessage-ID: <" + mid + ">\r\nSubject: s\r\n" + b;
  };
  std::string first_raw = msg("from a by mx id AAA", "dup@x", body);
  std::string retry_raw = msg("from a by mx id BBBB", "dup@x", body);
  std::string other_body = msg("from a by mx id CCC", "dup@x", "\r\nAnother body.\r\n");
  std::string other_mid = msg("from a by mx id DDD", "other@x", body);
  CopyId first = store->Put(Request(first_raw)).value();
  fault.AdvanceClock(60'000'000);
  CopyId retry = store->Put(Request(retry_raw)).value();
  CopyId diff_body = store->Put(Request(other_body)).value();
  CopyId diff_mid = store->Put(Request(other_mid)).value();
  fault.AdvanceClock(2 * kDuplicateWindowMicros);
  CopyId late = store->Put(Request(msg("from a by mx id EEE", "dup@x", body))).value();
  EXPECT_EQ(store->PossibleDuplicates(first).value(), std::vector<CopyId>{retry});
  EXPECT_EQ(store->PossibleDuplicates(retry).value(), std::vector<CopyId>{first});
  EXPECT_TRUE(store->PossibleDuplicates(diff_body)->empty());
  EXPECT_TRUE(store->PossibleDuplicates(diff_mid)->empty());
  EXPECT_TRUE(store->PossibleDuplicates(late)->empty());  // more than an hour later
  EXPECT_TRUE(store->PossibleDuplicates(9999).status().IsNotFound());
}

TEST_F(StoreTest, SizeCapEvictsOldestSegments) {
  StoreOptions o = opts_;
  o.segment_size = 64 << 10;
  std::vector<std::string> events;
  o.on_event = [&](std::string_view kind, std::string_view) { events.emplace_back(kind); };
  auto store = OpenStore(o);
  ASSERT_TRUE(store->SetMaxSize(400 << 10).ok());
  std::string filler(8 << 10, 'x');
  std::vector<CopyId> ids;
  for (int i = 0; i < 200; ++i) ids.push_back(store->Put(Request(Message(i, filler))).value());
  auto st = store->Stats().value();
  EXPECT_LE(st.bytes, (400u << 10) + (80u << 10));  // the cap plus at most the active segment
  EXPECT_LT(st.count, 200u);
  EXPECT_TRUE(store->Read(ids.front()).status().IsNotFound());
  EXPECT_EQ(store->Read(ids.back()).value(), Message(199, filler));
  EXPECT_NE(std::find(events.begin(), events.end(), "evicted"), events.end());
}

// The store measures the free space of its file system after writes and
// tells whoever watches it (the policy decides what is low).
TEST_F(StoreTest, FreeSpaceIsReportedAfterWrites) {
  StoreOptions o = opts_;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<uint64_t> seen;
  o.on_free_space = [&](uint64_t free) {
    std::lock_guard<std::mutex> l(mu);
    seen.push_back(free);
    cv.notify_all();
  };
  auto store = OpenStore(o);
  ASSERT_TRUE(store->Put(Request(Message(1))).ok());
  std::unique_lock<std::mutex> l(mu);
  ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds(60), [&] { return !seen.empty(); }));
  EXPECT_GT(seen[0], 0u);
}

TEST_F(StoreTest, KeyRotationKeepsOldCopiesReadable) {
  auto store = OpenStore();
  CopyId old_id = store->Put(Request(Message(1))).value();
  auto k = store->AddKey();
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(k->id, 2u);
  CopyId new_id = store->Put(Request(Message(2))).value();
  store.reset();
  store = OpenStore();
  EXPECT_EQ(store->Read(old_id).value(), Message(1));
  EXPECT_EQ(store->Read(new_id).value(), Message(2));
  EXPECT_EQ(store->Keys().size(), 2u);
}

TEST_F(StoreTest, NothingIsOnDiskInClear) {
  {
    auto store = OpenStore();
    for (int i = 0; i < 50; ++i) {
      ASSERT_TRUE(
          store->Put(Request(Message(i, "Zanzibar-secret-body " + std::to_string(i)))).ok());
    }
  }
  { auto reopened = OpenStore(); }
  for (const auto& entry : fs::recursive_directory_iterator(dir_)) {
    if (!entry.is_regular_file()) continue;
    const std::string bytes = ReadAll(entry.path().string());
    for (const char* needle : {"Zanzibar-secret-body", "Quarterly report", "sender7@example"}) {
      EXPECT_EQ(bytes.find(needle), std::string::npos) << needle << " in " << entry.path();
    }
  }
}

// For every k: fail the k-th write or sync, "crash" (drop what was not
// synced), reopen: every put that returned OK is there, byte for byte.
TEST_F(StoreTest, FaultInjectionNeverLosesAnAcknowledgedCopy) {
  for (FaultEnv::Op op : {FaultEnv::Op::kWrite, FaultEnv::Op::kSync, FaultEnv::Op::kAny}) {
    bool fired = true;
    for (uint64_t k = 1; fired; ++k) {
      TempDir tmp("mv-store-fault");
      std::string dir = tmp.File("data");
      StoreOptions o;
      o.dir = dir;
      o.segment_size = 8 << 10;  // rolls segments too
      ASSERT_TRUE(Store::Init(o).ok());
      FaultEnv fault(PosixEnv());
      o.env = &fault;
      std::map<CopyId, std::string> acked;
      {
        auto store = Store::Open(o);
        ASSERT_TRUE(store.ok()) << store.status().ToString();
        uint64_t before = fault.Count(op);
        fault.FailAt(op, k);
        for (int i = 0; i < 6; ++i) {
          // One large message goes through the streamed (encrypt-while-appending) path.
          std::string raw = Message(i, std::string(i == 3 ? (1 << 20) + 5 : 3000, 'a' + i));
          auto id = (*store)->Put(Request(raw));
          if (id.ok()) acked.emplace(*id, raw);
        }
        fired = fault.Count(op) - before >= k;  // until k runs past the last operation
      }
      ASSERT_TRUE(fault.DropUnsyncedData().ok());
      o.env = nullptr;
      auto store = Store::Open(o);
      ASSERT_TRUE(store.ok()) << "k=" << k << ": " << store.status().ToString();
      for (const auto& [id, raw] : acked) {
        auto got = (*store)->Read(id);
        ASSERT_TRUE(got.ok()) << "k=" << k << " id=" << id << ": " << got.status().ToString();
        EXPECT_EQ(*got, raw);
      }
      auto v = (*store)->Verify();
      ASSERT_TRUE(v.ok());
      EXPECT_TRUE(v->problems.empty()) << "k=" << k << ": " << v->problems.front();
      // Writing goes on after recovery.
      EXPECT_TRUE((*store)->Put(Request(Message(99))).ok());
      store->reset();
    }
  }
}

TEST_F(StoreTest, FullDiskRefusesThePutAndKeepsTheStore) {
  FaultEnv fault(PosixEnv());
  StoreOptions o = opts_;
  o.env = &fault;
  auto store = OpenStore(o);
  CopyId before = store->Put(Request(Message(1))).value();
  fault.SetWriteBudget(100);
  auto failed = store->Put(Request(Message(2)));
  EXPECT_EQ(failed.status().code(), Code::kNoSpace);
  fault.SetWriteBudget(UINT64_MAX);
  CopyId after = store->Put(Request(Message(3))).value();
  EXPECT_EQ(store->Read(before).value(), Message(1));
  EXPECT_EQ(store->Read(after).value(), Message(3));
  EXPECT_TRUE(store->Verify()->problems.empty());
}

}  // namespace
}  // namespace mailvault
