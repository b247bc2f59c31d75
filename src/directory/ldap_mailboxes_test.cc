// LdapMailboxes over the cache of testdata/ldap-v1 (ada: two addresses, in
// group staff, which has full access to shared@example.com).
#include "directory/ldap_mailboxes.h"

#include <gtest/gtest.h>

#include "crypto/keyring.h"
#include "env/data_dir.h"
#include "env/env.h"
#include "testutil/fixture_dir.h"
#include "testutil/temp_dir.h"

namespace mailvault::directory {
namespace {

const std::string kFixture = std::string(MV_SOURCE_DIR) + "/src/directory/testdata/ldap-v1";

class LdapMailboxesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string dir = CopyFixtureDir(kFixture, tmp_.path() + "/data");
    DataDir data(dir);
    auto keys = crypto::KeyRing::Open(*PosixEnv(), data.keys(), /*need_secrets=*/false);
    ASSERT_TRUE(keys.ok()) << keys.status().ToString();
    LdapOptions o;
    o.servers = {"ldap://127.0.0.1"};
    o.base_dn = "dc=example,dc=com";
    auto ldap = LdapDirectory::Open(o, *PosixEnv(), data, **keys, /*read_only=*/true);
    ASSERT_TRUE(ldap.ok()) << ldap.status().ToString();
    ldap_ = std::move(*ldap);
  }
  TempDir tmp_;
  std::unique_ptr<LdapDirectory> ldap_;
};

TEST_F(LdapMailboxesTest, OwnAddressesFirstThenDelegatedThroughAGroup) {
  LdapMailboxes provider(*ldap_);
  auto boxes = provider.MailboxesOf("ADA");  // any case, as a login
  ASSERT_TRUE(boxes.ok()) << boxes.status().ToString();
  EXPECT_EQ(*boxes, (std::vector<Mailbox>{{"ada@example.com", false, ""},
                                          {"al@example.com", false, ""},
                                          {"shared@example.com", true, "group staff"}}));
  // Any login attribute names the same user.
  auto by_mail = provider.MailboxesOf("ada@example.com");
  ASSERT_TRUE(by_mail.ok()) << by_mail.status().ToString();
  EXPECT_EQ(*by_mail, *boxes);
}

TEST_F(LdapMailboxesTest, UnknownLoginsAndSharedMailboxesAreNotFound) {
  LdapMailboxes provider(*ldap_);
  EXPECT_EQ(provider.MailboxesOf("nobody").status().code(), Code::kNotFound);
  EXPECT_EQ(provider.MailboxesOf("*").status().code(), Code::kNotFound);
  // The shared mailbox is not a user: it cannot be signed in to.
  EXPECT_EQ(provider.MailboxesOf("shared@example.com").status().code(), Code::kNotFound);
}

TEST_F(LdapMailboxesTest, ChainedAfterLocalAccounts) {
  LdapMailboxes provider(*ldap_);
  struct Local : MailboxProvider {
    Result<std::vector<Mailbox>> MailboxesOf(std::string_view a) override {
      if (a == "ada") return std::vector<Mailbox>{{"local@example.com", false, ""}};
      return Status::NotFound("no");
    }
  } local;
  ChainedMailboxes chain({&local, &provider});
  auto ada = chain.MailboxesOf("ada");  // the local account of the same name wins
  ASSERT_TRUE(ada.ok());
  EXPECT_EQ(ada->size(), 1u);
  auto al = chain.MailboxesOf("ada@example.com");  // the same user by mail
  ASSERT_TRUE(al.ok()) << al.status().ToString();
  EXPECT_EQ(al->size(), 3u);
}

TEST(DescribeVia, NamesTheGroupOrADirectDelegation) {
  EXPECT_EQ(DescribeVia(""), "delegated to you");
  EXPECT_EQ(DescribeVia("cn=Sales Team,ou=groups,dc=example,dc=org"), "group Sales Team");
}

}  // namespace
}  // namespace mailvault::directory
