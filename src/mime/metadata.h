// Metadata extraction from a raw RFC 5322 message with GMime.
//
// Mail is often malformed; extraction never fails on bad input: it returns
// what can be extracted (empty fields otherwise) and never crashes, hangs or
// reads outside `raw`. Header values are decoded (RFC 2047, 8-bit headers
// taken as UTF-8, or Latin-1 when not valid UTF-8) and returned as valid
// UTF-8 with control characters removed. Thread-safe (GMime is initialised
// once per process by the first call).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mailvault/byte_source.h"
#include "mailvault/copy.h"

namespace mailvault::mime {

using MessageHeaders = ::mailvault::MessageMetadata;

class ParsedMessage;

// The fields of a message already parsed (parsed_message.h), reading
// nothing but the attachments' contents (to measure them).
MessageHeaders ExtractMetadata(const ParsedMessage& parsed);
// The same from raw bytes (one parse).
MessageHeaders ExtractMetadata(std::string_view raw);
// The same fields from a message read piecewise, never whole into memory:
// one sequential pass for the parse budget, then GMime reads the allowed
// prefix (and again each attachment, to measure it) through a small
// read-ahead buffer. Same result as the string_view overload on the same
// bytes. A read error of `raw` is not reported: extraction returns what it
// could take from the bytes it did read (possibly nothing; attachment sizes
// may come out short). `raw` is only used during the call, from this
// thread.
MessageHeaders ExtractMetadata(const ByteSource& raw);

// Envelope recipients that are not among `header_addresses` (lower-cased
// addr-specs from To and Cc), comma separated: the Bcc of a copy.
std::string BccFromEnvelope(const std::vector<std::string>& rcpt,
                            const std::vector<std::string>& header_addresses);

}  // namespace mailvault::mime
