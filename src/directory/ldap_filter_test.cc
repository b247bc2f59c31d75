// RFC 4515 escaping, filter checks and DN normalisation, with the
// injection attempts a login form sees.
#include "directory/ldap_filter.h"

#include <gtest/gtest.h>

namespace mailvault::directory {
namespace {

TEST(EscapeFilterValue, PlainTextStays) {
  EXPECT_EQ(EscapeFilterValue("alice"), "alice");
  EXPECT_EQ(EscapeFilterValue("a.b-c_d@example.com"), "a.b-c_d@example.com");
  EXPECT_EQ(EscapeFilterValue(""), "");
}

TEST(EscapeFilterValue, SpecialsBecomeHex) {
  EXPECT_EQ(EscapeFilterValue("*"), "\\2a");
  EXPECT_EQ(EscapeFilterValue("("), "\\28");
  EXPECT_EQ(EscapeFilterValue(")"), "\\29");
  EXPECT_EQ(EscapeFilterValue("\\"), "\\5c");
  EXPECT_EQ(EscapeFilterValue(std::string_view("\0", 1)), "\\00");
  EXPECT_EQ(EscapeFilterValue("a\r\nb"), "a\\0d\\0ab");
  EXPECT_EQ(EscapeFilterValue("\x7f"), "\\7f");
}

TEST(EscapeFilterValue, NonAsciiAndInvalidUtf8AreEscapedBytewise) {
  EXPECT_EQ(EscapeFilterValue("\xc3\xa9"), "\\c3\\a9");          // é, still matches é
  EXPECT_EQ(EscapeFilterValue("\xff\xfe"), "\\ff\\fe");          // not UTF-8 at all
  EXPECT_EQ(EscapeFilterValue("\xe2\x80\xae"), "\\e2\\80\\ae");  // U+202E
}

// Whatever the login, the filter has exactly the structure we built: one
// '&', one '|' and one item per login attribute, and it checks.
TEST(LoginFilter, InjectionCannotChangeTheStructure) {
  const std::vector<std::string> attrs = {"uid", "mail"};
  const std::string attempts[] = {
      "*)(uid=*",
      "*",
      "admin)(|(objectClass=*)",
      "x)(&",
      std::string("bob\0)(uid=*", 11),
      "\\2a",
      "\xff\xfe)(",
      "))))))((((((",
  };
  for (const std::string& login : attempts) {
    SCOPED_TRACE(EscapeFilterValue(login));
    auto f = LoginFilter("(objectClass=inetOrgPerson)", attrs, login);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    EXPECT_TRUE(CheckFilter(*f).ok()) << *f << " " << CheckFilter(*f).ToString();
    std::string escaped = EscapeFilterValue(login);
    EXPECT_EQ(*f, "(&(objectClass=inetOrgPerson)(|(uid=" + escaped + ")(mail=" + escaped + ")))");
    for (char c : escaped) {
      EXPECT_TRUE(c != '(' && c != ')' && c != '*' && c != '\0');
    }
  }
}

TEST(LoginFilter, Refusals) {
  EXPECT_EQ(LoginFilter("(objectClass=*)", {"uid"}, "").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(LoginFilter("(objectClass=*)", {}, "bob").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(LoginFilter("(objectClass=*)", {"uid)(x"}, "bob").status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(*LoginFilter("", {"uid"}, "bob"), "(|(uid=bob))");
}

TEST(IsAttributeName, NamesOidsAndOptions) {
  EXPECT_TRUE(IsAttributeName("sAMAccountName"));
  EXPECT_TRUE(IsAttributeName("msExchDelegateListLink"));
  EXPECT_TRUE(IsAttributeName("2.5.4.3"));
  EXPECT_TRUE(IsAttributeName("member;range=0-1499"));
  EXPECT_TRUE(IsAttributeName("cn;lang-en"));
  EXPECT_FALSE(IsAttributeName(""));
  EXPECT_FALSE(IsAttributeName("1cn"));
  EXPECT_FALSE(IsAttributeName("cn="));
  EXPECT_FALSE(IsAttributeName("c n"));
  EXPECT_FALSE(IsAttributeName("2..5"));
  EXPECT_FALSE(IsAttributeName("cn;"));
  EXPECT_FALSE(IsAttributeName(std::string(129, 'a')));
}

TEST(CheckFilter, AcceptsWhatDirectoriesUse) {
  for (const char* f : {
           "(&(objectCategory=person)(objectClass=user))",
           "(objectClass=inetOrgPerson)",
           "(&(objectClass=user)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))",
           "(|(mail=*)(proxyAddresses=smtp:*@example.com))",
           "(cn=Smith\\2c John)",
           "(uid>=a)",
           "(cn~=jon)",
           "(:dn:2.5.13.5:=x)",
           "(cn:dn:=x)",
           "(cn=)",
       }) {
    EXPECT_TRUE(CheckFilter(f).ok()) << f << ": " << CheckFilter(f).ToString();
  }
}

TEST(CheckFilter, RefusesMalformed) {
  for (std::string f : {
           std::string(""),
           std::string("objectClass=user"),
           std::string("(objectClass=user"),
           std::string("(objectClass=user))"),
           std::string("(objectClass=user)(cn=x)"),
           std::string("(&)"),
           std::string("(!)"),
           std::string("(cn=a(b)"),
           std::string("(cn=a\\2)"),
           std::string("(cn=a\\zz)"),
           std::string("(cn>=a*)"),
           std::string("(=x)"),
           std::string("(c n=x)"),
           std::string("(cn=a\0b)", 8),
           std::string("(:dn:=x)"),
           std::string(40, '(') + "cn=x" + std::string(40, ')'),
           "(cn=" + std::string(5000, 'a') + ")",
       }) {
    EXPECT_EQ(CheckFilter(f).code(), Code::kInvalidArgument) << EscapeFilterValue(f);
  }
}

TEST(NormalizeDn, OneFormForEverySpelling) {
  auto a = NormalizeDn("CN=Alice Smith,OU=People,DC=Example,DC=com");
  auto b = NormalizeDn("cn=alice smith, ou=people , dc=example,dc=COM");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(*a, "cn=alice smith,ou=people,dc=example,dc=com");
  EXPECT_EQ(*a, *b);
  // An escaped comma stays part of the value, however it was escaped.
  auto c = NormalizeDn("CN=Smith\\, John,DC=example,DC=com");
  auto d = NormalizeDn("cn=Smith\\2C John,dc=example,dc=com");
  ASSERT_TRUE(c.ok() && d.ok());
  EXPECT_EQ(*c, *d);
  EXPECT_EQ(*NormalizeDn(""), "");
}

TEST(NormalizeDn, RefusesWhatIsNoDn) {
  for (std::string dn :
       {std::string("not a dn"), std::string("cn=a,,dc=b"), std::string("cn=a\\zz,dc=b"),
        std::string("cn=a\0,dc=b", 10), std::string("=x,dc=b"), std::string("*)(uid=*")}) {
    EXPECT_EQ(NormalizeDn(dn).status().code(), Code::kInvalidArgument) << EscapeFilterValue(dn);
  }
}

TEST(AttributeBase, DropsOptionsAndCase) {
  EXPECT_EQ(AttributeBase("member;range=0-1499"), "member");
  EXPECT_EQ(AttributeBase("proxyAddresses"), "proxyaddresses");
}

}  // namespace
}  // namespace mailvault::directory
