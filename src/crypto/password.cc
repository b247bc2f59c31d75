// Password hashing (see password.h). libsodium wants NUL-terminated encoded
// strings, so an encoded hash with an embedded NUL or longer than
// crypto_pwhash_STRBYTES is refused before it gets there.
#include "crypto/password.h"

#include <sodium.h>

#include "crypto/page_cipher.h"

namespace mailvault::crypto {

const PasswordCost kInteractiveCost = {crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                       crypto_pwhash_MEMLIMIT_INTERACTIVE};
const PasswordCost kTestCost = {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN};

namespace {

// A NUL-terminated copy of `encoded`, or false if it cannot be a hash.
bool TerminatedHash(std::string_view encoded, std::string* out) {
  if (encoded.empty() || encoded.size() >= crypto_pwhash_STRBYTES ||
      encoded.find('\0') != std::string_view::npos) {
    return false;
  }
  out->assign(encoded);
  return true;
}

}  // namespace

Result<std::string> HashPassword(std::string_view password, const PasswordCost& cost) {
  InitCrypto();
  if (password.empty()) return Status::InvalidArgument("the password is empty");
  if (password.size() > kMaxPasswordBytes) {
    return Status::InvalidArgument("the password is longer than " +
                                   std::to_string(kMaxPasswordBytes) + " bytes");
  }
  if (cost.ops < crypto_pwhash_OPSLIMIT_MIN || cost.ops > crypto_pwhash_OPSLIMIT_MAX ||
      cost.mem < crypto_pwhash_MEMLIMIT_MIN || cost.mem > crypto_pwhash_MEMLIMIT_MAX) {
    return Status::InvalidArgument("password hash cost ops=" + std::to_string(cost.ops) + " mem=" +
                                   std::to_string(cost.mem) + " is outside argon2id's limits");
  }
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), cost.ops, cost.mem,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Status::Unavailable("cannot hash a password: " + std::to_string(cost.mem) +
                               " bytes of memory are not available");
  }
  return std::string(out);
}

bool VerifyPassword(std::string_view encoded, std::string_view password) {
  InitCrypto();
  std::string hash;
  if (!TerminatedHash(encoded, &hash)) return false;
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

bool PasswordNeedsRehash(std::string_view encoded, const PasswordCost& cost) {
  InitCrypto();
  std::string hash;
  if (!TerminatedHash(encoded, &hash)) return true;
  // The generic call also reports a hash of another algorithm (argon2i) as
  // needing a rehash.
  return crypto_pwhash_str_needs_rehash(hash.c_str(), cost.ops, cost.mem) != 0;
}

}  // namespace mailvault::crypto
