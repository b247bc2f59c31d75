// The accounts database as the mailvault of commit ba8486a wrote it
// (schema 2, before src/db/ existed): testdata/accounts-v2, made by
// src/db/testdata/make-dbs-v1.sh (`mailvault user add` Helen, helpdesk, then
// disabled; ada, administrator). It must still open, read and take writes.
#include <gtest/gtest.h>

#include "crypto/keyring.h"
#include "directory/accounts.h"
#include "env/data_dir.h"
#include "env/env.h"
#include "testutil/fixture_dir.h"
#include "testutil/temp_dir.h"

namespace mailvault::directory {
namespace {

using crypto::kTestCost;

TEST(AccountsFixture, AccountsWrittenByThePreviousVersionOpenReadAndGrow) {
  TempDir tmp;
  const std::string dir = CopyFixtureDir(
      std::string(MV_SOURCE_DIR) + "/src/directory/testdata/accounts-v2", tmp.path() + "/data");
  auto keys = crypto::KeyRing::Open(*PosixEnv(), DataDir(dir).keys(), /*need_secrets=*/false);
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  {
    auto ro = Accounts::Open(*PosixEnv(), DataDir(dir), **keys, /*read_only=*/true, kTestCost);
    ASSERT_TRUE(ro.ok()) << ro.status().ToString();
    auto list = (*ro)->List();
    ASSERT_TRUE(list.ok()) << list.status().ToString();
    ASSERT_EQ(list->size(), 2u);
    EXPECT_EQ((*list)[0].name, "ada");
    EXPECT_EQ((*list)[0].role, Role::kAdministrator);
    EXPECT_FALSE((*list)[0].disabled);
    EXPECT_EQ((*list)[1].name, "helen");  // stored lower case
    EXPECT_EQ((*list)[1].role, Role::kHelpdesk);
    EXPECT_TRUE((*list)[1].disabled);
    EXPECT_GT((*list)[1].sessions_ended_at, (*list)[1].password_changed_at);
    // The password hash came through as written.
    auto ada = (*ro)->Authenticate("ada", "fixture-password-2");
    ASSERT_TRUE(ada.ok()) << ada.status().ToString();
    EXPECT_EQ((*ro)->Authenticate("ada", "fixture-password-1").status().code(),
              Code::kPermissionDenied);
    // Read as if migrated to schema 3: no addresses, default settings.
    EXPECT_TRUE((*list)[0].addresses.empty());
    auto settings = (*ro)->GetPersonalSettings();
    ASSERT_TRUE(settings.ok()) << settings.status().ToString();
    EXPECT_FALSE(settings->enabled);
  }
  auto rw = Accounts::Open(*PosixEnv(), DataDir(dir), **keys, /*read_only=*/false, kTestCost);
  ASSERT_TRUE(rw.ok()) << rw.status().ToString();
  ASSERT_TRUE((*rw)->Add("zoe", Role::kAuditor, "a-new-password").ok());
  ASSERT_TRUE((*rw)->SetDisabled("helen", false).ok());
  // The writer migrated it to schema 3: personal accounts and settings.
  ASSERT_TRUE((*rw)->Add("pat", Role::kPersonal, "a-new-password", {"pat@example.com"}).ok());
  PersonalSettings on;
  on.enabled = true;
  ASSERT_TRUE((*rw)->PutPersonalSettings(on).ok());
  rw->reset();
  auto again = Accounts::Open(*PosixEnv(), DataDir(dir), **keys, /*read_only=*/true, kTestCost);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ((*again)->List()->size(), 4u);
  EXPECT_EQ((*again)->Get("pat")->addresses, std::vector<std::string>{"pat@example.com"});
  EXPECT_TRUE((*again)->GetPersonalSettings()->enabled);
  EXPECT_FALSE((*again)->Get("helen")->disabled);
}

}  // namespace
}  // namespace mailvault::directory
