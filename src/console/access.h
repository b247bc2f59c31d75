// Who may do what in the console. A request acts for a Principal: a signed-in
// account (through its session cookie) or the API token (scripts and the
// gateway, which has every permission including ingest). Permissions come
// from the account's role and are checked on the server for every request;
// the UI only hides what a role lacks. Pure functions; thread-safe.
//
//   administrator  everything
//   helpdesk       search, view, preview, save, deliver (to the original
//                  recipients only), queue, usage; no delete, no settings,
//                  no audit log
//   auditor        search, view (the fields, not the content), the audit
//                  log, queue, usage, settings_read; no preview, save or
//                  delivery
//   personal       at most search, view, preview, save, deliver, delete,
//                  each narrowed by the personal Backup's settings
//                  (PersonalPermissions) and every one scoped to the
//                  copies addressed to the user's mailboxes; never an
//                  administrator route (settings, queue, usage, audit,
//                  ingest, delivery to other addresses)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "directory/accounts.h"
#include "directory/accounts_mailboxes.h"
#include "directory/accounts_personal.h"

namespace mailvault::console {

enum class Permission : uint32_t {
  kSearch = 1u << 0,
  kView = 1u << 1,          // a copy's fields (the store's `show`)
  kPreview = 1u << 2,       // the text and HTML body
  kSave = 1u << 3,          // .eml and archive downloads
  kDeliver = 1u << 4,       // to the copies' original recipients
  kDeliverOther = 1u << 5,  // to addresses given in the request
  kDelete = 1u << 6,
  kSettingsRead = 1u << 7,
  kSettingsWrite = 1u << 8,
  kQueue = 1u << 9,    // the delivery queue
  kAudit = 1u << 10,   // the audit log
  kUsage = 1u << 11,   // store usage
  kIngest = 1u << 12,  // POST /api/v1/messages: the API token only
};

// The names the API and the UI use ("search", "deliver_other", ...).
std::string_view PermissionName(Permission p);
// Every permission, in the order of the enum.
const std::vector<Permission>& AllPermissions();

using PermissionSet = uint32_t;

PermissionSet RolePermissions(directory::Role role);
// A personal user's permissions under the administrator's settings:
// search, view; preview and save when personal.preview; deliver when
// personal.send; delete when personal.delete. (personal.backup off is
// refused before permissions are looked at.)
PermissionSet PersonalPermissions(const directory::PersonalSettings& settings);
inline bool Has(PermissionSet set, Permission p) { return (set & static_cast<uint32_t>(p)) != 0; }
// The names of the permissions in `set`, in enum order.
std::vector<std::string> PermissionNames(PermissionSet set);

// The one a request acts for.
struct Principal {
  std::string account;  // "alice"; "api-token" for the token
  std::string role;     // "administrator", "helpdesk", "auditor"; "token"
  PermissionSet permissions = 0;
  bool via_session = false;  // a browser session (CSRF checks apply)
  // A personal user: every copy route is scoped to `mailboxes`.
  bool personal = false;
  // The mailboxes a personal user may see now (own ones, and delegated
  // ones when personal.group_mailboxes is on), in NormalizeAddress form.
  std::vector<directory::Mailbox> mailboxes;
};

// Whether `rcpt` (a copy's envelope recipients) includes one of the
// principal's mailboxes (compared as the index's recipient table does);
// the matching mailboxes, own ones first. Always empty for a principal
// without mailboxes.
std::vector<std::string> VisibleThrough(const Principal& who, const std::vector<std::string>& rcpt);

// The principal of the API token.
Principal TokenPrincipal();

// True if `authorization` is "Bearer <token>" (scheme case-insensitive);
// compares the token in constant time. False for an empty token.
bool BearerMatches(std::string_view authorization, std::string_view token);

// Compares two secrets in time that depends only on their lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace mailvault::console
