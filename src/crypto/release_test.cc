#include "crypto/release.h"

#include <gtest/gtest.h>

#include "crypto/page_cipher.h"

namespace mailvault::crypto {
namespace {

SymmetricKey Key(uint8_t fill) {
  SymmetricKey k;
  k.fill(fill);
  return k;
}

TEST(BodyDigest, IgnoresCarriageReturnsAndTrailingNewlines) {
  std::string d = DigestBody("line one\nline two\n");
  EXPECT_EQ(d, DigestBody("line one\r\nline two\r\n"));
  EXPECT_EQ(d, DigestBody("line one\r\nline two"));
  EXPECT_EQ(d, DigestBody("line one\nline two\n\n\r\n"));
  EXPECT_NE(d, DigestBody("line one\n\nline two\n"));
  EXPECT_NE(d, DigestBody("line one\nline twO\n"));
}

TEST(BodyDigest, SameInAnyChunking) {
  std::string body = "a\r\n\r\nb\n\nc\r\n";
  for (size_t a = 0; a <= body.size(); ++a) {
    for (size_t b = a; b <= body.size(); ++b) {
      BodyDigest d;
      d.Update(body.substr(0, a));
      d.Update(body.substr(a, b - a));
      d.Update(body.substr(b));
      EXPECT_EQ(d.Finish(), DigestBody(body)) << a << " " << b;
    }
  }
}

TEST(ReleaseSigner, SignedHeaderVerifies) {
  ReleaseSigner s(Key(7));
  std::string digest = DigestBody("hello\r\n");
  std::string v = s.Sign(42, 1'000'000, digest);
  uint64_t id = 0;
  ASSERT_TRUE(s.Verify(" " + v + "\r\n", digest, 1'000'100, 3600, &id).ok());
  EXPECT_EQ(id, 42u);
}

TEST(ReleaseSigner, RefusesForgeriesOtherBodiesAndOldHeaders) {
  ReleaseSigner s(Key(7));
  ReleaseSigner other(Key(8));
  std::string digest = DigestBody("hello\r\n");
  std::string v = s.Sign(42, 1'000'000, digest);
  uint64_t id = 0;
  EXPECT_FALSE(other.Verify(v, digest, 1'000'000, 3600, &id).ok());
  EXPECT_FALSE(s.Verify(v, DigestBody("malware"), 1'000'000, 3600, &id).ok());
  EXPECT_FALSE(s.Verify(v, digest, 1'000'000 + 3601, 3600, &id).ok());
  EXPECT_FALSE(s.Verify(v, digest, 1'000'000 - 301, 3600, &id).ok());
  std::string tampered = v;
  tampered.replace(tampered.find("id=42"), 5, "id=43");
  EXPECT_FALSE(s.Verify(tampered, digest, 1'000'000, 3600, &id).ok());
  EXPECT_FALSE(s.Verify("garbage", digest, 1'000'000, 3600, &id).ok());
  EXPECT_FALSE(s.Verify("", digest, 1'000'000, 3600, &id).ok());
}

}  // namespace
}  // namespace mailvault::crypto
