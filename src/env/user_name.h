// Who runs this process, for the records that name the person behind a CLI
// command (the audit log, a delivery's requested_by). Reads the process
// environment, which is why it lives in env (CONVENTIONS.md §5).
// Thread-safe as long as nothing changes the environment meanwhile.
#pragma once

#include <string>

namespace mailvault {

// $SUDO_USER (the person behind sudo) if set and not empty, else $USER,
// else the numeric uid. Not authenticated: whoever sets the variable names
// themselves; what it guards is a record, not access.
std::string ProcessUserName();

}  // namespace mailvault
