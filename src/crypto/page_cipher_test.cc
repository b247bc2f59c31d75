// Tests for PageCipher: round trips, and every way a page can be altered,
// misplaced or opened with the wrong key must be refused.
#include "crypto/page_cipher.h"

#include <gtest/gtest.h>

#include <vector>

namespace mailvault::crypto {
namespace {

SymmetricKey RandomKey() {
  SymmetricKey k;
  RandomBytes(k.data(), k.size());
  return k;
}

std::vector<uint8_t> RandomPage(size_t n) {
  std::vector<uint8_t> p(n);
  RandomBytes(p.data(), p.size());
  return p;
}

TEST(PageCipher, RoundTrips) {
  PageCipher c(RandomKey());
  for (size_t n : {size_t{0}, size_t{1}, size_t{4096}}) {
    std::vector<uint8_t> plain = RandomPage(n);
    std::vector<uint8_t> sealed(n + PageCipher::kOverhead);
    c.Seal(plain.data(), n, 7, sealed.data());
    std::vector<uint8_t> back(n);
    ASSERT_TRUE(c.Open(sealed.data(), n, 7, back.data()));
    EXPECT_EQ(back, plain);
    if (n > 0) {
      EXPECT_NE(std::vector<uint8_t>(sealed.begin(), sealed.begin() + n), plain);
    }
  }
}

TEST(PageCipher, WorksInPlace) {
  PageCipher c(RandomKey());
  std::vector<uint8_t> plain = RandomPage(4096);
  std::vector<uint8_t> buf(plain);
  buf.resize(plain.size() + PageCipher::kOverhead);
  c.Seal(buf.data(), plain.size(), 1, buf.data());
  EXPECT_NE(std::vector<uint8_t>(buf.begin(), buf.begin() + 4096), plain);
  ASSERT_TRUE(c.Open(buf.data(), plain.size(), 1, buf.data()));
  EXPECT_EQ(std::vector<uint8_t>(buf.begin(), buf.begin() + 4096), plain);
}

TEST(PageCipher, UsesAFreshNonceEachTime) {
  PageCipher c(RandomKey());
  std::vector<uint8_t> plain = RandomPage(64);
  std::vector<uint8_t> a(64 + PageCipher::kOverhead), b(a.size());
  c.Seal(plain.data(), 64, 0, a.data());
  c.Seal(plain.data(), 64, 0, b.data());
  EXPECT_NE(a, b);
}

TEST(PageCipher, RefusesAPageMovedToAnotherPlace) {
  PageCipher c(RandomKey());
  std::vector<uint8_t> plain = RandomPage(512);
  std::vector<uint8_t> sealed(512 + PageCipher::kOverhead), out(512);
  c.Seal(plain.data(), 512, 4096, sealed.data());
  EXPECT_FALSE(c.Open(sealed.data(), 512, 8192, out.data()));
  EXPECT_FALSE(c.Open(sealed.data(), 512, 4096 | (uint64_t{1} << 63), out.data()));
  EXPECT_TRUE(c.Open(sealed.data(), 512, 4096, out.data()));
}

TEST(PageCipher, RefusesAnotherKey) {
  PageCipher c(RandomKey()), other(RandomKey());
  std::vector<uint8_t> plain = RandomPage(100);
  std::vector<uint8_t> sealed(100 + PageCipher::kOverhead), out(100);
  c.Seal(plain.data(), 100, 3, sealed.data());
  EXPECT_FALSE(other.Open(sealed.data(), 100, 3, out.data()));
}

TEST(PageCipher, RefusesAnyFlippedByte) {
  PageCipher c(RandomKey());
  const size_t n = 64;
  std::vector<uint8_t> plain = RandomPage(n);
  std::vector<uint8_t> sealed(n + PageCipher::kOverhead), out(n);
  c.Seal(plain.data(), n, 9, sealed.data());
  // Ciphertext, MAC and nonce bytes alike.
  for (size_t i = 0; i < sealed.size(); ++i) {
    std::vector<uint8_t> bad(sealed);
    bad[i] ^= 0x01;
    EXPECT_FALSE(c.Open(bad.data(), n, 9, out.data())) << "byte " << i;
  }
}

}  // namespace
}  // namespace mailvault::crypto
