// The delivery queue as the mailvault of commit ba8486a wrote it (schema 2,
// before src/db/ existed): testdata/queue-v2, made by
// src/db/testdata/make-dbs-v1.sh (`mailvault deliver --original --to
// carol@example.org 1`). It must still open, read and take writes.
#include <gtest/gtest.h>

#include "crypto/keyring.h"
#include "delivery/open_queue.h"
#include "env/data_dir.h"
#include "env/env.h"
#include "testutil/fixture_dir.h"
#include "testutil/temp_dir.h"

namespace mailvault::delivery {
namespace {

TEST(QueueFixture, AQueueWrittenByThePreviousVersionOpensReadsAndGrows) {
  TempDir tmp;
  const std::string dir = CopyFixtureDir(
      std::string(MV_SOURCE_DIR) + "/src/delivery/testdata/queue-v2", tmp.path() + "/data");
  auto keys = crypto::KeyRing::Open(*PosixEnv(), DataDir(dir).keys(), /*need_secrets=*/false);
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  {
    auto ro = OpenQueue(*PosixEnv(), DataDir(dir), **keys, /*read_only=*/true);
    ASSERT_TRUE(ro.ok()) << ro.status().ToString();
    auto entries = (*ro)->ForCopy(1);
    ASSERT_TRUE(entries.ok()) << entries.status().ToString();
    ASSERT_EQ(entries->size(), 2u);
    const DeliveryEntry& bob = (*entries)[0];
    EXPECT_EQ(bob.id, 1u);
    EXPECT_EQ(bob.request, 1u);
    EXPECT_EQ(bob.rcpt, "bob@example.org");
    EXPECT_TRUE(bob.original);
    EXPECT_EQ(bob.mail_from, "alice@example.com");
    EXPECT_EQ(bob.format, DeliveryFormat::kAsIs);
    EXPECT_EQ(bob.state, DeliveryState::kQueued);
    EXPECT_EQ(bob.requested_by, "cli:0");
    EXPECT_EQ(bob.expires_at - bob.created_at, int64_t{5} * 24 * 3600 * 1000000);
    EXPECT_EQ((*entries)[1].rcpt, "carol@example.org");
    EXPECT_FALSE((*entries)[1].original);
    EXPECT_EQ((*ro)->Counts()->queued, 2u);
  }
  auto queue = OpenQueue(*PosixEnv(), DataDir(dir), **keys, /*read_only=*/false);
  ASSERT_TRUE(queue.ok()) << queue.status().ToString();
  // Its counters carry on: no id or request is handed out twice.
  DeliveryEntry e;
  e.copy_id = 1;
  e.rcpt = "dave@example.org";
  e.created_at = e.next_attempt_at = 1;
  e.expires_at = 2;
  auto added = (*queue)->Enqueue({e});
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  EXPECT_EQ((*added)[0].id, 3u);
  EXPECT_EQ((*added)[0].request, 2u);
  auto consumed = (*queue)->ConsumeRelease("00ff", /*expires_at=*/2000, /*now=*/1000);
  ASSERT_TRUE(consumed.ok()) << consumed.status().ToString();
  EXPECT_TRUE(*consumed);
  EXPECT_EQ((*queue)->Counts()->queued, 3u);
}

}  // namespace
}  // namespace mailvault::delivery
