// The `meta` part of POST /api/v1/messages: the envelope and verdicts the
// gateway (or a script) sends with a message to keep. Every field is
// checked as intake would have made it, so nothing an API client sends can
// put into the store what a message through the milter could not: a
// header or command injection (CR/LF), markup in an address, an unbounded
// field, a time far from now.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mailvault/status.h"
#include "mailvault/store.h"

namespace mailvault::console {

inline constexpr size_t kMaxMetaBytes = 1 << 20;  // the meta part as sent
inline constexpr size_t kMaxMetaRcpt = 1000;      // Postfix's smtpd_recipient_limit
inline constexpr size_t kMaxMetaReason = 1000;    // rules::kMaxReason
inline constexpr size_t kMaxRuleId = 64;
inline constexpr size_t kMaxQueueId = 64;
// received_at is refused before this (1990-01-01T00:00:00Z) and more than
// kMaxMetaFuture after now.
inline constexpr int64_t kMinReceivedAt = 631'152'000'000'000;
inline constexpr int64_t kMaxMetaFuture = 24LL * 3600 * 1'000'000;

// Fills the envelope fields of *req from the `meta` JSON: mail_from,
// rcpt[], rule_id, statuses{engine: label}, reason, queue_id, received_at
// (RFC 3339). InvalidArgument naming the field ("meta.rcpt[2]: ...") on
// bad JSON, wrong types, unknown fields, an invalid status, and:
//   mail_from  "" (the null sender) or one address (addr-spec, no display
//              name, no CR/LF or other controls; mime::ParseMailbox)
//   rcpt       at most kMaxMetaRcpt addresses as for mail_from, none empty
//   rule_id    1..64 of [A-Za-z0-9._-] (a rule's id) or absent
//   reason     at most kMaxMetaReason bytes of UTF-8 without controls
//   queue_id   1..64 of [A-Za-z0-9._-] or absent
//   received_at  within [1990-01-01, now + 1 day]
// `now_micros` is the current time (passed in: a pure function).
Status ParseMeta(std::string_view json_text, int64_t now_micros, PutRequest* req);

}  // namespace mailvault::console
