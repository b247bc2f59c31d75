// Roles, permissions and token checks (see access.h).
#include "console/access.h"

#include <cctype>

namespace mailvault::console {

std::string_view PermissionName(Permission p) {
  switch (p) {
    case Permission::kSearch:
      return "search";
    case Permission::kView:
      return "view";
    case Permission::kPreview:
      return "preview";
    case Permission::kSave:
      return "save";
    case Permission::kDeliver:
      return "deliver";
    case Permission::kDeliverOther:
      return "deliver_other";
    case Permission::kDelete:
      return "delete";
    case Permission::kSettingsRead:
      return "settings_read";
    case Permission::kSettingsWrite:
      return "settings_write";
    case Permission::kQueue:
      return "queue";
    case Permission::kAudit:
      return "audit";
    case Permission::kUsage:
      return "usage";
    case Permission::kIngest:
      return "ingest";
  }
  return "unknown";
}

const std::vector<Permission>& AllPermissions() {
  static const std::vector<Permission> all = {
      Permission::kSearch, Permission::kView,         Permission::kPreview,
      Permission::kSave,   Permission::kDeliver,      Permission::kDeliverOther,
      Permission::kDelete, Permission::kSettingsRead, Permission::kSettingsWrite,
      Permission::kQueue,  Permission::kAudit,        Permission::kUsage,
      Permission::kIngest};
  return all;
}

namespace {

PermissionSet SetOf(std::initializer_list<Permission> ps) {
  PermissionSet s = 0;
  for (Permission p : ps) s |= static_cast<uint32_t>(p);
  return s;
}

}  // namespace

PermissionSet RolePermissions(directory::Role role) {
  using P = Permission;
  switch (role) {
    case directory::Role::kAdministrator:
      // Everything a person does; ingest is the gateway's (token only).
      return SetOf({P::kSearch, P::kView, P::kPreview, P::kSave, P::kDeliver, P::kDeliverOther,
                    P::kDelete, P::kSettingsRead, P::kSettingsWrite, P::kQueue, P::kAudit,
                    P::kUsage});
    case directory::Role::kHelpdesk:
      return SetOf(
          {P::kSearch, P::kView, P::kPreview, P::kSave, P::kDeliver, P::kQueue, P::kUsage});
    case directory::Role::kAuditor:
      return SetOf({P::kSearch, P::kView, P::kAudit, P::kQueue, P::kUsage, P::kSettingsRead});
    case directory::Role::kPersonal:
      return SetOf({P::kSearch, P::kView, P::kPreview, P::kSave, P::kDeliver, P::kDelete});
  }
  return 0;
}

PermissionSet PersonalPermissions(const directory::PersonalSettings& settings) {
  using P = Permission;
  PermissionSet s = SetOf({P::kSearch, P::kView});
  if (settings.preview) s |= SetOf({P::kPreview, P::kSave});
  if (settings.allow_sending) s |= SetOf({P::kDeliver});
  if (settings.delete_allowed) s |= SetOf({P::kDelete});
  return s & RolePermissions(directory::Role::kPersonal);
}

std::vector<std::string> VisibleThrough(const Principal& who,
                                        const std::vector<std::string>& rcpt) {
  std::vector<std::string> out;
  for (const directory::Mailbox& m : who.mailboxes) {
    for (const std::string& r : rcpt) {
      if (r.size() != m.address.size()) continue;
      bool same = true;
      for (size_t i = 0; i < r.size() && same; ++i) {
        char c = r[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        same = c == m.address[i];
      }
      if (same) {
        out.push_back(m.address);
        break;
      }
    }
  }
  return out;
}

std::vector<std::string> PermissionNames(PermissionSet set) {
  std::vector<std::string> out;
  for (Permission p : AllPermissions()) {
    if (Has(set, p)) out.emplace_back(PermissionName(p));
  }
  return out;
}

Principal TokenPrincipal() {
  Principal p;
  p.account = "api-token";
  p.role = "token";
  for (Permission perm : AllPermissions()) p.permissions |= static_cast<uint32_t>(perm);
  return p;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  volatile unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) {
    diff = diff | static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  }
  return diff == 0;
}

bool BearerMatches(std::string_view authorization, std::string_view token) {
  constexpr std::string_view kPrefix = "Bearer ";
  if (token.empty() || authorization.size() < kPrefix.size()) return false;
  for (size_t i = 0; i < kPrefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) !=
        std::tolower(static_cast<unsigned char>(kPrefix[i]))) {
      return false;
    }
  }
  // The token's length is not secret (it is fixed); its bytes are.
  return ConstantTimeEquals(token, authorization.substr(kPrefix.size()));
}

}  // namespace mailvault::console
