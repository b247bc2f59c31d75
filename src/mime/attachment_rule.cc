// AttachmentOf (see attachment_rule.h and parsed_message.h).
#include "mime/attachment_rule.h"

#include "mime/gmime_util.h"
#include "mime/text.h"

namespace mailvault::mime {
namespace {

constexpr size_t kMaxFileName = 1024;
constexpr size_t kMaxType = 255;

bool Named(GMimeObject* obj) {
  // Raw presence, not the cleaned name: a name of control characters only is
  // still a name a client offers to save.
  return !View(g_mime_object_get_content_disposition_parameter(obj, "filename")).empty() ||
         !View(g_mime_object_get_content_type_parameter(obj, "name")).empty();
}

uint64_t MessageSize(GMimeMessagePart* part) {
  GMimeMessage* inner = g_mime_message_part_get_message(part);
  if (inner == nullptr) return 0;
  GRef<GMimeStream> sink(g_mime_stream_null_new());
  g_mime_object_write_to_stream(GMIME_OBJECT(inner), nullptr, sink.get());
  return GMIME_STREAM_NULL(sink.get())->written;
}

}  // namespace

std::optional<Attachment> AttachmentOf(GMimeObject* obj, bool measure) {
  if (obj == nullptr || GMIME_IS_MULTIPART(obj)) return std::nullopt;
  std::string type = "text/plain";
  if (GMimeContentType* ct = g_mime_object_get_content_type(obj)) {
    GChars t(g_mime_content_type_get_mime_type(ct));
    type = CleanText(AsciiLower(View(t.get())), kMaxType);
  }
  const bool message = GMIME_IS_MESSAGE_PART(obj);
  if (!message) {
    GMimeContentDisposition* d = g_mime_object_get_content_disposition(obj);
    const bool disposed = d != nullptr && g_mime_content_disposition_is_attachment(d);
    if (!disposed && !Named(obj) && (type == "text/plain" || type == "text/html")) {
      return std::nullopt;  // the message's own text
    }
  }
  Attachment a;
  a.type = std::move(type);
  const char* name = GMIME_IS_PART(obj)
                         ? g_mime_part_get_filename(GMIME_PART(obj))
                         : g_mime_object_get_content_disposition_parameter(obj, "filename");
  if (View(name).empty()) name = g_mime_object_get_content_type_parameter(obj, "name");
  a.name = CleanText(View(name), kMaxFileName);
  if (!measure) return a;
  if (message) {
    a.size = MessageSize(GMIME_MESSAGE_PART(obj));
  } else if (GMIME_IS_PART(obj)) {
    a.size = DecodedSize(GMIME_PART(obj));
  }
  return a;
}

}  // namespace mailvault::mime
