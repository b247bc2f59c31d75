// LdapMapping: what the entries a sync read from the directory mean, as
// data the cache stores: each user's login names, addresses, groups (nested
// groups expanded) and the shared mailboxes delegated to them (directly or
// through a group). Pure: the network is ldap_client.h's, the storage
// ldap_cache_db.h's; this is where the rules live and are unit-tested.
//
// Bad input is skipped and said, never fatal to the sync and never a wider
// access: a malformed proxyAddresses value, an address that is not one, a
// login with control characters, a delegation naming a DN that is neither a
// user nor a group of the cache. Each skip is one line in Snapshot::skipped.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "directory/ldap_options.h"
#include "mailvault/status.h"

namespace mailvault::directory {

// One entry as read: its DN and its attributes, keyed by AttributeBase
// (lower case, options dropped); values are bytes as the server sent them.
struct LdapEntry {
  std::string dn;
  std::map<std::string, std::vector<std::string>> attributes;

  const std::vector<std::string>* Values(std::string_view attribute) const;
};

// What one sync read: the entries of the user filter, of the group filter,
// and those carrying the delegation attribute (the shared mailboxes; many
// match the user filter too).
struct SyncInput {
  std::vector<LdapEntry> users;
  std::vector<LdapEntry> groups;
  std::vector<LdapEntry> mailboxes;
};

// An entry of the cache: a user (matched the user filter: may sign in) or a
// shared mailbox (has the delegation attribute), or both.
struct CachedEntry {
  std::string dn;       // as the server spelled it
  std::string dn_norm;  // NormalizeDn(dn): the key
  std::string name;     // displayName, else cn, else the DN
  bool is_user = false;
  bool is_mailbox = false;
  std::vector<std::string> logins;     // lower case, each distinct
  std::vector<std::string> addresses;  // lower case, in attribute order, each distinct
  std::vector<std::string> groups;     // DNs of every group, direct and nested
  size_t direct_groups = 0;            // groups[0, direct_groups) are direct
};

// A delegation: the user (dn_norm) may read the mailbox (dn_norm); `via` is
// "" when the mailbox names the user, else the DN of the group it names.
struct CachedDelegation {
  std::string user;
  std::string mailbox;
  std::string via;
};

struct Snapshot {
  std::vector<CachedEntry> entries;  // sorted by dn_norm
  std::vector<CachedDelegation> delegations;
  size_t groups = 0;  // distinct groups seen
  size_t skipped_count = 0;
  std::vector<std::string> skipped;  // the first kMaxSkipLines reasons
};

inline constexpr size_t kMaxSkipLines = 100;

// Builds the snapshot. An entry whose DN does not parse is skipped. Never
// fails on data; InvalidArgument only for options CheckLdapOptions refuses.
Result<Snapshot> BuildSnapshot(const LdapOptions& options, const SyncInput& input);

// One address from `attribute`'s value: proxyAddresses takes "smtp:" /
// "SMTP:" values (prefix dropped) and ignores other prefixes silently
// (returns ""), other attributes take the value as is. The result is lower
// case. InvalidArgument for a value that is not a plain address
// (local@domain, printable ASCII or UTF-8, no spaces, one '@').
Result<std::string> AddressOf(std::string_view attribute, std::string_view value);

}  // namespace mailvault::directory
