// The vocabulary of the delivery queue, shared by the queue database, the
// sender, the API and the CLI: one entry per copy and target recipient, its
// state and its history. Plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mailvault/copy.h"

namespace mailvault {

// queued -> sending -> delivered | deferred | failed; deferred -> sending
// again when its next attempt is due. `sending` left over by a crash goes
// back to queued at the sender's start.
enum class DeliveryState { kQueued = 0, kSending = 1, kDelivered = 2, kDeferred = 3, kFailed = 4 };

// "queued", "sending", "delivered", "deferred", "failed".
std::string_view DeliveryStateName(DeliveryState state);
// The state named `name`; nullopt for anything else.
std::optional<DeliveryState> ParseDeliveryState(std::string_view name);

// as-is: the stored bytes (optionally without Message-ID); as-attachment: a
// new message from the gateway with the copy as a message/rfc822 part.
enum class DeliveryFormat { kAsIs = 0, kAsAttachment = 1 };

std::string_view DeliveryFormatName(DeliveryFormat format);  // "as-is", "as-attachment"
std::optional<DeliveryFormat> ParseDeliveryFormat(std::string_view name);

// Times are microseconds since the Unix epoch.
struct DeliveryEntry {
  uint64_t id = 0;       // assigned by the queue, grows with enqueue order
  uint64_t request = 0;  // entries enqueued by one request share it
  CopyId copy_id = 0;
  std::string rcpt;       // the target address (addr-spec)
  bool original = false;  // rcpt is one of the copy's original recipients
  std::string mail_from;  // envelope sender to use; "" is the null sender <>
  DeliveryFormat format = DeliveryFormat::kAsIs;
  bool remove_message_id = false;
  DeliveryState state = DeliveryState::kQueued;
  uint32_t attempts = 0;   // SMTP transactions tried so far
  std::string last_reply;  // the relay's last reply for this recipient, or why it failed
  int64_t created_at = 0;
  int64_t updated_at = 0;
  int64_t next_attempt_at = 0;  // when a queued/deferred entry is due
  int64_t expires_at = 0;       // after this a deferral becomes failed
  std::string requested_by;     // who asked ("cli:root", "api")
  bool operator==(const DeliveryEntry&) const = default;
};

// Listing: newest first; all given filters must hold.
struct DeliveryQuery {
  std::vector<DeliveryState> states;  // any of them; empty: all
  std::optional<CopyId> copy_id;
  std::optional<uint64_t> request;
  size_t limit = 100;
  std::optional<uint64_t> before;  // keyset cursor: only entry ids < before
};

struct DeliveryPage {
  std::vector<DeliveryEntry> items;
  std::optional<uint64_t> next;  // cursor for the next page, if there may be one
};

// Entries per state, for status lines and the console.
struct DeliveryCounts {
  uint64_t queued = 0, sending = 0, delivered = 0, deferred = 0, failed = 0;
};

}  // namespace mailvault
