// The record codec of a copy's metadata: what is sealed into each copy
// record of a segment (docs/store-format.md, "Metadata"). It is the store's
// own versioned binary format, apart from the API's JSON (copy_json.h), so
// that renaming an API field never changes what is stored, and every string
// is kept byte for byte: envelope addresses and headers are whatever a
// sender sent (invalid UTF-8, NUL, CR/LF), and the record must give them
// back exactly. Pure functions; thread-safe.
//
// Version 2 (written now):
//   u8 2 | varint id | zigzag-varint placed_at, received_at, sent_at
//   | bytes mail_from | varint n, n x bytes rcpt
//   | bytes from, to, cc, bcc, subject, message_id, queue_id
//   | varint size | bytes rule_id
//   | varint n, n x (bytes engine, bytes label) | bytes reason
//   | varint n, n x (bytes name, bytes type, varint size)
//   | bytes body_digest
// where varint is LEB128 (at most 10 bytes) and bytes is varint length |
// raw bytes. A later version appends fields and bumps the first byte.
// Version 1 (stores written before 2026-12) is the JSON of CopyToJson; its
// plaintext starts with '{' and is still read.
#pragma once

#include <string>
#include <string_view>

#include "mailvault/copy.h"
#include "mailvault/status.h"

namespace mailvault::store {

inline constexpr uint8_t kMetaVersion = 2;

// The current version's bytes for `meta`. Never fails: every field is
// length-framed, so any bytes are representable.
std::string EncodeMeta(const CopyMeta& meta);

// Reads version 2 or version 1 metadata. Corruption naming what is wrong
// for truncated, overlong or malformed input, and for a version newer than
// this build knows (the store was written by a newer mailvault).
Result<CopyMeta> DecodeMeta(std::string_view data);

}  // namespace mailvault::store
