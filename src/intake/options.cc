#include "intake/options.h"

#include "base/units.h"
#include "intake/milter_socket.h"

namespace mailvault::intake {

Status CheckMilterOptions(const MilterOptions& o) {
  MV_RETURN_IF_ERROR(MilterSocketSpec(o.socket).status().Annotate("milter.socket"));
  MV_RETURN_IF_ERROR(CheckPositiveDuration(o.timeout_micros).Annotate("milter.timeout"));
  if (o.max_connections < 1 || o.max_connections > 1'000'000) {
    return Status::InvalidArgument(
        "milter.max_connections: must be a whole number from 1 to 1000000");
  }
  // A release is honoured once, within this age; every attempt signs anew,
  // so it only needs to cover the hop to the gateway's own Postfix. The
  // limit keeps a header lifted from a mailbox from staying good for long.
  if (o.release_max_age_micros < 1'000'000 || o.release_max_age_micros > 3'600'000'000) {
    return Status::InvalidArgument("milter.release_max_age: must be between 1s and 1h");
  }
  return Status::Ok();
}

}  // namespace mailvault::intake
