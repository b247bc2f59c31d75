// Role permissions as the issue sets them, and token comparison.
#include "console/access.h"

#include <gtest/gtest.h>

namespace mailvault::console {
namespace {

using directory::Role;

TEST(Access, AdministratorHasEverythingButIngest) {
  PermissionSet s = RolePermissions(Role::kAdministrator);
  for (Permission p : AllPermissions()) {
    EXPECT_EQ(Has(s, p), p != Permission::kIngest) << PermissionName(p);
  }
}

TEST(Access, HelpdeskDeliversToOriginalsButNeverDeletesOrConfigures) {
  PermissionSet s = RolePermissions(Role::kHelpdesk);
  EXPECT_EQ(PermissionNames(s), (std::vector<std::string>{"search", "view", "preview", "save",
                                                          "deliver", "queue", "usage"}));
}

TEST(Access, AuditorSeesNoMessageContent) {
  PermissionSet s = RolePermissions(Role::kAuditor);
  EXPECT_FALSE(Has(s, Permission::kPreview));
  EXPECT_FALSE(Has(s, Permission::kSave));
  EXPECT_FALSE(Has(s, Permission::kDeliver));
  EXPECT_FALSE(Has(s, Permission::kSettingsWrite));
  EXPECT_TRUE(Has(s, Permission::kAudit));
  EXPECT_TRUE(Has(s, Permission::kView));
}

TEST(Access, NamesAreUnique) {
  std::set<std::string_view> names;
  for (Permission p : AllPermissions()) EXPECT_TRUE(names.insert(PermissionName(p)).second);
}

TEST(Access, Bearer) {
  EXPECT_TRUE(BearerMatches("Bearer abcdefgh", "abcdefgh"));
  EXPECT_TRUE(BearerMatches("bearer abcdefgh", "abcdefgh"));
  EXPECT_FALSE(BearerMatches("Bearer abcdefg", "abcdefgh"));
  EXPECT_FALSE(BearerMatches("Bearer abcdefghi", "abcdefgh"));
  EXPECT_FALSE(BearerMatches("Basic abcdefgh", "abcdefgh"));
  EXPECT_FALSE(BearerMatches("", "abcdefgh"));
  EXPECT_FALSE(BearerMatches("Bearer ", ""));
  EXPECT_TRUE(Has(TokenPrincipal().permissions, Permission::kIngest));
}

}  // namespace
}  // namespace mailvault::console
