// The directory users' mailboxes (see ldap_mailboxes.h).
#include "directory/ldap_mailboxes.h"

#include <algorithm>
#include <cctype>

namespace mailvault::directory {

std::string DescribeVia(std::string_view via_dn) {
  if (via_dn.empty()) return "delegated to you";
  // "cn=Sales,ou=groups,dc=example,dc=org" -> "group Sales" (an escaped
  // comma in the value ends it early: this is for display only).
  std::string_view rdn = via_dn.substr(0, via_dn.find(','));
  if (size_t eq = rdn.find('='); eq != std::string_view::npos) rdn.remove_prefix(eq + 1);
  return "group " + std::string(rdn);
}

Result<std::vector<Mailbox>> LdapMailboxes::MailboxesOf(std::string_view account) {
  MV_ASSIGN_OR_RETURN(DirectoryUser user, ldap_.FindUser(account));
  if (!user.is_user) {
    return Status::NotFound("'" + std::string(account) + "' is not a directory user");
  }
  std::vector<Mailbox> out;
  auto add = [&out](std::string_view address, bool delegated, std::string via) {
    auto norm = NormalizeAddress(address);
    if (!norm.ok()) return;  // the sync logged it; never widen to a bad value
    for (const Mailbox& m : out) {
      if (m.address == *norm) return;  // own first, each once
    }
    out.push_back({std::move(*norm), delegated, std::move(via)});
  };
  for (const std::string& a : user.addresses) add(a, false, "");
  MV_ASSIGN_OR_RETURN(std::vector<DelegatedMailbox> delegated, ldap_.DelegatedTo(user.dn));
  for (const DelegatedMailbox& d : delegated) {
    std::string via;
    for (const std::string& v : d.via) {
      via += (via.empty() ? "" : ", ") + DescribeVia(v);
    }
    for (const std::string& a : d.mailbox.addresses) add(a, true, via);
  }
  return out;
}

namespace {

DirectorySignIn SignInOf(std::string_view login, const DirectoryUser& user) {
  std::string lower(login);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return {std::move(lower), user.dn_norm, user.name};
}

}  // namespace

Result<DirectorySignIn> LdapMailboxes::Authenticate(std::string_view login,
                                                    std::string_view password) {
  MV_ASSIGN_OR_RETURN(DirectoryUser user, ldap_.Authenticate(login, password));
  return SignInOf(login, user);
}

Result<DirectorySignIn> LdapMailboxes::Find(std::string_view login) {
  MV_ASSIGN_OR_RETURN(DirectoryUser user, ldap_.FindUser(login));
  if (!user.is_user) return Status::NotFound("not a directory user");
  return SignInOf(login, user);
}

}  // namespace mailvault::directory
