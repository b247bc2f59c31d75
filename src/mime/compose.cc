// Header edits, mailbox checks and the as-attachment wrapper (compose.h).
//
// Design notes.
// - Header edits never parse into GMime: GMime reserialises what it parsed
//   (refolds, re-encodes, normalises line endings), and as-is delivery must
//   keep every byte it does not remove. One scan (ForEachField) splits the
//   header block into fields; both BodyOffset and RemoveHeaderFields use it,
//   so they agree on where the block ends.
// - ParseMailbox lets GMime's RFC 5322 parser find the mailbox, then checks
//   what it found itself: GMime repairs input silently ("a@b@c" gives
//   "a@b", "bob@example.com." loses its dot, "bob @ example.com" loses its
//   spaces, "<bob@example.com" its missing bracket, an IDN domain comes
//   back in Unicode). So the addr-spec GMime reports (its punycode form)
//   must appear verbatim in the input as a whole token (inside the angle
//   brackets, if any, which must pair up), and must pass the RFC 5321
//   syntax and length rules below. GMime's address parser leaks memory on
//   some malformed input (3.2.13: an unclosed comment after a domain
//   literal; in strict mode also stray '>'), so it sees only text whose
//   quotes, comments and brackets are closed, and runs with the shared
//   loose options; the checks here are stricter anyway.
// - BuildAsAttachment never parses the original: the message/rfc822 entity
//   is a plain GMimePart whose content is a stream over the caller's bytes
//   (no copy) with the same transfer encoding on the part and on the data
//   wrapper, so GMime writes the bytes without encoding them. GMime runs
//   7bit and 8bit content through its newline filter (here LF -> CRLF, which
//   leaves CRLF, bare CR and every other byte alone); binary content is
//   written untouched. A CRLF original is therefore byte-identical; an
//   original with bare LFs gets them as CRLF, as the SMTP stage would do to
//   the whole message anyway, so the output is consistently CRLF.
#include "mime/compose.h"

#include <gmime/gmime.h>

#include <memory>

#include "mailvault/byte_source.h"
#include "mime/gmime_util.h"
#include "mime/source_stream.h"
#include "mime/text.h"

namespace mailvault::mime {
namespace {

constexpr size_t kMaxLocalPart = 64;      // RFC 5321 4.5.3.1.1
constexpr size_t kMaxDomain = 255;        // RFC 5321 4.5.3.1.2
constexpr size_t kMaxLabel = 63;          // RFC 1035 2.3.4
constexpr size_t kMaxLine = 998;          // RFC 5322 2.1.1, without the CRLF
constexpr size_t kMaxMailboxText = 4096;  // bounds GMime's work on junk
constexpr size_t kMaxQuoted = 200;        // of the input, in error messages
constexpr int kBoundaryTries = 16;

bool IsWsp(char c) { return c == ' ' || c == '\t'; }
bool IsAsciiControl(unsigned char c) { return c < 0x20 || c == 0x7F; }
bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
char LowerAscii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (LowerAscii(a[i]) != LowerAscii(b[i])) return false;
  }
  return true;
}

bool HasNonAscii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return true;
  }
  return false;
}

// End of the line starting at `pos`: just past its LF, or raw.size().
size_t LineEnd(std::string_view raw, size_t pos) {
  size_t lf = raw.find('\n', pos);
  return lf == std::string_view::npos ? raw.size() : lf + 1;
}

// Calls f(begin, end) for each field of the header block (a line plus its
// continuation lines, terminators included) and returns the body offset.
// A line starting with WSP at the very top has no field to continue: it is
// handed over as a field of its own, whose name never matches.
template <typename F>
size_t ForEachField(std::string_view raw, F&& f) {
  size_t pos = 0;
  while (pos < raw.size()) {
    size_t end = LineEnd(raw, pos);
    std::string_view line = raw.substr(pos, end - pos);
    if (line == "\n" || line == "\r\n") return end;
    while (end < raw.size() && IsWsp(raw[end])) end = LineEnd(raw, end);
    f(pos, end);
    pos = end;
  }
  return raw.size();
}

// True if `field` is named `name`: the bytes before the first colon of its
// first line, trailing WSP dropped ("Message-ID :" is Message-ID).
bool FieldNamed(std::string_view field, std::string_view name) {
  std::string_view first = field.substr(0, field.find('\n'));
  size_t colon = first.find(':');
  if (colon == std::string_view::npos) return false;
  std::string_view field_name = first.substr(0, colon);
  while (!field_name.empty() && IsWsp(field_name.back())) field_name.remove_suffix(1);
  return EqualsIgnoreCase(field_name, name);
}

// --- Addresses ---------------------------------------------------------

struct Mailbox {
  std::string name;  // display name, UTF-8, may be empty
  std::string addr;  // addr-spec, ASCII
};

Status NotAddress(std::string_view text, std::string_view why) {
  return Status::InvalidArgument("'" + CleanText(text, kMaxQuoted) +
                                 "' is not an address: " + std::string(why));
}

// Why GMime found no mailbox at all, as well as can be told from the text.
std::string_view WhyUnparsable(std::string_view text) {
  while (!text.empty() && IsWsp(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsWsp(text.back())) text.remove_suffix(1);
  if (text == "<>") return "the null address";
  if (!text.empty() && text.front() == '<') text.remove_prefix(1);
  if (!text.empty() && text.back() == '>') text.remove_suffix(1);
  if (text.empty()) return "empty";
  if (text.find('@') == std::string_view::npos || text.back() == '@') return "no domain";
  if (text.front() == '@') return "no local part";
  return "not RFC 5322 address syntax";
}

// Dot-atom (RFC 5322 3.2.3) or quoted string without '<' '>' (which SMTP
// servers and log parsers mishandle even when quoted).
bool ValidLocalPart(std::string_view local) {
  static constexpr std::string_view kAtextSpecials = "!#$%&'*+-/=?^_`{|}~";
  if (local.front() == '"') {
    if (local.size() < 3 || local.back() != '"') return false;  // "" is empty
    std::string_view inner = local.substr(1, local.size() - 2);
    bool escaped = false;
    for (char c : inner) {
      if (c < ' ' || c > '~' || c == '<' || c == '>') return false;
      if (!escaped && c == '"') return false;
      escaped = !escaped && c == '\\';
    }
    return !escaped;  // a final backslash would escape the closing quote
  }
  if (local.front() == '.' || local.back() == '.') return false;
  for (size_t i = 0; i < local.size(); ++i) {
    char c = local[i];
    if (c == '.') {
      if (local[i + 1] == '.') return false;  // the last char is not a dot
    } else if (!IsAlnum(c) && kAtextSpecials.find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

// A host name of LDH labels, or an address literal "[...]" (RFC 5321 4.1.3;
// its content is only checked for being printable without brackets).
bool ValidDomain(std::string_view domain) {
  if (domain.empty() || domain.size() > kMaxDomain) return false;
  if (domain.front() == '[') {
    if (domain.size() < 3 || domain.back() != ']') return false;
    for (char c : domain.substr(1, domain.size() - 2)) {
      if (c <= ' ' || c > '~' || c == '[' || c == ']' || c == '\\') return false;
    }
    return true;
  }
  size_t start = 0;
  for (;;) {
    size_t dot = domain.find('.', start);
    std::string_view label = domain.substr(start, dot - start);
    if (label.empty() || label.size() > kMaxLabel) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!IsAlnum(c) && c != '-') return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// True if `token` occurs in `text` with nothing glued to either side.
bool ContainsToken(std::string_view text, std::string_view token) {
  auto before_ok = [](char c) { return IsWsp(c) || c == ')'; };
  auto after_ok = [](char c) { return IsWsp(c) || c == '('; };
  for (size_t at = text.find(token); at != std::string_view::npos; at = text.find(token, at + 1)) {
    size_t end = at + token.size();
    if ((at == 0 || before_ok(text[at - 1])) && (end == text.size() || after_ok(text[end]))) {
      return true;
    }
  }
  return false;
}

Status CheckAddrSpec(std::string_view text, const AngleBrackets& brackets, std::string_view addr,
                     std::string_view idn_addr) {
  if (HasNonAscii(idn_addr)) return NotAddress(text, "non-ASCII characters (no SMTPUTF8)");
  size_t at = idn_addr.rfind('@');  // a quoted local part may hold '@'
  if (at == std::string_view::npos) return NotAddress(text, "no domain");
  std::string_view local = idn_addr.substr(0, at);
  std::string_view domain = idn_addr.substr(at + 1);
  if (local.empty()) return NotAddress(text, "no local part");
  if (domain.empty()) return NotAddress(text, "no domain");
  // With angle brackets the addr-spec is what they hold, not a display name.
  std::string_view where = text;
  if (brackets.pairs > 1) return NotAddress(text, "more than one '<' '>' pair");
  if (brackets.pairs == 1)
    where = text.substr(brackets.open + 1, brackets.close - brackets.open - 1);
  if (!ContainsToken(where, idn_addr)) {
    // GMime repaired something: an IDN domain is the likely case.
    if (HasNonAscii(addr)) return NotAddress(text, "non-ASCII characters (no SMTPUTF8)");
    return NotAddress(text, "unexpected text around '" + CleanText(idn_addr, kMaxQuoted) + "'");
  }
  if (local.size() > kMaxLocalPart) return NotAddress(text, "local part longer than 64 bytes");
  if (domain.size() > kMaxDomain) return NotAddress(text, "domain longer than 255 bytes");
  if (!ValidLocalPart(local)) {
    return NotAddress(
        text, "local part '" + CleanText(local, kMaxQuoted) + "' has characters SMTP rejects");
  }
  if (!ValidDomain(domain)) {
    return NotAddress(text, "domain '" + CleanText(domain, kMaxQuoted) +
                                "' is not a host name or address literal");
  }
  return Status::Ok();
}

Result<Mailbox> ParseOneMailbox(std::string_view text) {
  if (text.empty()) return NotAddress(text, "empty");
  if (text.size() > kMaxMailboxText) return NotAddress(text, "longer than 4096 bytes");
  for (char c : text) {
    // A line break would let the text inject header fields or SMTP commands.
    if (c == '\r' || c == '\n') return NotAddress(text, "contains a line break");
    if (c != '\t' && IsAsciiControl(static_cast<unsigned char>(c))) {
      return NotAddress(text, "contains a control character");
    }
  }
  AngleBrackets brackets;
  if (const char* why = ScanDelimiters(text, &brackets)) return NotAddress(text, why);
  const std::string copy(text);  // GMime wants a NUL-terminated string
  GRef<InternetAddressList> list(internet_address_list_parse(ParserOptions(), copy.c_str()));
  const int n = list ? internet_address_list_length(list.get()) : 0;
  if (n == 0) return NotAddress(text, WhyUnparsable(text));
  InternetAddress* first = internet_address_list_get_address(list.get(), 0);
  if (n > 1) {
    if (text.find(',') == std::string_view::npos && INTERNET_ADDRESS_IS_MAILBOX(first)) {
      const char* addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(first));
      return NotAddress(text, "unexpected text after '" + CleanText(View(addr), kMaxQuoted) + "'");
    }
    return Status::InvalidArgument("'" + CleanText(text, kMaxQuoted) + "' names " +
                                   std::to_string(n) + " addresses; give one");
  }
  if (!INTERNET_ADDRESS_IS_MAILBOX(first)) {
    return Status::InvalidArgument("'" + CleanText(text, kMaxQuoted) +
                                   "' is a group; give one mailbox");
  }
  auto* mailbox = INTERNET_ADDRESS_MAILBOX(first);
  std::string_view addr = View(internet_address_mailbox_get_addr(mailbox));
  std::string_view idn_addr = View(internet_address_mailbox_get_idn_addr(mailbox));
  MV_RETURN_IF_ERROR(CheckAddrSpec(text, brackets, addr, idn_addr));
  return Mailbox{std::string(View(internet_address_get_name(first))), std::string(idn_addr)};
}

// --- The wrapper message -----------------------------------------------

struct DateTimeDeleter {
  void operator()(GDateTime* p) const { g_date_time_unref(p); }
};
struct FormatOptionsDeleter {
  void operator()(GMimeFormatOptions* p) const { g_mime_format_options_free(p); }
};

// The strictest transfer encoding that declares `raw` truthfully without
// changing it (RFC 2045 2.7-2.9): lines are counted without their CRLF.
GMimeContentEncoding IdentityEncoding(std::string_view raw) {
  bool eight_bit = false;
  size_t line = 0;
  for (size_t i = 0; i < raw.size(); ++i) {
    const auto c = static_cast<unsigned char>(raw[i]);
    if (c == 0) return GMIME_CONTENT_ENCODING_BINARY;
    if (c == '\n') {
      if (line - (line > 0 && raw[i - 1] == '\r' ? 1 : 0) > kMaxLine) {
        return GMIME_CONTENT_ENCODING_BINARY;
      }
      line = 0;
      continue;
    }
    ++line;
    eight_bit |= c >= 0x80;
  }
  if (line > kMaxLine) return GMIME_CONTENT_ENCODING_BINARY;
  return eight_bit ? GMIME_CONTENT_ENCODING_8BIT : GMIME_CONTENT_ENCODING_7BIT;
}

Status CheckWrapper(const Wrapper& w) {
  if (w.to.empty()) return Status::InvalidArgument("no To address");
  if (!IsValidUtf8(w.subject)) return Status::InvalidArgument("subject is not valid UTF-8");
  for (char c : w.subject) {
    if (c != '\t' && IsAsciiControl(static_cast<unsigned char>(c))) {
      return Status::InvalidArgument("subject contains a control character");
    }
  }
  if (!IsValidUtf8(w.text)) return Status::InvalidArgument("text is not valid UTF-8");
  if (HasNonAscii(w.id_domain) || !ValidDomain(w.id_domain) || w.id_domain.front() == '[') {
    return Status::InvalidArgument("id_domain '" + CleanText(w.id_domain, kMaxQuoted) +
                                   "' is not a host name");
  }
  return Status::Ok();
}

GRef<GMimeObject> TextPart(const std::string& text) {
  GRef<GMimePart> part(GMIME_PART(g_mime_text_part_new_with_subtype("plain")));
  g_mime_object_set_content_type_parameter(GMIME_OBJECT(part.get()), "charset", "utf-8");
  GRef<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(text.data(), text.size()));
  GRef<GMimeDataWrapper> content(
      g_mime_data_wrapper_new_with_stream(stream.get(), GMIME_CONTENT_ENCODING_DEFAULT));
  g_mime_part_set_content(part.get(), content.get());
  // 7bit when it can be, else quoted-printable: readable in any client and
  // safe on any relay. (Not base64: GMime would encode the LF line breaks
  // as they are, and text/* is canonically CRLF.)
  GMimeContentEncoding encoding =
      g_mime_part_get_best_content_encoding(part.get(), GMIME_ENCODING_CONSTRAINT_7BIT);
  if (encoding != GMIME_CONTENT_ENCODING_7BIT) encoding = GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE;
  g_mime_part_set_content_encoding(part.get(), encoding);
  return GRef<GMimeObject>(GMIME_OBJECT(part.release()));
}

// `stream` (over the original) must outlive the part.
GRef<GMimeObject> OriginalPart(GMimeStream* stream, GMimeContentEncoding encoding) {
  GRef<GMimePart> part(g_mime_part_new_with_type("message", "rfc822"));
  // Equal encodings on part and wrapper: GMime copies the bytes, no encoder.
  GRef<GMimeDataWrapper> content(g_mime_data_wrapper_new_with_stream(stream, encoding));
  g_mime_part_set_content(part.get(), content.get());
  g_mime_part_set_content_encoding(part.get(), encoding);
  GMimeObject* object = GMIME_OBJECT(part.get());
  g_mime_object_set_disposition(object, GMIME_DISPOSITION_ATTACHMENT);
  g_mime_object_set_content_disposition_parameter(object, "filename", "original.eml");
  return GRef<GMimeObject>(GMIME_OBJECT(part.release()));
}

// Picks a boundary found in neither body, so no line of theirs can end a part.
Status ChooseBoundary(GMimeMultipart* multipart, std::string_view original, std::string_view text) {
  for (int i = 0; i < kBoundaryTries; ++i) {
    g_mime_multipart_set_boundary(multipart, nullptr);  // a new random one
    std::string_view boundary = View(g_mime_multipart_get_boundary(multipart));
    if (original.find(boundary) == std::string_view::npos &&
        text.find(boundary) == std::string_view::npos) {
      return Status::Ok();
    }
  }
  return Status::InvalidArgument("the original contains every random boundary tried");
}

void AddMailbox(GMimeMessage* msg, GMimeAddressType type, const Mailbox& mailbox) {
  GRef<InternetAddress> address(internet_address_mailbox_new(
      mailbox.name.empty() ? nullptr : mailbox.name.c_str(), mailbox.addr.c_str()));
  internet_address_list_add(g_mime_message_get_addresses(msg, type), address.get());
}

}  // namespace

size_t BodyOffset(std::string_view raw) {
  return ForEachField(raw, [](size_t, size_t) {});
}

std::string RemoveHeaderFields(std::string_view raw, std::string_view name, size_t* removed) {
  std::string out;
  size_t count = 0;
  size_t kept_from = 0;  // start of the bytes not yet copied to `out`
  if (!name.empty()) {   // an empty name names no field
    ForEachField(raw, [&](size_t begin, size_t end) {
      if (!FieldNamed(raw.substr(begin, end - begin), name)) return;
      if (count++ == 0) out.reserve(raw.size());
      out.append(raw.substr(kept_from, begin - kept_from));
      kept_from = end;
    });
  }
  out.append(raw.substr(kept_from));
  if (removed != nullptr) *removed = count;
  return out;
}

Result<std::string> ParseMailbox(std::string_view text) {
  MV_ASSIGN_OR_RETURN(Mailbox mailbox, ParseOneMailbox(text));
  return std::move(mailbox.addr);
}

Result<std::string> BuildAsAttachment(const Wrapper& wrapper, std::string_view original) {
  if (original.empty()) return Status::InvalidArgument("the original message is empty");
  MV_RETURN_IF_ERROR(CheckWrapper(wrapper));
  Result<Mailbox> from = ParseOneMailbox(wrapper.from);
  if (!from.ok()) return from.status().Annotate("from");
  std::vector<Mailbox> to;
  for (const std::string& text : wrapper.to) {
    Result<Mailbox> mailbox = ParseOneMailbox(text);
    if (!mailbox.ok()) return mailbox.status().Annotate("to");
    to.push_back(Mailbox{"", std::move(mailbox->addr)});
  }
  std::unique_ptr<GDateTime, DateTimeDeleter> date(g_date_time_new_from_unix_utc(wrapper.date));
  if (!date) {
    return Status::InvalidArgument("date " + std::to_string(wrapper.date) + " is out of range");
  }

  ParserOptions();  // runs g_mime_init
  // Declared first, so it outlives every GMime object that reads from it.
  const StringSource source(original);
  GRef<GMimeStream> original_stream(NewSourceStream(source, original.size()));

  GRef<GMimeMessage> msg(g_mime_message_new(TRUE));
  AddMailbox(msg.get(), GMIME_ADDRESS_TYPE_FROM, *from);
  for (const Mailbox& mailbox : to) AddMailbox(msg.get(), GMIME_ADDRESS_TYPE_TO, mailbox);
  g_mime_message_set_subject(msg.get(), wrapper.subject.c_str(), "utf-8");
  g_mime_message_set_date(msg.get(), date.get());
  GChars id(g_mime_utils_generate_message_id(wrapper.id_domain.c_str()));
  g_mime_message_set_message_id(msg.get(), id.get());

  GRef<GMimeMultipart> mixed(g_mime_multipart_new_with_subtype("mixed"));
  MV_RETURN_IF_ERROR(ChooseBoundary(mixed.get(), original, wrapper.text));
  g_mime_multipart_add(mixed.get(), TextPart(wrapper.text).get());
  g_mime_multipart_add(mixed.get(),
                       OriginalPart(original_stream.get(), IdentityEncoding(original)).get());
  g_mime_message_set_mime_part(msg.get(), GMIME_OBJECT(mixed.get()));

  std::unique_ptr<GMimeFormatOptions, FormatOptionsDeleter> format(g_mime_format_options_new());
  g_mime_format_options_set_newline_format(format.get(), GMIME_NEWLINE_FORMAT_DOS);
  GRef<GMimeStream> out(g_mime_stream_mem_new());
  const ssize_t written =
      g_mime_object_write_to_stream(GMIME_OBJECT(msg.get()), format.get(), out.get());
  MV_RETURN_IF_ERROR(SourceStreamError(original_stream.get()));
  if (written < 0) return Status::IOError("GMime could not write the wrapper message");
  GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out.get()));
  return std::string(reinterpret_cast<const char*>(bytes->data), bytes->len);
}

}  // namespace mailvault::mime
