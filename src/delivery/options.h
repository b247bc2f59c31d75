// DeliveryOptions: the [delivery] section of the config (conf/mailvault.toml
// documents each key): where released copies go and how hard the sender
// tries.
#pragma once

#include <cstdint>
#include <string>

#include "delivery/smtp_client.h"
#include "mailvault/status.h"

namespace mailvault::delivery {

struct DeliveryOptions {
  // false: the daemon keeps the queue (requests are still accepted) but
  // sends nothing.
  bool enabled = true;
  RelayOptions relay;
  // Envelope sender of every delivery; "" keeps each copy's original sender.
  std::string sender;
  // From header of as-attachment messages; "" = "Mail gateway
  // <postmaster@HOST>".
  std::string from;
  int workers = 4;  // parallel SMTP connections to the relay
  // Retry back-off after a temporary failure: retry_min, doubling up to
  // retry_max; after `lifetime` from the request the entry fails.
  int64_t retry_min_micros = 60'000'000;
  int64_t retry_max_micros = 3'600'000'000;
  int64_t lifetime_micros = 5LL * 86'400'000'000;
};

// The rules for DeliveryOptions, whether or not delivery is enabled: the
// relay (CheckRelayOptions), workers 1 to 64, positive retry_min, retry_max
// and lifetime with retry_min <= retry_max, sender a plain address and from
// a mailbox (or empty). InvalidArgument naming the [delivery] key.
// Sender::Start applies it, and so does `mailvault config check`.
Status CheckDeliveryOptions(const DeliveryOptions& options);

}  // namespace mailvault::delivery
