// The key ring sealed under a passphrase, for the "backup of the Backup"
// (`mailvault keys export|import`, docs/keys-export.md): a lost disk must
// not mean lost mail, and a stolen backup must not mean read mail.
//
// Format v1 (all integers little-endian), 66-byte header then the sealed
// body:
//   0  8  magic "MVKEYEXP"
//   8  1  version 1
//   9  1  KDF 1 = argon2id v1.3 (crypto_pwhash_ALG_ARGON2ID13)
//  10  8  opslimit
//  18  8  memlimit (bytes)
//  26 16  salt
//  42 24  nonce
//  66  -  XChaCha20-Poly1305-IETF of the body under the argon2id key of the
//         passphrase, the whole header as associated data (so no field of it
//         can be changed), 16-byte tag last.
// Body: entries of u8 name length, name, u32 size, bytes: the files of the
// key directory (<id>.pub, <id>.sec, current, index.key), nothing else.
//
// Stateless and thread-safe. Deriving the key costs what the cost says
// (kExportCost: libsodium's MODERATE, 256 MiB and about a second).
#pragma once

#include <string>
#include <string_view>

#include "crypto/password.h"
#include "env/env.h"
#include "mailvault/status.h"

namespace mailvault::crypto {

// crypto_pwhash_OPSLIMIT_MODERATE / MEMLIMIT_MODERATE.
extern const PasswordCost kExportCost;
inline constexpr size_t kMinPassphraseBytes = 12;

// The key ring in `keys_dir`, sealed under `passphrase`. The ring must be
// whole (it opens with its secret keys, and every key pair has its secret
// half): PermissionDenied/NotFound/Corruption otherwise, as KeyRing::Open
// says. InvalidArgument for a passphrase shorter than kMinPassphraseBytes.
Result<std::string> ExportKeyRing(Env& env, const std::string& keys_dir,
                                  std::string_view passphrase, const PasswordCost& cost);

// Opens `sealed` with `passphrase` and writes its files into `keys_dir`
// (created 0700 if missing; its parent must exist), `current` last, each
// file synced, then opens the ring to check it. AlreadyExists when
// `keys_dir` already holds keys (import never replaces keys). InvalidArgument
// for a wrong passphrase or an altered file (the two cannot be told apart);
// Corruption for a file that is no export, or a version or KDF this code
// does not know; Unavailable when the KDF's memory cannot be had.
Status ImportKeyRing(Env& env, std::string_view sealed, std::string_view passphrase,
                     const std::string& keys_dir);

}  // namespace mailvault::crypto
