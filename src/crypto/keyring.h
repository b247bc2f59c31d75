// KeyRing: the store's keys, in their own directory (default DATA/keys, 0700,
// files 0600; it can live on another mount than the data).
//
//   <id>.pub      32-byte X25519 public key (crypto_box), raw
//   <id>.sec      32-byte X25519 secret key, raw
//   current       the id of the key new copies are sealed to, decimal
//   index.key     32-byte symmetric root key: every purpose key (index pages,
//                 record metadata, accounts, audit, queue, release header) is
//                 made from it by Derived(), see key_purpose.h
//
// Each copy's random message key is sealed to the current public key
// (crypto_box_seal); opening it needs the secret key of the id recorded with
// the copy, so old copies stay readable after `keys add`. Writers need only
// the public key: a KeyRing opened without secrets can seal, not open.
// Thread-safe after Open (AddKey excepted: call it with no other user).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "crypto/key_purpose.h"
#include "env/env.h"
#include "mailvault/status.h"

namespace mailvault::crypto {

using PublicKey = std::array<uint8_t, 32>;
using SecretKey = std::array<uint8_t, 32>;
using SymmetricKey = std::array<uint8_t, 32>;

struct KeyInfo {
  uint32_t id = 0;
  bool current = false;
  bool has_secret = false;
  std::string fingerprint;  // first 16 hex digits of BLAKE2b(public key)
};

class KeyRing {
 public:
  // Creates `dir` with a first key pair (id 1) and an index key; AlreadyExists
  // if it holds keys.
  static Result<std::unique_ptr<KeyRing>> Create(Env& env, const std::string& dir);
  // Loads the keys; with need_secrets, PermissionDenied/NotFound if the
  // current secret key cannot be read. `env` must outlive the KeyRing.
  static Result<std::unique_ptr<KeyRing>> Open(Env& env, const std::string& dir, bool need_secrets);

  ~KeyRing();  // wipes the secret keys and the index key
  KeyRing(const KeyRing&) = delete;
  KeyRing& operator=(const KeyRing&) = delete;

  // Generates a new key pair with the next id, makes it current (durably,
  // files synced and renamed into place) and returns it.
  Result<KeyInfo> AddKey();
  std::vector<KeyInfo> List() const;

  uint32_t current_id() const;
  const PublicKey& current_public() const;
  // NotFound for an unknown id; PermissionDenied when only the public half
  // is available.
  Result<std::pair<PublicKey, SecretKey>> KeyPair(uint32_t id) const;
  // The key of one purpose, made from index.key as key_purpose.h's table
  // says: the only way a component gets a symmetric key. Thread-safe, also
  // beside AddKey (index.key never changes).
  SymmetricKey Derived(KeyPurpose purpose) const;

 private:
  struct Pair {
    PublicKey pk{};
    SecretKey sk{};
    bool has_secret = false;
  };
  KeyRing(Env& env, std::string dir) : env_(env), dir_(std::move(dir)) {}

  Env& env_;
  std::string dir_;
  std::map<uint32_t, Pair> keys_;
  uint32_t current_ = 0;
  SymmetricKey index_key_{};
};

// The key of `purpose` made from the root key `root` (what KeyRing::Derived
// does with index.key); for code that holds a root key but no ring (tests,
// fuzz targets). Deterministic.
SymmetricKey DerivePurposeKey(const SymmetricKey& root, KeyPurpose purpose);

// The primitive behind DerivePurposeKey: BLAKE2b via
// crypto_kdf_derive_from_key. `context` is exactly 8 characters (no
// terminating NUL is read); `subkey_id` tells keys of one context apart.
// Components do not call it: a new use is a new KeyPurpose.
SymmetricKey DeriveSubkey(const SymmetricKey& key, uint64_t subkey_id, const char context[8]);

}  // namespace mailvault::crypto
