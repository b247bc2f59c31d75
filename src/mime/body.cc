// ExtractBody (see body.h for the contract).
//
// Design notes.
// - Parsing and the walk are ParsedMessage's (parsed_message.h): the same
//   parse, budgets, numbering and attachment rule as metadata and the
//   content filter, so what the preview shows as text is exactly what is not
//   listed as an attachment.
// - Decoding is bounded by the limits, not by the part: transfer decoding
//   stops after 4 * limit + 16 bytes (no charset needs more than 4 bytes per
//   character, so that always yields more than `limit` bytes of UTF-8 unless
//   the content is junk the converter drops) and the UTF-8 is then cut at the
//   limit, on a character boundary.
// - Charset conversion is GMime's (iconv behind its charset filter, which
//   knows the aliases mail uses and skips bytes that do not convert). What
//   cannot be converted (unknown or undeclared charsets) is kept when it is
//   valid UTF-8 and otherwise read as Windows-1252; a last pass replaces
//   anything still invalid with U+FFFD, so the result is always UTF-8.
#include "mime/body.h"

#include <gmime/gmime.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>

#include "mime/gmime_util.h"
#include "mime/parsed_message.h"
#include "mime/parsed_message_impl.h"
#include "mime/text.h"

namespace mailvault::mime {
namespace {

constexpr size_t kChunk = 64 * 1024;
constexpr size_t kMaxType = 255;
constexpr size_t kMetaSniff = 1024;  // bytes of HTML searched for <meta charset>

// The first `max` decoded bytes of the part (transfer encoding undone,
// charset untouched); *more is set when the content goes on. A read error
// keeps nothing.
std::string DecodedContent(const PartBody& body, size_t max, bool* more) {
  Result<std::string> head = body.Head(max + 1);
  std::string out = head.ok() ? std::move(*head) : std::string();
  *more = out.size() > max;
  if (*more) out.resize(max);
  return out;
}

// `in` converted from `charset` to UTF-8; nullopt if GMime has no converter
// for it.
std::optional<std::string> Convert(std::string_view in, const char* charset) {
  GRef<GMimeFilter> filter(g_mime_filter_charset_new(charset, "UTF-8"));
  if (!filter) return std::nullopt;
  GRef<GMimeStream> mem(g_mime_stream_mem_new());
  GRef<GMimeStream> filtered(g_mime_stream_filter_new(mem.get()));
  g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered.get()), filter.get());
  for (size_t at = 0; at < in.size(); at += kChunk) {
    std::string_view piece = in.substr(at, kChunk);
    if (g_mime_stream_write(filtered.get(), piece.data(), piece.size()) < 0) break;
  }
  g_mime_stream_flush(filtered.get());
  GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem.get()));
  return std::string(reinterpret_cast<const char*>(bytes->data), bytes->len);
}

bool IsAsciiOrUtf8(std::string_view canon) {
  return canon == "utf-8" || canon == "utf8" || canon == "us-ascii" || canon == "ascii" ||
         canon == "ansi_x3.4-1968";
}

bool IsLatin1(std::string_view canon) {
  return canon == "iso-8859-1" || canon == "iso8859-1" || canon == "latin1" ||
         canon == "windows-1252" || canon == "cp1252";
}

// The charset a <meta> near the start of an HTML document declares, lower
// case; empty if none.
std::string MetaCharset(std::string_view html) {
  std::string head = AsciiLower(html.substr(0, kMetaSniff));
  size_t at = head.find("charset=");
  if (at == std::string::npos) return {};
  at += 8;
  while (at < head.size() && (head[at] == '"' || head[at] == '\'' || head[at] == ' ')) ++at;
  std::string name;
  while (at < head.size() && name.size() < 40) {
    char c = head[at++];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
          c == ':')) {
      break;
    }
    name.push_back(c);
  }
  return name;
}

// `raw` as UTF-8, read in `charset` (as declared; may be empty).
std::string ToUtf8(std::string_view raw, std::string charset) {
  charset = AsciiLower(charset);
  if (!charset.empty() && !IsAsciiOrUtf8(charset)) {
    if (const char* canon = g_mime_charset_canon_name(charset.c_str())) {
      charset = AsciiLower(canon);
    }
  }
  if (charset.empty() || IsAsciiOrUtf8(charset)) {
    if (IsValidUtf8(raw)) return std::string(raw);
    if (charset == "utf-8" || charset == "utf8") return std::string(raw);  // repaired below
    charset = "windows-1252";
  }
  if (IsLatin1(charset)) charset = "windows-1252";
  std::optional<std::string> out = Convert(raw, charset.c_str());
  if (!out && IsValidUtf8(raw)) return std::string(raw);
  if (!out) out = Convert(raw, "windows-1252");
  if (!out) out = Convert(raw, "iso-8859-1");  // cannot fail where iconv exists at all
  return out ? std::move(*out) : std::string(raw);
}

// LF line ends, no control characters but tab, LF and form feed, valid
// UTF-8 (invalid sequences become U+FFFD).
std::string Normalize(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == '\r') {
      if (i + 1 < s.size() && s[i + 1] == '\n') continue;
      out.push_back('\n');
    } else if ((c < 0x20 && c != '\t' && c != '\n' && c != '\f') || c == 0x7F) {
      continue;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  if (IsValidUtf8(out)) return out;
  GChars valid(g_utf8_make_valid(out.data(), static_cast<gssize>(out.size())));
  return std::string(View(valid.get()));  // no NUL left to stop at
}

// Cuts `s` to at most `max` bytes on a character boundary; true if it cut.
bool CutUtf8(std::string* s, size_t max) {
  if (s->size() <= max) return false;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>((*s)[n]) & 0xC0) == 0x80) --n;
  s->resize(n);
  return true;
}

std::string MimeType(GMimeObject* obj) {
  GMimeContentType* ct = g_mime_object_get_content_type(obj);
  if (ct == nullptr) return "text/plain";
  GChars type(g_mime_content_type_get_mime_type(ct));
  return CleanText(AsciiLower(View(type.get())), kMaxType);
}

// Appends `text` to *body (a separating newline between parts), keeping
// the total within `max`; true if something was cut.
bool Append(std::string* body, std::string text, size_t max) {
  if (!body->empty() && body->back() != '\n' && !text.empty()) text.insert(text.begin(), '\n');
  if (body->size() >= max) return !text.empty();
  bool cut = CutUtf8(&text, max - body->size());
  body->append(text);
  return cut;
}

// One multipart/alternative: only its first text/plain and text/html
// descendants are bodies. Nested alternatives share their outermost scope.
struct AltScope {
  bool text = false;
  bool html = false;
};

class Collector {
 public:
  Collector(const BodyLimits& limits, MessageBody* out) : limits_(limits), out_(out) {}

  // Takes the bodies of `parsed`: the message's own text parts (not
  // attachments, ParsedMessage's rule) and the images its HTML may show.
  void Collect(const ParsedMessage& parsed) {
    std::map<int, AltScope> scopes;  // by outermost multipart/alternative
    parsed
        .Walk([&](const Part& p, const PartBody& body) {
          // An attached message's parts are its own, not this message's.
          if (p.message || (p.attachment_index >= 0 && p.attachment_index != p.index)) {
            return Status::Ok();
          }
          const bool html = p.content_type == "text/html";
          if (!p.attachment && (html || p.content_type == "text/plain")) {
            if (p.alternative >= 0) {
              AltScope& alt = scopes[p.alternative];
              bool& taken = html ? alt.html : alt.text;
              if (taken) return Status::Ok();
              taken = true;
            }
            AddText(body, p.charset, html);
          } else if (p.content_type.starts_with("image/") && !p.content_id.empty()) {
            AddImage(body, p);
          }
          return Status::Ok();
        })
        .IgnoreError();  // a read error: the bodies read so far
  }

  // Text of a part read as undeclared plain text (no MIME structure).
  void AddUndeclaredText(std::string_view raw) {
    size_t max = limits_.max_text;
    std::string_view head = raw.substr(0, std::min(raw.size(), 4 * max + 16));
    std::string text = Normalize(ToUtf8(head, ""));
    out_->has_text = true;
    out_->text_truncated |= Append(&out_->text, std::move(text), max) || head.size() < raw.size();
  }

 private:
  void AddText(const PartBody& part, std::string charset, bool html) {
    size_t max = html ? limits_.max_html : limits_.max_text;
    std::string& body = html ? out_->html : out_->text;
    bool& truncated = html ? out_->html_truncated : out_->text_truncated;
    (html ? out_->has_html : out_->has_text) = true;
    if (body.size() >= max) {
      truncated = true;
      return;
    }
    bool more = false;
    std::string raw = DecodedContent(part, 4 * max + 16, &more);
    if (charset.empty() && html) charset = MetaCharset(raw);
    std::string text = Normalize(ToUtf8(raw, charset));
    truncated |= Append(&body, std::move(text), max) || more;
  }

  void AddImage(const PartBody& part, const Part& p) {
    if (out_->images.size() >= limits_.max_images) return;
    bool more = false;
    std::string data = DecodedContent(part, limits_.max_image_bytes, &more);
    if (more || data.empty()) return;
    out_->images.push_back(BodyImage{p.content_id, p.content_type, std::move(data)});
  }

  const BodyLimits& limits_;
  MessageBody* out_;
};

// A boundary for a multipart whose own never occurs: the first "--" line of
// its preamble (mailers that get the header and the body out of step).
// Empty if there is none that could be quoted in a header.
std::string GuessBoundary(std::string_view prologue) {
  for (size_t at = 0; at < prologue.size();) {
    size_t end = prologue.find('\n', at);
    std::string_view line = prologue.substr(at, end == std::string_view::npos ? end : end - at);
    at = end == std::string_view::npos ? prologue.size() : end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    if (line.size() < 3 || !line.starts_with("--")) continue;
    std::string_view b = line.substr(2);
    if (b.size() > 200) return {};
    for (char c : b) {
      if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) return {};
    }
    return std::string(b);
  }
  return {};
}

// The multipart at the top of `parsed` when it has no parts: its preamble
// then holds the body.
const char* LostPrologue(const ParsedMessage& parsed) {
  GMimeObject* top = parsed.impl().top();
  if (top == nullptr || !GMIME_IS_MULTIPART(top)) return nullptr;
  auto* mp = GMIME_MULTIPART(top);
  if (g_mime_multipart_get_count(mp) != 0) return nullptr;
  const char* prologue = g_mime_multipart_get_prologue(mp);
  return prologue != nullptr && *prologue != '\0' ? prologue : nullptr;
}

}  // namespace

Result<MessageBody> ExtractBody(std::string_view raw, const BodyLimits& limits) {
  MessageBody body;
  StringSource source(raw);
  std::unique_ptr<ParsedMessage> parsed = ParsedMessage::Parse(source);
  Collector collect(limits, &body);
  if (parsed->headerless() || parsed->impl().top() == nullptr) {
    // GMime gives up when the first line is not a header field: the whole
    // input is then one undeclared text/plain body.
    if (!raw.empty()) collect.AddUndeclaredText(raw);
    return body;
  }
  collect.Collect(*parsed);
  if (const char* prologue = LostPrologue(*parsed)) {
    std::string boundary = GuessBoundary(prologue);
    std::string retry;
    if (!boundary.empty()) {
      retry = "Content-Type: " + MimeType(parsed->impl().top()) + "; boundary=\"" + boundary +
              "\"\r\n\r\n" + prologue;
      StringSource retry_source(retry);
      std::unique_ptr<ParsedMessage> again = ParsedMessage::Parse(retry_source);
      if (again->impl().top() != nullptr && LostPrologue(*again) == nullptr) {
        collect.Collect(*again);
      }
    }
    if (!body.has_text && !body.has_html) collect.AddUndeclaredText(prologue);
  }
  return body;
}

}  // namespace mailvault::mime
