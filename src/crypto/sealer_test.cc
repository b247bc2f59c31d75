// Tests for Sealer/Opener: a stream opens only whole, in order, with the
// right key, and a missing final chunk is visible to the caller.
#include "crypto/sealer.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <string>
#include <vector>

#include "crypto/page_cipher.h"

namespace mailvault::crypto {
namespace {

struct Pair {
  PublicKey pk;
  SecretKey sk;
};

Pair NewPair() {
  InitCrypto();
  Pair p;
  crypto_box_keypair(p.pk.data(), p.sk.data());
  return p;
}

struct Sealed {
  std::string header;
  std::vector<std::string> chunks;
};

Sealed Seal(const PublicKey& pk, const std::vector<std::string>& parts) {
  Sealer s(pk);
  Sealed out{s.Header(), {}};
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string c;
    s.Push(parts[i], i + 1 == parts.size(), &c);
    EXPECT_EQ(c.size(), parts[i].size() + kChunkOverhead);
    out.chunks.push_back(std::move(c));
  }
  return out;
}

// Opens every chunk; returns the first error, the plaintext and whether the
// final chunk was seen.
Status OpenAll(const Pair& key, const Sealed& s, std::string* plain, bool* final) {
  *final = false;
  MV_ASSIGN_OR_RETURN(auto opener, Opener::Open(key.pk, key.sk, s.header));
  for (const std::string& c : s.chunks) {
    bool f = false;
    MV_RETURN_IF_ERROR(opener->Pull(c, plain, &f));
    *final = f;
  }
  return Status::Ok();
}

const std::vector<std::string> kParts = {"From: a@example.com\r\n", "", std::string(70000, 'x'),
                                         "last line\r\n"};

TEST(Sealer, RoundTrips) {
  Pair key = NewPair();
  Sealed s = Seal(key.pk, kParts);
  EXPECT_EQ(s.header.size(), kSealedHeaderSize);
  auto opener = Opener::Open(key.pk, key.sk, s.header);
  ASSERT_TRUE(opener.ok()) << opener.status().ToString();
  std::string plain;
  for (size_t i = 0; i < s.chunks.size(); ++i) {
    bool final = true;
    ASSERT_TRUE((*opener)->Pull(s.chunks[i], &plain, &final).ok());
    EXPECT_EQ(final, i + 1 == s.chunks.size());
  }
  std::string want;
  for (const auto& p : kParts) want += p;
  EXPECT_EQ(plain, want);
}

TEST(Sealer, EachMessageGetsItsOwnKey) {
  Pair key = NewPair();
  Sealed a = Seal(key.pk, {"same"});
  Sealed b = Seal(key.pk, {"same"});
  EXPECT_NE(a.header, b.header);
  EXPECT_NE(a.chunks[0], b.chunks[0]);
}

TEST(Sealer, WrongKeyIsCorruption) {
  Pair key = NewPair(), other = NewPair();
  Sealed s = Seal(key.pk, kParts);
  auto opener = Opener::Open(other.pk, other.sk, s.header);
  ASSERT_FALSE(opener.ok());
  EXPECT_TRUE(opener.status().IsCorruption());
  EXPECT_TRUE(Opener::Open(key.pk, key.sk, s.header.substr(1)).status().IsCorruption());
}

TEST(Sealer, FlippedHeaderByteIsCorruption) {
  Pair key = NewPair();
  Sealed s = Seal(key.pk, kParts);
  for (size_t i = 0; i < s.header.size(); ++i) {
    Sealed bad = s;
    bad.header[i] ^= 0x20;
    std::string plain;
    bool final;
    Status st = OpenAll(key, bad, &plain, &final);
    EXPECT_TRUE(st.IsCorruption()) << "header byte " << i << ": " << st.ToString();
  }
}

TEST(Sealer, FlippedChunkByteIsCorruption) {
  Pair key = NewPair();
  Sealed s = Seal(key.pk, kParts);
  for (size_t c = 0; c < s.chunks.size(); ++c) {
    const size_t n = s.chunks[c].size();
    for (size_t i : {size_t{0}, n / 2, n - 1}) {
      Sealed bad = s;
      bad.chunks[c][i] ^= 0x01;
      std::string plain;
      bool final;
      EXPECT_TRUE(OpenAll(key, bad, &plain, &final).IsCorruption())
          << "chunk " << c << " byte " << i;
    }
  }
}

TEST(Sealer, TruncatedStreamNeverReportsFinal) {
  Pair key = NewPair();
  Sealed s = Seal(key.pk, kParts);
  s.chunks.pop_back();
  std::string plain;
  bool final = true;
  ASSERT_TRUE(OpenAll(key, s, &plain, &final).ok());
  EXPECT_FALSE(final);
}

TEST(Sealer, ReorderedChunksAreCorruption) {
  Pair key = NewPair();
  Sealed s = Seal(key.pk, kParts);
  std::swap(s.chunks[0], s.chunks[2]);
  std::string plain;
  bool final;
  EXPECT_TRUE(OpenAll(key, s, &plain, &final).IsCorruption());
}

TEST(Sealer, DroppedMiddleChunkIsCorruption) {
  Pair key = NewPair();
  Sealed s = Seal(key.pk, kParts);
  s.chunks.erase(s.chunks.begin() + 1);
  std::string plain;
  bool final;
  EXPECT_TRUE(OpenAll(key, s, &plain, &final).IsCorruption());
}

TEST(Sealer, ChunkFromAnotherMessageIsCorruption) {
  Pair key = NewPair();
  Sealed a = Seal(key.pk, kParts);
  Sealed b = Seal(key.pk, kParts);
  a.chunks[1] = b.chunks[1];
  std::string plain;
  bool final;
  EXPECT_TRUE(OpenAll(key, a, &plain, &final).IsCorruption());
}

TEST(Sealer, DataAfterFinalIsCorruption) {
  Pair key = NewPair();
  Sealed s = Seal(key.pk, {"only"});
  auto opener = Opener::Open(key.pk, key.sk, s.header);
  ASSERT_TRUE(opener.ok());
  std::string plain;
  bool final = false;
  ASSERT_TRUE((*opener)->Pull(s.chunks[0], &plain, &final).ok());
  ASSERT_TRUE(final);
  EXPECT_TRUE((*opener)->Pull(s.chunks[0], &plain, &final).IsCorruption());
  EXPECT_FALSE(final);
  EXPECT_EQ(plain, "only");
}

TEST(Sealer, ShortChunkIsCorruptionAndLeavesOutputAlone) {
  Pair key = NewPair();
  Sealed s = Seal(key.pk, {"abc"});
  auto opener = Opener::Open(key.pk, key.sk, s.header);
  ASSERT_TRUE(opener.ok());
  std::string plain = "kept";
  bool final;
  EXPECT_TRUE(
      (*opener)->Pull(s.chunks[0].substr(0, kChunkOverhead - 1), &plain, &final).IsCorruption());
  std::string bad = s.chunks[0];
  bad.back() ^= 1;
  EXPECT_TRUE((*opener)->Pull(bad, &plain, &final).IsCorruption());
  EXPECT_EQ(plain, "kept");
}

}  // namespace
}  // namespace mailvault::crypto
