// LdapConnection: one connection to a directory server through OpenLDAP's
// libldap, the thin I/O shell around the mapping: connect (to the first of
// the configured servers that answers), TLS (StartTLS on ldap://, TLS from
// the first byte on ldaps://; the certificate is checked against ca_file
// and the host name, there is no switch to skip it), a simple bind, and
// paged searches (RFC 2696 simple paged results).
//
// Every step has the per-operation timeout of LdapOptions: the TCP connect,
// the TLS handshake and StartTLS, each bind and each search page. A server
// that does not answer gives Unavailable naming the server and the step,
// never a hang. Referrals are not chased (AD sends them for other domains).
//
// Not thread-safe: one connection, one user at a time.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "directory/ldap_mapping.h"
#include "directory/ldap_options.h"
#include "mailvault/status.h"

namespace mailvault::directory {

class LdapConnection {
 public:
  // Connects to the first of options.servers that completes TCP and TLS
  // and binds as `bind_dn` with `password` ("" and "": anonymous).
  // Errors (of the last server tried, with the others' in the message):
  // Unavailable for unreachable, slow or TLS failures ("certificate
  // verify failed"), PermissionDenied for refused credentials,
  // InvalidArgument for options CheckLdapOptions refuses.
  static Result<std::unique_ptr<LdapConnection>> Connect(const LdapOptions& options,
                                                         std::string_view bind_dn,
                                                         std::string_view password);
  ~LdapConnection();
  LdapConnection(const LdapConnection&) = delete;
  LdapConnection& operator=(const LdapConnection&) = delete;

  // The server this connection reached ("ldap://dc1.example.com:389").
  const std::string& server() const { return server_; }

  // Searches the subtree of `base` with `filter` for `attributes`, page by
  // page (page_size), calling `on_entry` for each entry as it arrives; a
  // non-OK status from it stops the search and is returned. An error
  // between pages (the server gone, a page timed out, a size or time limit)
  // is returned: the caller has an incomplete result and must not use it.
  Status Search(std::string_view base, std::string_view filter,
                const std::vector<std::string>& attributes,
                const std::function<Status(LdapEntry&&)>& on_entry);

  // A simple bind on this connection, to check a password. OK, or
  // PermissionDenied for wrong credentials, Unavailable for a failed
  // server. An empty password is refused before anything is sent (it
  // would be an unauthenticated bind, which servers accept).
  Status Bind(std::string_view dn, std::string_view password);

  struct Handle;  // libldap's LDAP*, opaque outside ldap_client.cc

 private:
  LdapConnection(std::unique_ptr<Handle> h, std::string server, const LdapOptions& options);

  std::unique_ptr<Handle> h_;
  std::string server_;
  int64_t timeout_micros_;
  int page_size_;
};

}  // namespace mailvault::directory
