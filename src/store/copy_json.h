// JSON form of a copy's metadata, as the CLI (--json), the REST API and the
// segment records use it. Field names are the public contract of
// `mailvault show --json` (docs/store-format.md, docs/cli.md):
//   id, placed_at, received_at, sent_at (RFC 3339 UTC, null when unknown),
//   mail_from, rcpt[], from, to, cc, bcc, subject, message_id, queue_id,
//   size, rule_id, statuses{engine: label}, reason,
//   attachments[{name, type, size}]
#pragma once

#include <nlohmann/json.hpp>

#include "mailvault/copy.h"
#include "mailvault/status.h"

namespace mailvault {

nlohmann::json CopyToJson(const CopyMeta& meta);
// Corruption if a field has the wrong type; unknown fields are ignored.
Result<CopyMeta> CopyFromJson(const nlohmann::json& j);

}  // namespace mailvault
