// Authenticated encryption of fixed-size pages under a symmetric key, for the
// index's encrypting SQLite VFS. XChaCha20-Poly1305 (IETF) with a random
// 24-byte nonce per write; the associated data (a page's file kind and
// offset) binds a page to its place so pages cannot be swapped. Thread-safe
// (holds only the key).
#pragma once

#include <cstddef>
#include <cstdint>

#include "crypto/keyring.h"

namespace mailvault::crypto {

class PageCipher {
 public:
  static constexpr size_t kOverhead = 16 + 24;  // MAC + nonce, stored after the ciphertext

  explicit PageCipher(const SymmetricKey& key);
  ~PageCipher();  // wipes the key copy
  PageCipher(const PageCipher&) = delete;
  PageCipher& operator=(const PageCipher&) = delete;

  // out receives n bytes of ciphertext followed by kOverhead bytes (MAC then
  // nonce). `plain` and `out` may be the same buffer.
  void Seal(const uint8_t* plain, size_t n, uint64_t ad, uint8_t* out) const;
  // Reverses Seal: reads n + kOverhead bytes from `in`, writes n bytes to
  // out. False if the page was altered, misplaced or sealed with another key.
  [[nodiscard]] bool Open(const uint8_t* in, size_t n, uint64_t ad, uint8_t* out) const;

 private:
  SymmetricKey key_;
};

// Fills buf with n cryptographically random bytes.
void RandomBytes(void* buf, size_t n);
// Must be called once before any other crypto function (idempotent,
// thread-safe); aborts if libsodium cannot initialise.
void InitCrypto();

}  // namespace mailvault::crypto
