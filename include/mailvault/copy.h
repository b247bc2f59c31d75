// The vocabulary shared by the store, the index, the CLI and the daemon: a
// copy's metadata, search queries and their pages. Plain values, no behaviour
// beyond validation of engine names.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mailvault/status.h"

namespace mailvault {

// A copy's id: positive, unique in a store, growing with placement time.
using CopyId = uint64_t;

struct Attachment {
  std::string name;   // decoded file name, may be empty
  std::string type;   // declared MIME type, lower case ("application/pdf")
  uint64_t size = 0;  // decoded size in bytes
  bool operator==(const Attachment&) const = default;
};

// What a copy's metadata takes from the message's own bytes (header fields
// and the attachment list, mime::ExtractMetadata). Strings are valid UTF-8
// without control characters.
struct MessageMetadata {
  std::string from;  // "Alice <alice@example.com>"
  std::string to;    // decoded list, ", " separated
  std::string cc;
  std::string subject;
  std::string message_id;  // without < >
  int64_t sent_at = 0;     // Date header, micros since epoch; 0 if absent/unparseable
  std::vector<std::string> to_addresses;  // addr-specs of To and Cc, lower case
  std::vector<Attachment> attachments;    // as mime/parsed_message.h defines them
};

// Everything the store knows about a copy except its bytes. Times are
// microseconds since the Unix epoch, 0 when unknown (sent_at of a message
// without a Date header).
struct CopyMeta {
  CopyId id = 0;
  int64_t placed_at = 0;          // when the store accepted it
  int64_t received_at = 0;        // when the gateway received it (defaults to placed_at)
  int64_t sent_at = 0;            // the Date header
  std::string mail_from;          // envelope sender, "" for the null sender
  std::vector<std::string> rcpt;  // envelope recipients
  std::string from;               // header From, decoded ("Alice <alice@example.com>")
  std::string to;                 // header To, decoded, comma separated
  std::string cc;                 // header Cc, decoded
  std::string bcc;                // envelope recipients not named in To or Cc
  std::string subject;            // decoded
  std::string message_id;         // without angle brackets
  std::string queue_id;           // the MTA's queue id
  uint64_t size = 0;              // bytes of the raw message
  std::string rule_id;
  std::map<std::string, std::string> statuses;  // engine -> label
  std::string reason;                           // why the copy was kept
  std::vector<Attachment> attachments;
  // Hex SHA-256 of the message body (after the header) in canonical form
  // (crypto::BodyDigest), computed at Put: links a sender's retry of a copy
  // whose end-of-message reply was lost. "" for copies stored before it.
  std::string body_digest;
  bool operator==(const CopyMeta&) const = default;
};

// The scan engines, in a fixed order: bit i of an engine mask is kEngines[i].
inline constexpr std::string_view kEngines[] = {"anti-virus",        "anti-spam",   "anti-phishing",
                                                "content-filtering", "sender-auth", "blacklist",
                                                "external"};

// Bit for an engine name, or InvalidArgument naming the valid ones.
Result<uint32_t> EngineBit(std::string_view engine);
// InvalidArgument unless `label` is a known label of `engine` (any non-empty
// label of printable characters is accepted for "external").
Status ValidateStatus(std::string_view engine, std::string_view label);

// Search over copies. Text fields match as case-insensitive substrings; all
// given filters must hold. Results are newest first.
struct SearchQuery {
  std::string from;  // header From or envelope sender
  std::string to;    // envelope recipients, header To or Cc
  std::string subject;
  std::string message_id;
  std::string rule_id;               // exact
  std::optional<int64_t> since;      // placed_at >= since
  std::optional<int64_t> until;      // placed_at < until
  std::vector<std::string> engines;  // any of them labelled the copy
  std::optional<uint64_t> size_le;   // bytes
  std::optional<uint64_t> size_ge;   // bytes
  // Set: only copies whose ENVELOPE recipients include one of these
  // addresses (whole address, ASCII case-insensitive; RecipientKey). Empty
  // set: no copies. Enforced in the index query itself, before paging (a
  // personal user's mailboxes).
  std::optional<std::vector<std::string>> recipients;
  size_t limit = 50;
  std::optional<CopyId> before;  // keyset cursor: only ids < before
};

struct SearchPage {
  std::vector<CopyMeta> items;
  std::optional<CopyId> next;  // cursor for the next page, if there may be one
};

}  // namespace mailvault
