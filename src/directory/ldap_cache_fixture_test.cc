// The LDAP cache as this version (schema 1) wrote it: testdata/ldap-v1
// (keys + ldap.db), made by DISABLED_WriteFixture below (run it with
// --gtest_also_run_disabled_tests --gtest_filter='*WriteFixture' after
// deleting the directory). Later versions must still open, read and
// replace it; a schema change adds a migration, never edits version 1.
#include <gtest/gtest.h>

#include <filesystem>

#include "crypto/keyring.h"
#include "directory/ldap_cache_db.h"
#include "env/data_dir.h"
#include "env/env.h"
#include "testutil/fixture_dir.h"
#include "testutil/temp_dir.h"

namespace mailvault::directory {
namespace {

const std::string kFixture = std::string(MV_SOURCE_DIR) + "/src/directory/testdata/ldap-v1";

LdapOptions Options() {
  LdapOptions o;
  o.servers = {"ldap://127.0.0.1"};
  o.base_dn = "dc=example,dc=com";
  return o;
}

TEST(LdapCacheFixture, DISABLED_WriteFixture) {
  ASSERT_FALSE(std::filesystem::exists(kFixture)) << "delete " << kFixture << " first";
  DataDir data(kFixture);
  ASSERT_TRUE(PosixEnv()->CreateDir(kFixture).ok());
  auto keys = crypto::KeyRing::Create(*PosixEnv(), data.keys());
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  SyncInput in;
  in.groups.push_back({"cn=staff,ou=groups,dc=example,dc=com", {}});
  in.users.push_back({"uid=ada,ou=people,dc=example,dc=com",
                      {{"uid", {"ada"}},
                       {"cn", {"Ada Lovelace"}},
                       {"mail", {"ada@example.com"}},
                       {"proxyaddresses", {"SMTP:ada@example.com", "smtp:al@example.com"}},
                       {"memberof", {"cn=staff,ou=groups,dc=example,dc=com"}}}});
  in.mailboxes.push_back({"cn=shared,ou=people,dc=example,dc=com",
                          {{"mail", {"shared@example.com"}},
                           {"msexchdelegatelistlink", {"cn=staff,ou=groups,dc=example,dc=com"}}}});
  auto snap = BuildSnapshot(Options(), in);
  ASSERT_TRUE(snap.ok());
  auto db =
      LdapCacheDb::Open(data.ldap_cache(), (*keys)->Derived(crypto::KeyPurpose::kLdapCache), false);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  LdapSyncState st;
  st.last_attempt = st.last_success = 1'796'000'000'000'000;
  st.server = "ldaps://dc1.example.com:636";
  st.users = 1;
  st.mailboxes = 1;
  st.groups = 1;
  st.delegations = 1;
  ASSERT_TRUE((*db)->Replace(*snap, st).ok());
}

TEST(LdapCacheFixture, CacheWrittenByVersion1OpensReadsAndIsReplaced) {
  TempDir tmp;
  const std::string dir = CopyFixtureDir(kFixture, tmp.path() + "/data");
  DataDir data(dir);
  auto keys = crypto::KeyRing::Open(*PosixEnv(), data.keys(), /*need_secrets=*/false);
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  const crypto::SymmetricKey key = (*keys)->Derived(crypto::KeyPurpose::kLdapCache);
  {
    auto ro = LdapCacheDb::Open(data.ldap_cache(), key, true);
    ASSERT_TRUE(ro.ok()) << ro.status().ToString();
    auto ada = (*ro)->FindByLogin("ADA");
    ASSERT_TRUE(ada.ok()) << ada.status().ToString();
    EXPECT_EQ(ada->name, "Ada Lovelace");
    EXPECT_EQ(ada->addresses, (std::vector<std::string>{"ada@example.com", "al@example.com"}));
    EXPECT_EQ(ada->groups, std::vector<std::string>{"cn=staff,ou=groups,dc=example,dc=com"});
    auto d = (*ro)->DelegatedTo(ada->dn);
    ASSERT_TRUE(d.ok());
    ASSERT_EQ(d->size(), 1u);
    EXPECT_EQ((*d)[0].mailbox.addresses, std::vector<std::string>{"shared@example.com"});
    EXPECT_EQ((*d)[0].via, std::vector<std::string>{"cn=staff,ou=groups,dc=example,dc=com"});
    auto st = (*ro)->State();
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->last_success, 1'796'000'000'000'000);
    EXPECT_EQ(st->server, "ldaps://dc1.example.com:636");
  }
  auto rw = LdapCacheDb::Open(data.ldap_cache(), key, false);
  ASSERT_TRUE(rw.ok()) << rw.status().ToString();
  ASSERT_TRUE((*rw)->Replace(Snapshot(), LdapSyncState()).ok());
  EXPECT_EQ((*rw)->FindByLogin("ada").status().code(), Code::kNotFound);
}

}  // namespace
}  // namespace mailvault::directory
