// Tests for the sealed key-ring export: a round trip restores every key
// pair and the root key; a wrong passphrase, any altered byte, a torn file,
// an unknown version, a ring without all its secrets and an import over
// existing keys are refused; the header is laid out as docs/keys-export.md
// says.
#include "crypto/key_export.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <filesystem>

#include "crypto/keyring.h"
#include "testutil/temp_dir.h"

namespace mailvault::crypto {
namespace {

constexpr char kPass[] = "correct horse battery staple";

class KeyExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ring = KeyRing::Create(env_, src_);
    ASSERT_TRUE(ring.ok()) << ring.status().ToString();
    ASSERT_TRUE((*ring)->AddKey().ok());  // two key pairs, the second current
  }
  std::string Export() {
    auto sealed = ExportKeyRing(env_, src_, kPass, kTestCost);
    EXPECT_TRUE(sealed.ok()) << sealed.status().ToString();
    return sealed.ok() ? *sealed : std::string();
  }

  Env& env_ = *PosixEnv();
  TempDir dir_{"mv-keyexport"};
  std::string src_ = dir_.File("keys");
  std::string dst_ = dir_.File("restored/keys");
};

TEST_F(KeyExportTest, RoundTripRestoresEveryKey) {
  std::string sealed = Export();
  std::filesystem::create_directories(dir_.File("restored"));
  ASSERT_TRUE(ImportKeyRing(env_, sealed, kPass, dst_).ok());
  auto a = KeyRing::Open(env_, src_, true);
  auto b = KeyRing::Open(env_, dst_, true);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ((*a)->current_id(), (*b)->current_id());
  ASSERT_EQ((*a)->List().size(), 2u);
  ASSERT_EQ((*b)->List().size(), 2u);
  for (uint32_t id : {1u, 2u}) {
    auto ka = (*a)->KeyPair(id);
    auto kb = (*b)->KeyPair(id);
    ASSERT_TRUE(ka.ok() && kb.ok());
    EXPECT_EQ(ka->first, kb->first);
    EXPECT_EQ(ka->second, kb->second);
  }
  EXPECT_EQ((*a)->Derived(KeyPurpose::kAudit), (*b)->Derived(KeyPurpose::kAudit));
  EXPECT_EQ((*a)->Derived(KeyPurpose::kIndexPages), (*b)->Derived(KeyPurpose::kIndexPages));
  // The secret key files are the service's alone.
  EXPECT_EQ(std::filesystem::status(dst_ + "/1.sec").permissions(),
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

TEST_F(KeyExportTest, HeaderIsLaidOutAsDocumented) {
  std::string s = Export();
  ASSERT_GT(s.size(), 66u + 16u);
  EXPECT_EQ(s.substr(0, 8), "MVKEYEXP");
  EXPECT_EQ(s[8], 1);  // version
  EXPECT_EQ(s[9], 1);  // argon2id13
  uint64_t ops = 0, mem = 0;
  for (int i = 7; i >= 0; --i) {
    ops = (ops << 8) | static_cast<unsigned char>(s[10 + i]);
    mem = (mem << 8) | static_cast<unsigned char>(s[18 + i]);
  }
  EXPECT_EQ(ops, kTestCost.ops);
  EXPECT_EQ(mem, kTestCost.mem);
  // Fresh salt and nonce each time: two exports differ.
  EXPECT_NE(Export().substr(26, 40), s.substr(26, 40));
}

TEST_F(KeyExportTest, WrongPassphraseIsRefused) {
  Status s = ImportKeyRing(env_, Export(), "not the passphrase", dst_);
  EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.ToString();
  EXPECT_FALSE(env_.Exists(dst_));
}

TEST_F(KeyExportTest, EveryAlteredByteIsRefused) {
  std::string sealed = Export();
  // Each header field (the costs only upward within range) and the body.
  for (size_t at : {9ul, 26ul, 41ul, 42ul, 65ul, 66ul, sealed.size() / 2, sealed.size() - 1}) {
    std::string bad = sealed;
    bad[at] ^= 0x01;
    Status s = ImportKeyRing(env_, bad, kPass, dst_);
    EXPECT_FALSE(s.ok()) << "byte " << at;
  }
  std::string costlier = sealed;
  costlier[10] ^= 0x02;  // opslimit 1 -> 3: in range, but bound by the AEAD
  EXPECT_EQ(ImportKeyRing(env_, costlier, kPass, dst_).code(), Code::kInvalidArgument);
  EXPECT_FALSE(env_.Exists(dst_));
}

TEST_F(KeyExportTest, TornOrForeignFilesAreCorruption) {
  std::string sealed = Export();
  EXPECT_EQ(ImportKeyRing(env_, sealed.substr(0, 70), kPass, dst_).code(), Code::kCorruption);
  EXPECT_EQ(ImportKeyRing(env_, "hello", kPass, dst_).code(), Code::kCorruption);
  std::string v2 = sealed;
  v2[8] = 2;
  Status s = ImportKeyRing(env_, v2, kPass, dst_);
  EXPECT_EQ(s.code(), Code::kCorruption);
  EXPECT_NE(s.message().find("version 2"), std::string::npos) << s.message();
  std::string greedy = sealed;
  greedy[25] = 0x7f;  // memlimit far beyond what an import allocates
  EXPECT_EQ(ImportKeyRing(env_, greedy, kPass, dst_).code(), Code::kCorruption);
}

TEST_F(KeyExportTest, ImportNeverReplacesKeys) {
  std::string before = ReadAll(src_ + "/index.key");
  Status s = ImportKeyRing(env_, Export(), kPass, src_);
  EXPECT_EQ(s.code(), Code::kAlreadyExists) << s.ToString();
  EXPECT_EQ(ReadAll(src_ + "/index.key"), before);
}

TEST_F(KeyExportTest, ShortPassphraseAndMissingSecretsAreRefused) {
  EXPECT_EQ(ExportKeyRing(env_, src_, "short", kTestCost).status().code(), Code::kInvalidArgument);
  std::filesystem::remove(src_ + "/1.sec");  // an old key without its secret half
  auto sealed = ExportKeyRing(env_, src_, kPass, kTestCost);
  EXPECT_FALSE(sealed.ok());
  EXPECT_EQ(sealed.status().code(), Code::kPermissionDenied) << sealed.status().ToString();
}

}  // namespace
}  // namespace mailvault::crypto
