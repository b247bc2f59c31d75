// PageCipher, plus the process-wide libsodium set-up (InitCrypto, RandomBytes)
// that every crypto object relies on. A page is sealed with XChaCha20-Poly1305
// (IETF, detached MAC) under a fresh random 24-byte nonce, so rewriting a page
// in place never reuses a nonce; the 8-byte little-endian `ad` is
// authenticated, so a page copied to another offset or file fails to open.
#include "crypto/page_cipher.h"

#include <sodium.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace mailvault::crypto {
namespace {

static_assert(PageCipher::kOverhead == crypto_aead_xchacha20poly1305_ietf_ABYTES +
                                           crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
static_assert(sizeof(SymmetricKey) == crypto_aead_xchacha20poly1305_ietf_KEYBYTES);

constexpr size_t kMacBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;

// The associated data as bytes, independent of the host's byte order.
void EncodeAd(uint64_t ad, unsigned char out[8]) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<unsigned char>(ad >> (8 * i));
}

}  // namespace

void InitCrypto() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) {
      std::fprintf(stderr, "mailvault: libsodium failed to initialise; cannot continue\n");
      std::abort();
    }
  });
}

void RandomBytes(void* buf, size_t n) {
  InitCrypto();
  if (n > 0) randombytes_buf(buf, n);  // buf may be null when n is 0
}

PageCipher::PageCipher(const SymmetricKey& key) : key_(key) { InitCrypto(); }

PageCipher::~PageCipher() { sodium_memzero(key_.data(), key_.size()); }

void PageCipher::Seal(const uint8_t* plain, size_t n, uint64_t ad, uint8_t* out) const {
  unsigned char ad_bytes[8];
  EncodeAd(ad, ad_bytes);
  unsigned char nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
  randombytes_buf(nonce, sizeof nonce);
  // In-place (plain == out) is supported by libsodium; the MAC and nonce go
  // after the n ciphertext bytes, outside the plaintext's range.
  crypto_aead_xchacha20poly1305_ietf_encrypt_detached(out, out + n, nullptr, plain, n, ad_bytes,
                                                      sizeof ad_bytes, nullptr, nonce, key_.data());
  std::memcpy(out + n + kMacBytes, nonce, sizeof nonce);
}

bool PageCipher::Open(const uint8_t* in, size_t n, uint64_t ad, uint8_t* out) const {
  unsigned char ad_bytes[8];
  EncodeAd(ad, ad_bytes);
  // The MAC is checked before anything is written to out.
  return crypto_aead_xchacha20poly1305_ietf_decrypt_detached(out, nullptr, in, n, in + n, ad_bytes,
                                                             sizeof ad_bytes, in + n + kMacBytes,
                                                             key_.data()) == 0;
}

}  // namespace mailvault::crypto
