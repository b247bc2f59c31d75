// The mailboxes a signed-in personal user may see: the abstraction the
// console scopes every personal request by (SearchQuery::recipients, and
// the recipient check of every single-copy route).
//
// A MailboxProvider answers for the accounts it knows. LocalMailboxes
// answers for local personal accounts (accounts.db): their own addresses,
// never a delegated mailbox. The directory cache (src/directory/ldap_*)
// plugs in as a second provider that answers for directory users with
// their addresses and the group mailboxes delegated to them
// (delegated = true); ChainedMailboxes asks each provider in turn. The
// console decides whether delegated mailboxes count (the setting
// personal.group_mailboxes), so providers always report them.
//
// Thread-safe: providers are called from every console worker.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "directory/accounts.h"
#include "mailvault/status.h"

namespace mailvault::directory {

struct Mailbox {
  std::string address;     // NormalizeAddress form
  bool delegated = false;  // a group mailbox delegated to the user, not their own
  // For a delegated mailbox, how the user got it ("group sales"), shown in
  // the console's mailbox switch; empty for own addresses.
  std::string via;
  bool operator==(const Mailbox&) const = default;
};

class MailboxProvider {
 public:
  virtual ~MailboxProvider() = default;
  // The mailboxes of `account` (its sign-in name as the session holds it),
  // own ones first. NotFound if this provider does not know the account;
  // another error if it cannot tell now (the console then refuses: a user
  // never sees more because a lookup failed).
  virtual Result<std::vector<Mailbox>> MailboxesOf(std::string_view account) = 0;
};

// Local personal accounts: their addresses in accounts.db, read on each
// call (an address change applies at the next request). Accounts of other
// roles are NotFound. `accounts` must outlive this.
class LocalMailboxes final : public MailboxProvider {
 public:
  explicit LocalMailboxes(Accounts& accounts) : accounts_(accounts) {}
  Result<std::vector<Mailbox>> MailboxesOf(std::string_view account) override;

 private:
  Accounts& accounts_;
};

// Asks each provider in order; the first that knows the account answers.
// NotFound if none does. The providers must outlive this.
class ChainedMailboxes final : public MailboxProvider {
 public:
  explicit ChainedMailboxes(std::vector<MailboxProvider*> providers)
      : providers_(std::move(providers)) {}
  Result<std::vector<Mailbox>> MailboxesOf(std::string_view account) override;

 private:
  const std::vector<MailboxProvider*> providers_;
};

}  // namespace mailvault::directory
