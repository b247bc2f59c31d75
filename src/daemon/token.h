// The API token: read from its file, or created there on first start (64 hex
// digits from the crypto random source, mode 0600). The daemon compares it
// with each request's Bearer token; the CLI and scripts read the same file.
#pragma once

#include <string>

#include "env/env.h"
#include "mailvault/status.h"

namespace mailvault::daemon {

// Returns the token in `path` (surrounding whitespace dropped), creating the
// file if it does not exist; *created tells which. InvalidArgument if the file
// holds fewer than 16 characters.
Result<std::string> LoadOrCreateToken(Env& env, const std::string& path, bool* created);

}  // namespace mailvault::daemon
