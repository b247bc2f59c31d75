// LDAP filters and DNs at the edge where outside text meets the directory:
// every value put into a search filter is escaped here (RFC 4515), an
// administrator's filter is checked here before it is ever sent, and DNs are
// parsed and put into one canonical form here (RFC 4514, through libldap's
// own DN parser) so that a DN from memberOf, from a delegation attribute or
// from the config compares equal however the server spelled it.
//
// Login names are whatever a user typed: `*)(uid=*`, NUL, CR/LF, invalid
// UTF-8. None of it can change a filter's structure: every byte that is not
// plain printable ASCII, and each of `*()\`, is written as \XX.
//
// Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mailvault/status.h"

namespace mailvault::directory {

// RFC 4515 assertion value: `*`, `(`, `)`, `\`, NUL, every control
// character and every byte >= 0x7f as a backslash and two lower-case hex
// digits; printable ASCII as is. Any byte string gives a value that matches
// exactly those bytes.
std::string EscapeFilterValue(std::string_view value);

// True for an attribute description a filter or search may name: a name
// (ALPHA *(ALPHA / DIGIT / "-")) or a numeric OID, with options
// (";binary", ";lang-en") allowed. At most 128 bytes.
bool IsAttributeName(std::string_view name);

// "(attr=value)" with `value` escaped. InvalidArgument for a bad attribute.
Result<std::string> EqualityFilter(std::string_view attr, std::string_view value);

// The filter that finds a user by login name: `user_filter` AND any of
// `login_attrs` equal to `login`: "(&USER(|(uid=x)(mail=x)))". The login is
// escaped; InvalidArgument if it is empty, if there are no login attributes
// or one is not an attribute name.
Result<std::string> LoginFilter(std::string_view user_filter,
                                const std::vector<std::string>& login_attrs,
                                std::string_view login);

// OK when `filter` is one well-formed RFC 4515 filter: parenthesised,
// &/|/! with their operands, items with =, ~=, >=, <= or an extensible
// match, values whose backslashes each start a two-digit hex escape, no
// NUL or unescaped parenthesis, at most 4096 bytes. InvalidArgument saying
// what is wrong and where otherwise.
Status CheckFilter(std::string_view filter);

// The canonical form of a DN: parsed by libldap as an LDAPv3 DN (RFC
// 4514), written back without spaces around separators and with its
// special characters escaped one way, then ASCII-lower-cased (the naming
// attributes of AD and OpenLDAP directories, cn, ou, dc, uid, compare
// without case). InvalidArgument for text that is not a DN (NUL, a bad
// escape, an RDN without "="). The empty DN stays empty.
Result<std::string> NormalizeDn(std::string_view dn);

// The attribute description without options or a range:
// "member;range=0-1499" -> "member", lower case.
std::string AttributeBase(std::string_view description);

}  // namespace mailvault::directory
