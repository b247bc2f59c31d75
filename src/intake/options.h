// Options of the milter intake, filled from the [milter] table of the config
// file. Durations in microseconds, sizes in bytes.
#pragma once

#include <cstdint>
#include <string>

#include "mailvault/status.h"

namespace mailvault::intake {

struct MilterOptions {
  bool enabled = true;
  // libmilter socket spec: "inet:10025@127.0.0.1", "inet6:10025@[::1]",
  // "unix:/run/mailvault/milter.sock". The config also accepts
  // "inet:127.0.0.1:10025" and rewrites it to libmilter's form.
  std::string socket = "inet:10025@127.0.0.1";
  std::string spool_dir;  // "": DATA/spool
  // libmilter's timeout: a packet that stalls half-way is dropped after it,
  // and libmilter's sweep (every 10 minutes) closes sessions idle longer.
  int64_t timeout_micros = 300'000'000;
  // Sessions open at once; one more is closed right after option
  // negotiation, with a log line (Postfix then applies its
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
