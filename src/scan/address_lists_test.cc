// Tests of AddressListEngine: entry validation, address / domain /
// subdomain / exact-domain matching, envelope sender and header From (black
// if either is listed, white only if both are), white over black, the null
// sender and an unreadable message.
#include "scan/address_lists.h"

#include <gtest/gtest.h>

namespace mailvault::scan {
namespace {

std::unique_ptr<AddressListEngine> Lists(std::vector<std::string> black,
                                         std::vector<std::string> white) {
  ListOptions o;
  o.blacklist = std::move(black);
  o.whitelist = std::move(white);
  auto e = AddressListEngine::Make(o);
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  return e.ok() ? std::move(e).value() : nullptr;
}

Verdict Check(AddressListEngine& e, const std::string& mail_from, const std::string& header_from,
              const ByteSource* source = nullptr) {
  std::string raw = (header_from.empty() ? "" : "From: " + header_from + "\r\n") +
                    "To: bob@example.org\r\nSubject: hi\r\n\r\nFrom: body@black.example\r\n";
  StringSource fallback(raw);
  Envelope env;
  env.mail_from = mail_from;
  env.rcpt = {"bob@example.org"};
  auto verdicts = e.Scan(Message{source != nullptr ? *source : fallback, env});
  EXPECT_EQ(verdicts.size(), 1u);
  EXPECT_EQ(verdicts.at(0).engine, "blacklist");
  return verdicts.at(0);
}

TEST(AddressLists, MakeValidatesEntries) {
  for (std::string bad :
       {"", " ", "@", "user@", "a b@example.com", "<x@example.com>", "example..com", ".example.com",
        "a@b@example.com", "x@exa mple.com", "x,y@example.com", "exa\tmple.com", "x@[192.0.2.1]"}) {
    ListOptions o;
    o.blacklist = {bad};
    EXPECT_EQ(AddressListEngine::Make(o).status().code(), Code::kInvalidArgument) << bad;
    o.blacklist.clear();
    o.whitelist = {bad};
    EXPECT_EQ(AddressListEngine::Make(o).status().code(), Code::kInvalidArgument) << bad;
  }
  auto e = Lists({" Spammer@Example.COM ", "bad.example.", "@exact.example", "xn--bcher-kva.de"},
                 {"münchen.de"});
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->name(), "lists");
  EXPECT_EQ(e->covers(), std::vector<std::string>{"blacklist"});
}

TEST(AddressLists, EnvelopeSenderMatching) {
  auto e = Lists({"spammer@example.com", "bad.example", "@exact.example"}, {});
  auto label = [&](const std::string& from) { return Check(*e, from, "").label; };
  EXPECT_EQ(label("spammer@example.com"), "blacklisted");
  EXPECT_EQ(label("SPAMMER@Example.Com"), "blacklisted");
  EXPECT_EQ(label("<spammer@example.com>"), "blacklisted");
  EXPECT_EQ(label("other@example.com"), "");
  EXPECT_EQ(label("x@bad.example"), "blacklisted");
  EXPECT_EQ(label("x@mail.sub.bad.example"), "blacklisted");
  EXPECT_EQ(label("x@bad.example."), "blacklisted");
  EXPECT_EQ(label("x@notbad.example"), "");
  EXPECT_EQ(label("x@bad.example.org"), "");
  EXPECT_EQ(label("x@exact.example"), "blacklisted");
  EXPECT_EQ(label("x@sub.exact.example"), "");
  EXPECT_EQ(label("exact.example"), "");
  EXPECT_EQ(label(""), "");

  Verdict v = Check(*e, "x@sub.bad.example", "");
  EXPECT_EQ(v.detail, "blacklisted: sender x@sub.bad.example matches bad.example");
  EXPECT_EQ(v.details["entry"], "bad.example");
  EXPECT_EQ(v.details["source"], "envelope");
  EXPECT_FALSE(v.whitelisted);
}

TEST(AddressLists, HeaderFromIsCheckedToo) {
  auto e = Lists({"evil@black.example"}, {});
  Verdict v = Check(*e, "bounce@clean.example", "\"Evil\" <Evil@Black.Example>");
  EXPECT_EQ(v.label, "blacklisted");
  EXPECT_EQ(v.details["source"], "header");
  EXPECT_EQ(v.details["address"], "evil@black.example");
  // The null sender matches nothing, but its header From is still checked.
  EXPECT_EQ(Check(*e, "", "evil@black.example").label, "blacklisted");
  // A From line in the body is not a header.
  EXPECT_EQ(Check(*Lists({"body@black.example"}, {}), "a@clean.example", "a@clean.example").label,
            "");
}

TEST(AddressLists, WhitelistNeedsEnvelopeAndHeaderAndWinsOverBlack) {
  auto e = Lists({"example.com"}, {"partner.example", "boss@example.com"});
  Verdict v = Check(*e, "boss@example.com", "Boss <boss@example.com>");
  EXPECT_TRUE(v.whitelisted);
  EXPECT_EQ(v.label, "");
  EXPECT_EQ(v.detail,
            "whitelisted: sender boss@example.com matches boss@example.com; From "
            "boss@example.com matches boss@example.com");

  v = Check(*e, "news@mail.partner.example", "");  // no header From at all
  EXPECT_TRUE(v.whitelisted);
  EXPECT_TRUE(v.clean());

  // A forged header From onto a whitelisted address does not whitelist.
  v = Check(*e, "spam@example.com", "boss@example.com");
  EXPECT_FALSE(v.whitelisted);
  EXPECT_EQ(v.label, "blacklisted");
  // Nor does a whitelisted envelope with another From.
  v = Check(*e, "x@partner.example", "someone@example.com");
  EXPECT_FALSE(v.whitelisted);
  EXPECT_EQ(v.label, "blacklisted");
  v = Check(*e, "x@partner.example", "y@elsewhere.example");
  EXPECT_FALSE(v.whitelisted);
  EXPECT_EQ(v.label, "");
  // The null sender is never whitelisted.
  v = Check(*e, "", "boss@example.com");
  EXPECT_FALSE(v.whitelisted);
  EXPECT_EQ(v.label, "blacklisted");
}

TEST(AddressLists, EmptyListsAndCleanMail) {
  auto e = Lists({}, {});
  Verdict v = Check(*e, "a@example.com", "a@example.com");
  EXPECT_TRUE(v.clean());
  EXPECT_FALSE(v.whitelisted);
  EXPECT_TRUE(v.detail.empty());
  EXPECT_TRUE(v.error.empty());
}

class FailingSource : public ByteSource {
 public:
  uint64_t size() const override { return 100; }
  Status ReadAt(uint64_t, size_t, std::string*) const override {
    return Status::IOError("spool unreadable");
  }
};

TEST(AddressLists, UnreadableHeaderChecksTheEnvelopeOnly) {
  auto e = Lists({"black.example"}, {"white.example"});
  FailingSource source;
  Verdict v = Check(*e, "x@black.example", "", &source);
  EXPECT_EQ(v.label, "blacklisted");
  EXPECT_NE(v.error.find("spool unreadable"), std::string::npos);
  v = Check(*e, "x@white.example", "", &source);
  EXPECT_FALSE(v.whitelisted);  // the From could not be checked
  EXPECT_EQ(v.label, "");
  EXPECT_FALSE(v.error.empty());
}

}  // namespace
}  // namespace mailvault::scan
