// Options of the milter intake, filled from the [milter] table of the config
// file. Durations in microseconds, sizes in bytes.
#pragma once

#include <cstdint>
#include <string>

#include "mailvault/status.h"

namespace mailvault::intake {

struct MilterOptions {
  bool enabled = true;
  // Socket spec: "inet:10025@127.0.0.1", "inet6:10025@[::1]",
  // "unix:/run/mailvault/milter.sock"; also "inet:127.0.0.1:10025"
  // (MilterSocketSpec normalises it).
  std::string socket = "inet:10025@127.0.0.1";
  std::string spool_dir;  // "": DATA/spool
  // The longest wait for the MTA's next command, the rest of a packet or
  // the MTA reading a reply; option negotiation gets min(timeout, 10 s).
  int64_t timeout_micros = 300'000'000;
  // Sessions open at once; one more is closed when it connects, with a log
  // line (Postfix then applies its
  // milter_default_action to that SMTP session).
  int max_connections = 4096;
  // Release header check (delivery's loop-safe release): max age of the
  // signature, 1 s to 1 h. Each delivery attempt signs a fresh header, so
  // this only has to cover the hop to the gateway's own Postfix.
  int64_t release_max_age_micros = 300'000'000;
};

// The rules for MilterOptions, as the daemon applies them before it starts
// the milter and `mailvault config check` applies them to [milter]: the
// socket (MilterSocketSpec), a positive timeout, max_connections 1 to
// 1000000, release_max_age 1 s to 1 h. InvalidArgument naming the key
// ("milter.socket: ..."). spool_dir "" is allowed (the caller fills it).
Status CheckMilterOptions(const MilterOptions& options);

}  // namespace mailvault::intake
