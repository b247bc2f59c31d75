// The JSON forms of delivery requests and queue entries, shared by the API
// (POST/GET /api/v1/deliveries, docs/api.md) and the CLI (--json). Times are
// RFC 3339 UTC strings. Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "delivery/service.h"
#include "mailvault/delivery.h"

namespace mailvault::delivery {

// {"id", "request", "copy_id", "rcpt", "original", "mail_from", "format",
//  "remove_message_id", "state", "attempts", "last_reply", "created_at",
//  "updated_at", "next_attempt_at" (null unless queued/deferred),
//  "expires_at", "requested_by"}
nlohmann::json EntryToJson(const DeliveryEntry& e);
// {"items": [...], "next": N|null}
nlohmann::json PageToJson(const DeliveryPage& page);
// {"queued": N, "sending": N, "delivered": N, "deferred": N, "failed": N}
nlohmann::json CountsToJson(const DeliveryCounts& counts);

// The answer to a queued request: {"message": the banner the console
// shows ("The message has been placed in the queue for delivery", plural
// for several copies), "request": N, "entries": [...]}.
nlohmann::json EnqueuedToJson(const EnqueueResult& result, size_t copies);

// A request body: {"ids": [N...], "original": bool, "to": ["addr"...],
// "format": "as-is"|"as-attachment", "remove_message_id": bool,
// "again": bool}. InvalidArgument naming the field for bad JSON, wrong
// types or unknown fields. requested_by is left to the caller.
Status ParseRequestJson(std::string_view text, DeliveryRequest* out);
// The same request as JSON (the CLI sends it to the daemon).
nlohmann::json RequestToJson(const DeliveryRequest& r);

}  // namespace mailvault::delivery
