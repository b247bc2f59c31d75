#include "delivery/options.h"

#include "base/units.h"
#include "mime/compose.h"

namespace mailvault::delivery {

Status CheckDeliveryOptions(const DeliveryOptions& o) {
  MV_RETURN_IF_ERROR(CheckRelayOptions(o.relay));
  if (!o.sender.empty()) {
    auto addr = mime::ParseMailbox(o.sender);
    if (!addr.ok()) return addr.status().Annotate("delivery.sender");
    if (*addr != o.sender) {
      return Status::InvalidArgument("delivery.sender: must be a plain address (local@domain)");
    }
  }
  if (!o.from.empty()) {
    MV_RETURN_IF_ERROR(mime::ParseMailbox(o.from).status().Annotate("delivery.from"));
  }
  if (o.workers < 1 || o.workers > 64) {
    return Status::InvalidArgument("delivery.workers: must be a whole number from 1 to 64");
  }
  MV_RETURN_IF_ERROR(CheckPositiveDuration(o.retry_min_micros).Annotate("delivery.retry_min"));
  MV_RETURN_IF_ERROR(CheckPositiveDuration(o.retry_max_micros).Annotate("delivery.retry_max"));
  MV_RETURN_IF_ERROR(CheckPositiveDuration(o.lifetime_micros).Annotate("delivery.lifetime"));
  if (o.retry_max_micros < o.retry_min_micros) {
    return Status::InvalidArgument("delivery.retry_max: shorter than delivery.retry_min");
  }
  return Status::Ok();
}

}  // namespace mailvault::delivery
