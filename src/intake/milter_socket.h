// The milter's listening socket as the config file writes it, turned into
// the normalised form Milter::Start listens on ("inet:PORT@HOST"). The one parser of that value:
// `mailvault config check` and Milter::Start both call it, so a socket one accepts the other runs.
// Pure function; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "mailvault/status.h"

namespace mailvault::intake {

// "inet:127.0.0.1:10025" -> "inet:10025@127.0.0.1"; "inet6:[::1]:10025" ->
// "inet6:10025@::1"; the normalised forms ("inet:PORT@HOST",
// "inet6:PORT@HOST", "unix:/path", "local:/path") pass unchanged. Ports
// 1-65535; a unix path is absolute (the daemon's working directory is not
// the admin's) and fits a socket address. "inet:PORT" without a host, which
// libmilter used to bind to every interface, is refused: write the address
// (0.0.0.0 if that is really meant). InvalidArgument saying what is wrong
// for anything else.
Result<std::string> MilterSocketSpec(std::string_view spec);

}  // namespace mailvault::intake
