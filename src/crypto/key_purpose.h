// KeyPurpose: every use of a symmetric key in mailvault, named in one place.
//
// A store keeps one symmetric root key (keys/index.key, see keyring.h). Each
// use gets its own key from it, so that the key of one use never opens the
// data of another; KeyRing::Derived(purpose) is the one way to get one. The
// table in key_purpose.cc says how each is made: the two oldest uses take
// the root key itself (they predate derivation, and stores written then must
// keep opening), every other one is crypto_kdf_derive_from_key(root, id,
// context). A row's id and context are part of the on-disk format: changing
// one makes every existing database of that use unreadable
// (keyring_test.cc holds their known answers). Add a purpose with a new row.
#pragma once

#include <cstdint>
#include <string_view>

namespace mailvault::crypto {

enum class KeyPurpose {
  kIndexPages,         // index.db pages (the store's encrypting VFS)
  kRecordMetadata,     // the sealed metadata of each segment record
  kAccounts,           // accounts.db pages (console accounts)
  kAudit,              // audit.db pages (the audit log)
  kDeliveryQueue,      // deliveries.db pages (the delivery queue)
  kReleaseMac,         // the MAC of the X-Mailvault-Release header
  kReleaseAddressTag,  // the keyed address tags in that header
  kLdapCache,          // ldap.db pages (the LDAP/AD cache of the directory)
};

inline constexpr KeyPurpose kAllKeyPurposes[] = {
    KeyPurpose::kIndexPages,        KeyPurpose::kRecordMetadata,
    KeyPurpose::kAccounts,          KeyPurpose::kAudit,
    KeyPurpose::kDeliveryQueue,     KeyPurpose::kReleaseMac,
    KeyPurpose::kReleaseAddressTag, KeyPurpose::kLdapCache,
};

// How the key of one purpose is made from the root key.
struct KeyDerivation {
  std::string_view name;     // for messages and docs: "accounts"
  bool root_itself = false;  // true: the root key as is (id and context unused)
  uint64_t subkey_id = 0;    // crypto_kdf subkey id
  char context[9] = {};      // crypto_kdf context: exactly 8 characters
};

const KeyDerivation& DerivationOf(KeyPurpose purpose);

}  // namespace mailvault::crypto
