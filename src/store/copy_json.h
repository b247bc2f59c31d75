// JSON form of a copy's metadata, as the CLI (--json) and the REST API show
// it. Field names are the public contract of `mailvault show --json`
// (docs/cli.md, docs/api.md). Segment records do not use it (they have their
// own codec, store/meta_codec.h), except that CopyFromJson reads the
// version-1 records written before that codec. Strings are copied as they
// are: turn the JSON into text with JsonText (base/json_text.h), which
// shows bytes that are not UTF-8 as U+FFFD instead of throwing.
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
