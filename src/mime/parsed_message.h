// ParsedMessage: a message parsed once, walked by one walker, with one
// definition of "attachment".
//
// Everything in mailvault that looks inside a message goes through this:
// metadata for the index (metadata.h), the content filter (parts the scan
// looks at, the parts a delete-attachment action removes), the console's
// preview (body.h). The milter parses each message once and hands the same
// ParsedMessage to all of them, so the attachment list the console shows is
// what the content filter names and what an action removes.
//
// Attachment (AttachmentOf in attachment_rule.h decides, for every MIME
// entity not already inside an attachment):
//   - an attached message (message/rfc822, message/global, ...): one
//     attachment; the parts inside it belong to it;
//   - a part with Content-Disposition: attachment, named or not;
//   - a part with a file name (Content-Disposition filename or Content-Type
//     name), whatever its disposition or type: a client offers it to save;
//   - a part that is not text/plain or text/html (a nameless inline image,
//     application/octet-stream, text/calendar): a client shows it as a file.
// What remains, unnamed inline text/plain and text/html outside attachments,
// is the message's own text. Multiparts are containers, never attachments.
//
// Numbering: every MIME entity gets an index in depth-first order, 0 being
// the top-level entity (the message body). A multipart and each of its
// children are entities; so are an attached message/rfc822 part and the
// top-level entity of the message inside it (index + 1).
//
// Malformed mail never crashes or hangs these calls: what GMime can make of
// it is walked. Input that does not even start with a header field is one
// application/octet-stream part 0 holding all of it. Parsing is bounded
// (parse_budget.h: parts, header lines, nesting) so hostile input costs
// memory and time linear in its size with small constants; past the
// budgets the rest is not parsed and summary().truncated says so.
//
// Thread-safety: Parse is thread-safe. A ParsedMessage reads its source
// through GMime streams that must not be used from two threads at once: use
// one from one thread at a time (the milter parses before the engines run
// and only the content filter walks it meanwhile).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mailvault/byte_source.h"
#include "mailvault/copy.h"
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
  bool attachment = false;  // this entity is an attachment (see above)
  // The attachment this part is or belongs to (its own index, or that of the
  // attached message holding it); -1 for the message's own text.
  int attachment_index = -1;
  // An attached message: its own parts are visited after it. It has no
  // content of its own to read (PartBody reads nothing).
  bool message = false;
  // Text the rule does not count as an attachment (unnamed, not disposed as
  // attachment, text/plain or text/html), wherever it is: inside an attached
  // message too, where it is that message's text.
  bool text = false;
  // The outermost multipart/alternative holding this part; -1 if none.
  int alternative = -1;
  std::string charset;     // Content-Type charset parameter, as declared
  std::string content_id;  // without < >, as declared; may be empty
  // Decoded bytes, for attachments (0 for other parts). Base64 is measured
  // without decoding (alphabet characters * 3/4): exact for well-formed
  // content, an upper bound for junk after padding, which decoders skip. An
  // attached message: its length as GMime writes it.
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

  struct Impl;  // defined in parsed_message.cc
  explicit PartBody(const Impl* impl) : impl_(impl) {}

 private:
  const Impl* impl_;
};

struct WalkSummary {
  int entities = 0;        // MIME entities numbered
  bool truncated = false;  // a parse budget was reached: later parts were not walked
};

using PartVisitor = std::function<Status(const Part&, const PartBody&)>;

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

class ParsedMessage {
 public:
  // Parses `raw`, which must outlive the result and not change. Never fails:
  // a read error of `raw` ends the input there (read_error() says so) and
  // what was read is parsed.
  static std::unique_ptr<ParsedMessage> Parse(const ByteSource& raw);
  ~ParsedMessage();
  ParsedMessage(const ParsedMessage&) = delete;
  ParsedMessage& operator=(const ParsedMessage&) = delete;

  // The first read error of the source, during parsing or since; OK if none.
  Status read_error() const;
  const WalkSummary& summary() const;
  // No header block: part 0 is the whole input, undeclared.
  bool headerless() const;

  // Calls `visit` for every leaf part and every attached message in index
  // order. Returns the first error of `visit` (stopping the walk) or a read
  // error of the source; OK otherwise, however malformed the message.
  Status Walk(const PartVisitor& visit) const;
  // The attachments, in index order (an attached message once, not its parts).
  std::vector<Part> Attachments() const;

  // The message with each entity in `parts` replaced by a text/plain;
  // charset=utf-8 part whose text is `note`, with "{filename}" expanded to
  // the removed part's file name (or its content type when it has none).
  // Everything else is kept as GMime parsed it (decoded content of other
  // parts is byte-identical). Index 0 replaces the whole body. An entity
  // inside a removed one needs no separate removal. InvalidArgument if an
  // index is not in the message, if the message exceeds the parse budgets
  // (rewriting a partly parsed message would drop its tail) or has no MIME
  // structure at all and 0 is not listed; read errors of the source. The
  // parsed tree is left as it was.
  Result<Rewrite> RemoveParts(const std::vector<int>& parts, std::string_view note) const;

  struct Impl;  // parsed_message_impl.h, for this component's own files
  const Impl& impl() const { return *impl_; }

 private:
  explicit ParsedMessage(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// How many messages this process has parsed (every ParsedMessage::Parse,
// whoever calls it): tests check that one message is parsed once.
uint64_t ParseCount();

}  // namespace mailvault::mime
