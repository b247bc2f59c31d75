// ExtractBody (see body.h for the contract).
//
// Design notes.
// - Parsing is the one metadata.cc uses: the parse-budget pre-scan bounds
//   what GMime builds, GMime reads the allowed prefix through a source
//   stream (no copy of the message), and the walk is capped in depth and
//   parts.
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
#include <optional>

#include "mime/gmime_util.h"
#include "mime/parse_budget.h"
#include "mime/source_stream.h"
#include "mime/text.h"

namespace mailvault::mime {
namespace {

constexpr int kMaxDepth = 50;
constexpr size_t kMaxParts = 1000;
constexpr size_t kChunk = 64 * 1024;
constexpr size_t kMaxContentId = 998;
constexpr size_t kMaxType = 255;
constexpr size_t kMetaSniff = 1024;  // bytes of HTML searched for <meta charset>

// The first `max` decoded bytes of `part` (transfer encoding undone, charset
// untouched); *more is set when the content goes on.
std::string DecodedContent(GMimePart* part, size_t max, bool* more) {
  *more = false;
  std::string out;
  GMimeDataWrapper* content = g_mime_part_get_content(part);
  if (content == nullptr) return out;
  GMimeStream* encoded = g_mime_data_wrapper_get_stream(content);
  if (encoded == nullptr || g_mime_stream_reset(encoded) != 0) return out;
  GRef<GMimeStream> filtered(g_mime_stream_filter_new(encoded));
  GMimeContentEncoding enc = g_mime_data_wrapper_get_encoding(content);
  if (enc == GMIME_CONTENT_ENCODING_BASE64 || enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
      enc == GMIME_CONTENT_ENCODING_UUENCODE) {
    GRef<GMimeFilter> decoder(g_mime_filter_basic_new(enc, FALSE));
    g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered.get()), decoder.get());
  }
  std::string buf(kChunk, '\0');
  // A read of junk can decode to nothing without being the end; the source
  // is finite, so the loop ends.
  for (;;) {
    ssize_t n = g_mime_stream_read(filtered.get(), buf.data(), buf.size());
    if (n < 0) break;  // a source error: keep what was decoded
    if (n == 0) {
      if (g_mime_stream_eos(filtered.get())) break;
      continue;
    }
    size_t take = std::min(static_cast<size_t>(n), max - out.size());
    out.append(buf.data(), take);
    if (take < static_cast<size_t>(n) || out.size() == max) {
      *more = take < static_cast<size_t>(n) || !g_mime_stream_eos(filtered.get());
      break;
    }
  }
  g_mime_stream_reset(encoded);
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

bool IsAttachment(GMimeObject* obj) {
  GMimeContentDisposition* d = g_mime_object_get_content_disposition(obj);
  return d != nullptr && g_mime_content_disposition_is_attachment(d);
}

std::string ContentId(GMimeObject* obj) {
  std::string_view id = View(g_mime_object_get_content_id(obj));
  // GMime finds no id in "Content-ID: image001.png@01D9" (no angle brackets),
  // which mailers do send; take the header as it is then.
  if (id.empty()) id = View(g_mime_object_get_header(obj, "Content-Id"));
  std::string out = CleanText(id, kMaxContentId);
  if (!out.empty() && out.front() == '<') out.erase(0, 1);
  if (!out.empty() && out.back() == '>') out.pop_back();
  return out;
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

  void Visit(GMimeObject* obj, int depth, AltScope* alt) {
    if (obj == nullptr || depth > kMaxDepth || parts_ >= kMaxParts) return;
    ++parts_;
    if (GMIME_IS_MULTIPART(obj)) {
      auto* mp = GMIME_MULTIPART(obj);
      AltScope scope;
      if (alt == nullptr && MimeType(obj) == "multipart/alternative") alt = &scope;
      int n = g_mime_multipart_get_count(mp);
      for (int i = 0; i < n && parts_ < kMaxParts; ++i) {
        Visit(g_mime_multipart_get_part(mp, i), depth + 1, alt);
      }
    } else if (GMIME_IS_PART(obj)) {  // attached messages are not descended into
      Leaf(GMIME_PART(obj), alt);
    }
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
  void Leaf(GMimePart* part, AltScope* alt) {
    GMimeObject* obj = GMIME_OBJECT(part);
    std::string type = MimeType(obj);
    bool attachment = IsAttachment(obj);
    if (type == "text/plain" || type == "text/html") {
      bool html = type == "text/html";
      if (attachment) return;
      if (alt != nullptr) {
        bool& taken = html ? alt->html : alt->text;
        if (taken) return;
        taken = true;
      }
      AddText(part, html);
    } else if (type.starts_with("image/") && !attachment) {
      AddImage(part, std::move(type));
    }
  }

  void AddText(GMimePart* part, bool html) {
    GMimeObject* obj = GMIME_OBJECT(part);
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
    std::string charset(View(g_mime_object_get_content_type_parameter(obj, "charset")));
    if (charset.empty() && html) charset = MetaCharset(raw);
    std::string text = Normalize(ToUtf8(raw, charset));
    truncated |= Append(&body, std::move(text), max) || more;
  }

  void AddImage(GMimePart* part, std::string type) {
    if (out_->images.size() >= limits_.max_images) return;
    GMimeObject* obj = GMIME_OBJECT(part);
    std::string id = ContentId(obj);
    if (id.empty() || DecodedSize(part) > limits_.max_image_bytes) return;
    bool more = false;
    std::string data = DecodedContent(part, limits_.max_image_bytes, &more);
    if (more || data.empty()) return;
    out_->images.push_back(BodyImage{std::move(id), std::move(type), std::move(data)});
  }

  const BodyLimits& limits_;
  MessageBody* out_;
  size_t parts_ = 0;
};

struct Parsed {
  GRef<GMimeStream> stream;  // declared before msg: part contents are its substreams
  GRef<GMimeMessage> msg;
  GMimeObject* top() const { return msg ? g_mime_message_get_mime_part(msg.get()) : nullptr; }
};

// Parses the budget-allowed prefix of `source`, which must outlive the
// result.
Parsed Parse(std::string_view raw, const StringSource& source) {
  ParseBudget budget;
  budget.Feed(raw);
  budget.Finish();
  Parsed p;
  p.stream.reset(NewSourceStream(source, budget.limit()));
  GRef<GMimeParser> parser(g_mime_parser_new_with_stream(p.stream.get()));
  g_mime_parser_set_persist_stream(parser.get(), TRUE);
  g_mime_parser_set_format(parser.get(), GMIME_FORMAT_MESSAGE);
  p.msg.reset(g_mime_parser_construct_message(parser.get(), ParserOptions()));
  return p;
}

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
const char* LostPrologue(const Parsed& parsed) {
  GMimeObject* top = parsed.top();
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
  Parsed parsed = Parse(raw, source);
  Collector collect(limits, &body);
  if (parsed.top() == nullptr) {
    // GMime gives up when the first line is not a header field: the whole
    // input is then one undeclared text/plain body.
    if (!raw.empty()) collect.AddUndeclaredText(raw);
    return body;
  }
  collect.Visit(parsed.top(), 0, nullptr);
  if (const char* prologue = LostPrologue(parsed)) {
    std::string boundary = GuessBoundary(prologue);
    std::string retry;
    if (!boundary.empty()) {
      retry = "Content-Type: " + MimeType(parsed.top()) + "; boundary=\"" + boundary +
              "\"\r\n\r\n" + prologue;
      StringSource retry_source(retry);
      Parsed again = Parse(retry, retry_source);
      if (again.top() != nullptr && LostPrologue(again) == nullptr) {
        collect.Visit(again.top(), 0, nullptr);
      }
    }
    if (!body.has_text && !body.has_html) collect.AddUndeclaredText(prologue);
  }
  return body;
}

}  // namespace mailvault::mime
