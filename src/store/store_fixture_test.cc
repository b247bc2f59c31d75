// A store written by the last build whose records held version-1 (JSON)
// metadata, kept in src/store/testdata/store-v1/ (made by
// src/store/testdata/make-store-v1.sh): it must keep opening, reading and
// verifying, and take new copies beside the old ones.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "mailvault/store.h"
#include "testutil/temp_dir.h"

namespace mailvault {
namespace {

namespace fs = std::filesystem;

// The two messages make-store-v1.sh put, byte for byte.
const char kFirst[] =
    "From: Alice <alice@example.com>\r\nTo: bob@example.org\r\nSubject: Quarterly report\r\n"
    "Message-ID: <v1-first@example.com>\r\nDate: Sun, 22 Nov 2026 08:00:00 +0000\r\n\r\n"
    "First message, stored with version-1 metadata.\r\n";
const char kSecond[] =
    "From: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= <g@example.net>\r\nTo: carol@example.org\r\n"
    "Subject: Invoice\r\nMIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n"
    "see attached\r\n--b\r\nContent-Type: application/pdf\r\n"
    "Content-Disposition: attachment; filename=invoice.pdf\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--\r\n";

TEST(StoreFixture, VersionOneStoreOpensReadsVerifiesAndGrows) {
  TempDir tmp;
  const fs::path dir = fs::path(tmp.path()) / "store";
  fs::copy(fs::path(MV_SOURCE_DIR) / "src/store/testdata/store-v1", dir,
           fs::copy_options::recursive);
  // git keeps no modes: give the copy the ones `mailvault init` makes.
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace);
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    fs::permissions(
        e.path(),
        e.is_directory() ? fs::perms::owner_all : fs::perms::owner_read | fs::perms::owner_write,
        fs::perm_options::replace);
  }
  StoreOptions o;
  o.dir = dir.string();
  auto store = Store::Open(o);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  // Its index (schema 2) was upgraded in place, not set aside and rebuilt.
  for (const auto& e : fs::directory_iterator(dir)) {
    EXPECT_EQ(e.path().filename().string().find("damaged"), std::string::npos) << e.path();
  }

  auto first = (*store)->Get(1);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->subject, "Quarterly report");
  EXPECT_EQ(first->mail_from, "alice@example.com");
  EXPECT_EQ(first->rcpt, std::vector<std::string>{"bob@example.org"});
  EXPECT_EQ(first->rule_id, "R1");
  EXPECT_EQ(first->statuses.at("anti-spam"), "spam");
  EXPECT_EQ(first->reason, "GTUBE");
  EXPECT_EQ(*(*store)->Read(1), kFirst);
  auto second = (*store)->Get(2);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->from, "Grüße <g@example.net>");
  ASSERT_EQ(second->attachments.size(), 1u);
  EXPECT_EQ(second->attachments[0].name, "invoice.pdf");
  EXPECT_EQ(*(*store)->Read(2), kSecond);
  // The upgrade filled the recipient table (index schema 4) from the copies
  // already indexed: a personal user's search finds them.
  SearchQuery mine_only;
  mine_only.recipients = std::vector<std::string>{"Bob@Example.org"};
  auto bobs = (*store)->Search(mine_only);
  ASSERT_TRUE(bobs.ok()) << bobs.status().ToString();
  ASSERT_EQ(bobs->items.size(), 1u);
  EXPECT_EQ(bobs->items[0].id, 1u);

  // A new copy (version 2) beside them, with an envelope that is not UTF-8.
  PutRequest r;
  r.raw = kFirst;
  r.mail_from = "m\xfcller@example.org";
  r.rcpt = {"\xff@example.org"};
  r.statuses = {{"anti-virus", "infected"}};
  auto id = (*store)->Put(r);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  auto report = (*store)->Verify();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->problems.empty()) << report->problems.front();
  EXPECT_EQ(report->checked, 3u);

  // After a rebuild from the segments alone, both versions read the same.
  ASSERT_TRUE((*store)->RebuildIndex().ok());
  EXPECT_EQ(*(*store)->Get(1), *first);
  auto mine = (*store)->Get(*id);
  ASSERT_TRUE(mine.ok());
  EXPECT_EQ(mine->mail_from, r.mail_from);
  EXPECT_EQ(mine->rcpt, r.rcpt);
}

// A data dir from before the policy left the store keeps its size cap in
// settings.json (src/policy/testdata/settings-v1.json, written by
// `mailvault settings set` of that version: max_size 50MB). The store reads
// it from there until SetMaxSize keeps it in store.json; settings.json, the
// policy's file since, is never written by the store.
TEST(StoreFixture, SizeCapOfAnOlderSettingsFileIsKept) {
  TempDir tmp;
  const fs::path dir = fs::path(tmp.path()) / "store";
  fs::copy(fs::path(MV_SOURCE_DIR) / "src/store/testdata/store-v1", dir,
           fs::copy_options::recursive);
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace);
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    fs::permissions(
        e.path(),
        e.is_directory() ? fs::perms::owner_all : fs::perms::owner_read | fs::perms::owner_write,
        fs::perm_options::replace);
  }
  fs::copy_file(fs::path(MV_SOURCE_DIR) / "src/policy/testdata/settings-v1.json",
                dir / "settings.json", fs::copy_options::overwrite_existing);
  auto read_file = [](const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const std::string policy_file = read_file(dir / "settings.json");
  StoreOptions o;
  o.dir = dir.string();
  {
    // A writer first: it upgrades the fixture's index, which a reader cannot.
    auto store = Store::Open(o);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EXPECT_EQ((*store)->max_size(), 50'000'000u);
  }
  o.read_only = true;
  {
    auto store = Store::Open(o);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EXPECT_EQ((*store)->max_size(), 50'000'000u);
    EXPECT_EQ((*store)->Stats()->max_bytes, 50'000'000u);
    EXPECT_EQ((*store)->SetMaxSize(60'000'000).code(), Code::kUnavailable);
  }
  o.read_only = false;
  {
    auto store = Store::Open(o);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EXPECT_EQ((*store)->max_size(), 50'000'000u);
    EXPECT_EQ((*store)->SetMaxSize(0).code(), Code::kInvalidArgument);
    ASSERT_TRUE((*store)->SetMaxSize(60'000'000).ok());
  }
  auto store = Store::Open(o);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ((*store)->max_size(), 60'000'000u);
  EXPECT_NE(read_file(dir / "store.json").find("\"max_size\": 60000000"), std::string::npos);
  EXPECT_NE(read_file(dir / "store.json").find("\"format\": 1"), std::string::npos);
  EXPECT_EQ(read_file(dir / "settings.json"), policy_file);
}

}  // namespace
}  // namespace mailvault
