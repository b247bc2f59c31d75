// DropToOwnerOf: a root process that is about to work on a directory that
// belongs to a service account becomes that account first, for good, so
// that everything it creates there is the account's, as if the service had
// made it (the CLI run as root against /var/lib/mailvault; issue 17).
//
// Process-wide (glibc applies set*id to every thread); call it early, from
// the main thread, before anything in the directory is opened.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "mailvault/status.h"

namespace mailvault {

struct Identity {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string name;  // the passwd name, or the uid in decimal when it has none
};

// When the process runs as root (real or effective uid 0) and `path` exists
// and belongs to another uid: sets the supplementary groups to that user's
// (initgroups; none when the uid has no passwd entry), the gid to the user's
// primary group (else the directory's group), then real, effective and
// saved uid to the owner, and checks that root cannot be had back. Returns
// who the process is now; nullopt when it changed nothing (not root, no
// such path, or owned by root). An error (PermissionDenied, IOError) when a
// step failed: the process may then be half-changed and must stop.
Result<std::optional<Identity>> DropToOwnerOf(const std::string& path);

}  // namespace mailvault
