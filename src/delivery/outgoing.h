// The bytes a delivery sends: the stored copy as it is (optionally without
// Message-ID) or wrapped as an attachment, in SMTP's canonical form (CRLF
// line endings), with the signed X-Mailvault-Release header on top so the
// gateway's own milter lets it through unscanned and does not copy it
// again (loop-safe release, crypto/release.h). The header is bound to the
// envelope and has a fresh nonce: build the message anew for every attempt.
//
// As-is keeps every byte of the copy except: the removed Message-ID fields
// (when asked: removing it can break a DKIM signature that covers it), any
// X-Mailvault-Release field the copy itself carried (so only ours is
// there), and bare LFs, which become CRLF.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/release.h"
#include "mailvault/copy.h"
#include "mailvault/delivery.h"
#include "mailvault/status.h"

namespace mailvault::delivery {

struct OutgoingMessage {
  CopyMeta meta;         // the copy's metadata (id, subject, ...)
  std::string_view raw;  // the copy's bytes
  DeliveryFormat format = DeliveryFormat::kAsIs;
  bool remove_message_id = false;
  // The SMTP envelope the message goes out with: the release header is
  // bound to it (crypto/release.h); rcpt is also the wrapper's To.
  std::string mail_from;
  std::vector<std::string> rcpt;  // addr-specs
  std::string wrapper_from;       // From of an as-attachment wrapper
  std::string host;               // Message-ID domain of a wrapper
  int64_t now_micros = 0;         // signing time, wrapper Date
};

// Every LF not preceded by CR becomes CRLF; a lone CR is left alone.
std::string ToCrlf(std::string_view text);

// The complete message to hand to SmtpClient::Send.
Result<std::string> BuildOutgoing(const OutgoingMessage& m, const crypto::ReleaseSigner& signer);

}  // namespace mailvault::delivery
