// Loop-safe release: the signed header a delivered copy carries so that the
// gateway's own milter lets it through unscanned and uncopied.
//
//   X-Mailvault-Release: v=1; id=<copy id>; t=<unix seconds>; b=<body digest>; s=<mac>
//
// b is the hex SHA-256 of the message body in canonical form (every CR
// dropped, trailing LFs dropped), so a relay that rewrites line endings or
// adds a final newline does not break it while any change of content does;
// s is HMAC-SHA-256 (hex) over "v=1;id=..;t=..;b=.." with a key derived from
// the store's index key (crypto_kdf, context "mvreleas"), so every process
// that holds the store's keys can sign and check, and nobody else can. A
// header lifted from a released message is useless on other content, and
// the timestamp bounds how long an identical replay passes.
// Thread-safe: both classes are immutable after construction except
// BodyDigest, which one thread feeds.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "crypto/keyring.h"
#include "mailvault/status.h"

namespace mailvault::crypto {

inline constexpr std::string_view kReleaseHeader = "X-Mailvault-Release";

// Incremental digest of a body in canonical form, fed in any chunking.
class BodyDigest {
 public:
  BodyDigest();
  ~BodyDigest();
  BodyDigest(const BodyDigest&) = delete;
  BodyDigest& operator=(const BodyDigest&) = delete;
  void Update(std::string_view chunk);
  // Hex SHA-256; call once.
  std::string Finish();

 private:
  alignas(16) unsigned char state_[128];  // crypto_hash_sha256_state
  size_t pending_newlines_ = 0;
};

// Hex digest of a whole body at once.
std::string DigestBody(std::string_view body);

class ReleaseSigner {
 public:
  explicit ReleaseSigner(const SymmetricKey& index_key);
  ~ReleaseSigner();  // wipes the key
  ReleaseSigner(const ReleaseSigner&) = delete;
  ReleaseSigner& operator=(const ReleaseSigner&) = delete;

  // The header value (without the name) for a copy released at `unix_seconds`.
  std::string Sign(uint64_t copy_id, int64_t unix_seconds, std::string_view body_digest) const;
  // OK and *copy_id set when `value` is a header this key signed for a body
  // with `body_digest`, dated within [now - max_age, now + 5 min];
  // PermissionDenied (saying why) otherwise.
  Status Verify(std::string_view value, std::string_view body_digest, int64_t now_seconds,
                int64_t max_age_seconds, uint64_t* copy_id) const;

 private:
  std::string Mac(std::string_view signed_part) const;
  std::array<uint8_t, 32> key_{};
};

}  // namespace mailvault::crypto
