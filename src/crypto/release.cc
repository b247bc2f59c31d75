#include "crypto/release.h"

#include <sodium.h>

#include <charconv>
#include <cstring>

#include "crypto/page_cipher.h"

namespace mailvault::crypto {
namespace {

std::string Hex(const unsigned char* p, size_t n) {
  std::string out(n * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), p, n);
  out.pop_back();
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

static_assert(sizeof(crypto_hash_sha256_state) <= 128);

BodyDigest::BodyDigest() {
  InitCrypto();
  crypto_hash_sha256_init(reinterpret_cast<crypto_hash_sha256_state*>(state_));
}

BodyDigest::~BodyDigest() { sodium_memzero(state_, sizeof(state_)); }

void BodyDigest::Update(std::string_view chunk) {
  auto* st = reinterpret_cast<crypto_hash_sha256_state*>(state_);
  static const unsigned char kNewlines[64] = {
      '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n',
      '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n',
      '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n',
      '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n',
      '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n'};
  size_t start = 0;
  for (size_t i = 0; i <= chunk.size(); ++i) {
    // Runs of content between CRs and LFs go straight in; LFs wait until
    // content follows them, so trailing ones never count.
    if (i < chunk.size() && chunk[i] != '\r' && chunk[i] != '\n') continue;
    if (i > start) {
      while (pending_newlines_ > 0) {
        size_t n = std::min(pending_newlines_, sizeof(kNewlines));
        crypto_hash_sha256_update(st, kNewlines, n);
        pending_newlines_ -= n;
      }
      crypto_hash_sha256_update(st, reinterpret_cast<const unsigned char*>(chunk.data()) + start,
                                i - start);
    }
    if (i < chunk.size() && chunk[i] == '\n') ++pending_newlines_;
    start = i + 1;
  }
}

std::string BodyDigest::Finish() {
  unsigned char out[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(reinterpret_cast<crypto_hash_sha256_state*>(state_), out);
  return Hex(out, sizeof(out));
}

std::string DigestBody(std::string_view body) {
  BodyDigest d;
  d.Update(body);
  return d.Finish();
}

ReleaseSigner::ReleaseSigner(const SymmetricKey& index_key) {
  InitCrypto();
  static_assert(crypto_kdf_KEYBYTES == 32 && crypto_auth_hmacsha256_KEYBYTES == 32);
  crypto_kdf_derive_from_key(key_.data(), key_.size(), 1, "mvreleas", index_key.data());
}

ReleaseSigner::~ReleaseSigner() { sodium_memzero(key_.data(), key_.size()); }

std::string ReleaseSigner::Mac(std::string_view signed_part) const {
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256(mac, reinterpret_cast<const unsigned char*>(signed_part.data()),
                         signed_part.size(), key_.data());
  return Hex(mac, sizeof(mac));
}

std::string ReleaseSigner::Sign(uint64_t copy_id, int64_t unix_seconds,
                                std::string_view body_digest) const {
  std::string part = "v=1; id=" + std::to_string(copy_id) + "; t=" + std::to_string(unix_seconds) +
                     "; b=" + std::string(body_digest);
  return part + "; s=" + Mac(part);
}

Status ReleaseSigner::Verify(std::string_view value, std::string_view body_digest,
                             int64_t now_seconds, int64_t max_age_seconds,
                             uint64_t* copy_id) const {
  value = Trim(value);
  size_t s_at = value.rfind("; s=");
  if (s_at == std::string_view::npos) return Status::PermissionDenied("release header unsigned");
  std::string_view part = value.substr(0, s_at);
  std::string_view mac = value.substr(s_at + 4);
  std::string want = Mac(part);
  if (mac.size() != want.size() || sodium_memcmp(mac.data(), want.data(), want.size()) != 0)
    return Status::PermissionDenied("release header signature does not verify");
  // The signed part is ours, so its layout is known.
  uint64_t id = 0;
  int64_t t = 0;
  std::string_view b;
  for (std::string_view rest = part; !rest.empty();) {
    size_t semi = rest.find("; ");
    std::string_view field = rest.substr(0, semi);
    rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 2);
    if (field.starts_with("id=")) {
      std::from_chars(field.data() + 3, field.data() + field.size(), id);
    } else if (field.starts_with("t=")) {
      std::from_chars(field.data() + 2, field.data() + field.size(), t);
    } else if (field.starts_with("b=")) {
      b = field.substr(2);
    }
  }
  if (b != body_digest) return Status::PermissionDenied("release header is for another body");
  if (t < now_seconds - max_age_seconds) return Status::PermissionDenied("release header expired");
  if (t > now_seconds + 300) return Status::PermissionDenied("release header dated in the future");
  *copy_id = id;
  return Status::Ok();
}

}  // namespace mailvault::crypto
