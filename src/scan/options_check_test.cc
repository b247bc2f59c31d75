// The option rules each engine's Make applies, as `mailvault config check`
// applies them too (daemon_test holds the two to the same answers).
#include <gtest/gtest.h>

#include "scan/address_lists.h"
#include "scan/clamd.h"
#include "scan/content_filter.h"
#include "scan/rspamd.h"

namespace mailvault::scan {
namespace {

TEST(OptionChecks, ClamdAddress) {
  EXPECT_TRUE(ParseClamdAddress("unix:/run/clamav/clamd.ctl").ok());
  EXPECT_TRUE(ParseClamdAddress("tcp:[::1]:3310").ok());
  for (const char* bad : {"127.0.0.1:3310", "unix:rel.sock", "unix:", "tcp:h:0", "tcp:h"}) {
    EXPECT_FALSE(ParseClamdAddress(bad).ok()) << bad;
  }
  ClamdOptions o;
  o.address = "127.0.0.1:3310";
  Status s = CheckClamdOptions(o);
  EXPECT_EQ(s.message().rfind("engines.clamd.address: ", 0), 0u) << s.message();
  EXPECT_EQ(ClamdEngine::Make(o).status().message(), s.message());  // Make says the same
  o = ClamdOptions();
  o.max_stream = 0;
  EXPECT_EQ(CheckClamdOptions(o).message(), "engines.clamd.max_stream: must be more than 0");
}

TEST(OptionChecks, Rspamd) {
  EXPECT_EQ(ParseRspamdUrl("HTTP://h:11333//").value(), "HTTP://h:11333");
  for (const char* bad : {"h:11333", "http://", "http:///x", "http://h x", "http://h\x01"}) {
    EXPECT_FALSE(ParseRspamdUrl(bad).ok()) << bad;
  }
  EXPECT_EQ(ParseMaliciousHost("*.Evil.Example.").value(), "evil.example");
  for (const char* bad : {".", "*.", "http://evil/", "evil:80", "a b"}) {
    EXPECT_FALSE(ParseMaliciousHost(bad).ok()) << bad;
  }
  RspamdOptions o;
  o.malicious_hosts = {"."};
  EXPECT_EQ(CheckRspamdOptions(o).message(),
            "engines.rspamd.malicious_hosts: \".\" is not a host name");
  EXPECT_EQ(RspamdEngine::Make(o).status().message(), CheckRspamdOptions(o).message());
}

TEST(OptionChecks, ContentAndLists) {
  EXPECT_EQ(ParseBannedName(" *.EXE ").value(), "*.exe");
  EXPECT_FALSE(ParseBannedName("dir/*.exe").ok());
  EXPECT_EQ(ParseBannedFormat(" Application/X-Dosexec ").value(), "application/x-dosexec");
  EXPECT_FALSE(ParseBannedFormat("exe").ok());
  ContentOptions c;
  c.banned_names = {"dir/*.exe"};
  EXPECT_EQ(CheckContentOptions(c).message().rfind("engines.content.banned_names: ", 0), 0u);
  ListOptions l;
  l.whitelist = {"user@"};
  EXPECT_EQ(CheckListOptions(l).message().rfind("engines.lists.whitelist: ", 0), 0u);
  EXPECT_EQ(AddressListEngine::Make(l).status().message(), CheckListOptions(l).message());
}

}  // namespace
}  // namespace mailvault::scan
