// LdapOptions: the [ldap] section of the config (conf/mailvault.toml
// documents each key): which directory servers the LDAP/AD cache is synced
// from, how to reach them safely, and which attributes mean what.
//
// This component owns the rules for these values: config/config.cc parses
// the TOML and calls ParseLdapServer and CheckLdapOptions, and the daemon's
// start-up calls CheckLdapOptions again, so `mailvault config check` and
// the daemon accept and refuse the same things in the same words.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mailvault/status.h"

namespace mailvault::directory {

// One server, as parsed from "ldap://host[:port]" or "ldaps://host[:port]".
struct LdapServer {
  bool ldaps = false;  // TLS from the first byte; else StartTLS (or clear, see below)
  std::string host;    // a name, an IPv4 address or an IPv6 address without brackets
  int port = 389;      // 389 for ldap://, 636 for ldaps:// when not given
  std::string url;     // the normalised URL libldap is given
};

// The AD defaults; docs/personal.md gives the OpenLDAP equivalents.
inline constexpr char kAdUserFilter[] = "(&(objectCategory=person)(objectClass=user))";
inline constexpr char kAdGroupFilter[] = "(objectClass=group)";

struct LdapOptions {
  bool enabled = false;  // false: no cache, no sync; the rest is still checked
  // Tried in order at each sync and sign-in until one answers.
  std::vector<std::string> servers;
  // ldap:// servers must do StartTLS before anything is sent (the lookup
  // account's bind and every user's password). false is accepted only for
  // loopback servers (a local proxy or a test); ldaps:// ignores it.
  bool starttls = true;
  // PEM CA certificate(s) the server's certificate must chain to; "" = the
  // system's trust store. The certificate and its name are always checked.
  std::string ca_file;
  // The lookup account; "" with no password file = anonymous bind.
  std::string bind_dn;
  std::string bind_password_file;  // one line; read at each sync, never logged
  std::string base_dn;             // where users, groups and mailboxes are searched
  std::string user_filter = kAdUserFilter;
  // Groups, searched for their own memberOf so nested groups expand.
  std::string group_filter = kAdGroupFilter;
  // A user's addresses, in this order of preference. proxyAddresses values
  // count only with an smtp:/SMTP: prefix (x500:, sip:, ... are skipped).
  std::vector<std::string> address_attributes = {"mail", "proxyAddresses", "userPrincipalName",
                                                 "mailAlternativeAddress"};
  // What a user may type as their login name.
  std::vector<std::string> login_attributes = {"sAMAccountName", "userPrincipalName", "mail",
                                               "uid"};
  std::string group_attribute = "memberOf";  // on users and groups: DNs of direct groups
  // On a shared mailbox: DNs of users or groups with full access to it.
  // "msExchDelegateListLink" (Exchange), or "publicDelegates".
  std::string delegation_attribute = "msExchDelegateListLink";
  int64_t sync_interval_micros = 3'600'000'000;  // 1 h
  int64_t timeout_micros = 10'000'000;           // each connect, bind, search page
  int page_size = 500;  // RFC 2696 page size (AD returns at most 1,000 a page)
};

// "ldap://dc1.example.com", "ldaps://[2001:db8::1]:636", "LDAP://h:3389/":
// scheme, host and port, nothing else (no DN, filter or extensions).
// InvalidArgument ("not an ldap:// or ldaps:// URL: ...") otherwise.
Result<LdapServer> ParseLdapServer(std::string_view url);

// The rules for LdapOptions, whether or not the cache is enabled: each
// server parses, starttls = false only with loopback servers, DNs parse
// (directory/ldap_filter.h), filters are well-formed, attribute names are
// names, paths are absolute and printable, sync_interval at least 1 minute,
// timeout positive and at most 10 minutes, page_size 1 to 10,000. When
// enabled: at least one server and a base DN. InvalidArgument whose message
// starts with the key ("ldap.servers: ...").
Status CheckLdapOptions(const LdapOptions& options);

}  // namespace mailvault::directory
