// Tests for KeyRing: creation and file modes, loading with and without
// secrets, malformed files, rotation, and an AddKey that fails part way.
#include "crypto/keyring.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>

#include "crypto/sealer.h"
#include "testutil/fault_env.h"

namespace mailvault::crypto {
namespace {

// The real Env, except that secret key files cannot be read (what a writer
// running as another user sees; chmod does not stop root).
class NoSecretsEnv final : public Env {
 public:
  Result<std::unique_ptr<WritableFile>> OpenAppendable(const std::string& p) override {
    return base_->OpenAppendable(p);
  }
  Result<std::unique_ptr<TempFile>> NewTempFile(const std::string& d) override {
    return base_->NewTempFile(d);
  }
  Result<std::unique_ptr<RandomAccessFile>> OpenRandomAccess(const std::string& p) override {
    if (p.ends_with(".sec")) return Status::PermissionDenied("open " + p);
    return base_->OpenRandomAccess(p);
  }
  Status WriteFileAtomic(const std::string& p, std::string_view c) override {
    return base_->WriteFileAtomic(p, c);
  }
  Result<std::string> ReadFile(const std::string& p) override {
    if (p.ends_with(".sec")) return Status::PermissionDenied("open " + p);
    return base_->ReadFile(p);
  }
  Status CreateDir(const std::string& p) override { return base_->CreateDir(p); }
  Status SyncDir(const std::string& p) override { return base_->SyncDir(p); }
  Result<std::vector<std::string>> ListDir(const std::string& p) override {
    return base_->ListDir(p);
  }
  bool Exists(const std::string& p) override { return base_->Exists(p); }
  Result<uint64_t> FileSize(const std::string& p) override { return base_->FileSize(p); }
  Status Rename(const std::string& f, const std::string& t) override { return base_->Rename(f, t); }
  Status Remove(const std::string& p) override { return base_->Remove(p); }
  Status Truncate(const std::string& p, uint64_t n) override { return base_->Truncate(p, n); }
  Status PunchHole(const std::string& p, uint64_t o, uint64_t n) override {
    return base_->PunchHole(p, o, n);
  }
  Result<uint64_t> FreeSpace(const std::string& p) override { return base_->FreeSpace(p); }
  Result<uint64_t> AllocatedSize(const std::string& p) override { return base_->AllocatedSize(p); }
  Result<std::unique_ptr<FileLock>> TryLock(const std::string& p) override {
    return base_->TryLock(p);
  }
  int64_t NowMicros() override { return base_->NowMicros(); }
  std::string HostName() override { return base_->HostName(); }

 private:
  Env* base_ = PosixEnv();
};

class KeyRingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mv_keyring_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    dir_ = root_ + "/keys";
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  Env& env() { return *PosixEnv(); }
  std::string Path(const std::string& name) { return dir_ + "/" + name; }
  void Write(const std::string& name, const std::string& data) {
    ASSERT_TRUE(env().WriteFileAtomic(Path(name), data).ok());
  }
  static int Mode(const std::string& path) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return -1;
    return st.st_mode & 0777;
  }

  std::string root_, dir_;
};

TEST_F(KeyRingTest, CreatesFirstKeyAndOpensIt) {
  auto ring = KeyRing::Create(env(), dir_);
  ASSERT_TRUE(ring.ok()) << ring.status().ToString();
  EXPECT_EQ((*ring)->current_id(), 1u);
  EXPECT_EQ(Mode(dir_), 0700);
  for (const char* f : {"1.pub", "1.sec", "current", "index.key"}) {
    EXPECT_EQ(Mode(Path(f)), 0600) << f;
  }
  EXPECT_EQ(env().ReadFile(Path("1.sec"))->size(), 32u);

  auto again = KeyRing::Open(env(), dir_, /*need_secrets=*/true);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ((*again)->current_id(), 1u);
  EXPECT_EQ((*again)->current_public(), (*ring)->current_public());
  EXPECT_EQ((*again)->Derived(KeyPurpose::kIndexPages), (*ring)->Derived(KeyPurpose::kIndexPages));
  EXPECT_NE((*again)->Derived(KeyPurpose::kIndexPages), SymmetricKey{});
  auto list = (*again)->List();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].id, 1u);
  EXPECT_TRUE(list[0].current);
  EXPECT_TRUE(list[0].has_secret);
  EXPECT_EQ(list[0].fingerprint.size(), 16u);
  EXPECT_EQ(list[0].fingerprint, (*ring)->List()[0].fingerprint);
  auto pair = (*again)->KeyPair(1);
  ASSERT_TRUE(pair.ok());
  EXPECT_EQ(pair->first, (*again)->current_public());
  EXPECT_EQ((*again)->KeyPair(2).status().code(), Code::kNotFound);
}

TEST_F(KeyRingTest, CreateRefusesADirectoryWithKeys) {
  ASSERT_TRUE(KeyRing::Create(env(), dir_).ok());
  EXPECT_EQ(KeyRing::Create(env(), dir_).status().code(), Code::kAlreadyExists);
}

TEST_F(KeyRingTest, OpenWithoutDirectoryIsNotFound) {
  EXPECT_EQ(KeyRing::Open(env(), dir_, false).status().code(), Code::kNotFound);
}

TEST_F(KeyRingTest, WritersNeedOnlyThePublicKey) {
  ASSERT_TRUE(KeyRing::Create(env(), dir_).ok());
  ASSERT_TRUE(env().Remove(Path("1.sec")).ok());
  EXPECT_EQ(KeyRing::Open(env(), dir_, true).status().code(), Code::kNotFound);
  auto ring = KeyRing::Open(env(), dir_, false);
  ASSERT_TRUE(ring.ok()) << ring.status().ToString();
  EXPECT_FALSE((*ring)->List()[0].has_secret);
  EXPECT_EQ((*ring)->KeyPair(1).status().code(), Code::kPermissionDenied);
  Sealer sealer((*ring)->current_public());  // sealing still works
  EXPECT_EQ(sealer.Header().size(), kSealedHeaderSize);
}

TEST_F(KeyRingTest, UnreadableSecretKey) {
  ASSERT_TRUE(KeyRing::Create(env(), dir_).ok());
  NoSecretsEnv no_secrets;
  EXPECT_EQ(KeyRing::Open(no_secrets, dir_, true).status().code(), Code::kPermissionDenied);
  auto ring = KeyRing::Open(no_secrets, dir_, false);
  ASSERT_TRUE(ring.ok()) << ring.status().ToString();
  EXPECT_FALSE((*ring)->List()[0].has_secret);
  EXPECT_EQ((*ring)->KeyPair(1).status().code(), Code::kPermissionDenied);
  EXPECT_EQ((*ring)->Derived(KeyPurpose::kAudit),
            KeyRing::Open(env(), dir_, true).value()->Derived(KeyPurpose::kAudit));
}

TEST_F(KeyRingTest, UnreadableSecretKeyFileMode) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads any file";
  ASSERT_TRUE(KeyRing::Create(env(), dir_).ok());
  ASSERT_EQ(::chmod(Path("1.sec").c_str(), 0), 0);
  EXPECT_EQ(KeyRing::Open(env(), dir_, true).status().code(), Code::kPermissionDenied);
  auto ring = KeyRing::Open(env(), dir_, false);
  ASSERT_TRUE(ring.ok()) << ring.status().ToString();
  EXPECT_FALSE((*ring)->List()[0].has_secret);
}

TEST_F(KeyRingTest, MalformedFilesAreCorruptionNamingTheFile) {
  struct Case {
    const char* file;
    std::string contents;
  };
  const Case cases[] = {
      {"1.pub", std::string(31, 'p')},
      {"1.sec", std::string(33, 's')},
      {"1.sec", std::string(32, 's')},   // does not match 1.pub
      {"1.pub", std::string(32, '\0')},  // degenerate point
      {"index.key", "short"},
      {"current", "one"},
      {"current", "7"},  // names a missing key
  };
  for (const Case& c : cases) {
    std::filesystem::remove_all(dir_);
    ASSERT_TRUE(KeyRing::Create(env(), dir_).ok());
    Write(c.file, c.contents);
    Status s = KeyRing::Open(env(), dir_, false).status();
    EXPECT_TRUE(s.IsCorruption()) << c.file << ": " << s.ToString();
    EXPECT_NE(s.message().find(c.file), std::string::npos) << s.message();
  }
}

TEST_F(KeyRingTest, RotationKeepsOldCopiesReadable) {
  std::string header, chunk;
  {
    auto ring = KeyRing::Create(env(), dir_);
    ASSERT_TRUE(ring.ok());
    Sealer s((*ring)->current_public());
    header = s.Header();
    s.Push("sealed under key 1", true, &chunk);
    auto added = (*ring)->AddKey();
    ASSERT_TRUE(added.ok()) << added.status().ToString();
    EXPECT_EQ(added->id, 2u);
    EXPECT_TRUE(added->current);
    EXPECT_EQ((*ring)->current_id(), 2u);
  }
  auto ring = KeyRing::Open(env(), dir_, true);
  ASSERT_TRUE(ring.ok()) << ring.status().ToString();
  EXPECT_EQ((*ring)->current_id(), 2u);
  auto list = (*ring)->List();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_FALSE(list[0].current);
  EXPECT_TRUE(list[1].current);
  EXPECT_NE(list[0].fingerprint, list[1].fingerprint);

  auto k1 = (*ring)->KeyPair(1);
  auto k2 = (*ring)->KeyPair(2);
  ASSERT_TRUE(k1.ok() && k2.ok());
  EXPECT_EQ(k2->first, (*ring)->current_public());
  EXPECT_TRUE(Opener::Open(k2->first, k2->second, header).status().IsCorruption());
  auto opener = Opener::Open(k1->first, k1->second, header);
  ASSERT_TRUE(opener.ok());
  std::string plain;
  bool final = false;
  ASSERT_TRUE((*opener)->Pull(chunk, &plain, &final).ok());
  EXPECT_TRUE(final);
  EXPECT_EQ(plain, "sealed under key 1");
}

TEST_F(KeyRingTest, FailedAddKeyLeavesTheOldCurrent) {
  FaultEnv fenv(PosixEnv());
  auto ring = KeyRing::Create(fenv, dir_);
  ASSERT_TRUE(ring.ok());
  // AddKey writes 2.sec, 2.pub, then current: fail the rename of current.
  fenv.FailAt(FaultEnv::Op::kRename, 3);
  EXPECT_FALSE((*ring)->AddKey().ok());
  EXPECT_EQ((*ring)->current_id(), 1u);
  ASSERT_TRUE(fenv.DropUnsyncedData().ok());

  auto reopened = KeyRing::Open(fenv, dir_, true);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ((*reopened)->current_id(), 1u);
  EXPECT_EQ((*reopened)->current_public(), (*ring)->current_public());
  // The leftover pair is never reused: the next key gets a fresh id.
  auto added = (*reopened)->AddKey();
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  EXPECT_EQ(added->id, 3u);
}

TEST_F(KeyRingTest, LoneSecretKeyFromAnInterruptedAddKeyIsUsable) {
  ASSERT_TRUE(KeyRing::Create(env(), dir_).ok());
  std::string sec = *env().ReadFile(Path("1.sec"));
  ASSERT_TRUE(env().Remove(Path("1.pub")).ok());
  auto ring = KeyRing::Open(env(), dir_, true);
  ASSERT_TRUE(ring.ok()) << ring.status().ToString();
  EXPECT_TRUE((*ring)->KeyPair(1).ok());
}

SymmetricKey CountingKey() {
  SymmetricKey k;
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(i);
  return k;
}

std::string HexOf(const SymmetricKey& k) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : k) {
    out += kDigits[b >> 4];
    out += kDigits[b & 0xf];
  }
  return out;
}

TEST(DeriveSubkeyTest, IsDeterministicAndSeparatesContextsAndIds) {
  const SymmetricKey key = CountingKey();
  const SymmetricKey queue = DeriveSubkey(key, 1, "mvqueue_");
  EXPECT_EQ(DeriveSubkey(key, 1, "mvqueue_"), queue);
  EXPECT_NE(queue, key);
  EXPECT_NE(DeriveSubkey(key, 2, "mvqueue_"), queue);
  EXPECT_NE(DeriveSubkey(key, 1, "mvreleas"), queue);
  SymmetricKey other = key;
  other[31] ^= 1;
  EXPECT_NE(DeriveSubkey(other, 1, "mvqueue_"), queue);
}

// Known answers: BLAKE2b-256 keyed with `key`, empty message, salt = the id
// (8 bytes little-endian, zero padded), personal = the context (zero
// padded), which is what crypto_kdf_derive_from_key defines. Computed
// independently with Python's hashlib.blake2b. A change here changes every
// derived key on disk.
TEST(DeriveSubkeyTest, MatchesKnownAnswers) {
  const SymmetricKey key = CountingKey();
  EXPECT_EQ(HexOf(DeriveSubkey(key, 1, "mvqueue_")),
            "9f084b37b7e513546d176aec481e6211b78fe217af82baf93e66058aafbb9d86");
  EXPECT_EQ(HexOf(DeriveSubkey(key, 2, "mvqueue_")),
            "f765fadeecf52817491925ba833f5d0c66e6aab0d7d2ece2d5354a9e4ea66fe0");
  EXPECT_EQ(HexOf(DeriveSubkey(key, 1, "mvreleas")),
            "b356381893b9eec8effa22eecf2ad1f7287fed35be59fff86cde51c97e266ad0");
}

// Every purpose, from a counting root key. The derived ones computed
// independently with Python's hashlib.blake2b (as above); they are the
// ids and contexts the components used before the table existed.
TEST(KeyPurposeTest, MatchesKnownAnswers) {
  const SymmetricKey root = CountingKey();
  const std::map<KeyPurpose, std::string> expected = {
      {KeyPurpose::kIndexPages, HexOf(root)},
      {KeyPurpose::kRecordMetadata, HexOf(root)},
      {KeyPurpose::kAccounts, "e668be6c1a3a332a2709bcbdae5c933c41ebf9d9aa7dffb8229f48cf03dd82ae"},
      {KeyPurpose::kAudit, "01e1a1ffdf879a2903af2cb99d269b6c50ab8fda9963d1935772cf2aa528ddff"},
      {KeyPurpose::kDeliveryQueue,
       "9f084b37b7e513546d176aec481e6211b78fe217af82baf93e66058aafbb9d86"},
      {KeyPurpose::kReleaseMac, "b356381893b9eec8effa22eecf2ad1f7287fed35be59fff86cde51c97e266ad0"},
      {KeyPurpose::kReleaseAddressTag,
       "6bbee27ca73117d1b09c8fc02198bda2c18bc911f443c6528d63994d4796d183"},
      {KeyPurpose::kLdapCache, "91ae475111efdd85d5ae5225707f7643846e85b5cec550fc89e9a9662a9cf1e0"},
  };
  ASSERT_EQ(expected.size(), std::size(kAllKeyPurposes));
  for (KeyPurpose p : kAllKeyPurposes) {
    EXPECT_EQ(HexOf(DerivePurposeKey(root, p)), expected.at(p)) << DerivationOf(p).name;
  }
}

// The same through a real key directory: the keys of the store fixture
// written by an earlier version (src/store/testdata/store-v1/keys), with
// the values that version's components derived (computed with that code:
// DeriveSubkey(index.key, 1, "mvaccts_") etc.). A change here means that
// existing stores and databases no longer open.
TEST(KeyPurposeTest, FixtureRingGivesTheKeysEarlierVersionsUsed) {
  auto ring =
      KeyRing::Open(*PosixEnv(), std::string(MV_SOURCE_DIR) + "/src/store/testdata/store-v1/keys",
                    /*need_secrets=*/false);
  ASSERT_TRUE(ring.ok()) << ring.status().ToString();
  const std::string root = "f5d4fdec27ae8fdc4b068291fb1917eaa8ccd56304f80cf0576b964804cf80ec";
  const std::map<KeyPurpose, std::string> expected = {
      {KeyPurpose::kIndexPages, root},
      {KeyPurpose::kRecordMetadata, root},
      {KeyPurpose::kAccounts, "6e455418723de626a5814a421e2c372c8fe19fba09da648dc454f08f5fdf048a"},
      {KeyPurpose::kAudit, "a5c3cfdb01783076d9dcda0fd1125b3c9b540f69799939a332a3770f3b6d6de2"},
      {KeyPurpose::kDeliveryQueue,
       "caa0819da9fc2daa09b2e508df4bd20ee51df6054bd1671561026db4006efb79"},
      {KeyPurpose::kReleaseMac, "489e9b1dcc1fef11cf58c177c5eddca8b2cc98628b865bfda1769c3b15d56d50"},
      {KeyPurpose::kReleaseAddressTag,
       "8c6bea4bcc57ad7fb6d3d3ca3a9016b0944aeb2fcbff97e3549db1c457a76ce4"},
      // Added after that version: the key it would have derived.
      {KeyPurpose::kLdapCache, "39e4870b7e6b8feb1a531b4d761091e1ad485f4db33ac224c74f48842c12885c"},
  };
  for (KeyPurpose p : kAllKeyPurposes) {
    EXPECT_EQ(HexOf((*ring)->Derived(p)), expected.at(p)) << DerivationOf(p).name;
  }
}

// Each derived purpose has its own key: no two rows share an id and context.
TEST(KeyPurposeTest, DerivedPurposesAreDistinct) {
  const SymmetricKey root = CountingKey();
  std::set<SymmetricKey> seen;
  for (KeyPurpose p : kAllKeyPurposes) {
    const KeyDerivation& d = DerivationOf(p);
    if (d.root_itself) continue;
    EXPECT_EQ(std::string(d.context).size(), 8u) << d.name;
    EXPECT_TRUE(seen.insert(DerivePurposeKey(root, p)).second) << d.name;
  }
}

}  // namespace
}  // namespace mailvault::crypto
