// LdapMailboxes: the MailboxProvider of directory users (accounts_mailboxes.h)
// over the LDAP/AD cache. A directory user's own addresses first (the
// directory's order), then the shared mailboxes delegated to them, directly
// or through a group (delegated = true, `via` says how). The console
// decides whether delegated mailboxes count (personal.group_mailboxes).
//
// The account is the login a session holds (any login attribute, any
// case); NotFound for a login the cache does not know, or an entry that
// may not sign in (not a user). Reads the cache only, never the network.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "directory/accounts_mailboxes.h"
#include "directory/ldap_directory.h"

namespace mailvault::directory {

class LdapMailboxes final : public MailboxProvider {
 public:
  // `ldap` must outlive this.
  explicit LdapMailboxes(LdapDirectory& ldap) : ldap_(ldap) {}
  Result<std::vector<Mailbox>> MailboxesOf(std::string_view account) override;

 private:
  LdapDirectory& ldap_;
};

// How a delegation reads in the console's mailbox switch: "delegated to
// you" for a direct one, "group NAME" (the group DN's first value) for one
// through a group.
std::string DescribeVia(std::string_view via_dn);

}  // namespace mailvault::directory
