// Password hashing for the console's local accounts: argon2id through
// libsodium's crypto_pwhash_str_alg, encoded as the usual self-describing
// "$argon2id$v=19$m=...,t=...,p=1$salt$hash" string, so the parameters travel
// with the hash and a later cost change can be detected and applied at the
// next successful login (PasswordNeedsRehash).
//
// Stateless and thread-safe. Hashing deliberately costs memory and time
// (kInteractiveCost: 64 MiB, a fraction of a second); tests use kTestCost.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "mailvault/status.h"

namespace mailvault::crypto {

// argon2id work factors: `ops` passes over `mem` bytes.
struct PasswordCost {
  uint64_t ops;
  size_t mem;
};

// crypto_pwhash_OPSLIMIT_INTERACTIVE / MEMLIMIT_INTERACTIVE: the default.
extern const PasswordCost kInteractiveCost;
// crypto_pwhash_OPSLIMIT_MIN / MEMLIMIT_MIN: for unit tests only, so they
// run fast. Never for a stored account.
extern const PasswordCost kTestCost;

// The longest password HashPassword accepts, in bytes.
inline constexpr size_t kMaxPasswordBytes = 1024;

// A new encoded argon2id hash of `password` with a random salt.
// InvalidArgument for an empty password or one over kMaxPasswordBytes (or a
// cost outside libsodium's limits); Unavailable if the memory cannot be had.
Result<std::string> HashPassword(std::string_view password, const PasswordCost& cost);

// Whether `password` matches `encoded` (the comparison is constant time as
// libsodium does it). False for a malformed or non-argon2 hash.
bool VerifyPassword(std::string_view encoded, std::string_view password);

// Whether `encoded` was made with other parameters than `cost` (or is not a
// valid argon2id hash at all): then a successful login should store a new
// hash.
bool PasswordNeedsRehash(std::string_view encoded, const PasswordCost& cost);

}  // namespace mailvault::crypto
