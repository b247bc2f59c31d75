// One-shot forms of ParsedMessage's walk and rewrite (parsed_message.h has
// the numbering, the attachment rule and the limits), for callers that look
// at a message once: each call parses it. A caller doing more than one thing
// with a message parses it once with ParsedMessage::Parse instead.
//
// Thread-safety: the functions are thread-safe; a ByteSource is used by one
// call at a time unless it is itself thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mailvault/byte_source.h"
#include "mailvault/status.h"
#include "mime/parsed_message.h"

namespace mailvault::mime {

// ParsedMessage::Parse(raw)->Walk(visit); `summary`, if given, is filled
// in either case.
Status WalkParts(const ByteSource& raw, const PartVisitor& visit, WalkSummary* summary = nullptr);

// ParsedMessage::Parse(raw)->RemoveParts(parts, note).
Result<Rewrite> RemoveParts(const ByteSource& raw, const std::vector<int>& parts,
                            std::string_view note);

// The addr-specs (lower case) of every From header field of the message's
// top-level header block, in order, duplicates dropped. Only the header
// block is read, and only From fields are kept in memory. Empty if there is
// none or it does not parse; I/O errors of `raw`.
Result<std::vector<std::string>> HeaderFromAddresses(const ByteSource& raw);

}  // namespace mailvault::mime
