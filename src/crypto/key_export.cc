// ExportKeyRing / ImportKeyRing (see key_export.h for the format).
#include "crypto/key_export.h"

#include <sodium.h>

#include <array>
#include <cstring>
#include <map>

#include "crypto/keyring.h"

namespace mailvault::crypto {

const PasswordCost kExportCost = {crypto_pwhash_OPSLIMIT_MODERATE, crypto_pwhash_MEMLIMIT_MODERATE};

namespace {

constexpr char kMagic[8] = {'M', 'V', 'K', 'E', 'Y', 'E', 'X', 'P'};
constexpr uint8_t kVersion = 1;
constexpr uint8_t kKdfArgon2id13 = 1;
constexpr size_t kSaltBytes = crypto_pwhash_SALTBYTES;                        // 16
constexpr size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;  // 24
constexpr size_t kHeaderBytes = 8 + 1 + 1 + 8 + 8 + kSaltBytes + kNonceBytes;
static_assert(kHeaderBytes == 66);
// A file may ask for at most this much memory (a crafted one must not make
// import allocate without bound); SENSITIVE is 1 GiB.
constexpr uint64_t kMaxMemlimit = 4ull << 30;
constexpr uint64_t kMaxOpslimit = 64;
constexpr size_t kMaxEntryBytes = 64;  // key files are 32 bytes, `current` a few digits

void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint64_t GetU64(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// The key files a ring may hold: <id>.pub, <id>.sec, current, index.key.
bool IsKeyFileName(const std::string& name) {
  if (name == "current" || name == "index.key") return true;
  size_t dot = name.find('.');
  if (dot == 0 || dot == std::string::npos || dot > 10) return false;
  std::string_view suffix = std::string_view(name).substr(dot);
  if (suffix != ".pub" && suffix != ".sec") return false;
  for (size_t i = 0; i < dot; ++i)
    if (name[i] < '0' || name[i] > '9') return false;
  return name[0] != '0';
}

// A secret held in a string that is wiped when it goes.
struct Wiped {
  std::string s;
  ~Wiped() { sodium_memzero(s.data(), s.size()); }
};

Status DeriveKey(std::string_view passphrase, const unsigned char* salt, uint64_t ops, uint64_t mem,
                 std::array<unsigned char, 32>* key) {
  if (crypto_pwhash(key->data(), key->size(), passphrase.data(), passphrase.size(), salt, ops,
                    static_cast<size_t>(mem), crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Status::Unavailable("argon2id: out of memory (the export asks for " +
                               std::to_string(mem >> 20) + " MiB)");
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> ExportKeyRing(Env& env, const std::string& keys_dir,
                                  std::string_view passphrase, const PasswordCost& cost) {
  if (passphrase.size() < kMinPassphraseBytes) {
    return Status::InvalidArgument("the passphrase must be at least " +
                                   std::to_string(kMinPassphraseBytes) + " bytes");
  }
  if (sodium_init() < 0) return Status::Unavailable("libsodium failed to initialise");
  // The ring must open whole, with every secret key: an export that cannot
  // read old copies would be found out only on the day it is needed.
  {
    MV_ASSIGN_OR_RETURN(auto ring, KeyRing::Open(env, keys_dir, /*need_secrets=*/true));
    for (const KeyInfo& k : ring->List()) {
      if (!k.has_secret) {
        return Status::PermissionDenied("key " + std::to_string(k.id) + " in " + keys_dir +
                                        " has no secret half: copies sealed to it could not "
                                        "be read from this export");
      }
    }
  }
  MV_ASSIGN_OR_RETURN(std::vector<std::string> names, env.ListDir(keys_dir));
  Wiped body;
  for (const std::string& name : names) {
    if (!IsKeyFileName(name)) continue;
    MV_ASSIGN_OR_RETURN(std::string data, env.ReadFile(JoinPath(keys_dir, name)));
    Wiped wiped{std::move(data)};
    if (wiped.s.size() > kMaxEntryBytes)
      return Status::Corruption(JoinPath(keys_dir, name) + " is too large for a key file");
    body.s.push_back(static_cast<char>(name.size()));
    body.s += name;
    uint32_t n = static_cast<uint32_t>(wiped.s.size());
    for (int i = 0; i < 4; ++i) body.s.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
    body.s += wiped.s;
  }

  std::string out(kMagic, sizeof kMagic);
  out.push_back(static_cast<char>(kVersion));
  out.push_back(static_cast<char>(kKdfArgon2id13));
  PutU64(&out, cost.ops);
  PutU64(&out, cost.mem);
  unsigned char salt[kSaltBytes], nonce[kNonceBytes];
  randombytes_buf(salt, sizeof salt);
  randombytes_buf(nonce, sizeof nonce);
  out.append(reinterpret_cast<char*>(salt), sizeof salt);
  out.append(reinterpret_cast<char*>(nonce), sizeof nonce);

  std::array<unsigned char, 32> key{};
  Status s = DeriveKey(passphrase, salt, cost.ops, cost.mem, &key);
  if (!s.ok()) return s;
  std::string sealed(body.s.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
  unsigned long long sealed_len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      reinterpret_cast<unsigned char*>(sealed.data()), &sealed_len,
      reinterpret_cast<const unsigned char*>(body.s.data()), body.s.size(),
      reinterpret_cast<const unsigned char*>(out.data()), out.size(), nullptr, nonce, key.data());
  sodium_memzero(key.data(), key.size());
  out.append(sealed.data(), sealed_len);
  return out;
}

Status ImportKeyRing(Env& env, std::string_view sealed, std::string_view passphrase,
                     const std::string& keys_dir) {
  if (sodium_init() < 0) return Status::Unavailable("libsodium failed to initialise");
  const auto* p = reinterpret_cast<const unsigned char*>(sealed.data());
  if (sealed.size() < kHeaderBytes + crypto_aead_xchacha20poly1305_ietf_ABYTES ||
      std::memcmp(p, kMagic, sizeof kMagic) != 0) {
    return Status::Corruption("not a mailvault key export");
  }
  if (p[8] != kVersion) {
    return Status::Corruption("key export version " + std::to_string(p[8]) +
                              " is not supported (this mailvault reads version 1)");
  }
  if (p[9] != kKdfArgon2id13) return Status::Corruption("unknown KDF in the key export");
  const uint64_t ops = GetU64(p + 10), mem = GetU64(p + 18);
  if (ops < crypto_pwhash_OPSLIMIT_MIN || ops > kMaxOpslimit || mem < crypto_pwhash_MEMLIMIT_MIN ||
      mem > kMaxMemlimit) {
    return Status::Corruption("the key export asks for KDF costs out of range");
  }
  const unsigned char* salt = p + 26;
  const unsigned char* nonce = p + 42;

  std::array<unsigned char, 32> key{};
  MV_RETURN_IF_ERROR(DeriveKey(passphrase, salt, ops, mem, &key));
  Wiped body;
  body.s.resize(sealed.size() - kHeaderBytes);
  unsigned long long body_len = 0;
  int rc = crypto_aead_xchacha20poly1305_ietf_decrypt(
      reinterpret_cast<unsigned char*>(body.s.data()), &body_len, nullptr, p + kHeaderBytes,
      sealed.size() - kHeaderBytes, p, kHeaderBytes, nonce, key.data());
  sodium_memzero(key.data(), key.size());
  if (rc != 0) return Status::InvalidArgument("wrong passphrase, or the key export was altered");
  body.s.resize(body_len);

  // Parse all entries before writing any.
  std::map<std::string, Wiped> files;
  for (size_t at = 0; at < body.s.size();) {
    size_t name_len = static_cast<unsigned char>(body.s[at++]);
    if (at + name_len + 4 > body.s.size()) return Status::Corruption("key export body is torn");
    std::string name = body.s.substr(at, name_len);
    at += name_len;
    uint32_t n = 0;
    for (int i = 3; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(body.s[at + i]);
    at += 4;
    if (n > kMaxEntryBytes || at + n > body.s.size())
      return Status::Corruption("key export body is torn");
    if (!IsKeyFileName(name) || files.count(name) != 0)
      return Status::Corruption("key export holds an unexpected entry");
    files[name].s = body.s.substr(at, n);
    at += n;
  }
  if (files.count("current") == 0 || files.count("index.key") == 0)
    return Status::Corruption("key export lacks the current key or the index key");

  if (env.Exists(keys_dir)) {
    MV_ASSIGN_OR_RETURN(std::vector<std::string> present, env.ListDir(keys_dir));
    for (const std::string& name : present) {
      if (IsKeyFileName(name)) {
        return Status::AlreadyExists(keys_dir +
                                     " already holds keys; import only into a data dir "
                                     "without keys (it never replaces keys)");
      }
    }
  }
  const bool created = !env.Exists(keys_dir);
  MV_RETURN_IF_ERROR(env.CreateDir(keys_dir));
  if (created) {
    const size_t slash = keys_dir.find_last_of('/');
    MV_RETURN_IF_ERROR(env.SyncDir(slash == std::string::npos ? "."
                                   : slash == 0               ? "/"
                                                              : keys_dir.substr(0, slash)));
  }
  // `current` last: it is the ring's commit point (keyring.cc).
  for (const auto& [name, data] : files) {
    if (name == "current") continue;
    MV_RETURN_IF_ERROR(env.WriteFileAtomic(JoinPath(keys_dir, name), data.s));
  }
  MV_RETURN_IF_ERROR(env.WriteFileAtomic(JoinPath(keys_dir, "current"), files["current"].s));
  auto ring = KeyRing::Open(env, keys_dir, /*need_secrets=*/true);
  if (!ring.ok()) return ring.status().Annotate("the imported keys do not open");
  return Status::Ok();
}

}  // namespace mailvault::crypto
