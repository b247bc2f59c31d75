// Sealer and Opener: one message, one random key, one secretstream.
//
// The message key never leaves this file in clear: it is sealed to the
// store's public key (crypto_box_seal: an ephemeral X25519 key pair, so only
// the secret-key holder can open it) and wiped once the stream state is set
// up. secretstream authenticates each chunk together with its position and
// marks the last one with TAG_FINAL, which is how an Opener detects altered,
// reordered, dropped or appended chunks; a stream cut before its final chunk
// is detected by the caller because Pull() never reports *final.
#include "crypto/sealer.h"

#include <sodium.h>

#include <cstdio>
#include <cstdlib>
#include <new>

#include "crypto/page_cipher.h"

namespace mailvault::crypto {
namespace {

using StreamState = crypto_secretstream_xchacha20poly1305_state;

constexpr size_t kKeyBytes = crypto_secretstream_xchacha20poly1305_KEYBYTES;
constexpr size_t kSealedKeyBytes = crypto_box_SEALBYTES + kKeyBytes;

static_assert(kSealedKeyBytes == 80);
static_assert(kSealedHeaderSize ==
              kSealedKeyBytes + crypto_secretstream_xchacha20poly1305_HEADERBYTES);
static_assert(kChunkOverhead == crypto_secretstream_xchacha20poly1305_ABYTES);
static_assert(sizeof(PublicKey) == crypto_box_PUBLICKEYBYTES);
static_assert(sizeof(SecretKey) == crypto_box_SECRETKEYBYTES);
static_assert(sizeof(StreamState) <= 64, "Sealer/Opener reserve 64 bytes for the state");
static_assert(alignof(StreamState) <= 16);

// Starts the lifetime of the state object inside the reserved bytes.
StreamState* NewState(unsigned char* buf) { return new (buf) StreamState; }
StreamState* GetState(unsigned char* buf) {
  return std::launder(reinterpret_cast<StreamState*>(buf));
}

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "mailvault: crypto invariant broken: %s\n", what);
  std::abort();
}

}  // namespace

Sealer::Sealer(const PublicKey& pk) {
  InitCrypto();
  unsigned char key[kKeyBytes];
  crypto_secretstream_xchacha20poly1305_keygen(key);
  header_.resize(kSealedHeaderSize);
  auto* h = reinterpret_cast<unsigned char*>(header_.data());
  // Fails only for a degenerate public key; KeyRing rejects those on load.
  if (crypto_box_seal(h, key, sizeof key, pk.data()) != 0) {
    sodium_memzero(key, sizeof key);
    Die("crypto_box_seal refused the store public key");
  }
  if (crypto_secretstream_xchacha20poly1305_init_push(NewState(state_), h + kSealedKeyBytes, key) !=
      0) {
    Die("secretstream init_push failed");
  }
  sodium_memzero(key, sizeof key);
}

Sealer::~Sealer() { sodium_memzero(state_, sizeof state_); }

void Sealer::Push(std::string_view plain, bool final, std::string* out) {
  if (finished_) Die("Sealer::Push after the final chunk");
  size_t old = out->size();
  out->resize(old + plain.size() + kChunkOverhead);
  unsigned long long clen = 0;
  unsigned char tag = final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
                            : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
  crypto_secretstream_xchacha20poly1305_push(
      GetState(state_), reinterpret_cast<unsigned char*>(out->data()) + old, &clen,
      reinterpret_cast<const unsigned char*>(plain.data()), plain.size(), nullptr, 0, tag);
  if (clen != plain.size() + kChunkOverhead) Die("secretstream push length");
  finished_ = final;
}

Result<std::unique_ptr<Opener>> Opener::Open(const PublicKey& pk, const SecretKey& sk,
                                             std::string_view header) {
  InitCrypto();
  if (header.size() != kSealedHeaderSize) {
    return Status::Corruption("sealed header is " + std::to_string(header.size()) +
                              " bytes, expected " + std::to_string(kSealedHeaderSize));
  }
  const auto* h = reinterpret_cast<const unsigned char*>(header.data());
  unsigned char key[kKeyBytes];
  if (crypto_box_seal_open(key, h, kSealedKeyBytes, pk.data(), sk.data()) != 0) {
    return Status::Corruption(
        "message key does not open with this key pair (wrong key or altered header)");
  }
  std::unique_ptr<Opener> opener(new Opener());
  int rc = crypto_secretstream_xchacha20poly1305_init_pull(NewState(opener->state_),
                                                           h + kSealedKeyBytes, key);
  sodium_memzero(key, sizeof key);
  if (rc != 0) return Status::Corruption("invalid secretstream header");
  return opener;
}

Opener::~Opener() { sodium_memzero(state_, sizeof state_); }

Status Opener::Pull(std::string_view cipher, std::string* out, bool* final) {
  *final = false;
  if (finished_) return Status::Corruption("data after the final chunk of a sealed stream");
  if (cipher.size() < kChunkOverhead) {
    return Status::Corruption("sealed chunk of " + std::to_string(cipher.size()) +
                              " bytes is shorter than its overhead");
  }
  size_t old = out->size();
  out->resize(old + cipher.size() - kChunkOverhead);
  unsigned long long mlen = 0;
  unsigned char tag = 0;
  int rc = crypto_secretstream_xchacha20poly1305_pull(
      GetState(state_), reinterpret_cast<unsigned char*>(out->data()) + old, &mlen, &tag,
      reinterpret_cast<const unsigned char*>(cipher.data()), cipher.size(), nullptr, 0);
  if (rc != 0) {
    out->resize(old);
    return Status::Corruption(
        "sealed chunk fails authentication (altered, reordered or wrong key)");
  }
  if (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL) {
    finished_ = true;
    *final = true;
  } else if (tag != crypto_secretstream_xchacha20poly1305_TAG_MESSAGE) {
    // Sealer never writes PUSH or REKEY tags.
    out->resize(old);
    return Status::Corruption("sealed chunk carries an unexpected tag");
  }
  return Status::Ok();
}

}  // namespace mailvault::crypto
