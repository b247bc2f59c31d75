// Streaming encryption of one message to a store public key.
//
// A Sealer draws a random 32-byte message key, seals it to the public key
// with crypto_box_seal, and encrypts the plaintext as a libsodium
// secretstream (XChaCha20-Poly1305) in chunks the caller chooses. The
// Opener reverses it and refuses any altered, reordered, truncated or
// extended stream. One object per message; not thread-safe.
//
// Wire layout produced (the caller stores Header() and each Push() output,
// framing chunk lengths itself):
//   Header():  sealed message key (80 bytes) || secretstream header (24 bytes)
//   Push(p):   ciphertext of p, p.size() + kChunkOverhead bytes
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "crypto/keyring.h"
#include "mailvault/status.h"

namespace mailvault::crypto {

inline constexpr size_t kSealedHeaderSize = 80 + 24;
inline constexpr size_t kChunkOverhead = 17;

class Sealer {
 public:
  explicit Sealer(const PublicKey& pk);  // random key; cannot fail
  ~Sealer();                             // wipes the message key
  Sealer(const Sealer&) = delete;
  Sealer& operator=(const Sealer&) = delete;

  const std::string& Header() const { return header_; }
  // Appends the ciphertext of `plain` to *out. `final` marks the last chunk;
  // nothing may be pushed after it.
  void Push(std::string_view plain, bool final, std::string* out);

 private:
  std::string header_;
  alignas(16) unsigned char state_[64];  // crypto_secretstream_xchacha20poly1305_state
  bool finished_ = false;
};

class Opener {
 public:
  // Corruption if the header does not open with this key pair (wrong key or
  // altered header).
  static Result<std::unique_ptr<Opener>> Open(const PublicKey& pk, const SecretKey& sk,
                                              std::string_view header);
  ~Opener();
  Opener(const Opener&) = delete;
  Opener& operator=(const Opener&) = delete;

  // Decrypts one chunk as pushed, appending to *out; sets *final on the last.
  // Corruption on any authentication failure, or on data after the final.
  Status Pull(std::string_view cipher, std::string* out, bool* final);

 private:
  Opener() = default;
  alignas(16) unsigned char state_[64];
  bool finished_ = false;
};

}  // namespace mailvault::crypto
