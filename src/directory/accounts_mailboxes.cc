// Mailbox providers (see accounts_mailboxes.h).
#include "directory/accounts_mailboxes.h"

namespace mailvault::directory {

Result<std::vector<Mailbox>> LocalMailboxes::MailboxesOf(std::string_view account) {
  MV_ASSIGN_OR_RETURN(Account a, accounts_.Get(account));
  if (a.role != Role::kPersonal) {
    return Status::NotFound("'" + a.name + "' is not a personal account");
  }
  std::vector<Mailbox> out;
  for (const std::string& address : a.addresses) out.push_back({address, false, ""});
  return out;
}

Result<std::vector<Mailbox>> ChainedMailboxes::MailboxesOf(std::string_view account) {
  for (MailboxProvider* p : providers_) {
    auto r = p->MailboxesOf(account);
    if (r.ok() || r.status().code() != Code::kNotFound) return r;
  }
  return Status::NotFound("no directory knows the account '" + std::string(account) + "'");
}

}  // namespace mailvault::directory
