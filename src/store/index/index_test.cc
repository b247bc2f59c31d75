// Tests of the index: the contract of index.h, search checked against a
// brute-force reference, and the at-rest guarantees (no clear text in any
// file, damage reported as Corruption, WAL recovery through the VFS).
#include "store/index/index.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <set>
#include <thread>

#include "store/index/row_codec.h"
#include "testutil/temp_dir.h"

namespace mailvault::index {
namespace {

namespace fs = std::filesystem;

crypto::SymmetricKey Key(uint8_t seed) {
  crypto::SymmetricKey k;
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(seed * 7 + i);
  return k;
}

// Every regular file in `dir` whose bytes contain `needle`.
std::vector<std::string> FilesContaining(const std::string& dir, const std::string& needle) {
  std::vector<std::string> hits;
  for (const auto& f : fs::directory_iterator(dir)) {
    if (f.is_regular_file() && ReadAll(f.path().string()).find(needle) != std::string::npos) {
      hits.push_back(f.path().filename().string());
    }
  }
  return hits;
}

Entry MakeEntry(CopyId id) {
  Entry e;
  CopyMeta& m = e.meta;
  m.id = id;
  m.placed_at = 1'700'000'000'000'000 + static_cast<int64_t>(id) * 1'000'000;
  m.received_at = m.placed_at - 5;
  m.sent_at = m.placed_at - 60'000'000;
  m.mail_from = "sender" + std::to_string(id) + "@example.org";
  m.rcpt = {"user" + std::to_string(id % 7) + "@corp.example", "ops@corp.example"};
  m.from = "Sender " + std::to_string(id) + " <sender" + std::to_string(id) + "@example.org>";
  m.to = "user" + std::to_string(id % 7) + "@corp.example";
  m.cc = id % 3 == 0 ? "boss@corp.example" : "";
  m.bcc = "ops@corp.example";
  m.subject = "Invoice number " + std::to_string(id);
  m.message_id = "msg" + std::to_string(id) + "@mx.example.org";
  m.queue_id = "Q" + std::to_string(id);
  m.size = 1000 + id * 10;
  m.rule_id = "rule-" + std::to_string(id % 4);
  m.statuses = {{"anti-spam", "spam"}};
  if (id % 5 == 0) m.statuses["anti-virus"] = "infected";
  m.reason = "spam";
  m.attachments = {{"a.pdf", "application/pdf", 1234}};
  e.loc = {1 + id / 10, id * 100, 100 + id, static_cast<uint32_t>(1 + id % 2)};
  return e;
}

std::unique_ptr<Index> OpenIndex(const std::string& path, uint8_t key = 1, bool read_only = false) {
  IndexOptions o;
  o.path = path;
  o.read_only = read_only;
  auto idx = Index::Open(o, Key(key));
  EXPECT_TRUE(idx.ok()) << idx.status().ToString();
  return idx.ok() ? std::move(idx).value() : nullptr;
}

std::vector<CopyId> Ids(const SearchPage& p) {
  std::vector<CopyId> ids;
  for (const CopyMeta& m : p.items) ids.push_back(m.id);
  return ids;
}

// All pages of a search, in order.
std::vector<CopyId> SearchAll(Index& idx, SearchQuery q) {
  std::vector<CopyId> ids;
  for (int guard = 0; guard < 100000; ++guard) {
    auto page = idx.Search(q);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    if (!page.ok()) break;
    for (CopyId id : Ids(*page)) ids.push_back(id);
    if (!page->next) break;
    q.before = page->next;
  }
  return ids;
}

class IndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.File("index.db");
    idx_ = OpenIndex(path_);
    ASSERT_NE(idx_, nullptr);
  }
  void InsertRange(CopyId first, CopyId last, Watermark mark = {}) {
    std::vector<Entry> batch;
    for (CopyId id = first; id <= last; ++id) batch.push_back(MakeEntry(id));
    Status s = idx_->Insert(batch, mark);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  void Reopen() {
    idx_.reset();
    idx_ = OpenIndex(path_);
    ASSERT_NE(idx_, nullptr);
  }

  TempDir dir_;
  std::string path_;
  std::unique_ptr<Index> idx_;
};

TEST_F(IndexTest, InsertGetRoundTripsEveryField) {
  Entry e = MakeEntry(42);
  e.meta.subject = "Grüße – ünïcode ☃ \"quoted\" \\ back";
  e.meta.rcpt = {"a@b.c", "with \"quote\"@x.y", ""};
  e.meta.statuses = {{"external", "sandbox: ransomware"}, {"anti-virus", "infected"}};
  e.meta.attachments = {{"", "", 0}, {"r\u00e9sum\u00e9.docx", "application/x", 1ull << 40}};
  e.loc = {7, 1ull << 40, 12345, 3};
  e.meta.size = (1ull << 63) + 5;  // beyond int64: stored bit for bit
  ASSERT_TRUE(idx_->Insert({e}, {7, 99}).ok());
  auto got = idx_->Get(42);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->meta, e.meta);
  EXPECT_EQ(got->loc, e.loc);
  EXPECT_TRUE(idx_->Get(43).status().IsNotFound());
  Reopen();
  got = idx_->Get(42);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->meta, e.meta);
}

TEST_F(IndexTest, InsertIsAllOrNothing) {
  InsertRange(1, 2, {1, 10});
  std::vector<Entry> batch = {MakeEntry(3), MakeEntry(1)};  // 1 exists
  Status s = idx_->Insert(batch, {1, 20});
  EXPECT_EQ(s.code(), Code::kAlreadyExists) << s.ToString();
  EXPECT_TRUE(idx_->Get(3).status().IsNotFound());
  EXPECT_EQ(idx_->GetWatermark().value(), (Watermark{1, 10}));
  EXPECT_EQ(idx_->Stats()->count, 2u);
  Entry zero = MakeEntry(5);
  zero.meta.id = 0;
  EXPECT_EQ(idx_->Insert({zero}, {}).code(), Code::kInvalidArgument);
}

TEST_F(IndexTest, WatermarkRoundTrip) {
  EXPECT_EQ(idx_->GetWatermark().value(), (Watermark{0, 0}));
  InsertRange(1, 3, {2, 4096});
  EXPECT_EQ(idx_->GetWatermark().value(), (Watermark{2, 4096}));
  ASSERT_TRUE(idx_->Insert({}, {3, 1ull << 62}).ok());  // moves the mark alone
  Reopen();
  EXPECT_EQ(idx_->GetWatermark().value(), (Watermark{3, 1ull << 62}));
}

TEST_F(IndexTest, Stats) {
  auto st = idx_->Stats();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->count, 0u);
  EXPECT_EQ(st->oldest, 0);
  EXPECT_EQ(st->max_id, 0u);
  InsertRange(5, 24);
  st = idx_->Stats();
  ASSERT_TRUE(st.ok());
  uint64_t bytes = 0, record_bytes = 0;
  for (CopyId id = 5; id <= 24; ++id) {
    Entry e = MakeEntry(id);
    bytes += e.meta.size;
    record_bytes += e.loc.length;
  }
  EXPECT_EQ(st->count, 20u);
  EXPECT_EQ(st->bytes, bytes);
  EXPECT_EQ(st->record_bytes, record_bytes);
  EXPECT_EQ(st->oldest, MakeEntry(5).meta.placed_at);
  EXPECT_EQ(st->newest, MakeEntry(24).meta.placed_at);
  EXPECT_EQ(st->max_id, 24u);
}

TEST_F(IndexTest, RemoveReturnsWhatItRemovedAndKeepsTotals) {
  InsertRange(1, 10);
  auto removed = idx_->Remove({3, 99, 7, 3});
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  ASSERT_EQ(removed->size(), 2u);
  EXPECT_EQ((*removed)[0].meta, MakeEntry(3).meta);
  EXPECT_EQ((*removed)[1].loc, MakeEntry(7).loc);
  EXPECT_TRUE(idx_->Get(3).status().IsNotFound());
  auto st = idx_->Stats();
  EXPECT_EQ(st->count, 8u);
  EXPECT_EQ(st->bytes, 8 * 1000u + 10 * (55 - 10));
  SearchQuery q;
  q.subject = "Invoice number 3";
  EXPECT_TRUE(SearchAll(*idx_, q).empty());
  // The FTS index stays consistent: the same text can be indexed again.
  ASSERT_TRUE(idx_->Insert({MakeEntry(3)}, {}).ok());
  EXPECT_EQ(SearchAll(*idx_, q), (std::vector<CopyId>{3}));
}

TEST_F(IndexTest, RemoveSegmentsUpTo) {
  InsertRange(1, 45);  // segments 1..5
  auto n = idx_->RemoveSegmentsUpTo(2);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 19u);  // ids 1..19
  EXPECT_TRUE(idx_->Get(19).status().IsNotFound());
  EXPECT_TRUE(idx_->Get(20).ok());
  EXPECT_EQ(idx_->Stats()->count, 26u);
  EXPECT_EQ(idx_->Stats()->oldest, MakeEntry(20).meta.placed_at);
  EXPECT_EQ(idx_->Get(20)->loc.segment, 3u);  // the oldest left is in segment 3
  EXPECT_EQ(idx_->RemoveSegmentsUpTo(2).value(), 0u);
  SearchQuery q;
  q.from = "sender1";  // sender1, sender10..19 gone
  EXPECT_TRUE(SearchAll(*idx_, q).empty());
  q.from = "sender2";
  EXPECT_EQ(SearchAll(*idx_, q).size(), 10u);  // 20..29
}

TEST_F(IndexTest, ForEachInIdOrderStopsEarlyAndMayReenter) {
  InsertRange(1, 600);
  std::vector<CopyId> seen;
  Status s = idx_->ForEach([&](const Entry& e) {
    seen.push_back(e.meta.id);
    EXPECT_TRUE(idx_->Get(e.meta.id).ok());  // no deadlock
    return true;
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(seen.size(), 600u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  size_t calls = 0;
  ASSERT_TRUE(idx_->ForEach([&](const Entry&) { return ++calls < 5; }).ok());
  EXPECT_EQ(calls, 5u);
}

TEST_F(IndexTest, ClearRemovesEverything) {
  InsertRange(1, 50, {4, 400});
  ASSERT_TRUE(idx_->Clear().ok());
  EXPECT_EQ(idx_->Stats()->count, 0u);
  EXPECT_EQ(idx_->Stats()->bytes, 0u);
  EXPECT_EQ(idx_->GetWatermark().value(), (Watermark{0, 0}));
  SearchQuery q;
  q.subject = "Invoice";
  EXPECT_TRUE(SearchAll(*idx_, q).empty());
  EXPECT_EQ(idx_->Stats()->count, 0u);
  InsertRange(1, 5);
  EXPECT_EQ(SearchAll(*idx_, q).size(), 5u);
}

TEST_F(IndexTest, PagingHasNoGapsOrDuplicates) {
  InsertRange(1, 237);
  for (size_t limit : {1u, 10u, 79u, 237u, 500u}) {
    SearchQuery q;
    q.limit = limit;
    std::vector<CopyId> ids;
    std::optional<CopyId> before;
    size_t pages = 0;
    while (true) {
      q.before = before;
      auto page = idx_->Search(q);
      ASSERT_TRUE(page.ok());
      ++pages;
      EXPECT_LE(page->items.size(), limit);
      for (CopyId id : Ids(*page)) ids.push_back(id);
      if (!page->next) break;
      EXPECT_EQ(*page->next, page->items.back().id);
      before = page->next;
    }
    EXPECT_EQ(pages, (237 + limit - 1) / limit) << limit;  // no empty last page
    ASSERT_EQ(ids.size(), 237u) << limit;
    for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(ids[i], 237 - i);
  }
  // Paging through a filtered search.
  SearchQuery q;
  q.subject = "number 1";  // 1, 10-19, 100-199
  q.limit = 7;
  auto ids = SearchAll(*idx_, q);
  EXPECT_EQ(ids.size(), 111u);
  EXPECT_TRUE(std::is_sorted(ids.rbegin(), ids.rend()));
  EXPECT_EQ(std::set<CopyId>(ids.begin(), ids.end()).size(), ids.size());
}

TEST_F(IndexTest, TextFiltersMatchTheirOwnColumnsOnly) {
  Entry a = MakeEntry(1);
  a.meta.from = "Alice <alice@alpha.test>";
  a.meta.mail_from = "bounce@lists.alpha.test";
  a.meta.to = "bob@bravo.test";
  a.meta.cc = "carol@charlie.test";
  a.meta.rcpt = {"dave@delta.test"};
  a.meta.subject = "Quarterly report";
  a.meta.message_id = "abc123@mx.alpha.test";
  ASSERT_TRUE(idx_->Insert({a}, {}).ok());
  auto find = [&](auto field, const std::string& v) {
    SearchQuery q;
    q.*field = v;
    return SearchAll(*idx_, q).size();
  };
  EXPECT_EQ(find(&SearchQuery::from, "alice@"), 1u);
  EXPECT_EQ(find(&SearchQuery::from, "bounce@lists"), 1u);  // envelope sender
  EXPECT_EQ(find(&SearchQuery::from, "bravo"), 0u);
  EXPECT_EQ(find(&SearchQuery::to, "bob@bravo"), 1u);
  EXPECT_EQ(find(&SearchQuery::to, "carol@"), 1u);
  EXPECT_EQ(find(&SearchQuery::to, "dave@delta"), 1u);  // envelope recipient
  EXPECT_EQ(find(&SearchQuery::to, "alice"), 0u);
  EXPECT_EQ(find(&SearchQuery::subject, "rterly rep"), 1u);
  EXPECT_EQ(find(&SearchQuery::subject, "alpha"), 0u);
  EXPECT_EQ(find(&SearchQuery::message_id, "abc123@"), 1u);
  EXPECT_EQ(find(&SearchQuery::message_id, "Quarterly"), 0u);
  // Across the separator of two columns in the trigram text: no match.
  EXPECT_EQ(find(&SearchQuery::from, "alpha.test>\nbounce"), 0u);
}

TEST_F(IndexTest, CaseInsensitiveShortAndEscapedNeedles) {
  std::vector<Entry> batch;
  const char* subjects[] = {"100% sure",
                            "100 percent",
                            "a_b test",
                            "axb test",
                            "back\\slash",
                            "Hello WORLD",
                            "x",
                            "Ünïcode Straße",
                            "bad\xff\x80"
                            "byte"};
  for (size_t i = 0; i < std::size(subjects); ++i) {
    Entry e = MakeEntry(i + 1);
    e.meta.subject = subjects[i];
    batch.push_back(e);
  }
  ASSERT_TRUE(idx_->Insert(batch, {}).ok());
  auto subject = [&](const std::string& v) {
    SearchQuery q;
    q.subject = v;
    return SearchAll(*idx_, q);
  };
  EXPECT_EQ(subject("0% s"), (std::vector<CopyId>{1}));
  EXPECT_EQ(subject("0%"), (std::vector<CopyId>{1}));  // short: LIKE scan, escaped
  EXPECT_EQ(subject("%"), (std::vector<CopyId>{1}));
  EXPECT_EQ(subject("a_b"), (std::vector<CopyId>{3}));
  EXPECT_EQ(subject("_"), (std::vector<CopyId>{3}));
  EXPECT_EQ(subject("k\\s"), (std::vector<CopyId>{5}));
  EXPECT_EQ(subject("\\"), (std::vector<CopyId>{5}));
  EXPECT_EQ(subject("hello world"), (std::vector<CopyId>{6}));
  EXPECT_EQ(subject("O w"), (std::vector<CopyId>{6}));
  EXPECT_EQ(subject("X"), (std::vector<CopyId>{7, 4}));  // short, case-insensitive
  EXPECT_EQ(subject("Straße"), (std::vector<CopyId>{8}));
  EXPECT_EQ(subject("ße"), (std::vector<CopyId>{8}));  // 2 characters, 3 bytes
  EXPECT_EQ(subject("d\xff\x80"
                    "by"),
            (std::vector<CopyId>{9}));  // not UTF-8: LIKE scan
  EXPECT_EQ(subject(std::string("a\0b", 3)), (std::vector<CopyId>{}));
  EXPECT_EQ(subject("\""), (std::vector<CopyId>{}));
  EXPECT_EQ(subject("\"quoted\" AND x"), (std::vector<CopyId>{}));  // no FTS syntax leaks
}

TEST_F(IndexTest, NonTextFilters) {
  InsertRange(1, 40);
  auto run = [&](SearchQuery q) { return SearchAll(*idx_, q); };
  SearchQuery q;
  q.rule_id = "rule-2";
  EXPECT_EQ(run(q), (std::vector<CopyId>{38, 34, 30, 26, 22, 18, 14, 10, 6, 2}));
  q = {};
  q.engines = {"anti-virus"};
  EXPECT_EQ(run(q), (std::vector<CopyId>{40, 35, 30, 25, 20, 15, 10, 5}));
  q.engines = {"anti-virus", "anti-spam"};
  EXPECT_EQ(run(q).size(), 40u);
  q.engines = {"blacklist"};
  EXPECT_TRUE(run(q).empty());
  q.engines = {"no-such-engine"};
  EXPECT_EQ(idx_->Search(q).status().code(), Code::kInvalidArgument);
  q = {};
  q.size_ge = 1100;  // ids >= 10
  q.size_le = 1150;  // ids <= 15
  EXPECT_EQ(run(q), (std::vector<CopyId>{15, 14, 13, 12, 11, 10}));
  q = {};
  q.since = MakeEntry(30).meta.placed_at;
  q.until = MakeEntry(33).meta.placed_at;
  EXPECT_EQ(run(q), (std::vector<CopyId>{32, 31, 30}));
  q.since = MakeEntry(30).meta.placed_at - 1;  // between copies
  q.until = MakeEntry(33).meta.placed_at + 1;
  EXPECT_EQ(run(q), (std::vector<CopyId>{33, 32, 31, 30}));
  q.since = MakeEntry(41).meta.placed_at;  // after everything
  q.until.reset();
  EXPECT_TRUE(run(q).empty());
  q.since.reset();
  q.until = MakeEntry(1).meta.placed_at;  // before everything
  EXPECT_TRUE(run(q).empty());
  q = {};
  q.limit = 0;
  EXPECT_EQ(idx_->Search(q).status().code(), Code::kInvalidArgument);
}

// A reference for Search: every filter applied to every entry, by brute force.
bool ContainsNoCase(const std::string& hay, const std::string& needle) {
  auto lower = [](std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  return lower(hay).find(lower(needle)) != std::string::npos;
}

bool Matches(const CopyMeta& m, const SearchQuery& q) {
  std::string rcpt = EncodeRcpt(m.rcpt);
  if (!q.from.empty() && !ContainsNoCase(m.from, q.from) && !ContainsNoCase(m.mail_from, q.from))
    return false;
  if (!q.to.empty() && !ContainsNoCase(m.to, q.to) && !ContainsNoCase(m.cc, q.to) &&
      !ContainsNoCase(rcpt, q.to))
    return false;
  if (!q.subject.empty() && !ContainsNoCase(m.subject, q.subject)) return false;
  if (!q.message_id.empty() && !ContainsNoCase(m.message_id, q.message_id)) return false;
  if (!q.rule_id.empty() && m.rule_id != q.rule_id) return false;
  if (q.since && m.placed_at < *q.since) return false;
  if (q.until && m.placed_at >= *q.until) return false;
  if (q.size_le && m.size > *q.size_le) return false;
  if (q.size_ge && m.size < *q.size_ge) return false;
  if (!q.engines.empty()) {
    bool any = false;
    for (const auto& e : q.engines) any = any || m.statuses.count(e) > 0;
    if (!any) return false;
  }
  if (q.recipients) {
    auto lower = [](std::string s) {
      for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return s;
    };
    bool any = false;
    for (const std::string& want : *q.recipients) {
      for (const std::string& r : m.rcpt) any = any || lower(r) == lower(want);
    }
    if (!any) return false;
  }
  return true;
}

TEST_F(IndexTest, RandomQueriesAgreeWithBruteForce) {
  std::mt19937 rng(12345);
  const char* words[] = {"alpha",    "Bravo", "charlie", "DELTA", "echo",
                         "fox_trot", "golf%", "hotel",   "india", "juliet"};
  auto word = [&] { return std::string(words[rng() % std::size(words)]); };
  std::vector<CopyMeta> all;
  std::vector<Entry> batch;
  int64_t t = 1'700'000'000'000'000;
  for (CopyId id = 1; id <= 400; ++id) {
    Entry e = MakeEntry(id);
    t += 1 + rng() % 3 * 1000;  // some copies share nothing, placed_at only grows
    e.meta.placed_at = t;
    e.meta.from = word() + " <" + word() + "@" + word() + ".test>";
    e.meta.mail_from = word() + "@" + word() + ".test";
    e.meta.to = word() + "@" + word() + ".test";
    e.meta.cc = rng() % 2 ? word() + "@cc.test" : "";
    e.meta.rcpt = {word() + "@" + word() + ".test"};
    if (rng() % 3 == 0) e.meta.rcpt.push_back(word() + "@" + word() + ".test");
    e.meta.subject = word() + " " + word() + " " + word();
    e.meta.message_id = word() + "." + std::to_string(id) + "@mx.test";
    e.meta.size = rng() % 10000;
    e.meta.rule_id = "r" + std::to_string(rng() % 5);
    e.meta.statuses.clear();
    for (std::string_view eng : kEngines) {
      if (rng() % 4 == 0) e.meta.statuses[std::string(eng)] = "x";
    }
    all.push_back(e.meta);
    batch.push_back(e);
  }
  ASSERT_TRUE(idx_->Insert(batch, {}).ok());
  auto needle = [&] {
    std::string w = word();
    size_t len = 1 + rng() % w.size();
    size_t start = rng() % (w.size() - len + 1);
    std::string s = w.substr(start, len);
    if (rng() % 2) std::transform(s.begin(), s.end(), s.begin(), ::toupper);
    return s;
  };
  for (int i = 0; i < 300; ++i) {
    SearchQuery q;
    q.limit = 1 + rng() % 30;
    if (rng() % 3 == 0) q.from = needle();
    if (rng() % 3 == 0) q.to = needle();
    if (rng() % 3 == 0) q.subject = needle();
    if (rng() % 5 == 0) q.message_id = needle();
    if (rng() % 5 == 0) q.rule_id = "r" + std::to_string(rng() % 5);
    if (rng() % 4 == 0) q.since = all[rng() % all.size()].placed_at + rng() % 3 - 1;
    if (rng() % 4 == 0) q.until = all[rng() % all.size()].placed_at + rng() % 3 - 1;
    if (rng() % 4 == 0) q.size_le = rng() % 10000;
    if (rng() % 4 == 0) q.size_ge = rng() % 10000;
    if (rng() % 4 == 0) q.engines = {std::string(kEngines[rng() % std::size(kEngines)])};
    if (rng() % 3 == 0) {
      // A personal user's mailboxes: addresses that occur, in any case, and
      // sometimes one that does not or a substring (which must not match).
      q.recipients.emplace();
      for (int k = 0, n = static_cast<int>(rng() % 4); k < n; ++k) {
        std::string a = all[rng() % all.size()].rcpt[0];
        if (rng() % 2) std::transform(a.begin(), a.end(), a.begin(), ::toupper);
        if (rng() % 5 == 0) a = a.substr(1);
        q.recipients->push_back(a);
      }
    }
    std::vector<CopyId> want;
    for (auto it = all.rbegin(); it != all.rend(); ++it) {
      if (Matches(*it, q)) want.push_back(it->id);
    }
    EXPECT_EQ(SearchAll(*idx_, q), want)
        << "query " << i << " from=" << q.from << " to=" << q.to << " subject=" << q.subject;
  }
}

TEST_F(IndexTest, RecipientFilterIsExactCaseFoldedAndFollowsRemovals) {
  std::vector<Entry> batch;
  for (CopyId id = 1; id <= 6; ++id) {
    Entry e = MakeEntry(id);
    e.meta.rcpt = {id % 2 ? "Alice@Corp.Example" : "bob@corp.example"};
    if (id == 6) e.meta.rcpt = {"\xff@corp.example", "alice@corp.example.evil"};
    // Header To names alice everywhere: only the envelope counts.
    e.meta.to = "alice@corp.example";
    e.loc.segment = id;
    batch.push_back(e);
  }
  ASSERT_TRUE(idx_->Insert(batch, {}).ok());
  SearchQuery q;
  q.recipients = std::vector<std::string>{"ALICE@corp.example"};
  EXPECT_EQ(SearchAll(*idx_, q), (std::vector<CopyId>{5, 3, 1}));
  q.recipients = std::vector<std::string>{"alice@corp.example", "bob@corp.example"};
  q.limit = 2;
  EXPECT_EQ(SearchAll(*idx_, q), (std::vector<CopyId>{5, 4, 3, 2, 1}));
  // With a text filter too: the recipient set drives, LIKE rechecks.
  q.subject = "number 4";
  EXPECT_EQ(SearchAll(*idx_, q), (std::vector<CopyId>{4}));
  q.subject.clear();
  // An empty set, or one of no usable address, is nothing, never everything.
  q.recipients = std::vector<std::string>{};
  EXPECT_TRUE(SearchAll(*idx_, q).empty());
  q.recipients = std::vector<std::string>{"", "\xff@corp.example"};
  EXPECT_TRUE(SearchAll(*idx_, q).empty());
  q.recipients = std::vector<std::string>{"lice@corp.example"};
  EXPECT_TRUE(SearchAll(*idx_, q).empty());
  // Removal and eviction take the recipients along.
  ASSERT_TRUE(idx_->Remove({3}).ok());
  q.recipients = std::vector<std::string>{"alice@corp.example"};
  EXPECT_EQ(SearchAll(*idx_, q), (std::vector<CopyId>{5, 1}));
  ASSERT_TRUE(idx_->RemoveSegmentsUpTo(1).ok());
  EXPECT_EQ(SearchAll(*idx_, q), (std::vector<CopyId>{5}));
  ASSERT_TRUE(idx_->Clear().ok());
  EXPECT_TRUE(SearchAll(*idx_, q).empty());
}

TEST_F(IndexTest, ReadOnlyOpenRefusesWritesAndSeesNewCommits) {
  InsertRange(1, 10);
  auto ro = OpenIndex(path_, 1, /*read_only=*/true);
  ASSERT_NE(ro, nullptr);
  EXPECT_EQ(ro->Stats()->count, 10u);
  EXPECT_EQ(ro->Insert({MakeEntry(11)}, {}).code(), Code::kPermissionDenied);
  EXPECT_EQ(ro->Remove({1}).status().code(), Code::kPermissionDenied);
  EXPECT_EQ(ro->RemoveSegmentsUpTo(9).status().code(), Code::kPermissionDenied);
  EXPECT_EQ(ro->Clear().code(), Code::kPermissionDenied);
  InsertRange(11, 12);
  EXPECT_EQ(ro->Stats()->count, 12u);
  EXPECT_TRUE(ro->Get(12).ok());

  IndexOptions o;
  o.path = dir_.File("missing.db");
  o.read_only = true;
  EXPECT_TRUE(Index::Open(o, Key(1)).status().IsNotFound());
}

TEST_F(IndexTest, ReadOnlyFromAnotherProcessWhileWriterOpen) {
  InsertRange(1, 30, {2, 200});
  // The writer stays open (WAL holds the latest commits) while a child
  // process opens the index read-only.
  fflush(nullptr);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    IndexOptions o;
    o.path = path_;
    o.read_only = true;
    auto ro = Index::Open(o, Key(1));
    int code = 0;
    if (!ro.ok()) {
      code = 10;
    } else {
      SearchQuery q;
      q.subject = "number 2";
      auto page = (*ro)->Search(q);
      auto mark = (*ro)->GetWatermark();
      if (!page.ok() || page->items.size() != 11) code = 11;  // 2, 20-29
      if (!mark.ok() || !(*mark == Watermark{2, 200})) code = 12;
    }
    _exit(code);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  InsertRange(31, 32);  // the writer is unaffected
  EXPECT_EQ(idx_->Stats()->count, 32u);
}

TEST_F(IndexTest, SearchesRunWhileAnotherThreadInserts) {
  InsertRange(1, 100);
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (CopyId id = 101; id <= 2100; id += 100) InsertRange(id, id + 99);
    done = true;
  });
  size_t searches = 0;
  size_t last_count = 0;
  while (!done || searches == 0) {
    SearchQuery q;
    q.subject = "Invoice number";
    q.limit = 20;
    auto page = idx_->Search(q);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    ASSERT_EQ(page->items.size(), 20u);
    auto st = idx_->Stats();
    ASSERT_TRUE(st.ok());
    EXPECT_GE(st->count, last_count);  // commits appear whole and in order
    EXPECT_EQ(st->count % 100, 0u);
    last_count = st->count;
    ++searches;
  }
  writer.join();
  EXPECT_EQ(idx_->Stats()->count, 2100u);
}

TEST_F(IndexTest, WrongKeyIsCorruption) {
  InsertRange(1, 5);
  idx_.reset();
  for (bool read_only : {false, true}) {
    IndexOptions o;
    o.path = path_;
    o.read_only = read_only;
    auto other = Index::Open(o, Key(2));
    ASSERT_FALSE(other.ok());
    EXPECT_TRUE(other.status().IsCorruption()) << other.status().ToString();
    EXPECT_NE(other.status().message().find("wrong index key"), std::string::npos)
        << other.status().message();
  }
  Reopen();  // the right key still opens it: nothing was written
  EXPECT_EQ(idx_->Stats()->count, 5u);
}

TEST_F(IndexTest, NotAnIndexIsCorruption) {
  idx_.reset();
  WriteAll(path_, std::string(3 * 4096, 'x'));
  fs::remove(path_ + "-wal");
  IndexOptions o;
  o.path = path_;
  EXPECT_TRUE(Index::Open(o, Key(1)).status().IsCorruption());
}

// No field of any copy may be on disk in clear: grep every file of the
// directory, while the WAL holds frames, after checkpoints and after reopen.
TEST_F(IndexTest, NoClearTextInAnyFile) {
  const std::vector<std::string> canaries = {"ZebraQuokkaSubject4711",
                                             "quokka.unique@zebra-test.example",
                                             "MsgIdPangolin8812",
                                             "RuleOkapi5521",
                                             "ReasonNarwhal3310",
                                             "AttachAxolotl.pdf",
                                             "QueueTapir77",
                                             "envelope.ibex@rcpt-test.example",
                                             "CcDugong@corp-test.example",
                                             "Sandbox-Label-Margay"};
  // The grep itself can find things.
  WriteAll(dir_.File("probe"), "xx" + canaries[0] + "yy");
  ASSERT_EQ(FilesContaining(dir_.path(), canaries[0]), (std::vector<std::string>{"probe"}));
  fs::remove(dir_.File("probe"));

  auto check = [&](const std::string& when) {
    // Each file is read once and searched for every needle.
    for (const auto& f : fs::directory_iterator(dir_.path())) {
      if (!f.is_regular_file()) continue;
      const std::string bytes = ReadAll(f.path().string());
      for (const std::string& c : canaries) {
        for (const std::string& needle : {c, c.substr(0, 10), c.substr(c.size() - 10)}) {
          EXPECT_EQ(bytes.find(needle), std::string::npos)
              << when << ": " << needle << " in " << f.path().filename();
        }
      }
    }
  };
  CopyId next = 1;
  auto insert_batches = [&](int batches) {
    for (int b = 0; b < batches; ++b) {
      std::vector<Entry> batch;
      for (int i = 0; i < 100; ++i) {
        Entry e = MakeEntry(next++);
        e.meta.subject = canaries[0] + " " + std::to_string(e.meta.id);
        e.meta.from = "Quokka <" + canaries[1] + ">";
        e.meta.message_id = canaries[2] + "." + std::to_string(e.meta.id);
        e.meta.rule_id = canaries[3];
        e.meta.reason = canaries[4];
        e.meta.attachments = {{canaries[5], "application/pdf", 10}};
        e.meta.queue_id = canaries[6];
        e.meta.rcpt = {canaries[7]};
        e.meta.cc = canaries[8];
        e.meta.statuses = {{"external", canaries[9]}};
        e.meta.bcc = canaries[7];
        e.meta.mail_from = canaries[1];
        batch.push_back(e);
      }
      ASSERT_TRUE(idx_->Insert(batch, {1, next}).ok());
    }
  };
  insert_batches(3);
  ASSERT_GT(fs::file_size(path_ + "-wal"), 0u);
  check("WAL with frames");
  insert_batches(40);  // 4000 copies: several automatic checkpoints
  check("after checkpoints");
  Reopen();
  check("after reopen");
  idx_->Remove({1, 2, 3}).status().IgnoreError();
  ASSERT_TRUE(idx_->RemoveSegmentsUpTo(3).ok());
  idx_.reset();  // the last close checkpoints into the database
  check("after close");
  Reopen();
  SearchQuery q;
  q.subject = canaries[0];
  q.limit = 10;
  auto page = idx_->Search(q);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->items.size(), 10u);  // the canaries are really in there
}

// Flips one bit in every page slot of the database file from `first_slot` on.
void DamagePages(const std::string& path, size_t first_slot) {
  std::string raw = ReadAll(path);
  for (size_t slot = first_slot; slot * 4096 < raw.size(); ++slot) raw[slot * 4096 + 100] ^= 4;
  WriteAll(path, raw);
}

TEST_F(IndexTest, DamagedPagesAreCorruptionNotACrash) {
  InsertRange(1, 300);
  idx_.reset();
  const std::string pristine = ReadAll(path_);
  ASSERT_GT(pristine.size(), 10u * 4096);

  DamagePages(path_, 0);  // page 1 too: Open fails
  IndexOptions o;
  o.path = path_;
  auto bad = Index::Open(o, Key(1));
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.status().IsCorruption()) << bad.status().ToString();

  WriteAll(path_, pristine);
  DamagePages(path_, 1);  // everything but page 1
  auto idx = Index::Open(o, Key(1));
  Status s = idx.status();
  if (idx.ok()) {  // Open read only page 1; the first real read fails
    s = (*idx)->ForEach([](const Entry&) { return true; });
    EXPECT_FALSE(s.ok());
    SearchQuery q;
    q.subject = "Invoice";
    EXPECT_TRUE((*idx)->Search(q).status().IsCorruption());
    EXPECT_TRUE((*idx)->Get(5).status().IsCorruption());
  }
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
}

// One page in the middle overwritten (as a disk or a stray write would):
// the full check finds it although opening and the watermark do not.
TEST_F(IndexTest, CheckIndexFileFindsOneOverwrittenPage) {
  InsertRange(1, 300, {3, 999});
  idx_.reset();
  EXPECT_TRUE(CheckIndexFile(path_, Key(1)).ok());
  std::string bytes = ReadAll(path_);
  const size_t pages = bytes.size() / 4096;
  ASSERT_GT(pages, 10u);
  for (size_t i = 0; i < 4096; ++i) bytes[(pages / 2) * 4096 + i] = static_cast<char>(i * 31);
  WriteAll(path_, bytes);
  idx_ = OpenIndex(path_);
  ASSERT_NE(idx_, nullptr);
  EXPECT_EQ(idx_->GetWatermark()->offset, 999u);  // cheap reads do not meet the page
  Status s = CheckIndexFile(path_, Key(1));
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
}

TEST_F(IndexTest, AStoppedCheckIsNoVerdict) {
  InsertRange(1, 300);
  idx_.reset();
  std::atomic<bool> stop{true};
  Status stopped = CheckIndexFile(path_, Key(1), &stop);
  EXPECT_FALSE(stopped.ok());
  EXPECT_FALSE(stopped.IsCorruption()) << stopped.ToString();
}

TEST_F(IndexTest, EntriesEndingAfterListsWhatACutSegmentLost) {
  InsertRange(1, 40);  // MakeEntry: segment 1 + id/10, offset id*100, length 100+id
  auto lost = idx_->EntriesEndingAfter(2, 1500);
  ASSERT_TRUE(lost.ok()) << lost.status().ToString();
  std::vector<CopyId> ids;
  for (const Entry& e : *lost) ids.push_back(e.meta.id);
  // Segment 2 holds ids 10..19; id 13 ends at 1300 + 113 = 1413, id 14 at 1514.
  EXPECT_EQ(ids, (std::vector<CopyId>{14, 15, 16, 17, 18, 19}));
}

TEST_F(IndexTest, DamagedWalFrameIsCorruptionForAReader) {
  InsertRange(1, 50);
  const std::string wal = path_ + "-wal";
  std::string raw = ReadAll(wal);
  ASSERT_GT(raw.size(), 32u + 4120);
  for (size_t frame = 0; 32 + (frame + 1) * 4120 <= raw.size(); ++frame) {
    raw[32 + frame * 4120 + 24 + 200] ^= 1;  // the page, not the clear frame header
  }
  WriteAll(wal, raw);
  // A new reader has nothing cached and reads the frames.
  IndexOptions o;
  o.path = path_;
  o.read_only = true;
  auto ro = Index::Open(o, Key(1));
  Status s = ro.ok() ? (*ro)->Get(7).status() : ro.status();
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
}

// Copies the database and its WAL (not the -shm) while the writer is open:
// what a crash leaves. Opening the copy runs WAL recovery through the VFS.
void CopyCrashImage(const std::string& from, const std::string& to) {
  fs::copy_file(from, to);
  fs::copy_file(from + "-wal", to + "-wal");
}

TEST_F(IndexTest, WalRecoveryAfterACrash) {
  InsertRange(1, 20, {1, 100});
  InsertRange(21, 40, {1, 200});
  const std::string crash = dir_.File("crash.db");
  CopyCrashImage(path_, crash);
  auto copy = OpenIndex(crash);
  ASSERT_NE(copy, nullptr);
  EXPECT_EQ(copy->Stats()->count, 40u);
  EXPECT_EQ(copy->GetWatermark().value(), (Watermark{1, 200}));
  SearchQuery q;
  q.from = "sender33@";
  EXPECT_EQ(SearchAll(*copy, q), (std::vector<CopyId>{33}));
}

TEST_F(IndexTest, TornLastCommitIsDroppedByRecovery) {
  InsertRange(1, 20, {1, 100});
  const uint64_t wal_before = fs::file_size(path_ + "-wal");
  InsertRange(21, 40, {1, 200});
  const std::string crash = dir_.File("crash.db");
  CopyCrashImage(path_, crash);
  // Damage the page of the last frame (the commit frame of the second
  // batch), as a torn write would.
  std::string wal = ReadAll(crash + "-wal");
  ASSERT_GT(wal.size(), wal_before);
  wal[wal.size() - 100] ^= 1;
  WriteAll(crash + "-wal", wal);
  auto copy = OpenIndex(crash);
  ASSERT_NE(copy, nullptr);
  EXPECT_EQ(copy->GetWatermark().value(), (Watermark{1, 100}));
  EXPECT_EQ(copy->Stats()->count, 20u);
  EXPECT_TRUE(copy->Get(20).ok());
  EXPECT_TRUE(copy->Get(21).status().IsNotFound());
}

// Rough numbers for the report; asserts nothing about speed.
TEST(IndexPerf, DISABLED_InsertAndSearch100k) {
  TempDir dir;
  auto idx = OpenIndex(dir.File("perf.db"));
  ASSERT_NE(idx, nullptr);
  using Clock = std::chrono::steady_clock;
  auto t0 = Clock::now();
  constexpr CopyId kRows = 100'000;
  for (CopyId id = 1; id <= kRows; id += 100) {
    std::vector<Entry> batch;
    for (CopyId i = id; i < id + 100; ++i) batch.push_back(MakeEntry(i));
    ASSERT_TRUE(idx->Insert(batch, {1, id}).ok());
  }
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("insert: %.0f rows/s (batches of 100)\n", kRows / secs);
  auto time = [&](const char* what, SearchQuery q) {
    auto s = Clock::now();
    size_t n = 0;
    for (int i = 0; i < 20; ++i) n = idx->Search(q)->items.size();
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - s).count() / 20;
    std::printf("search %-32s %8.3f ms (%zu items)\n", what, ms, n);
  };
  SearchQuery q;
  time("newest page", q);
  q.subject = "number 4242";
  time("subject rare", q);
  q = {};
  q.from = "example.org";
  time("from common", q);
  q = {};
  q.from = "sender77777@";
  time("from rare", q);
  q = {};
  q.to = "user3";
  q.rule_id = "rule-1";
  time("to + rule", q);
  q = {};
  q.subject = "zz";
  time("short, no match (scan)", q);
  q = {};
  q.since = MakeEntry(50'000).meta.placed_at;
  q.until = MakeEntry(50'100).meta.placed_at;
  q.subject = "number";
  time("time window + text", q);
  q = {};
  q.engines = {"anti-virus"};
  q.size_ge = 500'000;
  time("engine + size, no match (scan)", q);
  idx.reset();
  std::printf("db size: %.1f MB\n", fs::file_size(dir.File("perf.db")) / 1e6);
}

}  // namespace
}  // namespace mailvault::index
