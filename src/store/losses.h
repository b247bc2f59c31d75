// Losses: the record of copies lost to damage (DATA/lost), kept until the
// administrator acknowledges them (`mailvault repair --accept-loss`), so
// that `verify` keeps saying what was lost instead of forgetting it once the
// index no longer lists the copy. One line per copy:
//   <id> <RFC 3339 time found> <what happened, one line>
// Written whole through Env::WriteFileAtomic; small (one line per lost
// copy). Not thread-safe: the store's writer calls it at open and repair.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "env/env.h"
#include "mailvault/copy.h"
#include "mailvault/status.h"

namespace mailvault::store {

struct Loss {
  CopyId id = 0;
  int64_t found_at = 0;  // micros since the epoch
  std::string what;
};

// The losses recorded in `dir` (none if the file is missing).
Result<std::vector<Loss>> ReadLosses(Env& env, const std::string& dir);
// Adds `losses` to the record, durably.
Status RecordLosses(Env& env, const std::string& dir, const std::vector<Loss>& losses);
// Forgets them all (after the administrator acknowledged them), durably.
Status ClearLosses(Env& env, const std::string& dir);

}  // namespace mailvault::store
