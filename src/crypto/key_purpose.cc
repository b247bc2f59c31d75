// The table of key purposes (see key_purpose.h). The contexts and ids are
// the ones the components used when each derived its own key; they are the
// on-disk format of existing stores and must never change.
#include "crypto/key_purpose.h"

#include <cstdlib>

namespace mailvault::crypto {

const KeyDerivation& DerivationOf(KeyPurpose purpose) {
  static const KeyDerivation kIndexPages{"index pages", true, 0, ""};
  static const KeyDerivation kRecordMetadata{"record metadata", true, 0, ""};
  static const KeyDerivation kAccounts{"accounts", false, 1, "mvaccts_"};
  static const KeyDerivation kAudit{"audit", false, 1, "mvaudit_"};
  static const KeyDerivation kDeliveryQueue{"delivery queue", false, 1, "mvqueue_"};
  static const KeyDerivation kReleaseMac{"release mac", false, 1, "mvreleas"};
  static const KeyDerivation kReleaseAddressTag{"release address tag", false, 2, "mvreleas"};
  static const KeyDerivation kLdapCache{"ldap cache", false, 1, "mvldapc_"};
  switch (purpose) {
    case KeyPurpose::kIndexPages:
      return kIndexPages;
    case KeyPurpose::kRecordMetadata:
      return kRecordMetadata;
    case KeyPurpose::kAccounts:
      return kAccounts;
    case KeyPurpose::kAudit:
      return kAudit;
    case KeyPurpose::kDeliveryQueue:
      return kDeliveryQueue;
    case KeyPurpose::kReleaseMac:
      return kReleaseMac;
    case KeyPurpose::kReleaseAddressTag:
      return kReleaseAddressTag;
    case KeyPurpose::kLdapCache:
      return kLdapCache;
  }
  std::abort();  // not reached: every enumerator is handled above
}

}  // namespace mailvault::crypto
