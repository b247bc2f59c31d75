// The meaning of directory entries: addresses (proxyAddresses prefixes),
// logins, nested groups, delegations direct and through groups, and the
// bad input that is skipped rather than trusted.
#include "directory/ldap_mapping.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace mailvault::directory {
namespace {

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

const CachedEntry* Find(const Snapshot& s, std::string_view dn_norm) {
  for (const CachedEntry& e : s.entries) {
    if (e.dn_norm == dn_norm) return &e;
  }
  return nullptr;
}

bool Delegated(const Snapshot& s, std::string_view user, std::string_view mailbox,
               std::string_view via) {
  return std::any_of(s.delegations.begin(), s.delegations.end(), [&](const CachedDelegation& d) {
    return d.user == user && d.mailbox == mailbox && d.via == via;
  });
}

TEST(AddressOf, ProxyAddressesPrefixes) {
  EXPECT_EQ(*AddressOf("proxyAddresses", "SMTP:Alice@Example.com"), "alice@example.com");
  EXPECT_EQ(*AddressOf("proxyaddresses", "smtp:a.smith@example.com"), "a.smith@example.com");
  EXPECT_EQ(*AddressOf("proxyAddresses", "x500:/o=Org/ou=x/cn=alice"), "");
  EXPECT_EQ(*AddressOf("proxyAddresses", "sip:alice@example.com"), "");
  EXPECT_EQ(*AddressOf("proxyAddresses", "X400:c=US;a= ;p=Org"), "");
  for (const char* bad : {"alice@example.com", ":alice@example.com", "smtp:", "smtp:alice",
                          "smtp:a b@example.com", "smtp:a@b@c", "smtp:@example.com", "smtp:alice@",
                          "smtp:alice@.example", "smtp:alice@ex..ample"}) {
    EXPECT_EQ(AddressOf("proxyAddresses", bad).status().code(), Code::kInvalidArgument) << bad;
  }
}

TEST(AddressOf, OtherAttributesTakeTheValue) {
  EXPECT_EQ(*AddressOf("mail", "Bob@Example.COM"), "bob@example.com");
  EXPECT_EQ(*AddressOf("mail", "j\xc3\xb6rg@example.de"), "j\xc3\xb6rg@example.de");
  // A mail value that looks prefixed is not a proxyAddresses value.
  EXPECT_FALSE(AddressOf("mail", "smtp:bob@example.com").ok());
  EXPECT_FALSE(AddressOf("mail", "bob\r\n@example.com").ok());
  EXPECT_FALSE(AddressOf("mail", std::string("bob\0@example.com", 16)).ok());
  EXPECT_FALSE(AddressOf("mail", "b\xff@example.com").ok());
  EXPECT_FALSE(AddressOf("mail", "").ok());
}

TEST(BuildSnapshot, UserAddressesLoginsInOrderWithoutDuplicates) {
  SyncInput in;
  in.users.push_back(E("CN=Alice Smith,OU=People,DC=example,DC=com",
                       {{"cn", {"Alice Smith"}},
                        {"samaccountname", {"ASmith"}},
                        {"userprincipalname", {"asmith@corp.example.com"}},
                        {"mail", {"Alice.Smith@example.com"}},
                        {"proxyaddresses",
                         {"SMTP:alice.smith@example.com", "smtp:alice@example.com",
                          "x500:/o=ExchangeLabs/cn=alice", "sip:alice@example.com"}}}));
  auto s = BuildSnapshot(Options(), in);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ(s->entries.size(), 1u);
  const CachedEntry& a = s->entries[0];
  EXPECT_EQ(a.dn_norm, "cn=alice smith,ou=people,dc=example,dc=com");
  EXPECT_EQ(a.name, "Alice Smith");
  EXPECT_TRUE(a.is_user);
  EXPECT_FALSE(a.is_mailbox);
  EXPECT_EQ(a.addresses, (std::vector<std::string>{"alice.smith@example.com", "alice@example.com",
                                                   "asmith@corp.example.com"}));
  EXPECT_EQ(a.logins, (std::vector<std::string>{"asmith", "asmith@corp.example.com",
                                                "alice.smith@example.com"}));
  EXPECT_EQ(s->skipped_count, 0u) << s->skipped[0];
}

TEST(BuildSnapshot, BadValuesAreSkippedAndSaid) {
  SyncInput in;
  in.users.push_back(
      E("cn=bob,dc=example,dc=com", {{"uid", {"bob", "bad\nlogin"}},
                                     {"mail", {"bob@example.com"}},
                                     {"proxyaddresses", {"smtp:not an address", "garbage"}}}));
  in.users.push_back(E("cn=noaddr,dc=example,dc=com", {{"uid", {"noaddr"}}}));
  in.users.push_back(E("not a dn", {{"uid", {"ghost"}}}));
  auto s = BuildSnapshot(Options(), in);
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->entries.size(), 2u);
  const CachedEntry* bob = Find(*s, "cn=bob,dc=example,dc=com");
  ASSERT_NE(bob, nullptr);
  EXPECT_EQ(bob->addresses, std::vector<std::string>{"bob@example.com"});
  EXPECT_EQ(bob->logins, (std::vector<std::string>{"bob@example.com", "bob"}));  // mail, uid
  const CachedEntry* noaddr = Find(*s, "cn=noaddr,dc=example,dc=com");
  ASSERT_NE(noaddr, nullptr);
  EXPECT_TRUE(noaddr->addresses.empty());
  EXPECT_EQ(s->skipped_count, 5u);
  std::string all;
  for (const std::string& l : s->skipped) all += l + "\n";
  EXPECT_NE(all.find("bad\\0alogin"), std::string::npos) << all;  // escaped, never raw
  EXPECT_NE(all.find("no address"), std::string::npos) << all;
  EXPECT_NE(all.find("not a DN"), std::string::npos) << all;
  EXPECT_EQ(all.find('\r'), std::string::npos);
}

// g-inner in g-middle in g-outer in g-inner (a cycle): a member of g-inner
// is in all three, each once.
TEST(BuildSnapshot, NestedGroupsExpandAndCyclesEnd) {
  SyncInput in;
  in.groups.push_back(E("cn=g-inner,ou=groups,dc=example,dc=com",
                        {{"memberof", {"CN=g-middle,OU=groups,DC=example,DC=com"}}}));
  in.groups.push_back(E("cn=g-middle,ou=groups,dc=example,dc=com",
                        {{"memberof", {"cn=g-outer,ou=groups,dc=example,dc=com"}}}));
  in.groups.push_back(E("cn=g-outer,ou=groups,dc=example,dc=com",
                        {{"memberof", {"cn=g-inner,ou=groups,dc=example,dc=com"}}}));
  in.users.push_back(
      E("uid=carol,dc=example,dc=com", {{"uid", {"carol"}},
                                        {"mail", {"carol@example.com"}},
                                        {"memberof", {"cn=g-inner,ou=groups,dc=example,dc=com"}}}));
  auto s = BuildSnapshot(Options(), in);
  ASSERT_TRUE(s.ok());
  const CachedEntry* carol = Find(*s, "uid=carol,dc=example,dc=com");
  ASSERT_NE(carol, nullptr);
  EXPECT_EQ(carol->direct_groups, 1u);
  ASSERT_EQ(carol->groups.size(), 3u);
  EXPECT_EQ(carol->groups[0], "cn=g-inner,ou=groups,dc=example,dc=com");
  EXPECT_EQ(carol->groups[1], "CN=g-middle,OU=groups,DC=example,DC=com");
  EXPECT_EQ(s->groups, 3u);
}

TEST(BuildSnapshot, DelegationsDirectThroughNestedGroupsAndToNobody) {
  LdapOptions o = Options();
  SyncInput in;
  in.groups.push_back(
      E("cn=helpdesk,dc=example,dc=com", {{"memberof", {"cn=support,dc=example,dc=com"}}}));
  in.groups.push_back(E("cn=support,dc=example,dc=com", {}));
  in.groups.push_back(E("cn=empty,dc=example,dc=com", {}));
  in.users.push_back(
      E("uid=dan,dc=example,dc=com", {{"uid", {"dan"}}, {"mail", {"dan@example.com"}}}));
  in.users.push_back(
      E("uid=erin,dc=example,dc=com", {{"uid", {"erin"}},
                                       {"mail", {"erin@example.com"}},
                                       {"memberof", {"cn=helpdesk,dc=example,dc=com"}}}));
  in.users.push_back(
      E("uid=frank,dc=example,dc=com", {{"uid", {"frank"}}, {"mail", {"frank@example.com"}}}));
  // A shared mailbox found by the user filter too, and one only by the
  // delegation search.
  in.users.push_back(
      E("cn=sales,dc=example,dc=com", {{"mail", {"sales@example.com"}},
                                       {"msexchdelegatelistlink", {"UID=Dan,DC=example,DC=com"}}}));
  in.mailboxes.push_back(
      E("cn=sales,dc=example,dc=com", {{"mail", {"sales@example.com"}},
                                       {"msexchdelegatelistlink", {"UID=Dan,DC=example,DC=com"}}}));
  in.mailboxes.push_back(
      E("cn=support-box,dc=example,dc=com",
        {{"mail", {"support@example.com"}},
         {"msexchdelegatelistlink",
          {"cn=support,dc=example,dc=com", "cn=empty,dc=example,dc=com",
           "cn=gone,dc=example,dc=com", "garbage", "cn=support-box,dc=example,dc=com"}}}));
  in.mailboxes.push_back(E("cn=nobody-box,dc=example,dc=com", {{"mail", {"nb@example.com"}}}));
  auto s = BuildSnapshot(o, in);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(Delegated(*s, "uid=dan,dc=example,dc=com", "cn=sales,dc=example,dc=com", ""));
  EXPECT_TRUE(Delegated(*s, "uid=erin,dc=example,dc=com", "cn=support-box,dc=example,dc=com",
                        "cn=support,dc=example,dc=com"));
  EXPECT_EQ(s->delegations.size(), 2u);  // frank: none; the mailbox itself: none
  const CachedEntry* sales = Find(*s, "cn=sales,dc=example,dc=com");
  ASSERT_NE(sales, nullptr);
  EXPECT_TRUE(sales->is_user);
  EXPECT_TRUE(sales->is_mailbox);
  const CachedEntry* box = Find(*s, "cn=support-box,dc=example,dc=com");
  ASSERT_NE(box, nullptr);
  EXPECT_FALSE(box->is_user);
  EXPECT_TRUE(box->is_mailbox);
  std::string all;
  for (const std::string& l : s->skipped) all += l + "\n";
  EXPECT_NE(all.find("cn=gone,dc=example,dc=com\", which is no user or group"), std::string::npos)
      << all;
  EXPECT_NE(all.find("\"garbage\" not a DN"), std::string::npos) << all;
}

TEST(BuildSnapshot, PublicDelegatesAsTheAttribute) {
  LdapOptions o = Options();
  o.delegation_attribute = "publicDelegates";
  SyncInput in;
  in.users.push_back(E("uid=dan,dc=example,dc=com", {{"uid", {"dan"}}, {"mail", {"d@x.com"}}}));
  in.mailboxes.push_back(
      E("cn=box,dc=example,dc=com", {{"mail", {"box@x.com"}},
                                     {"msexchdelegatelistlink", {"uid=nobody,dc=example,dc=com"}},
                                     {"publicdelegates", {"uid=dan,dc=example,dc=com"}}}));
  auto s = BuildSnapshot(o, in);
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->delegations.size(), 1u);
  EXPECT_EQ(s->delegations[0].user, "uid=dan,dc=example,dc=com");
}

TEST(BuildSnapshot, AnAmbiguousLoginIsSaid) {
  SyncInput in;
  in.users.push_back(E("uid=a,dc=example,dc=com", {{"uid", {"same"}}, {"mail", {"a@x.com"}}}));
  in.users.push_back(E("uid=b,dc=example,dc=com", {{"mail", {"Same"}}, {"uid", {"b"}}}));
  auto s = BuildSnapshot(Options(), in);
  ASSERT_TRUE(s.ok());
  std::string all;
  for (const std::string& l : s->skipped) all += l + "\n";
  EXPECT_NE(all.find("login \"same\" names 2 users"), std::string::npos) << all;
}

}  // namespace
}  // namespace mailvault::directory
