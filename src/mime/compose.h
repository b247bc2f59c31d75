// Building the messages the delivery queue sends: header edits of a stored
// copy that keep every other byte as it was (as-is delivery), a new message
// wrapping a copy as message/rfc822 (as-attachment delivery), and checking
// a target address with a real RFC 5322 address parser (GMime's).
//
// The header edits work on the raw header block without reserialising
// anything: a field is a line that does not start with a space or tab plus
// the continuation lines after it; the block ends at the first empty line
// (a line that is only CRLF or only LF, so a message starting with one has
// no headers) or at the end of the input. Malformed headers (a line without
// a colon, bare CRs, 8-bit bytes, a continuation line at the very top) pass
// through untouched.
//
// Thread-safety: all functions are thread-safe and keep no state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mailvault/status.h"

namespace mailvault::mime {

// Offset of the first byte of the body: just past the empty line that ends
// the header block, or raw.size() when there is none.
size_t BodyOffset(std::string_view raw);

// `raw` without every header field named `name` (compared without regard
// to case), continuation lines included; everything else byte for byte.
// A field's name is what precedes the first colon of its first line, less
// trailing spaces and tabs ("Message-ID :" is named Message-ID). An empty
// `name` names no field. *removed (if given) receives the number of fields
// removed; with 0 the result equals `raw`.
std::string RemoveHeaderFields(std::string_view raw, std::string_view name,
                               size_t* removed = nullptr);

// The addr-spec ("local@domain") of one mailbox given as "local@domain",
// "<local@domain>" or "Name <local@domain>". InvalidArgument, saying why,
// for anything else: empty, several addresses, a group, no local part or
// domain, a domain that is not a host name or address literal, characters
// SMTP cannot carry (controls, spaces outside quotes, non-ASCII: SMTPUTF8
// is not used), or longer than RFC 5321 allows (64 local, 255 domain).
// Also refused: a CR or LF anywhere in `text` (header or SMTP command
// injection), text over 4096 bytes, and anything GMime's parser had to
// repair (junk around the address, "a@b@c", a trailing dot). The addr-spec
// is returned as written (case kept); an IDN domain is accepted only in its
// ASCII (xn--) form.
Result<std::string> ParseMailbox(std::string_view text);

// The gateway's own message around a copy (as-attachment delivery).
struct Wrapper {
  std::string from;             // "Mail gateway <postmaster@gw.example>"
  std::vector<std::string> to;  // addr-specs, for the To header
  std::string subject;          // already chosen, plain UTF-8 (encoded here)
  std::string text;             // the explanation, plain UTF-8 (text/plain part)
  std::string id_domain;        // domain of the generated Message-ID
  int64_t date = 0;             // Date header, Unix seconds
};

// A multipart/mixed message: the explanation as text/plain; charset=utf-8
// (7bit, or quoted-printable when it must be), then the original bytes
// unchanged as a message/rfc822 part (Content-Disposition attachment,
// filename "original.eml", 7bit/8bit/binary as the content requires: never
// re-encoded so the attached message stays byte-identical). The output has
// CRLF line endings throughout: an original with CRLF line endings is
// attached byte for byte; bare LFs in a 7bit/8bit original become CRLF (as
// the SMTP stage would make them anyway; binary content is left as it is).
// InvalidArgument for an empty original, and for a wrapper that cannot make
// a sound message: `from` or a `to` entry that ParseMailbox refuses (the
// message says which), no `to`, a subject with control characters or
// either text not UTF-8, an id_domain that is not a host name, a date
// outside years 1-9999.
Result<std::string> BuildAsAttachment(const Wrapper& wrapper, std::string_view original);

}  // namespace mailvault::mime
