// The audit database as the mailvault of commit ba8486a wrote it (schema 1,
// before src/db/ existed): testdata/audit-v1, made by
// src/db/testdata/make-dbs-v1.sh (one event: `mailvault deliver`). It must
// still open, read and take writes.
#include <gtest/gtest.h>

#include "crypto/keyring.h"
#include "env/data_dir.h"
#include "env/env.h"
#include "journal/audit_log.h"
#include "testutil/fixture_dir.h"
#include "testutil/temp_dir.h"

namespace mailvault::journal {
namespace {

TEST(AuditFixture, AnAuditLogWrittenByThePreviousVersionOpensReadsAndGrows) {
  TempDir tmp;
  const std::string dir = CopyFixtureDir(
      std::string(MV_SOURCE_DIR) + "/src/journal/testdata/audit-v1", tmp.path() + "/data");
  auto keys = crypto::KeyRing::Open(*PosixEnv(), DataDir(dir).keys(), /*need_secrets=*/false);
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  AuditOptions o;
  o.data_dir = dir;
  o.read_only = true;
  {
    auto ro = AuditLog::Open(*PosixEnv(), **keys, o);
    ASSERT_TRUE(ro.ok()) << ro.status().ToString();
    auto page = (*ro)->List({});
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    ASSERT_EQ(page->items.size(), 1u);
    const AuditEvent& e = page->items[0];
    EXPECT_EQ(e.id, 1);
    EXPECT_EQ(e.account, "cli:0");
    EXPECT_EQ(e.role, "cli");
    EXPECT_EQ(e.client, "local");
    EXPECT_EQ(e.action, "deliver");
    EXPECT_EQ(e.copy_ids, std::vector<uint64_t>{1});
    EXPECT_EQ(e.result, "ok");
    EXPECT_EQ(e.detail, "to original recipients, carol@example.org (as-is)");
    AuditQuery by_copy;
    by_copy.copy_id = 1;
    EXPECT_EQ((*ro)->List(by_copy)->items.size(), 1u);
  }
  o.read_only = false;
  o.max_records = 0;  // keep the file's cap
  auto rw = AuditLog::Open(*PosixEnv(), **keys, o);
  ASSERT_TRUE(rw.ok()) << rw.status().ToString();
  AuditEvent next;
  next.account = "cli:0";
  next.role = "cli";
  next.client = "local";
  next.action = "delete";
  next.copy_ids = {1};
  next.result = "ok";
  ASSERT_TRUE((*rw)->Record(next).ok());
  auto page = (*rw)->List({});
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->items.size(), 2u);
  EXPECT_EQ(page->items[0].id, 2);
  EXPECT_EQ(page->items[0].action, "delete");
}

}  // namespace
}  // namespace mailvault::journal
