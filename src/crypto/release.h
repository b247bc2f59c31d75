// Loop-safe release: the signed header a delivered copy carries so that the
// gateway's own milter lets exactly that delivery through, once, unscanned
// and uncopied.
//
//   X-Mailvault-Release: v=2; id=<copy id>; n=<nonce>; t=<unix seconds>;
//     b=<body digest>; f=<sender tag>; r=<rcpt tag>,<rcpt tag>,...; s=<mac>
//
// b is the hex SHA-256 of the message body in canonical form (every CR
// dropped, trailing LFs dropped), so a relay that rewrites line endings or
// adds a final newline does not break it while any change of content does.
// n is 128 random bits, fresh for every Sign (every delivery attempt), which
// intake records as consumed so that the header passes once. f and r bind
// the envelope of the SMTP transaction: f is the tag of the envelope sender,
// r the tags of its recipients, sorted and without duplicates. A tag is the
// first 8 bytes (hex) of a keyed hash (HMAC-SHA-256 under a second derived
// key) of the address in canonical form (local part as is, domain
// lower-cased), so the header binds the envelope without telling one
// recipient who else got the message (a Bcc stays hidden); 64 bits are
// plenty against an attacker who cannot compute tags offline.
// s is HMAC-SHA-256 (hex) over the value before "; s=" with every space,
// tab, CR and LF removed (so refolding by a relay does not matter), under a
// key derived from the store's root key (KeyPurpose::kReleaseMac; the tags
// use KeyPurpose::kReleaseAddressTag),
// so every process that holds the store's keys can sign and check, and
// nobody else can. Version 1 headers (no envelope, no nonce) are refused.
//
// Thread-safe: both classes are immutable after construction except
// BodyDigest, which one thread feeds.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

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

// An address as the release binds it: without surrounding <>, the domain
// (after the last '@') lower-cased (ASCII), the local part as is.
std::string CanonicalAddress(std::string_view address);

// The SMTP envelope a release is made for, or a message arrived with.
struct ReleaseEnvelope {
  std::string mail_from;  // "" for the null sender
  std::vector<std::string> rcpt;
};

// What a verified header says.
struct VerifiedRelease {
  uint64_t copy_id = 0;
  std::string nonce;      // 32 hex digits, unique per signed header
  int64_t signed_at = 0;  // unix seconds
};

class ReleaseSigner {
 public:
  // Signs and checks with the release keys of `keys` (read once here).
  explicit ReleaseSigner(const KeyRing& keys);
  // The same from a ring's root key (tests and fuzz targets).
  explicit ReleaseSigner(const SymmetricKey& root_key);
  ~ReleaseSigner();  // wipes the keys
  ReleaseSigner(const ReleaseSigner&) = delete;
  ReleaseSigner& operator=(const ReleaseSigner&) = delete;

  // The header value (without the name, possibly folded with CRLF SP) for
  // a copy released at `unix_seconds` in one SMTP transaction with
  // `envelope`, with a fresh random nonce.
  std::string Sign(uint64_t copy_id, int64_t unix_seconds, std::string_view body_digest,
                   const ReleaseEnvelope& envelope) const;
  // The release when `value` is a header this key signed for a body with
  // `body_digest`, dated within [now - max_age, now + 5 min], for the
  // envelope sender of `envelope` and for a set of recipients that holds
  // every recipient of `envelope` (a subset is fine: the relay may have
  // refused some); PermissionDenied saying why otherwise. Whether the nonce
  // was used before is the caller's to check.
  Result<VerifiedRelease> Verify(std::string_view value, std::string_view body_digest,
                                 const ReleaseEnvelope& envelope, int64_t now_seconds,
                                 int64_t max_age_seconds) const;

 private:
  std::string Mac(std::string_view signed_part) const;
  std::string Tag(std::string_view address) const;
  std::array<uint8_t, 32> key_{};
  std::array<uint8_t, 32> tag_key_{};
};

}  // namespace mailvault::crypto
