// ExtractMetadata: header fields and the attachment list of a raw message,
// parsed with GMime (see metadata.h for the contract).
//
// Design notes.
// - No copy of the message: GMime reads it through a source stream
//   (source_stream.h, one small read-ahead buffer) with persist_stream on,
//   so part contents stay substreams read back from the ByteSource. The
//   string_view overload wraps its bytes in a StringSource, so both overloads
//   run the same code and agree. Attachment sizes are measured by decoding
//   into a null stream, which streams in 4 KB pieces and never holds a
//   whole part. What GMime keeps in memory is the tree: header lines and
//   one object per part, bounded by the pre-scan below.
// - GMime's parser builds the whole MIME tree with no limits of its own:
//   an object per part and per header line, recursion per nesting level.
//   A hostile 50 MB message of five million "a: b" header lines costs GMime
//   about 2.5 GB and 13 s. So before parsing, a linear pre-scan
//   (ParseBudget, parse_budget.h: one pass, fed in pieces from a ByteSource)
//   finds the longest prefix that stays within budgets for what GMime
//   allocates, and GMime parses only that prefix:
//     - lines starting with "--" (every part starts with one: bounds parts);
//     - header lines and header bytes, where "header" over-approximates what
//       GMime reads as headers: the top of the message, what follows any
//       "--" line, and what follows a header block that names message/* or
//       (after a "--" line, once a multipart/digest has been seen) has no
//       Content-Type (digest children default to message/rfc822), each up to
//       the next empty line;
//     - Content-Type header lines (every nesting level needs one, two levels
//       per line at most with multipart/digest: bounds depth).
//   Legitimate mail is far below all budgets; past them, the rest of the
//   message is not looked at (fields come from the headers, which come
//   first; later attachments are not listed).
// - The walk over the parsed tree is capped again (depth, parts) so the
//   output stays bounded whatever GMime made of the input.
// - Every returned string goes through CleanText (text.h): valid UTF-8, no
//   control characters, bounded length.
#include "mime/metadata.h"

#include <gmime/gmime.h>

#include <algorithm>
#include <memory>
#include <unordered_set>

#include "mime/gmime_util.h"
#include "mime/parse_budget.h"
#include "mime/source_stream.h"
#include "mime/text.h"

namespace mailvault::mime {
namespace {

constexpr int kMaxDepth = 50;
constexpr size_t kMaxParts = 1000;
constexpr size_t kMaxAddresses = 1000;

constexpr size_t kMaxShortField = 4 * 1024;  // from, subject
constexpr size_t kMaxListField = 64 * 1024;  // to, cc
constexpr size_t kMaxMessageId = 1024;
constexpr size_t kMaxFileName = 1024;
constexpr size_t kMaxType = 255;

std::string AddressListString(InternetAddressList* list, size_t max_bytes) {
  if (list == nullptr || internet_address_list_length(list) == 0) return {};
  GChars s(internet_address_list_to_string(list, nullptr, FALSE));
  return CleanText(View(s.get()), max_bytes);
}

std::string MessageId(GMimeMessage* msg) {
  std::string_view id = View(g_mime_message_get_message_id(msg));
  if (id.empty()) {
    // GMime found no <addr-spec>; keep whatever the header says.
    id = View(g_mime_object_get_header(GMIME_OBJECT(msg), "Message-Id"));
  }
  std::string out = CleanText(id, kMaxMessageId);
  if (!out.empty() && out.front() == '<') out.erase(0, 1);
  if (!out.empty() && out.back() == '>') out.pop_back();
  return out;
}

int64_t SentAt(GMimeMessage* msg) {
  GDateTime* date = g_mime_message_get_date(msg);  // owned by msg
  if (date == nullptr) return 0;
  return g_date_time_to_unix(date) * 1000000 + g_date_time_get_microsecond(date);
}

struct Walk {
  std::vector<Attachment>* out;
  size_t parts = 0;

  void Visit(GMimeObject* obj, int depth) {
    if (obj == nullptr || depth > kMaxDepth || parts >= kMaxParts) return;
    if (GMIME_IS_MULTIPART(obj)) {
      auto* mp = GMIME_MULTIPART(obj);
      int n = g_mime_multipart_get_count(mp);
      for (int i = 0; i < n && parts < kMaxParts; ++i) {
        Visit(g_mime_multipart_get_part(mp, i), depth + 1);
      }
    } else if (GMIME_IS_MESSAGE_PART(obj)) {
      GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
      if (inner != nullptr) Visit(g_mime_message_get_mime_part(inner), depth + 1);
    } else if (GMIME_IS_PART(obj)) {
      ++parts;
      VisitLeaf(GMIME_PART(obj));
    }
  }

  void VisitLeaf(GMimePart* part) {
    GMimeObject* obj = GMIME_OBJECT(part);
    const char* filename = g_mime_part_get_filename(part);
    GMimeContentDisposition* disposition = g_mime_object_get_content_disposition(obj);
    bool attached = disposition != nullptr && g_mime_content_disposition_is_attachment(disposition);
    if (filename == nullptr && !attached) return;
    Attachment a;
    a.name = CleanText(View(filename), kMaxFileName);
    GMimeContentType* ct = g_mime_object_get_content_type(obj);
    if (ct != nullptr) {
      GChars type(g_mime_content_type_get_mime_type(ct));
      a.type = CleanText(AsciiLower(View(type.get())), kMaxType);
    }
    a.size = DecodedSize(part);
    out->push_back(std::move(a));
  }
};

// Parses the first `limit` bytes of `raw` (the prefix the parse budget
// allows) and collects the fields. A read error of the source ends GMime's
// input there (source_stream.h), so fields come from what was read.
MessageHeaders Extract(const ByteSource& raw, uint64_t limit) {
  MessageHeaders h;
  GMimeParserOptions* options = ParserOptions();

  // GMime parses every address header as it builds the message (nested
  // messages too) and leaks on some unbalanced ones: it reads through a
  // guard that blanks their delimiters (gmime_util.h). Declared before the
  // stream, which reads from it.
  const AddressHeaderGuard guarded(raw, limit);
  const ByteSource& source = guarded.patched() > 0 ? static_cast<const ByteSource&>(guarded) : raw;
  // Declared before msg: part contents are substreams of it.
  GRef<GMimeStream> stream(NewSourceStream(source, limit));
  GRef<GMimeMessage> msg;
  {
    GRef<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
    g_mime_parser_set_persist_stream(parser.get(), TRUE);
    g_mime_parser_set_format(parser.get(), GMIME_FORMAT_MESSAGE);
    msg.reset(g_mime_parser_construct_message(parser.get(), options));
  }
  if (!msg) return h;

  h.from = AddressListString(g_mime_message_get_from(msg.get()), kMaxShortField);
  h.to = AddressListString(g_mime_message_get_to(msg.get()), kMaxListField);
  h.cc = AddressListString(g_mime_message_get_cc(msg.get()), kMaxListField);
  h.subject = CleanText(View(g_mime_message_get_subject(msg.get())), kMaxShortField);
  h.message_id = MessageId(msg.get());
  h.sent_at = SentAt(msg.get());

  std::unordered_set<std::string> seen;
  CollectAddresses(g_mime_message_get_to(msg.get()), kMaxAddresses, &h.to_addresses, &seen);
  CollectAddresses(g_mime_message_get_cc(msg.get()), kMaxAddresses, &h.to_addresses, &seen);

  Walk walk{&h.attachments};
  walk.Visit(g_mime_message_get_mime_part(msg.get()), 0);
  return h;
}

}  // namespace

MessageHeaders ExtractMetadata(std::string_view raw) {
  // The bytes are at hand: the pre-scan reads them in place.
  ParseBudget budget;
  budget.Feed(raw);
  budget.Finish();
  return Extract(StringSource(raw), budget.limit());
}

MessageHeaders ExtractMetadata(const ByteSource& raw) {
  // On a read error, parse what was read (see metadata.h).
  Status read_error;
  return Extract(raw, BudgetLimit(raw, &read_error));
}

std::string BccFromEnvelope(const std::vector<std::string>& rcpt,
                            const std::vector<std::string>& header_addresses) {
  auto normalize = [](std::string_view a) {
    size_t b = a.find_first_not_of(" \t");
    size_t e = a.find_last_not_of(" \t");
    a = b == std::string_view::npos ? std::string_view() : a.substr(b, e - b + 1);
    if (a.size() >= 2 && a.front() == '<' && a.back() == '>') a = a.substr(1, a.size() - 2);
    return std::string(a);
  };
  std::unordered_set<std::string> named;
  for (const std::string& a : header_addresses) named.insert(AsciiLower(normalize(a)));
  std::string out;
  for (const std::string& r : rcpt) {
    std::string addr = normalize(r);
    if (addr.empty()) continue;
    if (!named.insert(AsciiLower(addr)).second) continue;  // named, or listed already
    if (!out.empty()) out += ", ";
    out += addr;
  }
  return CleanText(out, kMaxListField);
}

}  // namespace mailvault::mime
