#include "crypto/release.h"

#include <sodium.h>

#include <charconv>
#include <cstring>
#include <set>
#include <vector>

#include "crypto/page_cipher.h"

namespace mailvault::crypto {
namespace {

constexpr size_t kNonceBytes = 16;
constexpr size_t kTagBytes = 8;

std::string Hex(const unsigned char* p, size_t n) {
  std::string out(n * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), p, n);
  out.pop_back();
  return out;
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

std::string CanonicalAddress(std::string_view address) {
  if (address.size() >= 2 && address.front() == '<' && address.back() == '>')
    address = address.substr(1, address.size() - 2);
  std::string out(address);
  size_t at = out.rfind('@');
  if (at == std::string::npos) return out;
  for (size_t i = at + 1; i < out.size(); ++i) {
    if (out[i] >= 'A' && out[i] <= 'Z') out[i] = static_cast<char>(out[i] - 'A' + 'a');
  }
  return out;
}

ReleaseSigner::ReleaseSigner(const KeyRing& keys)
    : key_(keys.Derived(KeyPurpose::kReleaseMac)),
      tag_key_(keys.Derived(KeyPurpose::kReleaseAddressTag)) {
  InitCrypto();
}

ReleaseSigner::ReleaseSigner(const SymmetricKey& root_key)
    : key_(DerivePurposeKey(root_key, KeyPurpose::kReleaseMac)),
      tag_key_(DerivePurposeKey(root_key, KeyPurpose::kReleaseAddressTag)) {
  InitCrypto();
  static_assert(crypto_auth_hmacsha256_KEYBYTES == sizeof(SymmetricKey));
}

ReleaseSigner::~ReleaseSigner() {
  sodium_memzero(key_.data(), key_.size());
  sodium_memzero(tag_key_.data(), tag_key_.size());
}

std::string ReleaseSigner::Mac(std::string_view signed_part) const {
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256(mac, reinterpret_cast<const unsigned char*>(signed_part.data()),
                         signed_part.size(), key_.data());
  return Hex(mac, sizeof(mac));
}

std::string ReleaseSigner::Tag(std::string_view address) const {
  const std::string canonical = CanonicalAddress(address);
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256(mac, reinterpret_cast<const unsigned char*>(canonical.data()),
                         canonical.size(), tag_key_.data());
  return Hex(mac, kTagBytes);
}

std::string ReleaseSigner::Sign(uint64_t copy_id, int64_t unix_seconds,
                                std::string_view body_digest,
                                const ReleaseEnvelope& envelope) const {
  unsigned char nonce[kNonceBytes];
  randombytes_buf(nonce, sizeof(nonce));
  std::set<std::string> tags;
  for (const std::string& r : envelope.rcpt) tags.insert(Tag(r));
  // Atoms of the value; the signed text is their concatenation, the header
  // puts a space (or a fold) between them.
  std::vector<std::string> atoms = {
      "v=2;",
      "id=" + std::to_string(copy_id) + ";",
      "n=" + Hex(nonce, sizeof(nonce)) + ";",
      "t=" + std::to_string(unix_seconds) + ";",
      "b=" + std::string(body_digest) + ";",
      "f=" + Tag(envelope.mail_from) + ";",
  };
  std::string r = "r=";
  for (const std::string& tag : tags) {
    if (r.size() > 2) {
      atoms.push_back(r + ",");
      r.clear();
    }
    r += tag;
  }
  atoms.push_back(r);
  std::string part;
  for (const std::string& a : atoms) part += a;
  atoms.back() += ";";
  atoms.push_back("s=" + Mac(part));
  // Folded so that no line of the header grows past 78 characters.
  std::string value;
  size_t line = kReleaseHeader.size() + 1;
  for (const std::string& a : atoms) {
    if (line + 1 + a.size() > 78 && !value.empty()) {
      value += "\r\n";
      line = 0;
    }
    value += ' ';
    value += a;
    line += 1 + a.size();
  }
  return value.substr(1);
}

Result<VerifiedRelease> ReleaseSigner::Verify(std::string_view value, std::string_view body_digest,
                                              const ReleaseEnvelope& envelope, int64_t now_seconds,
                                              int64_t max_age_seconds) const {
  std::string compact;
  compact.reserve(value.size());
  for (char c : value) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') compact += c;
  }
  size_t s_at = compact.rfind(";s=");
  if (s_at == std::string::npos) return Status::PermissionDenied("release header unsigned");
  std::string_view part = std::string_view(compact).substr(0, s_at);
  std::string_view mac = std::string_view(compact).substr(s_at + 3);
  std::string want = Mac(part);
  if (mac.size() != want.size() || sodium_memcmp(mac.data(), want.data(), want.size()) != 0)
    return Status::PermissionDenied("release header signature does not verify");
  // The signed part is ours, so its layout is known.
  VerifiedRelease out;
  std::string_view version, b, f, r;
  for (std::string_view rest = part; !rest.empty();) {
    size_t semi = rest.find(';');
    std::string_view field = rest.substr(0, semi);
    rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
    if (field.starts_with("v=")) {
      version = field.substr(2);
    } else if (field.starts_with("id=")) {
      std::from_chars(field.data() + 3, field.data() + field.size(), out.copy_id);
    } else if (field.starts_with("n=")) {
      out.nonce = std::string(field.substr(2));
    } else if (field.starts_with("t=")) {
      std::from_chars(field.data() + 2, field.data() + field.size(), out.signed_at);
    } else if (field.starts_with("b=")) {
      b = field.substr(2);
    } else if (field.starts_with("f=")) {
      f = field.substr(2);
    } else if (field.starts_with("r=")) {
      r = field.substr(2);
    }
  }
  if (version != "2") {
    return Status::PermissionDenied("release header version " + std::string(version) +
                                    " does not bind the envelope (made by an older mailvault)");
  }
  if (out.nonce.size() != 2 * kNonceBytes)
    return Status::PermissionDenied("release header has no nonce");
  if (b != body_digest) return Status::PermissionDenied("release header is for another body");
  const int64_t t = out.signed_at;
  if (t < now_seconds - max_age_seconds) return Status::PermissionDenied("release header expired");
  if (t > now_seconds + 300) return Status::PermissionDenied("release header dated in the future");
  if (f != Tag(envelope.mail_from)) {
    return Status::PermissionDenied("release header was made for another envelope sender");
  }
  if (envelope.rcpt.empty()) return Status::PermissionDenied("message has no recipients");
  std::set<std::string_view> signed_rcpt;
  for (std::string_view rest = r; !rest.empty();) {
    size_t comma = rest.find(',');
    signed_rcpt.insert(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
  }
  for (const std::string& rcpt : envelope.rcpt) {
    if (!signed_rcpt.contains(Tag(rcpt))) {
      return Status::PermissionDenied("release header was not made for recipient <" + rcpt + ">");
    }
  }
  return out;
}

}  // namespace mailvault::crypto
