// The LDAP cache database: what a snapshot becomes, the atomic swap, a
// failed sync that only notes its error, ambiguous logins, another
// process's view, and no address in clear on disk.
#include "directory/ldap_cache_db.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "crypto/keyring.h"
#include "testutil/temp_dir.h"

namespace mailvault::directory {
namespace {

crypto::SymmetricKey Key(uint8_t fill) {
  crypto::SymmetricKey k;
  k.fill(fill);
  return k;
}

LdapOptions Options() {
  LdapOptions o;
  o.enabled = true;
  o.servers = {"ldap://127.0.0.1"};
  o.base_dn = "dc=example,dc=com";
  return o;
}

LdapEntry E(std::string dn, std::map<std::string, std::vector<std::string>> attrs) {
  return LdapEntry{std::move(dn), std::move(attrs)};
}

// dan (direct delegate of sales), erin (in helpdesk, in support, which is
// delegated support-box), and the two mailboxes.
Snapshot First() {
  SyncInput in;
  in.groups.push_back(
      E("cn=helpdesk,dc=example,dc=com", {{"memberof", {"cn=support,dc=example,dc=com"}}}));
  in.groups.push_back(E("cn=support,dc=example,dc=com", {}));
  in.users.push_back(E("uid=dan,dc=example,dc=com",
                       {{"uid", {"dan"}}, {"mail", {"Dan@Example.com"}}, {"cn", {"Dan"}}}));
  in.users.push_back(
      E("uid=erin,dc=example,dc=com", {{"uid", {"erin"}},
                                       {"mail", {"erin@example.com"}},
                                       {"proxyaddresses", {"smtp:e@example.com"}},
                                       {"memberof", {"cn=helpdesk,dc=example,dc=com"}}}));
  in.mailboxes.push_back(
      E("cn=sales,dc=example,dc=com", {{"mail", {"sales@example.com"}},
                                       {"msexchdelegatelistlink", {"uid=dan,dc=example,dc=com"}}}));
  in.mailboxes.push_back(E("cn=support-box,dc=example,dc=com",
                           {{"mail", {"support@example.com"}},
                            {"msexchdelegatelistlink", {"cn=support,dc=example,dc=com"}}}));
  return *BuildSnapshot(Options(), in);
}

Snapshot Second() {
  SyncInput in;
  in.users.push_back(E("uid=zoe,dc=example,dc=com", {{"uid", {"zoe"}}, {"mail", {"z@x.com"}}}));
  return *BuildSnapshot(Options(), in);
}

LdapSyncState StateAt(int64_t t) {
  LdapSyncState s;
  s.last_attempt = s.last_success = t;
  s.server = "ldaps://dc1.example.com:636";
  s.users = 2;
  return s;
}

TEST(LdapCacheDb, SnapshotRoundTrips) {
  TempDir tmp;
  auto db = LdapCacheDb::Open(tmp.path() + "/ldap.db", Key(1), false);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_EQ((*db)->State()->last_success, 0);
  ASSERT_TRUE((*db)->Replace(First(), StateAt(100)).ok());
  auto dan = (*db)->FindByLogin("DAN");
  ASSERT_TRUE(dan.ok()) << dan.status().ToString();
  EXPECT_EQ(dan->dn, "uid=dan,dc=example,dc=com");
  EXPECT_EQ(dan->name, "Dan");
  EXPECT_EQ(dan->addresses, std::vector<std::string>{"dan@example.com"});
  EXPECT_TRUE(dan->is_user);
  auto erin = (*db)->FindByLogin("erin@example.com");  // mail is a login attribute
  ASSERT_TRUE(erin.ok());
  EXPECT_EQ(erin->addresses, (std::vector<std::string>{"erin@example.com", "e@example.com"}));
  EXPECT_EQ(erin->groups, (std::vector<std::string>{"cn=helpdesk,dc=example,dc=com",
                                                    "cn=support,dc=example,dc=com"}));
  EXPECT_EQ(erin->direct_groups, 1u);
  // Mailboxes cannot sign in.
  EXPECT_EQ((*db)->FindByLogin("sales@example.com").status().code(), Code::kNotFound);
  auto box = (*db)->FindByDn("CN=Sales, DC=Example, DC=com");
  ASSERT_TRUE(box.ok());
  EXPECT_TRUE(box->is_mailbox);

  auto d = (*db)->DelegatedTo("UID=dan,DC=example,DC=com");
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->size(), 1u);
  EXPECT_EQ((*d)[0].mailbox.dn, "cn=sales,dc=example,dc=com");
  EXPECT_EQ((*d)[0].mailbox.addresses, std::vector<std::string>{"sales@example.com"});
  EXPECT_EQ((*d)[0].via, std::vector<std::string>{""});
  auto e = (*db)->DelegatedTo(erin->dn);
  ASSERT_TRUE(e.ok());
  ASSERT_EQ(e->size(), 1u);
  EXPECT_EQ((*e)[0].mailbox.dn, "cn=support-box,dc=example,dc=com");
  EXPECT_EQ((*e)[0].via, std::vector<std::string>{"cn=support,dc=example,dc=com"});
  EXPECT_TRUE((*db)->DelegatedTo("uid=nobody,dc=example,dc=com")->empty());
  EXPECT_TRUE((*db)->DelegatedTo("not a dn")->empty());
  auto users = (*db)->Users(10);
  ASSERT_TRUE(users.ok());
  EXPECT_EQ(users->size(), 2u);
  auto st = (*db)->State();
  EXPECT_EQ(st->last_success, 100);
  EXPECT_EQ(st->server, "ldaps://dc1.example.com:636");
  EXPECT_EQ(st->last_error, "");
}

TEST(LdapCacheDb, ReplaceSwapsTheWholeCacheAndFailuresKeepIt) {
  TempDir tmp;
  const std::string path = tmp.path() + "/ldap.db";
  auto db = LdapCacheDb::Open(path, Key(1), false);
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE((*db)->Replace(First(), StateAt(100)).ok());
  // Another connection (as another process would) reads the same commits.
  auto reader = LdapCacheDb::Open(path, Key(1), true);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  ASSERT_TRUE((*reader)->FindByLogin("dan").ok());

  ASSERT_TRUE((*db)->RecordFailure(200, "no LDAP server reachable: x").ok());
  EXPECT_TRUE((*reader)->FindByLogin("dan").ok());  // the old cache stays
  auto st = (*reader)->State();
  EXPECT_EQ(st->last_attempt, 200);
  EXPECT_EQ(st->last_success, 100);
  EXPECT_EQ(st->last_error, "no LDAP server reachable: x");

  ASSERT_TRUE((*db)->Replace(Second(), StateAt(300)).ok());
  EXPECT_EQ((*reader)->FindByLogin("dan").status().code(), Code::kNotFound);
  EXPECT_TRUE((*reader)->FindByLogin("zoe").ok());
  EXPECT_TRUE((*reader)->DelegatedTo("uid=dan,dc=example,dc=com")->empty());
  EXPECT_EQ((*reader)->State()->last_error, "");
  EXPECT_EQ((*reader)->Replace(First(), StateAt(1)).code(), Code::kPermissionDenied);
}

TEST(LdapCacheDb, AnAmbiguousLoginIsRefused) {
  TempDir tmp;
  SyncInput in;
  in.users.push_back(E("uid=a,dc=example,dc=com", {{"uid", {"same"}}, {"mail", {"a@x.com"}}}));
  in.users.push_back(E("uid=b,dc=example,dc=com", {{"mail", {"same"}}, {"uid", {"b"}}}));
  auto db = LdapCacheDb::Open(tmp.path() + "/ldap.db", Key(1), false);
  ASSERT_TRUE((*db)->Replace(*BuildSnapshot(Options(), in), StateAt(1)).ok());
  EXPECT_EQ((*db)->FindByLogin("same").status().code(), Code::kInvalidArgument);
  EXPECT_TRUE((*db)->FindByLogin("b").ok());
  // Injection-looking logins are plain values to SQLite.
  EXPECT_EQ((*db)->FindByLogin("*)(uid=*").status().code(), Code::kNotFound);
  EXPECT_EQ((*db)->FindByLogin("' OR 1=1 --").status().code(), Code::kNotFound);
  EXPECT_EQ((*db)->FindByLogin(std::string("b\0", 2)).status().code(), Code::kNotFound);
}

TEST(LdapCacheDb, EncryptedAtRestAndKeyed) {
  TempDir tmp;
  const std::string path = tmp.path() + "/ldap.db";
  {
    auto db = LdapCacheDb::Open(path, Key(1), false);
    ASSERT_TRUE((*db)->Replace(First(), StateAt(1)).ok());
  }
  std::ifstream f(path, std::ios::binary);
  std::stringstream bytes;
  bytes << f.rdbuf();
  EXPECT_GT(bytes.str().size(), 0u);
  for (const char* clear : {"erin@example.com", "support-box", "uid=dan", "SQLite format"}) {
    EXPECT_EQ(bytes.str().find(clear), std::string::npos) << clear;
  }
  EXPECT_EQ(LdapCacheDb::Open(path, Key(2), true).status().code(), Code::kCorruption);
  EXPECT_EQ(LdapCacheDb::Open(tmp.path() + "/none.db", Key(1), true).status().code(),
            Code::kNotFound);
}

}  // namespace
}  // namespace mailvault::directory
