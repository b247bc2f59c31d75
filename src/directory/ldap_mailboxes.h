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

// A directory user as a console session knows them.
struct DirectorySignIn {
  std::string login;  // the login as signed in with, lower case: the session's account
  std::string dn;     // NormalizeDn form: the session stays this user's
  std::string name;   // display name
};

// What the console asks of a directory (LDAP/AD) besides mailboxes:
// password checks, whether a session's user is still there, and the sync
// state for health. Thread-safe.
class DirectoryUsers {
 public:
  virtual ~DirectoryUsers() = default;
  // PermissionDenied (kWrongLogin-style words, the same for an unknown
  // login); Unavailable when no server answers in time.
  virtual Result<DirectorySignIn> Authenticate(std::string_view login,
                                               std::string_view password) = 0;
  // The user of a login now (the cache). NotFound if gone or not a user.
  virtual Result<DirectorySignIn> Find(std::string_view login) = 0;
  virtual Result<LdapSyncState> State() = 0;
};

class LdapMailboxes final : public MailboxProvider, public DirectoryUsers {
 public:
  // `ldap` must outlive this.
  explicit LdapMailboxes(LdapDirectory& ldap) : ldap_(ldap) {}
  Result<std::vector<Mailbox>> MailboxesOf(std::string_view account) override;
  Result<DirectorySignIn> Authenticate(std::string_view login, std::string_view password) override;
  Result<DirectorySignIn> Find(std::string_view login) override;
  Result<LdapSyncState> State() override { return ldap_.State(); }

 private:
  LdapDirectory& ldap_;
};

// How a delegation reads in the console's mailbox switch: "delegated to
// you" for a direct one, "group NAME" (the group DN's first value) for one
// through a group.
std::string DescribeVia(std::string_view via_dn);

}  // namespace mailvault::directory
