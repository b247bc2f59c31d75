// Temporary files only until restart: the milter's spool holds messages
// being received only in anonymous files (Env::NewTempFile) that vanish with
// the process, so after any stop, kill -9 included, it should be empty. At
// start mailvaultd removes whatever is there anyway (files a crash of an
// older version, a copy made by hand, or another tool left), before the
// milter listens and after the store lock is held (so no other mailvaultd on
// the same data dir is using it).
#pragma once

#include <string>

#include "env/env.h"
#include "mailvault/status.h"

namespace mailvault::daemon {

// Removes every file in `dir` (a subdirectory, which the spool never has,
// is an error naming it); creates `dir` (0700) if missing. The number of files removed, or the
// first error (the name in the message).
Result<int> EmptySpool(Env& env, const std::string& dir);

}  // namespace mailvault::daemon
