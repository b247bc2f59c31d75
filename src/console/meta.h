// The `meta` part of POST /api/v1/messages: the envelope and verdicts the
// gateway (or a script) sends with a message to keep.
#pragma once

#include <string_view>

#include "mailvault/status.h"
#include "mailvault/store.h"

namespace mailvault::console {

// Fills the envelope fields of *req from the `meta` JSON: mail_from,
// rcpt[], rule_id, statuses{engine: label}, reason, queue_id, received_at
// (RFC 3339). InvalidArgument naming the field on bad JSON, wrong types,
// unknown fields or an invalid status.
Status ParseMeta(std::string_view json_text, PutRequest* req);

}  // namespace mailvault::console
