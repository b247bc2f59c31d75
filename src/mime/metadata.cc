// ExtractMetadata: header fields and the attachment list of a message
// (see metadata.h). Parsing, its budgets, the address-header guard and the
// attachment rule are ParsedMessage's (parsed_message.h); this file reads
// the header fields off the parsed message and lists its attachments. Every
// returned string goes through CleanText (text.h): valid UTF-8, no control
// characters, bounded length.
#include "mime/metadata.h"

#include <gmime/gmime.h>

#include <algorithm>
#include <memory>
#include <unordered_set>

#include "mime/gmime_util.h"
#include "mime/parsed_message.h"
#include "mime/parsed_message_impl.h"
#include "mime/text.h"

namespace mailvault::mime {
namespace {

constexpr size_t kMaxAttachments = 1000;
constexpr size_t kMaxAddresses = 1000;

constexpr size_t kMaxShortField = 4 * 1024;  // from, subject
constexpr size_t kMaxListField = 64 * 1024;  // to, cc
constexpr size_t kMaxMessageId = 1024;

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

}  // namespace

MessageHeaders ExtractMetadata(const ParsedMessage& parsed) {
  MessageHeaders h;
  GMimeMessage* msg = parsed.impl().msg.get();
  if (msg == nullptr) return h;
  h.from = AddressListString(g_mime_message_get_from(msg), kMaxShortField);
  h.to = AddressListString(g_mime_message_get_to(msg), kMaxListField);
  h.cc = AddressListString(g_mime_message_get_cc(msg), kMaxListField);
  h.subject = CleanText(View(g_mime_message_get_subject(msg)), kMaxShortField);
  h.message_id = MessageId(msg);
  h.sent_at = SentAt(msg);

  std::unordered_set<std::string> seen;
  CollectAddresses(g_mime_message_get_to(msg), kMaxAddresses, &h.to_addresses, &seen);
  CollectAddresses(g_mime_message_get_cc(msg), kMaxAddresses, &h.to_addresses, &seen);

  for (Part& p : parsed.Attachments()) {
    if (h.attachments.size() >= kMaxAttachments) break;
    h.attachments.push_back(Attachment{std::move(p.filename), std::move(p.content_type), p.size});
  }
  return h;
}

MessageHeaders ExtractMetadata(std::string_view raw) {
  const StringSource source(raw);
  return ExtractMetadata(*ParsedMessage::Parse(source));
}

MessageHeaders ExtractMetadata(const ByteSource& raw) {
  // On a read error, what was read (see metadata.h).
  return ExtractMetadata(*ParsedMessage::Parse(raw));
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
