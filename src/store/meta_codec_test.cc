#include "store/meta_codec.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "env/env.h"
#include "mailvault/store.h"

namespace mailvault::store {
namespace {

// Every byte a sender can put in an envelope or a header: invalid UTF-8,
// a lone surrogate, NUL, CR/LF, a bidi override.
const std::string kHostile =
    std::string("m\xfcller\xff\xed\xa0\x80") + std::string(1, '\0') + "\r\nX: y\u202e@example.org";

CopyMeta Sample() {
  CopyMeta m;
  m.id = 300;
  m.placed_at = 1'764'000'000'000'000;
  m.received_at = -5;  // negative times survive (zigzag)
  m.sent_at = 0;
  m.mail_from = "a@example.com";
  m.rcpt = {"b@example.org", "c@example.org"};
  m.from = "A <a@example.com>";
  m.subject = "Hi";
  m.size = 1234;
  m.rule_id = "R1";
  m.statuses = {{"anti-spam", "spam"}};
  m.reason = "GTUBE";
  m.attachments = {{"x.pdf", "application/pdf", 77}};
  return m;
}

TEST(MetaCodec, GoldenBytes) {
  // The stored form of version 2: if this test must change, existing stores
  // would no longer read. Add a version instead (meta_codec.h).
  CopyMeta m;
  m.id = 1;
  m.placed_at = 2;
  m.received_at = -1;
  m.mail_from = "a";
  m.rcpt = {"b"};
  m.size = 300;
  m.statuses = {{"e", "l"}};
  m.attachments = {{"n", "t", 1}};
  m.body_digest = "d";
  const std::string golden(
      "\x02"          // version
      "\x01"          // id
      "\x04\x01\x00"  // placed_at 2, received_at -1, sent_at 0 (zigzag)
      "\x01"
      "a"  // mail_from
      "\x01\x01"
      "b"                             // rcpt
      "\x00\x00\x00\x00\x00\x00\x00"  // from to cc bcc subject message_id queue_id
      "\xac\x02"                      // size 300
      "\x00"                          // rule_id
      "\x01\x01"
      "e\x01"
      "l"     // statuses
      "\x00"  // reason
      "\x01\x01"
      "n\x01"
      "t\x01"  // attachments
      "\x01"
      "d",  // body_digest
      34);
  EXPECT_EQ(EncodeMeta(m), golden);
  auto back = DecodeMeta(golden);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, m);
}

TEST(MetaCodec, EveryStringKeepsEveryByte) {
  CopyMeta m = Sample();
  for (std::string* s : {&m.mail_from, &m.from, &m.to, &m.cc, &m.bcc, &m.subject, &m.message_id,
                         &m.queue_id, &m.rule_id, &m.reason, &m.body_digest}) {
    *s = kHostile;
  }
  m.rcpt = {kHostile, "", kHostile + "2"};
  m.statuses["external"] = kHostile;
  m.attachments.push_back({kHostile, kHostile, 1});
  auto back = DecodeMeta(EncodeMeta(m));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, m);
}

TEST(MetaCodec, EveryTruncationIsCorruption) {
  const std::string full = EncodeMeta(Sample());
  for (size_t n = 0; n < full.size(); ++n) {
    auto r = DecodeMeta(full.substr(0, n));
    ASSERT_FALSE(r.ok()) << "prefix of " << n << " bytes";
    EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
  }
  auto extra = DecodeMeta(full + "x");
  ASSERT_FALSE(extra.ok());
  EXPECT_NE(extra.status().message().find("after the last field"), std::string::npos);
}

TEST(MetaCodec, ForgedCountsAndLengthsAreRefusedWithoutAllocating) {
  // id 1, times, mail_from of length 2^62.
  std::string huge("\x02\x01\x00\x00\x00\x80\x80\x80\x80\x80\x80\x80\x80\x40", 14);
  auto r = DecodeMeta(huge);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("mail_from"), std::string::npos) << r.status().ToString();
  // An 11-byte varint overflows.
  std::string overflow("\x02\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 11);
  EXPECT_TRUE(DecodeMeta(overflow).status().IsCorruption());
  // A rcpt count far beyond the data.
  CopyMeta m;
  std::string s = EncodeMeta(m);
  s[6] = '\x7f';  // rcpt count (after version, id, 3 times, empty mail_from)
  EXPECT_NE(DecodeMeta(s).status().message().find("rcpt"), std::string::npos);
}

TEST(MetaCodec, NewerVersionIsNamed) {
  auto r = DecodeMeta(std::string("\x03rest", 5));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("version 3"), std::string::npos);
  EXPECT_TRUE(DecodeMeta("").status().IsCorruption());
}

TEST(MetaCodec, ReadsVersionOneJson) {
  const std::string v1 =
      R"({"id":7,"placed_at":"2026-11-22T08:00:00.000001Z","received_at":null,"sent_at":null,)"
      R"("mail_from":"a@example.com","rcpt":["b@example.org"],"from":"","to":"","cc":"",)"
      R"("bcc":"","subject":"Grüße","message_id":"m@x","queue_id":"Q1","size":9,"rule_id":"R1",)"
      R"("statuses":{"anti-spam":"spam"},"reason":"r","attachments":[{"name":"a.txt",)"
      R"("type":"text/plain","size":3}]})";
  auto m = DecodeMeta(v1);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->id, 7u);
  EXPECT_EQ(m->subject, "Grüße");
  EXPECT_EQ(m->rcpt, std::vector<std::string>{"b@example.org"});
  EXPECT_EQ(m->attachments.at(0).name, "a.txt");
  EXPECT_EQ(m->placed_at, 1'795'334'400'000'001);
  EXPECT_TRUE(DecodeMeta("{not json").status().IsCorruption());
}

}  // namespace
}  // namespace mailvault::store
