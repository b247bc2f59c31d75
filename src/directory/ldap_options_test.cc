#include "directory/ldap_options.h"

#include <gtest/gtest.h>

#include <functional>

namespace mailvault::directory {
namespace {

TEST(ParseLdapServer, SchemesHostsPorts) {
  auto a = ParseLdapServer("ldap://dc1.example.com");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_FALSE(a->ldaps);
  EXPECT_EQ(a->host, "dc1.example.com");
  EXPECT_EQ(a->port, 389);
  EXPECT_EQ(a->url, "ldap://dc1.example.com:389");
  auto b = ParseLdapServer("LDAPS://[2001:db8::1]/");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_TRUE(b->ldaps);
  EXPECT_EQ(b->host, "2001:db8::1");
  EXPECT_EQ(b->port, 636);
  EXPECT_EQ(b->url, "ldaps://[2001:db8::1]:636");
  EXPECT_EQ(ParseLdapServer("ldap://127.0.0.1:3389")->port, 3389);
  for (const char* bad : {"", "ldap://", "ldap://:389", "ldapi:///run/slapd.sock",
                          "ldap://h:", "ldap://h:65536", "ldap://h:-1", "ldap://h/dc=x",
                          "ldap://h?cn", "ldap://a b", "ldap://[::1", "ldap://[zz]:1"}) {
    EXPECT_EQ(ParseLdapServer(bad).status().code(), Code::kInvalidArgument) << bad;
  }
}

LdapOptions Enabled() {
  LdapOptions o;
  o.enabled = true;
  o.servers = {"ldap://dc1.example.com"};
  o.base_dn = "DC=example,DC=com";
  return o;
}

TEST(CheckLdapOptions, DefaultsAndAnEnabledConfig) {
  EXPECT_TRUE(CheckLdapOptions(LdapOptions()).ok());
  EXPECT_TRUE(CheckLdapOptions(Enabled()).ok()) << CheckLdapOptions(Enabled()).ToString();
}

TEST(CheckLdapOptions, NoClearTextOffLoopback) {
  LdapOptions o = Enabled();
  o.starttls = false;
  Status s = CheckLdapOptions(o);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message().rfind("ldap.starttls: ", 0), 0u) << s.message();
  o.servers = {"ldap://127.0.0.1:3389"};
  EXPECT_TRUE(CheckLdapOptions(o).ok());
  o.servers = {"ldaps://dc1.example.com"};  // TLS anyway
  EXPECT_TRUE(CheckLdapOptions(o).ok());
}

TEST(CheckLdapOptions, EachRefusalNamesItsKey) {
  struct Case {
    const char* key;
    std::function<void(LdapOptions&)> change;
  };
  const Case cases[] = {
      {"ldap.servers", [](LdapOptions& o) { o.servers.clear(); }},
      {"ldap.base_dn", [](LdapOptions& o) { o.base_dn.clear(); }},
      {"ldap.base_dn", [](LdapOptions& o) { o.base_dn = "not a dn"; }},
      {"ldap.bind_dn", [](LdapOptions& o) { o.bind_dn = "cn=a,,dc=b"; }},
      {"ldap.bind_password_file", [](LdapOptions& o) { o.bind_password_file = "/pw"; }},
      {"ldap.user_filter", [](LdapOptions& o) { o.user_filter = "(uid=*)(x=y)"; }},
      {"ldap.login_attributes", [](LdapOptions& o) { o.login_attributes.clear(); }},
      {"ldap.address_attributes", [](LdapOptions& o) { o.address_attributes = {"a b"}; }},
      {"ldap.delegation_attribute", [](LdapOptions& o) { o.delegation_attribute = "1x"; }},
      {"ldap.sync_interval", [](LdapOptions& o) { o.sync_interval_micros = 1'000'000; }},
      {"ldap.timeout", [](LdapOptions& o) { o.timeout_micros = 0; }},
      {"ldap.page_size", [](LdapOptions& o) { o.page_size = 0; }},
      {"ldap.ca_file", [](LdapOptions& o) { o.ca_file = "rel/ca.pem"; }},
  };
  for (const Case& c : cases) {
    LdapOptions o = Enabled();
    c.change(o);
    Status s = CheckLdapOptions(o);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << c.key;
    EXPECT_EQ(s.message().rfind(std::string(c.key) + ": ", 0), 0u) << s.message();
  }
}

}  // namespace
}  // namespace mailvault::directory
