// KeyRing: loads, creates and extends the store's key directory.
//
// Design note. `current` is the commit point: AddKey and Create write the key
// files first (each via Env::WriteFileAtomic: temp, fsync, rename, dir fsync)
// and `current` last, so a crash leaves either the old ring or the new one,
// never a `current` that names a missing key. A crash between the two leaves
// a complete but non-current pair (listed, harmless) or a lone <id>.sec whose
// public half Open derives again. Every key read is checked: exact size, a
// secret key must match its public key, and a public key must not be a
// degenerate X25519 point (crypto_box_seal would refuse it later).
#include "crypto/keyring.h"

#include <sodium.h>

#include <charconv>
#include <cstring>
#include <set>

#include "crypto/page_cipher.h"

namespace mailvault::crypto {
namespace {

constexpr char kCurrent[] = "current";
constexpr char kIndexKey[] = "index.key";

// Parses a canonical decimal id (no sign, no leading zero, > 0).
bool ParseId(std::string_view s, uint32_t* id) {
  if (s.empty() || s.size() > 10 || s[0] == '0') return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *id);
  return ec == std::errc() && end == s.data() + s.size() && *id != 0;
}

// "<id>.pub" / "<id>.sec" → id; false for any other name (temp files too).
bool IdFromName(const std::string& name, std::string_view suffix, uint32_t* id) {
  if (name.size() <= suffix.size() || !name.ends_with(suffix)) return false;
  return ParseId(std::string_view(name).substr(0, name.size() - suffix.size()), id);
}

std::string PubName(uint32_t id) { return std::to_string(id) + ".pub"; }
std::string SecName(uint32_t id) { return std::to_string(id) + ".sec"; }

// Reads a raw 32-byte key file; Corruption naming the file if it has another size.
Status ReadKeyFile(Env& env, const std::string& path, std::array<uint8_t, 32>* key) {
  MV_ASSIGN_OR_RETURN(std::string data, env.ReadFile(path));
  if (data.size() != key->size()) {
    sodium_memzero(data.data(), data.size());
    return Status::Corruption("key file " + path + " is " + std::to_string(data.size()) +
                              " bytes, expected " + std::to_string(key->size()));
  }
  std::memcpy(key->data(), data.data(), key->size());
  sodium_memzero(data.data(), data.size());
  return Status::Ok();
}

Status WriteKeyFile(Env& env, const std::string& path, const std::array<uint8_t, 32>& key) {
  return env.WriteFileAtomic(
      path, std::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
}

// A public key crypto_box_seal can use: its product with a random scalar is
// not the all-zero point.
bool UsablePublicKey(const PublicKey& pk) {
  unsigned char scalar[crypto_scalarmult_SCALARBYTES];
  unsigned char q[crypto_scalarmult_BYTES];
  randombytes_buf(scalar, sizeof scalar);
  bool ok = crypto_scalarmult(q, scalar, pk.data()) == 0;
  sodium_memzero(scalar, sizeof scalar);
  return ok;
}

std::string Fingerprint(const PublicKey& pk) {
  unsigned char hash[crypto_generichash_BYTES];
  crypto_generichash(hash, sizeof hash, pk.data(), pk.size(), nullptr, 0);
  char hex[2 * 8 + 1];
  sodium_bin2hex(hex, sizeof hex, hash, 8);
  return hex;
}

std::string ParentDir(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  size_t slash = p.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return p.substr(0, slash);
}

}  // namespace

KeyRing::~KeyRing() {
  for (auto& [id, pair] : keys_) sodium_memzero(pair.sk.data(), pair.sk.size());
  sodium_memzero(index_key_.data(), index_key_.size());
}

Result<std::unique_ptr<KeyRing>> KeyRing::Create(Env& env, const std::string& dir) {
  InitCrypto();
  MV_RETURN_IF_ERROR(env.CreateDir(dir).Annotate("create key directory"));
  MV_ASSIGN_OR_RETURN(std::vector<std::string> names, env.ListDir(dir));
  for (const std::string& name : names) {
    uint32_t id;
    if (name == kCurrent || name == kIndexKey || IdFromName(name, ".pub", &id) ||
        IdFromName(name, ".sec", &id)) {
      return Status::AlreadyExists("key directory " + dir + " already holds keys (" + name + ")");
    }
  }
  // The directory entry itself must survive a crash, or every key is lost.
  MV_RETURN_IF_ERROR(env.SyncDir(ParentDir(dir)));

  std::unique_ptr<KeyRing> ring(new KeyRing(env, dir));
  RandomBytes(ring->index_key_.data(), ring->index_key_.size());
  MV_RETURN_IF_ERROR(WriteKeyFile(env, JoinPath(dir, kIndexKey), ring->index_key_));
  MV_RETURN_IF_ERROR(ring->AddKey().status());
  return ring;
}

Result<std::unique_ptr<KeyRing>> KeyRing::Open(Env& env, const std::string& dir,
                                               bool need_secrets) {
  InitCrypto();
  std::unique_ptr<KeyRing> ring(new KeyRing(env, dir));

  const std::string current_path = JoinPath(dir, kCurrent);
  MV_ASSIGN_OR_RETURN(std::string current_text, env.ReadFile(current_path));
  std::string_view cur = current_text;
  while (!cur.empty() && (cur.back() == '\n' || cur.back() == ' ')) cur.remove_suffix(1);
  if (!ParseId(cur, &ring->current_)) {
    return Status::Corruption("key file " + current_path + " does not hold a key id");
  }

  MV_ASSIGN_OR_RETURN(std::vector<std::string> names, env.ListDir(dir));
  std::set<uint32_t> ids;
  for (const std::string& name : names) {
    uint32_t id;
    if (IdFromName(name, ".pub", &id) || IdFromName(name, ".sec", &id)) ids.insert(id);
  }
  for (uint32_t id : ids) {
    Pair pair;
    const std::string pub_path = JoinPath(dir, PubName(id));
    const std::string sec_path = JoinPath(dir, SecName(id));
    bool have_pub = env.Exists(pub_path);
    if (have_pub) MV_RETURN_IF_ERROR(ReadKeyFile(env, pub_path, &pair.pk));

    Status s = ReadKeyFile(env, sec_path, &pair.sk);
    if (s.ok()) {
      pair.has_secret = true;
      PublicKey derived;
      crypto_scalarmult_base(derived.data(), pair.sk.data());
      if (!have_pub) {
        pair.pk = derived;  // an AddKey interrupted between the two files
      } else if (sodium_memcmp(derived.data(), pair.pk.data(), derived.size()) != 0) {
        sodium_memzero(pair.sk.data(), pair.sk.size());
        return Status::Corruption("key file " + sec_path + " does not match " + pub_path);
      }
    } else if (s.code() == Code::kNotFound || s.code() == Code::kPermissionDenied) {
      if (need_secrets && id == ring->current_) return s.Annotate("current secret key");
      if (!have_pub) continue;  // nothing usable under this id
    } else {
      return s;
    }
    if (!UsablePublicKey(pair.pk)) {
      sodium_memzero(pair.sk.data(), pair.sk.size());
      return Status::Corruption("key file " + pub_path + " holds an unusable public key");
    }
    ring->keys_.emplace(id, pair);
    sodium_memzero(pair.sk.data(), pair.sk.size());
  }
  if (ring->keys_.count(ring->current_) == 0) {
    return Status::Corruption("key file " + current_path + " names key " +
                              std::to_string(ring->current_) + ", which is missing");
  }

  MV_RETURN_IF_ERROR(ReadKeyFile(env, JoinPath(dir, kIndexKey), &ring->index_key_));
  return ring;
}

Result<KeyInfo> KeyRing::AddKey() {
  // The next id is above every id with any file, including the leftovers of
  // an interrupted AddKey, so no existing key file is ever overwritten.
  MV_ASSIGN_OR_RETURN(std::vector<std::string> names, env_.ListDir(dir_));
  uint32_t next = keys_.empty() ? 1 : keys_.rbegin()->first + 1;
  for (const std::string& name : names) {
    uint32_t id;
    if ((IdFromName(name, ".pub", &id) || IdFromName(name, ".sec", &id)) && id >= next) {
      next = id + 1;
    }
  }
  if (next == 0) return Status::InvalidArgument("key ids exhausted in " + dir_);

  Pair pair;
  pair.has_secret = true;
  crypto_box_keypair(pair.pk.data(), pair.sk.data());
  Status s = WriteKeyFile(env_, JoinPath(dir_, SecName(next)), pair.sk);
  if (s.ok()) s = WriteKeyFile(env_, JoinPath(dir_, PubName(next)), pair.pk);
  if (s.ok()) s = env_.WriteFileAtomic(JoinPath(dir_, kCurrent), std::to_string(next) + "\n");
  if (!s.ok()) {
    sodium_memzero(pair.sk.data(), pair.sk.size());
    return s.Annotate("add key " + std::to_string(next));
  }
  keys_.emplace(next, pair);
  sodium_memzero(pair.sk.data(), pair.sk.size());
  current_ = next;
  return KeyInfo{next, true, true, Fingerprint(keys_.at(next).pk)};
}

std::vector<KeyInfo> KeyRing::List() const {
  std::vector<KeyInfo> out;
  out.reserve(keys_.size());
  for (const auto& [id, pair] : keys_) {
    out.push_back(KeyInfo{id, id == current_, pair.has_secret, Fingerprint(pair.pk)});
  }
  return out;
}

uint32_t KeyRing::current_id() const { return current_; }

const PublicKey& KeyRing::current_public() const { return keys_.at(current_).pk; }

Result<std::pair<PublicKey, SecretKey>> KeyRing::KeyPair(uint32_t id) const {
  auto it = keys_.find(id);
  if (it == keys_.end()) return Status::NotFound("no key " + std::to_string(id) + " in " + dir_);
  if (!it->second.has_secret) {
    return Status::PermissionDenied("secret key " + std::to_string(id) + " is not readable in " +
                                    dir_);
  }
  return std::make_pair(it->second.pk, it->second.sk);
}

SymmetricKey KeyRing::Derived(KeyPurpose purpose) const {
  return DerivePurposeKey(index_key_, purpose);
}

SymmetricKey DerivePurposeKey(const SymmetricKey& root, KeyPurpose purpose) {
  const KeyDerivation& d = DerivationOf(purpose);
  if (d.root_itself) return root;
  return DeriveSubkey(root, d.subkey_id, d.context);
}

SymmetricKey DeriveSubkey(const SymmetricKey& key, uint64_t subkey_id, const char context[8]) {
  InitCrypto();
  static_assert(crypto_kdf_KEYBYTES == sizeof(SymmetricKey) && crypto_kdf_CONTEXTBYTES == 8 &&
                sizeof(SymmetricKey) >= crypto_kdf_BYTES_MIN &&
                sizeof(SymmetricKey) <= crypto_kdf_BYTES_MAX);
  SymmetricKey sub{};
  // Fails only for an output size outside the static_assert's bounds.
  crypto_kdf_derive_from_key(sub.data(), sub.size(), subkey_id, context, key.data());
  return sub;
}

}  // namespace mailvault::crypto
