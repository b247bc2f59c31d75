// Walking the MIME parts of a message and rewriting it without some of them.
//
// WalkParts lets a scanner look at every leaf part (names, declared type,
// decoded content), RemoveParts builds the replacement body that a milter
// hands to smfi_replacebody when an action deletes attachments. Both parse
// the message with GMime straight from a ByteSource (no copy of the message
// in memory; part contents are read back from the source when asked for) and
// number MIME entities the same way, so the part indexes a scanner reports
// are the ones RemoveParts takes.
//
// Numbering: every MIME entity gets an index in depth-first order, 0 being
// the top-level entity (the message body). A multipart and each of its
// children are entities; so are an attached message/rfc822 part and the
// top-level entity of the message inside it (index + 1).
//
// Malformed mail never crashes or hangs these calls: what GMime can make of
// it is walked. Input that does not even start with a header field is
// walked as one application/octet-stream part 0 holding all of it. Like ExtractMetadata, parsing is
// bounded (parts, header lines, nesting) so hostile input costs memory and time linear in its size
// with small constants; past the budgets the rest of the message is not
// walked and WalkSummary::truncated says so.
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

namespace mailvault::mime {

struct Part {
  int index = 0;             // see Numbering above
  std::string content_type;  // lower-case "type/subtype" as declared (text/plain if absent)
  std::string filename;      // decoded (RFC 2231/2047), cleaned UTF-8; may be empty
  // The Content-Type "name" parameter when it differs from the
  // Content-Disposition filename: mail clients disagree on which one wins, so
  // filters check both.
  std::string alt_filename;
  bool attachment = false;  // has a file name or Content-Disposition: attachment
  // Decoded bytes. Base64 is measured without decoding (alphabet characters
  // * 3/4): exact for well-formed content, an upper bound for junk after
  // padding, which decoders skip.
  uint64_t size = 0;
  int depth = 0;  // 0 for the top-level entity
};

// The decoded content (transfer encoding undone; charset untouched) of the
// part being visited. Valid only during the visit callback; not thread-safe.
class PartBody {
 public:
  // Hands `sink` the decoded content in consecutive pieces (at most 64 KiB
  // each). Stops at the first error of the source or of `sink` and returns it.
  Status Read(const std::function<Status(std::string_view)>& sink) const;
  // The first min(n, size) decoded bytes.
  Result<std::string> Head(size_t n) const;

  struct Impl;  // defined in parts.cc
  explicit PartBody(const Impl* impl) : impl_(impl) {}

 private:
  const Impl* impl_;
};

struct WalkSummary {
  int entities = 0;        // MIME entities numbered
  bool truncated = false;  // a parse budget was reached: later parts were not walked
};

using PartVisitor = std::function<Status(const Part&, const PartBody&)>;

// Calls `visit` for every leaf part in index order, descending into
// multiparts and attached messages. Returns the first error of `visit`
// (stopping the walk) or an I/O error of `raw`; OK otherwise, however
// malformed the message. `summary`, if given, is filled in either case.
Status WalkParts(const ByteSource& raw, const PartVisitor& visit, WalkSummary* summary = nullptr);

struct Rewrite {
  // The new body: the bytes after the header/body blank line, CRLF endings.
  std::string body;
  // Top-level headers to set (name, value) for the new body to be read
  // right: Content-Type and Content-Transfer-Encoding when the whole body was
  // replaced (or GMime had to invent a boundary). An empty value means
  // "delete this header" (smfi_chgheader with a NULL value). Empty when the
  // top-level headers stay valid; all other headers are never touched.
  std::vector<std::pair<std::string, std::string>> header_changes;
};

// The message with each entity in `parts` (indexes as numbered above)
// replaced by a text/plain; charset=utf-8 part whose text is `note`, with
// "{filename}" expanded to the removed part's file name (or its content type
// when it has none). Everything else is kept as GMime parsed it (decoded
// content of other parts is byte-identical). Index 0 replaces the whole
// body. An entity inside a removed one needs no separate removal.
// InvalidArgument if an index is not in the message, if the message exceeds
// the parse budgets (rewriting a partly parsed message would drop its tail)
// or has no MIME structure at all and 0 is not listed; I/O errors of `raw`.
Result<Rewrite> RemoveParts(const ByteSource& raw, const std::vector<int>& parts,
                            std::string_view note);

// The addr-specs (lower case) of every From header field of the message's
// top-level header block, in order, duplicates dropped. Only the header
// block is read, and only From fields are kept in memory. Empty if there is
// none or it does not parse; I/O errors of `raw`.
Result<std::vector<std::string>> HeaderFromAddresses(const ByteSource& raw);

}  // namespace mailvault::mime
