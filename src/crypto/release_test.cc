#include "crypto/release.h"

#include <gtest/gtest.h>
#include <sodium.h>

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

// A header signed by an earlier version (before the key purposes had one
// table) with the keys of the store fixture still verifies: releases queued
// before an upgrade are let through after it.
TEST(ReleaseSigner, VerifiesAHeaderAnEarlierVersionSigned) {
  auto ring =
      KeyRing::Open(*PosixEnv(), std::string(MV_SOURCE_DIR) + "/src/store/testdata/store-v1/keys",
                    /*need_secrets=*/false);
  ASSERT_TRUE(ring.ok()) << ring.status().ToString();
  const std::string header =
      "v=2; id=42; n=59ae2bb9553d494f337e4135846292d4;\r\n t=1796000000;\r\n "
      "b=2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824;\r\n "
      "f=8f8690252fbabede; r=5421b143403c91e7, cb2c77cf44cf4dac;\r\n "
      "s=cf6f27cd965e954395192de88df42be65d7b7a04cfd7164f3f097ef4d3db2866";
  const ReleaseEnvelope envelope{"alice@example.com", {"bob@example.org", "carol@example.org"}};
  auto v = ReleaseSigner(**ring).Verify(header, DigestBody("hello\n"), envelope, 1796000000, 60);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->copy_id, 42u);
  EXPECT_EQ(v->nonce, "59ae2bb9553d494f337e4135846292d4");
  // Another ring does not.
  EXPECT_FALSE(
      ReleaseSigner(Key(7)).Verify(header, DigestBody("hello\n"), envelope, 1796000000, 60).ok());
}

const ReleaseEnvelope kEnvelope{"alice@example.org", {"bob@example.com", "carol@example.com"}};

TEST(ReleaseSigner, SignedHeaderVerifies) {
  ReleaseSigner s(Key(7));
  std::string digest = DigestBody("hello\r\n");
  std::string v = s.Sign(42, 1'000'000, digest, kEnvelope);
  auto r = s.Verify(" " + v + "\r\n", digest, kEnvelope, 1'000'100, 300);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->copy_id, 42u);
  EXPECT_EQ(r->signed_at, 1'000'000);
  EXPECT_EQ(r->nonce.size(), 32u);
}

TEST(ReleaseSigner, RefusesForgeriesOtherBodiesAndOldHeaders) {
  ReleaseSigner s(Key(7));
  ReleaseSigner other(Key(8));
  std::string digest = DigestBody("hello\r\n");
  std::string v = s.Sign(42, 1'000'000, digest, kEnvelope);
  EXPECT_FALSE(other.Verify(v, digest, kEnvelope, 1'000'000, 300).ok());
  EXPECT_FALSE(s.Verify(v, DigestBody("malware"), kEnvelope, 1'000'000, 300).ok());
  EXPECT_FALSE(s.Verify(v, digest, kEnvelope, 1'000'000 + 301, 300).ok());
  EXPECT_FALSE(s.Verify(v, digest, kEnvelope, 1'000'000 - 301, 300).ok());
  std::string tampered = v;
  tampered.replace(tampered.find("id=42"), 5, "id=43");
  EXPECT_FALSE(s.Verify(tampered, digest, kEnvelope, 1'000'000, 300).ok());
  EXPECT_FALSE(s.Verify("garbage", digest, kEnvelope, 1'000'000, 300).ok());
  EXPECT_FALSE(s.Verify("", digest, kEnvelope, 1'000'000, 300).ok());
}

TEST(ReleaseSigner, BindsTheEnvelopeSenderAndRecipients) {
  ReleaseSigner s(Key(7));
  std::string digest = DigestBody("hello\r\n");
  std::string v = s.Sign(42, 1'000'000, digest, kEnvelope);
  auto verify = [&](ReleaseEnvelope e) { return s.Verify(v, digest, e, 1'000'000, 300); };
  // A subset of the recipients (the relay refused some), in any order and
  // case of the domain, passes.
  EXPECT_TRUE(verify({"alice@example.org", {"carol@example.com"}}).ok());
  EXPECT_TRUE(verify({"alice@EXAMPLE.org", {"carol@Example.COM", "<bob@example.com>"}}).ok());
  // Another recipient, alone or beside the signed ones, does not.
  auto other = verify({"alice@example.org", {"bob@example.com", "mallory@example.com"}});
  EXPECT_FALSE(other.ok());
  EXPECT_NE(other.status().message().find("mallory@example.com"), std::string::npos);
  EXPECT_FALSE(verify({"alice@example.org", {"mallory@example.com"}}).ok());
  // The local part keeps its case.
  EXPECT_FALSE(verify({"alice@example.org", {"Bob@example.com"}}).ok());
  // Another sender, the null sender, no recipients.
  EXPECT_FALSE(verify({"mallory@example.org", {"bob@example.com"}}).ok());
  EXPECT_FALSE(verify({"", {"bob@example.com"}}).ok());
  EXPECT_FALSE(verify({"alice@example.org", {}}).ok());
  // The null sender binds like any other.
  std::string bounce = s.Sign(42, 1'000'000, digest, {"", {"bob@example.com"}});
  EXPECT_TRUE(s.Verify(bounce, digest, {"", {"bob@example.com"}}, 1'000'000, 300).ok());
  EXPECT_FALSE(
      s.Verify(bounce, digest, {"alice@example.org", {"bob@example.com"}}, 1'000'000, 300).ok());
}

TEST(ReleaseSigner, RecipientsAreNotReadableAndTagsSortedWithoutDuplicates) {
  ReleaseSigner s(Key(7));
  std::string digest = DigestBody("hello\r\n");
  std::string a = s.Sign(1, 1'000'000, digest, {"x@y", {"bob@example.com", "carol@example.com"}});
  std::string b = s.Sign(1, 1'000'000, digest,
                         {"x@y", {"carol@example.com", "bob@EXAMPLE.com", "bob@example.com"}});
  EXPECT_EQ(a.find("bob"), std::string::npos);  // a Bcc stays hidden
  EXPECT_EQ(a.find("example"), std::string::npos);
  auto field = [](const std::string& v, const std::string& name) {
    std::string compact;
    for (char c : v) {
      if (c != ' ' && c != '\r' && c != '\n') compact += c;
    }
    size_t at = compact.find(";" + name + "=") + name.size() + 2;
    return compact.substr(at, compact.find(';', at) - at);
  };
  EXPECT_EQ(field(a, "r"), field(b, "r"));
  EXPECT_EQ(field(a, "r").size(), 2 * 16 + 1);  // two tags, one comma
}

TEST(ReleaseSigner, EachHeaderHasItsOwnNonce) {
  ReleaseSigner s(Key(7));
  std::string digest = DigestBody("hello\r\n");
  std::string a = s.Sign(42, 1'000'000, digest, kEnvelope);
  std::string b = s.Sign(42, 1'000'000, digest, kEnvelope);
  EXPECT_NE(a, b);
  auto ra = s.Verify(a, digest, kEnvelope, 1'000'000, 300);
  auto rb = s.Verify(b, digest, kEnvelope, 1'000'000, 300);
  ASSERT_TRUE(ra.ok() && rb.ok());
  EXPECT_NE(ra->nonce, rb->nonce);
  // The nonce is signed.
  std::string tampered = a;
  size_t n = tampered.find("n=") + 2;
  tampered[n] = tampered[n] == '0' ? '1' : '0';
  EXPECT_FALSE(s.Verify(tampered, digest, kEnvelope, 1'000'000, 300).ok());
}

TEST(ReleaseSigner, LongEnvelopesAreFoldedAndStillVerify) {
  ReleaseSigner s(Key(7));
  std::string digest = DigestBody("hello\r\n");
  ReleaseEnvelope many{"alice@example.org", {}};
  for (int i = 0; i < 900; ++i) many.rcpt.push_back("user" + std::to_string(i) + "@example.com");
  std::string v = s.Sign(42, 1'000'000, digest, many);
  size_t line_start = 0, longest = 0;
  for (size_t eol; (eol = v.find("\r\n", line_start)) != std::string::npos; line_start = eol + 2)
    longest = std::max(longest, eol - line_start);
  longest = std::max(longest, v.size() - line_start);
  EXPECT_LE(longest, 78u);
  EXPECT_TRUE(s.Verify(v, digest, many, 1'000'000, 300).ok());
  // Refolded by a relay (LF only, tabs).
  std::string refolded;
  for (char c : v) {
    if (c == '\r') continue;
    refolded += c == ' ' ? '\t' : c;
  }
  EXPECT_TRUE(s.Verify(refolded, digest, many, 1'000'000, 300).ok());
}

TEST(ReleaseSigner, RefusesVersionOneHeaders) {
  // A header signed with the right key but without envelope and nonce (as
  // version 1 had them) is refused for its version, not just its form.
  SymmetricKey index_key = Key(7);
  ReleaseSigner s(index_key);
  std::string digest = DigestBody("hello\r\n");
  unsigned char key[32], mac[crypto_auth_hmacsha256_BYTES];
  crypto_kdf_derive_from_key(key, sizeof(key), 1, "mvreleas", index_key.data());
  std::string part = "v=1;id=42;t=1000000;b=" + digest;
  crypto_auth_hmacsha256(mac, reinterpret_cast<const unsigned char*>(part.data()), part.size(),
                         key);
  char hex[2 * sizeof(mac) + 1];
  sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
  auto r = s.Verify(part + ";s=" + hex, digest, kEnvelope, 1'000'000, 300);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("version 1"), std::string::npos) << r.status().ToString();
}

TEST(CanonicalAddress, LowerCasesTheDomainOnly) {
  EXPECT_EQ(CanonicalAddress("<Bob@Example.COM>"), "Bob@example.com");
  EXPECT_EQ(CanonicalAddress("\"a@b\"@X.Y"), "\"a@b\"@x.y");
  EXPECT_EQ(CanonicalAddress(""), "");
  EXPECT_EQ(CanonicalAddress("postmaster"), "postmaster");
}

}  // namespace
}  // namespace mailvault::crypto
