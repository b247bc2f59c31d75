// Crash dumps: a core file of mailvaultd holds whatever was in its memory
// when it died, which includes message contents, addresses and keys. So
// they are off unless the administrator turns them on ([debug] core_dumps =
// true), for a developer who needs one.
//
// Off: RLIMIT_CORE soft and hard limits 0 (inherited by the helpers the
// daemon spawns, and not raisable again without privilege) and
// PR_SET_DUMPABLE 0, which also keeps other processes of the same user
// from attaching a debugger or reading /proc/PID/mem. On: the soft limit
// raised to the hard limit (the system's, e.g. systemd's LimitCORE) and the
// process dumpable. Where the core goes is the kernel's core_pattern.
// Process-wide; call once at start, before threads that could crash.
#pragma once

#include "mailvault/status.h"

namespace mailvault {

// IOError naming the call that failed.
Status SetCoreDumps(bool enabled);

// What SetCoreDumps left: the soft and hard RLIMIT_CORE and whether the
// process is dumpable (for tests and the start-up log).
struct CoreDumpState {
  unsigned long long soft = 0, hard = 0;  // RLIM_INFINITY as ~0ULL
  bool dumpable = false;
};
Result<CoreDumpState> GetCoreDumpState();

}  // namespace mailvault
